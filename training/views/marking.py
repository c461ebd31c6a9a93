"""Trainers mark their cohorts' work; trainers and staff read each cohort's gradebook.

Who may use each view is stated by its mixin; which submission or cohort a user may touch
is decided only in training.permissions (another cohort's work is 404, and so is one's own).
"""

import csv
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from audit.services import audit_member_list_record
from config.spreadsheets import csv_safe
from config.tables import table_configure
from members.models import Region
from training import permissions
from training.forms.marking import MarkForm, MarkingQueueFilterForm
from training.rubric import RULE_EXPLAINED
from training.selectors.marking import (
    Gradebook,
    MarkingPage,
    cohort_gradebook_get,
    marking_page_get,
    marking_queue_assignment_choices,
    marking_queue_cohort_choices,
    marking_queue_list,
    marking_queue_next,
)
from training.services.marking import MarkConflict, mark_save, resubmit_due_default
from training.tables import MarkingQueueTable
from training.views.base import PAGE_SIZE, RunsCohortsRequiredMixin, cohort_page_render, form_errors_add


def _filter_form(request) -> MarkingQueueFilterForm:
    by_region = permissions.user_manages_all_cohorts(request.user)
    return MarkingQueueFilterForm(
        request.GET,
        regions=Region.objects.order_by("name") if by_region else None,
        cohorts=marking_queue_cohort_choices(
            user=request.user, keep=request.GET.get("cohort"), region=request.GET.get("region")
        ),
        assignments=marking_queue_assignment_choices(user=request.user),
    )


def _queue(request, filter_form: MarkingQueueFilterForm):
    return marking_queue_list(
        submissions=permissions.submission_list_markable_by(user=request.user), **filter_form.filters()
    )


# --- The queue -----------------------------------------------------------------------


class MarkingQueueView(RunsCohortsRequiredMixin, View):
    """Trainers (work in their cohorts) and staff (all): what waits for a first mark, oldest first."""

    def get(self, request):
        filter_form = _filter_form(request)
        is_filtered = any(filter_form.filters().values())
        table = table_configure(
            MarkingQueueTable(_queue(request, filter_form), filter_query=urlencode(filter_form.query())),
            request=request,
            per_page=PAGE_SIZE,
        )
        count = table.paginator.count
        table.caption = ngettext("%(count)d submission waiting", "%(count)d submissions waiting", count) % {
            "count": count
        }
        if is_filtered:
            table.caption += " " + _("(filtered)")
        return render(
            request,
            "training/marking/marking_queue.html",
            {
                "table": table,
                "filter_form": filter_form,
                "is_filtered": is_filtered,
                "second_marking_waiting": permissions.moderation_list_for_second_marker(user=request.user)
                .filter(second_mark__isnull=True)
                .count(),
            },
        )


# --- Marking one submission ----------------------------------------------------------


def _with_query(url: str, filter_form: MarkingQueueFilterForm) -> str:
    """`url` with the queue's valid filters, so that marking returns to the same list."""
    query = filter_form.query()
    return f"{url}?{urlencode(query)}" if query else url


