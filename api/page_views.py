"""The page where national staff make, see and revoke their personal API tokens.

Who may use it: holders of api.add_apitoken (national staff); anonymous visitors are sent to
sign in, everyone else gets a 403. Each member sees and revokes only their own tokens.
"""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from api.forms import ApiTokenForm
from api.selectors import api_token_get_own, api_token_list_for_user
from api.services import api_token_create, api_token_revoke
from api.tables import ApiTokenTable
from config.tables import table_configure

PER_PAGE = 25


def _render(request, form, *, created=None, raw=None, status=200):
    tokens = table_configure(
        ApiTokenTable(api_token_list_for_user(user=request.user)), request=request, per_page=PER_PAGE
    )
    return render(
        request,
        "api/token_list.html",
        {"form": form, "table": tokens, "created": created, "raw_token": raw},
        status=status,
    )


class ApiTokenListView(PermissionRequiredMixin, View):
    permission_required = "api.add_apitoken"

    def get(self, request):
        return _render(request, ApiTokenForm())

    def post(self, request):
        form = ApiTokenForm(request.POST)
        if not form.is_valid():
            return _render(request, form, status=400)
        try:
            token, raw = api_token_create(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            return _render(request, form, status=400)
        # Shown in this response only: the plain token is stored nowhere.
        response = _render(request, ApiTokenForm(), created=token, raw=raw)
        response["Cache-Control"] = "no-store"
        return response


class ApiTokenRevokeView(PermissionRequiredMixin, View):
    permission_required = "api.add_apitoken"
    http_method_names = ["post"]

    def post(self, request, pk):
        token = api_token_revoke(token=api_token_get_own(user=request.user, pk=pk))
        messages.success(request, _("The token “%(name)s” was revoked.") % {"name": token.name})
        return redirect("api:token-list")
