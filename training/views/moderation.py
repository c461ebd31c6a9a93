"""Moderation: staff sample a trainer's marks, a second marker marks them blind, staff settle.

Who may use each view is stated by its mixin; which moderation a user may reach is decided
only in training.permissions (a second marker sees only what was sent to them).
"""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from config.tables import table_configure
from training import permissions
from training.forms.marking import MarkForm, ModerationFilterForm, ModerationSampleForm
from training.rubric import RULE_EXPLAINED
from training.selectors.manage import trainer_candidate_list
from training.selectors.marking import marking_page_get
from training.selectors.moderation import (
    agreement_by_criterion,
    agreement_by_trainer,
    moderation_list_for_second_marker_page,
    moderation_list_for_staff,
    moderation_marks_get,
)
from training.services.marking import moderation_mark, moderation_sample, moderation_settle
from training.tables import ModerationTable
from training.views.base import PAGE_SIZE, RunsCohortsRequiredMixin, form_errors_add, paginate

TEMPLATES = "training/moderation/"


class ModeratesRequiredMixin(PermissionRequiredMixin):
    """National staff who moderate marking."""

    permission_required = "training.moderate_marks"


class ModerationListView(ModeratesRequiredMixin, View):
    """Staff: agreement between markers, every moderation by state, and a new sample."""

    def get(self, request):
        return self._render(request, ModerationSampleForm(trainers=trainer_candidate_list()))

    def _render(self, request, sample_form, *, status=200):
        filter_form = ModerationFilterForm(request.GET)
        state = filter_form.state_chosen()
        return render(
            request,
            TEMPLATES + "moderation_list.html",
            {
                "table": self._table(request, state),
                "filter_form": filter_form,
                "state": state,
                "sample_form": sample_form,
                "by_trainer": agreement_by_trainer(),
                "by_criterion": agreement_by_criterion(),
            },
            status=status,
        )

    @staticmethod
    def _table(request, state: str) -> ModerationTable:
        table = table_configure(
            ModerationTable(moderation_list_for_staff(state=state)), request=request, per_page=PAGE_SIZE
        )
        count = table.paginator.count
        table.caption = ngettext("%(count)d moderated mark", "%(count)d moderated marks", count) % {
            "count": count
        }
        return table


class ModerationSampleView(ModerationListView):
    """Staff: send a random sample of a trainer's marks to a second marker (POST only)."""

    http_method_names = ["post"]

    def post(self, request):
        form = ModerationSampleForm(request.POST, trainers=trainer_candidate_list())
        if form.is_valid():
            try:
                sample = moderation_sample(
                    first_marker=form.cleaned_data["first_marker"],
                    second_marker=form.cleaned_data["second_marker"],
                    size=form.cleaned_data["size"],
                    actor=request.user,
                )
            except ValidationError as error:
                form_errors_add(form, error)
            else:
                messages.success(
                    request,
                    _("%(count)s marks sent to %(name)s for second marking.")
                    % {"count": len(sample), "name": form.cleaned_data["second_marker"]},
                )
                return redirect("training:moderation-list")
        return self._render(request, form, status=400)


class SecondMarkingListView(RunsCohortsRequiredMixin, View):
    """Trainers: the work staff have asked them to second-mark, still to do first."""

    def get(self, request):
        moderations = moderation_list_for_second_marker_page(
            permissions.moderation_list_for_second_marker(user=request.user)
        )
        return render(
            request, TEMPLATES + "second_marking_list.html", {"page_obj": paginate(request, moderations)}
        )


class _MarkAgainView(View):
    """A page with the work beside the rubric form; subclasses fetch and save."""

    template = ""

    def _form(self, page, data=None, *, is_correction: bool) -> MarkForm:
        return MarkForm(
            data, criteria=page.criteria, is_correction=is_correction, initial={"seen_version": 0}
        )

    def _marks(self, moderation) -> dict:
        """{mark id: mark} of the marks this page may show."""
        return moderation_marks_get(moderation=moderation)

    def _render(self, request, moderation, page, form, *, status=200):
        marks = self._marks(moderation)
        return render(
            request,
            TEMPLATES + self.template,
            {
                "moderation": moderation,
                "first_mark": marks.get(moderation.first_mark_id),
                "second_mark": marks.get(moderation.second_mark_id),
                "page": page,
                "submission": page.submission,
                "form": form,
                "rubric_entries": form.rubric_entries() if form is not None else [],
                "rule_explained": RULE_EXPLAINED,
            },
            status=status,
        )


class SecondMarkView(RunsCohortsRequiredMixin, _MarkAgainView):
    """The second marker: mark the work blind, without seeing the first mark; once theirs is
    saved, the page shows the two marks side by side."""

    template = "second_mark.html"

    def _marks(self, moderation) -> dict:
        # Blind until their own mark is saved: the first mark is not even loaded before.
        return super()._marks(moderation) if moderation.second_mark_id else {}

    def _get(self, request, pk):
        moderation = permissions.moderation_get_for_second_marker(user=request.user, pk=pk)
        submission = moderation.first_mark.submission
        page = marking_page_get(user=request.user, submission=submission)
        return moderation, page

    def get(self, request, pk):
        moderation, page = self._get(request, pk)
        form = None if moderation.second_mark_id else self._form(page, is_correction=False)
        return self._render(request, moderation, page, form)

    def post(self, request, pk):
        moderation, page = self._get(request, pk)
        if moderation.second_mark_id:
            messages.info(request, _("You have already second-marked this work."))
            return redirect("training:moderation-second-mark", pk=moderation.pk)
        form = self._form(page, request.POST, is_correction=False)
        if form.is_valid():
            try:
                moderation_mark(
                    moderation=moderation,
                    marker=request.user,
                    levels=form.levels(),
                    feedback=form.cleaned_data["feedback"],
                )
            except ValidationError as error:
                form_errors_add(form, error)
            else:
                messages.success(
                    request, _("Second mark saved. Thank you. The first mark is now shown beside yours.")
                )
                return redirect("training:moderation-second-mark", pk=moderation.pk)
        return self._render(request, moderation, page, form, status=400)


class ModerationSettleView(ModeratesRequiredMixin, _MarkAgainView):
    """Staff: compare the two marks and set the final one, with a reason."""

    template = "moderation_settle.html"

    def _get(self, request, pk):
        moderation = permissions.moderation_get_for_staff(user=request.user, pk=pk)
        page = marking_page_get(user=request.user, submission=moderation.first_mark.submission)
        return moderation, page

    def _settleable(self, moderation) -> bool:
        return bool(moderation.second_mark_id) and not moderation.settled_mark_id

    def get(self, request, pk):
        moderation, page = self._get(request, pk)
        form = None
        if self._settleable(moderation):
            form = self._form(page, is_correction=True)
            second = next(mark for mark in page.marks if mark.pk == moderation.second_mark_id)
            form.initial.update(MarkForm.initial_from(second))
        return self._render(request, moderation, page, form)

    def post(self, request, pk):
        moderation, page = self._get(request, pk)
        if not self._settleable(moderation):
            return self._render(request, moderation, page, None, status=400)
        form = self._form(page, request.POST, is_correction=True)
        if form.is_valid():
            try:
                final = moderation_settle(
                    moderation=moderation,
                    actor=request.user,
                    levels=form.levels(),
                    feedback=form.cleaned_data["feedback"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as error:
                form_errors_add(form, error)
            else:
                messages.success(
                    request, _("Final mark saved: %(outcome)s.") % {"outcome": final.get_outcome_display()}
                )
                return redirect("training:moderation-list")
        return self._render(request, moderation, page, form, status=400)