class SubmissionMarkView(RunsCohortsRequiredMixin, View):
    """The cohort's trainers and staff: mark handed-in work against its rubric, or correct a mark."""

    template = "training/marking/submission_mark.html"

    def get(self, request, pk):
        submission = permissions.submission_get_for_marker(user=request.user, pk=pk)
        page = marking_page_get(user=request.user, submission=submission)
        initial = {"seen_version": submission.mark_version}
        if page.current_mark is not None:
            # A correction starts from the mark it corrects: usually one thing changes.
            initial.update(MarkForm.initial_from(page.current_mark))
        form = self._form(page, initial=initial)
        return self._render(request, page, form)

    def post(self, request, pk):
        submission = permissions.submission_get_for_marker(user=request.user, pk=pk)
        page = marking_page_get(user=request.user, submission=submission)
        if not page.may_mark:
            return self._render(request, page, None, status=400)
        # Validate against the form the marker saw: a reason is asked for when they saw a mark.
        form = MarkForm(
            request.POST,
            criteria=page.criteria,
            is_correction=self._saw_a_mark(request.POST),
            resubmit_due=self._resubmit_due(page),
        )
        if form.is_valid():
            data = form.cleaned_data
            try:
                mark = mark_save(
                    submission=submission,
                    marker=request.user,
                    levels=form.levels(),
                    feedback=data["feedback"],
                    seen_version=data["seen_version"],
                    reason=data.get("reason", ""),
                    resubmit_due_on=data.get("resubmit_due_on"),
                )
            except MarkConflict as conflict:
                return self._conflict(request, pk, form, conflict)
            except ValidationError as error:
                form_errors_add(form, error)
            else:
                saved = _("Mark saved for %(name)s, “%(assignment)s”: %(outcome)s.")
                messages.success(
                    request,
                    saved
                    % {
                        "name": submission.enrolment.member,
                        "assignment": submission.assignment.title,
                        "outcome": mark.get_outcome_display(),
                    },
                )
                return redirect(self._after_saving(request, submission))
        return self._render(request, page, form, status=400)

    @staticmethod
    def _saw_a_mark(data) -> bool:
        # Each mark bumps mark_version, so a version above 0 means the page showed a mark.
        try:
            return int(data.get("seen_version", "")) > 0
        except ValueError:
            return False

    @staticmethod
    def _resubmit_due(page: MarkingPage):
        """The resubmission due date the form offers, or None when no attempt would be left."""
        if not page.may_ask_resubmission:
            return None
        return resubmit_due_default(assignment_due_on=page.due_on, today=timezone.localdate())

    @classmethod
    def _form(cls, page: MarkingPage, **kwargs) -> MarkForm | None:
        """The marking form, or None when there is nothing this user may mark here yet."""
        if not page.may_mark:
            return None
        return MarkForm(
            criteria=page.criteria,
            is_correction=page.is_correction,
            resubmit_due=cls._resubmit_due(page),
            **kwargs,
        )

    def _conflict(self, request, pk, stale: MarkForm, conflict: MarkConflict):
        """Someone marked first: show their mark, keep what this marker chose, and offer a correction."""
        submission = permissions.submission_get_for_marker(user=request.user, pk=pk)
        page = marking_page_get(user=request.user, submission=submission)
        kept = {name: value for name, value in stale.cleaned_data.items() if name != "seen_version"}
        form = self._form(page, initial={**kept, "seen_version": submission.mark_version})
        return self._render(request, page, form, status=409, conflict=conflict.messages[0])

    @staticmethod
    def _after_saving(request, submission) -> str:
        """The next work on the queue (with its filters) when asked for, else the queue."""
        filter_form = _filter_form(request)
        if request.POST.get("then") == "next":
            following = marking_queue_next(queue=_queue(request, filter_form), after=submission)
            if following is not None:
                return _with_query(reverse("training:submission-mark", args=[following.pk]), filter_form)
        return _with_query(reverse("training:marking-queue"), filter_form)

    def _render(self, request, page: MarkingPage, form, *, status=200, conflict=""):
        filter_form = _filter_form(request) if request.GET else None
        return render(
            request,
            self.template,
            {
                "page": page,
                "submission": page.submission,
                "cohort": page.cohort,
                "form": form,
                "rubric_entries": form.rubric_entries() if form is not None else [],
                "rule_explained": RULE_EXPLAINED,
                "conflict": conflict,
                "queue_query": urlencode(filter_form.query()) if filter_form is not None else "",
            },
            status=status,
        )


# --- The gradebook -------------------------------------------------------------------


class CohortGradebookView(RunsCohortsRequiredMixin, View):
    """The cohort's trainers and staff: every trainee against every assignment, with attendance."""

    def get(self, request, pk):
        cohort = permissions.cohort_get_manageable(user=request.user, pk=pk)
        audit_member_list_record(
            request=request, obj=cohort, label=_("Gradebook: %(cohort)s") % {"cohort": cohort.name}
        )
        return cohort_page_render(
            request,
            "training/marking/cohort_gradebook.html",
            {"cohort": cohort, "gradebook": cohort_gradebook_get(cohort=cohort, user=request.user)},
        )


def gradebook_csv_rows(gradebook: Gradebook) -> list[list]:
    """The gradebook page's numbers as rows of a spreadsheet, with a header row."""
    header = [
        _("Trainee"),
        _("Present"),
        _("Sessions held"),
        _("Attendance %"),
        *(assignment.title for assignment in gradebook.assignments),
    ]
    rows = [header]
    for row in gradebook.rows:
        cells = []
        for cell in row.cells:
            text = str(cell.label)
            if cell.is_late:
                text = _("%(outcome)s (late)") % {"outcome": text}
            cells.append(text)
        percent = row.attendance_percent
        rows.append([row.name, row.present, row.sessions_held, "" if percent is None else percent, *cells])
    return [[csv_safe(value) for value in values] for values in rows]


class CohortGradebookCsvView(RunsCohortsRequiredMixin, View):
    """The gradebook as a CSV file, for the cohort's trainers and staff."""

    def get(self, request, pk):
        cohort = permissions.cohort_get_manageable(user=request.user, pk=pk)
        gradebook = cohort_gradebook_get(cohort=cohort, user=request.user)
        audit_member_list_record(
            request=request,
            obj=cohort,
            label=_("Gradebook: %(cohort)s") % {"cohort": cohort.name},
            exported=True,
        )
        filename = f"gradebook-{slugify(cohort.name) or cohort.pk}-{timezone.localdate():%Y-%m-%d}.csv"
        response = HttpResponse(
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
        response.write("\ufeff")  # lets Excel read the names as UTF-8
        csv.writer(response).writerows(gradebook_csv_rows(gradebook))
        return response
