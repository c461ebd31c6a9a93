"""National staff's webhook pages: endpoints, their secrets, and their deliveries.

Who may use them: holders of webhooks.add_endpoint (national staff); anonymous visitors are
sent to sign in, everyone else gets a 403. A deleted or unknown endpoint is a 404. A secret
is shown only in the response that made it (`Cache-Control: no-store`), never stored in
the clear or put in the session.
"""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from config.tables import table_configure
from webhooks.forms import DeliveryFilterForm, EndpointForm
from webhooks.selectors import (
    delivery_get,
    delivery_list_for_endpoint,
    endpoint_get,
    endpoint_list,
    endpoint_list_paused_automatically,
)
from webhooks.services import (
    HEADER_EVENT_ID,
    HEADER_EVENT_TYPE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    delivery_send_again,
    endpoint_create,
    endpoint_delete,
    endpoint_pause,
    endpoint_resume,
    endpoint_secret_rotate,
    endpoint_test_send,
    max_attempts,
)
from webhooks.tables import DeliveryTable, EndpointTable

PER_PAGE = 25
DELIVERIES_PER_PAGE = 50
PERMISSION = "webhooks.add_endpoint"


def _list_render(request, form, *, created=None, secret=None, error=None, status=200):
    endpoints = table_configure(EndpointTable(endpoint_list()), request=request, per_page=PER_PAGE)
    response = render(
        request,
        "webhooks/endpoint_list.html",
        {
            "form": form,
            "table": endpoints,
            "paused_by_failures": list(
                endpoint_list_paused_automatically().values_list("url", flat=True)[:10]
            ),
            "created": created,
            "raw_secret": secret,
            "error": error,
            "headers": {
                "id": HEADER_EVENT_ID,
                "event": HEADER_EVENT_TYPE,
                "timestamp": HEADER_TIMESTAMP,
                "signature": HEADER_SIGNATURE,
            },
        },
        status=status,
    )
    if secret:
        response["Cache-Control"] = "no-store"
    return response


class EndpointListView(PermissionRequiredMixin, View):
    permission_required = PERMISSION

    def get(self, request):
        return _list_render(request, EndpointForm())

    def post(self, request):
        form = EndpointForm(request.POST)
        if not form.is_valid():
            return _list_render(request, form, status=400)
        try:
            endpoint, secret = endpoint_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            return _list_render(request, form, status=400)
        # Shown in this response only: the plain secret is stored nowhere.
        return _list_render(request, EndpointForm(), created=endpoint, secret=secret)


class _EndpointActionView(PermissionRequiredMixin, View):
    """A POST that acts on one endpoint; a refusal re-renders the list with a 400."""

    permission_required = PERMISSION
    http_method_names = ["post"]

    def act(self, request, endpoint):
        raise NotImplementedError

    def post(self, request, pk):
        endpoint = endpoint_get(pk=pk)
        try:
            return self.act(request, endpoint)
        except ValidationError as error:
            return _list_render(request, EndpointForm(), error=" ".join(error.messages), status=400)


class EndpointPauseView(_EndpointActionView):
    def act(self, request, endpoint):
        endpoint_pause(endpoint=endpoint)
        messages.success(
            request, _("Paused: nothing is sent to %(url)s until you resume it.") % {"url": endpoint.url}
        )
        return redirect("webhooks:endpoint-list")


class EndpointResumeView(_EndpointActionView):
    def act(self, request, endpoint):
        endpoint_resume(endpoint=endpoint)
        messages.success(request, _("Resumed: deliveries to %(url)s go again.") % {"url": endpoint.url})
        return redirect("webhooks:endpoint-list")


class EndpointRotateView(_EndpointActionView):
    def act(self, request, endpoint):
        endpoint, secret = endpoint_secret_rotate(endpoint=endpoint, actor=request.user)
        return _list_render(request, EndpointForm(), created=endpoint, secret=secret)


class EndpointTestView(_EndpointActionView):
    def act(self, request, endpoint):
        endpoint_test_send(endpoint=endpoint)
        messages.success(request, _("A test event is on its way; its delivery is listed below."))
        return redirect("webhooks:delivery-list", pk=endpoint.pk)


class EndpointDeleteView(PermissionRequiredMixin, View):
    """GET asks to confirm; POST deletes."""

    permission_required = PERMISSION

    def get(self, request, pk):
        return render(request, "webhooks/endpoint_delete.html", {"endpoint": endpoint_get(pk=pk)})

    def post(self, request, pk):
        endpoint = endpoint_get(pk=pk)
        endpoint_delete(endpoint=endpoint, actor=request.user)
        messages.success(request, _("The endpoint %(url)s was deleted.") % {"url": endpoint.url})
        return redirect("webhooks:endpoint-list")


def _deliveries_render(request, endpoint, *, error=None, status=200):
    form = DeliveryFilterForm(request.GET)
    if not form.is_valid():
        status, error = 400, _("Choose a status from the list.")
        deliveries = delivery_list_for_endpoint(endpoint=endpoint)
    else:
        deliveries = delivery_list_for_endpoint(endpoint=endpoint, status=form.cleaned_data["status"])
    table = table_configure(
        DeliveryTable(deliveries, max_attempts=max_attempts()),
        request=request,
        per_page=DELIVERIES_PER_PAGE,
    )
    count = table.paginator.count  # the paginator's own count: no second query
    table.caption = ngettext("%(count)d delivery", "%(count)d deliveries", count) % {"count": count}
    return render(
        request,
        "webhooks/delivery_list.html",
        {
            "endpoint": endpoint,
            "filter_form": form,
            "table": table,
            "error": error,
        },
        status=status,
    )


class DeliveryListView(PermissionRequiredMixin, View):
    permission_required = PERMISSION

    def get(self, request, pk):
        return _deliveries_render(request, endpoint_get(pk=pk))


class DeliverySendAgainView(PermissionRequiredMixin, View):
    permission_required = PERMISSION
    http_method_names = ["post"]

    def post(self, request, pk, delivery_pk):
        endpoint = endpoint_get(pk=pk)
        delivery = delivery_get(endpoint=endpoint, pk=delivery_pk)
        try:
            delivery_send_again(delivery=delivery)
        except ValidationError as error:
            return _deliveries_render(request, endpoint, error=" ".join(error.messages), status=400)
        messages.success(request, _("The delivery will be sent again shortly."))
        return redirect("webhooks:delivery-list", pk=endpoint.pk)
