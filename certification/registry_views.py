"""The Future Leaders registry: public to browse at each entry's visibility; each leader
edits their own entry.

Who may see an entry is decided in certification.selectors.registry (hidden entries, and
other leaders' actions, are 404).
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from certification.forms import LocalActionForm, RegistryEntryForm, RegistryFilterForm
from certification.navigation import registry_nav_flag_remember
from certification.selectors.registry import (
    lineage_for,
    lineage_tree,
    local_action_get_for_leader,
    local_action_list,
    local_action_list_for_staff,
    registry_counts,
    registry_entry_certificates,
    registry_entry_get,
    registry_entry_get_own,
    registry_entry_place,
    registry_list,
    user_sees_whole_registry,
)
from certification.services.registry import (
    local_action_create,
    local_action_delete,
    local_action_update,
    registry_entry_update,
    trainer_accredit,
)
from training.views.base import form_errors_add

PAGE_SIZE = 24


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


class RegistryListView(View):
    """Anyone: the leaders they may see, filtered by place and programme, searched by name."""

    def get(self, request):
        filter_form = RegistryFilterForm(request.GET)
        filters = filter_form.filters()
        counts = registry_counts(user=request.user, **filters)
        paginator = Paginator(registry_list(user=request.user, **filters), PAGE_SIZE)
        paginator.count = counts["total"]  # already counted: spares the paginator's own query
        return render(
            request,
            "certification/registry_list.html",
            {
                "filter_form": filter_form,
                "page_obj": paginator.get_page(request.GET.get("page")),
                "counts": counts,
                "sees_all": user_sees_whole_registry(request.user),
                "is_filtered": any(filters.values()),
            },
        )


class RegistryEntryView(View):
    """Anyone allowed by the entry's visibility; everyone else gets 404."""

    def get(self, request, pk):
        entry = registry_entry_get(user=request.user, pk=pk)
        return render(
            request,
            "certification/registry_entry.html",
            {
                "entry": entry,
                "profile": registry_entry_place(entry=entry),
                "certificates": registry_entry_certificates(entry=entry),
                "actions": local_action_list(entry=entry),
                "lineage": lineage_for(entry=entry, user=request.user),
                "may_accredit": user_sees_whole_registry(request.user),
            },
        )


class TrainerAccreditView(PermissionRequiredMixin, View):
    """National staff: accredit a Future Leader as a trainer (POST only)."""

    permission_required = "certification.issue_certificates"
    http_method_names = ["post"]

    def post(self, request, pk):
        entry = registry_entry_get(user=request.user, pk=pk)
        note = request.POST.get("note", "")
        if "\x00" in note:  # no browser sends it, and PostgreSQL cannot store it
            messages.error(request, _("The note has a character that cannot be saved. Type it again."))
            return redirect("certification:registry-entry", pk=entry.pk)
        try:
            trainer_accredit(member=entry.member, actor=request.user, note=note)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("%(name)s is now an accredited trainer.") % {"name": entry.member})
        return redirect("certification:registry-entry", pk=entry.pk)


def _render_me(request, entry, *, form=None, action_form=None, status=200):
    return render(
        request,
        "certification/registry_me.html",
        {
            "entry": entry,
            "form": form or RegistryEntryForm(initial={"visibility": entry.visibility, "bio": entry.bio}),
            "action_form": action_form or LocalActionForm(),
            "actions": local_action_list(entry=entry),
        },
        status=status,
    )


class MyRegistryEntryView(LoginRequiredMixin, View):
    """A certified leader: who can see their entry, their bio and their local actions."""

    def get(self, request):
        entry = registry_entry_get_own(user=request.user)
        registry_nav_flag_remember(session=request.session, user=request.user, exists=True)
        return _render_me(request, entry)

    def post(self, request):
        entry = registry_entry_get_own(user=request.user)
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
        entry = registry_entry_get_own(user=request.user)
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


class LocalActionUpdateView(LoginRequiredMixin, View):
    """A certified leader corrects one of their own actions; anyone else's is 404."""

    def _render(self, request, action, form, status=200):
        return render(
            request, "certification/local_action_update.html", {"action": action, "form": form}, status=status
        )

    def _form(self, action, data=None):
        return LocalActionForm(
            data,
            initial={name: getattr(action, name) for name in LocalActionForm.base_fields},
            form_action=reverse("certification:registry-action-update", args=[action.pk]),
            submit_label=_("Save the action"),
        )

    def get(self, request, pk):
        action = local_action_get_for_leader(user=request.user, pk=pk)
        return self._render(request, action, self._form(action))

    def post(self, request, pk):
        action = local_action_get_for_leader(user=request.user, pk=pk)
        form = self._form(action, request.POST)
        if form.is_valid():
            try:
                local_action_update(action=action, actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                form_errors_add(form, error)
            else:
                messages.success(request, _("Action saved."))
                return redirect("certification:registry-me")
        return self._render(request, action, form, status=400)


class LocalActionDeleteView(LoginRequiredMixin, View):
    """A certified leader removes one of their own actions (POST only; others' are 404)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        action = local_action_get_for_leader(user=request.user, pk=pk)
        local_action_delete(action=action, actor=request.user)
        messages.success(request, _("Action removed."))
        return redirect("certification:registry-me")


class LineageView(PermissionRequiredMixin, View):
    """National staff: who trained whom, and how many generations deep the movement goes."""

    permission_required = "certification.issue_certificates"

    def get(self, request):
        return render(request, "certification/lineage.html", {"tree": lineage_tree()})


class LocalActionOverviewView(PermissionRequiredMixin, View):
    """National staff: local actions across the country, by region."""

    permission_required = "certification.issue_certificates"

    def get(self, request):
        filter_form = RegistryFilterForm(request.GET)
        region_id = filter_form.filters()["region_id"]
        page = _page(request, local_action_list_for_staff(region_id=region_id))
        return render(
            request, "certification/actions_overview.html", {"page_obj": page, "filter_form": filter_form}
        )
