"""The Future Leaders registry: public to browse at each entry's visibility; each leader
edits their own entry.

Who may see an entry is decided in certification.selectors.registry (hidden entries are 404).
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from certification.forms import LocalActionForm, RegistryEntryForm, RegistryFilterForm
from certification.models import RegistryEntry
from certification.selectors.registry import (
    lineage_for,
    lineage_tree,
    local_action_list_for_staff,
    registry_entry_certificates,
    registry_entry_get_visible,
    registry_list,
)
from certification.services.registry import (
    local_action_create,
    local_action_delete,
    registry_entry_update,
    trainer_accredit,
)
from training.views.base import form_errors_add

PAGE_SIZE = 24


class RegistryListView(View):
    """Anyone: the leaders they may see, filtered by place and programme."""

    def get(self, request):
        filter_form = RegistryFilterForm(request.GET)
        filters = filter_form.filters()
        page = Paginator(registry_list(user=request.user, **filters), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        return render(
            request,
            "certification/registry_list.html",
            {"filter_form": filter_form, "page_obj": page, "is_filtered": any(filters.values())},
        )


class RegistryEntryView(View):
    """Anyone allowed by the entry's visibility; everyone else gets 404."""

    def get(self, request, pk):
        entry = registry_entry_get_visible(user=request.user, pk=pk)
        if entry is None:
            raise Http404("Not found.")
        return render(
            request,
            "certification/registry_entry.html",
            {
                "entry": entry,
                "certificates": registry_entry_certificates(entry=entry),
                "actions": list(entry.actions.all()),
                "lineage": lineage_for(entry=entry),
                "may_accredit": request.user.has_perm("certification.issue_certificates"),
            },
        )


class TrainerAccreditView(PermissionRequiredMixin, View):
    """National staff: accredit a Future Leader as a trainer (POST only)."""

    permission_required = "certification.issue_certificates"
    http_method_names = ["post"]

    def post(self, request, pk):
        entry = registry_entry_get_visible(user=request.user, pk=pk)
        if entry is None:
            raise Http404("Not found.")
        try:
            trainer_accredit(member=entry.member, actor=request.user, note=request.POST.get("note", ""))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("%(name)s is now an accredited trainer.") % {"name": entry.member})
        return redirect("certification:registry-entry", pk=entry.pk)


def _own_entry(request) -> RegistryEntry:
    entry = RegistryEntry.objects.filter(member=request.user).first()
    if entry is None:
        raise Http404("You are not in the registry yet: it opens to you with your first certificate.")
    return entry


def _render_me(request, entry, *, form=None, action_form=None, status=200):
    return render(
        request,
        "certification/registry_me.html",
        {
            "entry": entry,
            "form": form or RegistryEntryForm(initial={"visibility": entry.visibility, "bio": entry.bio}),
            "action_form": action_form or LocalActionForm(),
            "actions": list(entry.actions.all()),
        },
        status=status,
    )


class MyRegistryEntryView(LoginRequiredMixin, View):
    """A certified leader: who can see their entry, their bio and their local actions."""

    def _entry(self, request) -> RegistryEntry:
        return _own_entry(request)

    def get(self, request):
        return _render_me(request, self._entry(request))

    def post(self, request):
        entry = self._entry(request)
        form = RegistryEntryForm(request.POST)
        if form.is_valid():
            try:
                registry_entry_update(entry=entry, actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                form_errors_add(form, error)
            else:
                messages.success(request, _("Your registry entry is saved."))
                return redirect("certification:registry-me")
        return _render_me(request, entry, form=form, status=400)


class LocalActionCreateView(LoginRequiredMixin, View):
    """A certified leader records a local action (POST only)."""

    http_method_names = ["post"]

    def post(self, request):
        entry = _own_entry(request)
        form = LocalActionForm(request.POST)
        if form.is_valid():
            try:
                local_action_create(entry=entry, actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                form_errors_add(form, error)
            else:
                messages.success(request, _("Action added to your entry."))
                return redirect("certification:registry-me")
        return _render_me(request, entry, action_form=form, status=400)


class LocalActionDeleteView(LoginRequiredMixin, View):
    """A certified leader removes one of their own actions (POST only; others' are 404)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        entry = _own_entry(request)
        action = entry.actions.filter(pk=pk).first()
        if action is None:
            raise Http404("Not found.")
        local_action_delete(action=action, actor=request.user)
        messages.success(request, _("Action removed."))
        return redirect("certification:registry-me")


class LineageView(PermissionRequiredMixin, View):
    """National staff: how many generations deep the movement has trained itself."""

    permission_required = "certification.issue_certificates"

    def get(self, request):
        return render(request, "certification/lineage.html", {"tree": lineage_tree()})


class LocalActionOverviewView(PermissionRequiredMixin, View):
    """National staff: local actions across the country, by region."""

    permission_required = "certification.issue_certificates"

    def get(self, request):
        filter_form = RegistryFilterForm(request.GET)
        region_id = filter_form.filters()["region_id"]
        page = Paginator(local_action_list_for_staff(region_id=region_id), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        return render(
            request, "certification/actions_overview.html", {"page_obj": page, "filter_form": filter_form}
        )
