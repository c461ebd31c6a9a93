"""The targets pages (national staff): every target with its history, a new target, and a
change to one, which keeps the old number and date in the history."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from certification import permissions
from certification.models import TargetScope
from certification.services.targets import target_change, target_create
from reporting.forms import TargetChangeForm, TargetForm
from reporting.selectors.targets import target_history_list, target_list_with_history
from reporting.views.base import TEMPLATES, SetsTargetsRequiredMixin
from training.views.base import form_errors_add


class TargetListView(SetsTargetsRequiredMixin, View):
    """Every target with its history."""

    def get(self, request):
        return render(request, TEMPLATES + "target_list.html", {"targets": target_list_with_history()})


class TargetCreateView(SetsTargetsRequiredMixin, View):
    """A new target: for the country, a region, a constituency or the target seats."""

    def get(self, request):
        return self._render(request, TargetForm(initial={"scope": TargetScope.NATIONAL}))

    def post(self, request):
        form = TargetForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                target = target_create(
                    scope=data["scope"],
                    region=data["region"],
                    constituency=data["constituency"],
                    programme=data["programme"],
                    leaders=data["leaders"],
                    deadline=data["deadline"],
                    note=data["note"],
                    actor=request.user,
                )
            except ValidationError as error:
                form_errors_add(form, error)
            else:
                messages.success(request, _("Target set: %(target)s.") % {"target": target})
                return redirect("reporting:target-list")
        return self._render(request, form, status=400)

    def _render(self, request, form, *, status: int = 200):
        return render(request, TEMPLATES + "target_form.html", {"form": form}, status=status)


class TargetChangeView(SetsTargetsRequiredMixin, View):
    """A new number or date with the reason; the history keeps the old ones."""

    def get(self, request, pk):
        target = permissions.target_get_for_setter(user=request.user, pk=pk)
        form = TargetChangeForm(initial={"leaders": target.leaders, "deadline": target.deadline})
        return self._render(request, target, form)

    def post(self, request, pk):
        target = permissions.target_get_for_setter(user=request.user, pk=pk)
        form = TargetChangeForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                target = target_change(
                    target=target,
                    leaders=data["leaders"],
                    deadline=data["deadline"],
                    note=data["note"],
                    actor=request.user,
                )
            except ValidationError as error:
                form_errors_add(form, error)
            else:
                messages.success(request, _("Target changed: %(target)s.") % {"target": target})
                return redirect("reporting:target-list")
        return self._render(request, target, form, status=400)

    def _render(self, request, target, form, *, status: int = 200):
        return render(
            request,
            TEMPLATES + "target_change.html",
            {"target": target, "form": form, "changes": target_history_list(target=target)},
            status=status,
        )
