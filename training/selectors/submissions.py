"""Reads for the trainee's side of assignments: the assignment page and their progress.

Which assignments a trainee may reach is decided in training.permissions. Each page costs a
fixed number of queries, whatever the number of criteria, attempts, files or marks.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import models
from django.db.models import OuterRef, Prefetch, Subquery
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from training import permissions
from training.models import (
    Assignment,
    AssignmentDueDate,
    Cohort,
    Enrolment,
    Mark,
    MarkKind,
    MarkLevel,
    Outcome,
    RubricCriterion,
    Submission,
    SubmissionStatus,
)
from training.services.submissions import (
    assignment_due_on,
    resubmission_due_on,
    submission_may_hand_in,
    submission_may_start,
)
from training.uploads import SUBMISSION_MAX_BYTES, SUBMISSION_MAX_FILES, file_type_labels

# The marks a trainee sees. A second marker's blind mark never reaches them; a settled
# "final" mark, a correction or the first mark does, whichever came last.
SHOWN_MARK_KINDS = [MarkKind.FIRST, MarkKind.CORRECTION, MarkKind.FINAL]


class Progress(models.TextChoices):
    """Where a trainee is with one assignment, as the module and assignment pages say it."""

    NOT_STARTED = "not_started", _("Not started")
    DRAFT = "draft", _("Draft saved")
    HANDED_IN = "handed_in", _("Handed in, waiting for marking")
    RESUBMIT = "resubmit", _("Resubmit")
    # A resubmit outcome on the last attempt allowed: the assignment is closed, not passed.
    NO_ATTEMPTS_LEFT = "no_attempts_left", _("Not passed: no attempts left")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Not passed")


def progress_of(*, attempts: list[Submission], max_attempts: int) -> str:
    """The trainee's progress from their attempts at one assignment, oldest first."""
    counted = [s for s in attempts if s.status != SubmissionStatus.WITHDRAWN]
    if not counted:
        return Progress.NOT_STARTED
    latest = counted[-1]
    if latest.status == SubmissionStatus.DRAFT:
        return Progress.DRAFT
    if not latest.outcome:
        return Progress.HANDED_IN
    if latest.outcome == Outcome.PASS:
        return Progress.PASSED
    if latest.outcome == Outcome.FAIL:
        return Progress.FAILED
    handed_in = sum(1 for s in counted if s.status == SubmissionStatus.SUBMITTED)
    return Progress.RESUBMIT if handed_in < max_attempts else Progress.NO_ATTEMPTS_LEFT


def enrolment_for_version(*, user, version_id: int) -> Enrolment | None:
    """The member's enrolment that sets their due dates for this version and holds their work:
    of the cohorts of it they are in or have completed, the latest to start (as on the module
    page)."""
    return (
        Enrolment.objects.filter(
            member=user, status__in=permissions.ATTENDING_STATUSES, cohort__version_id=version_id
        )
        .select_related("cohort")
        .order_by("-cohort__starts_on", "-pk")
        .first()
    )


def due_dates_for(*, cohort: Cohort, assignments: list[Assignment]) -> dict[int, dt.date]:
    """{assignment id: due date} for the cohort, its own dates winning. One query."""
    own = dict(
        AssignmentDueDate.objects.filter(cohort=cohort, assignment__in=assignments).values_list(
            "assignment_id", "due_on"
        )
    )
    return {a.pk: assignment_due_on(assignment=a, cohort=cohort, override=own.get(a.pk)) for a in assignments}


def progress_for(*, enrolment: Enrolment, assignments: list[Assignment]) -> dict[int, str]:
    """{assignment id: Progress} for the trainee's enrolment. One query, for any number."""
    by_assignment: dict[int, list[Submission]] = {a.pk: [] for a in assignments}
    for submission in (
        Submission.objects.filter(enrolment=enrolment, assignment__in=assignments)
        .only("pk", "assignment_id", "attempt", "status", "outcome")
        .order_by("attempt")
    ):
        by_assignment[submission.assignment_id].append(submission)
    return {a.pk: progress_of(attempts=by_assignment[a.pk], max_attempts=a.max_attempts) for a in assignments}


# --- The assignment page ----------------------------------------------------------------


@dataclass
class Attempt:
    """One attempt with its files and, once marked, the mark the trainee sees."""

    submission: Submission
    # The current mark: the latest first mark, correction or settled final mark.
    mark: Mark | None
    # The current mark's level for each criterion (with both loaded), in rubric order.
    levels: list[MarkLevel]

    @property
    def may_withdraw(self) -> bool:
        return self.submission.status == SubmissionStatus.SUBMITTED and not self.submission.outcome


@dataclass
class AssignmentPage:
    assignment: Assignment
    enrolment: Enrolment
    # When the next attempt is due: a resubmission's own date while one is asked for, else
    # the cohort's date (services.submissions.work_due_on).
    due_on: dt.date
    criteria: list[RubricCriterion]
    # Handed-in and withdrawn attempts, newest first.
    attempts: list[Attempt]
    draft: Submission | None
    # Why the trainee cannot work on the assignment now, or "" if they can.
    refusal: str
    progress: str
    today: dt.date
    # Whether due_on is a resubmission's own date rather than the cohort's.
    is_resubmission_due: bool = False

    @property
    def cohort(self) -> Cohort:
        return self.enrolment.cohort

    @property
    def latest_marked(self) -> "Attempt | None":
        """The newest attempt with a mark: its outcome and feedback lead the page."""
        return next((a for a in self.attempts if a.mark is not None), None)

    @property
    def other_attempts(self) -> list["Attempt"]:
        """Every attempt but the one leading the page, newest first."""
        leading = self.latest_marked
        return [a for a in self.attempts if a is not leading]

    @property
    def is_past_due(self) -> bool:
        return self.today > self.due_on

    @property
    def hands_in_late(self) -> bool:
        """Past the due date with work still to hand in: it will be marked late."""
        return self.is_past_due and not self.refusal

    @property
    def attempts_used(self) -> int:
        """Withdrawn attempts are not counted, as the services do not count them."""
        return sum(1 for a in self.attempts if a.submission.status == SubmissionStatus.SUBMITTED)

    @property
    def next_attempt_number(self) -> int:
        if self.draft is not None:
            return self.draft.attempt
        return max((a.submission.attempt for a in self.attempts), default=0) + 1

    @property
    def accepted_file_types(self) -> list[str]:
        return [key for key in self.assignment.accepted_file_types.split(",") if key]

    @property
    def accepted_labels(self) -> str:
        return file_type_labels(self.accepted_file_types)

    @property
    def progress_label(self) -> str:
        return Progress(self.progress).label

    @property
    def max_bytes(self) -> int:
        return SUBMISSION_MAX_BYTES

    @property
    def max_files(self) -> int:
        return SUBMISSION_MAX_FILES


def assignment_page_get(*, user, assignment: Assignment, today: dt.date | None = None) -> AssignmentPage:
    """Everything on the trainee's assignment page, in at most nine queries, whatever the
    number of criteria, attempts, files and marks.

    `assignment` comes from permissions.assignment_get_for_trainee.
    """
    enrolment = enrolment_for_version(user=user, version_id=assignment.module.version_id)
    if enrolment is None:  # the permission check above makes this unreachable, short of a race
        raise Http404("Not found.")
    cohort = enrolment.cohort
    criteria = list(assignment.criteria.prefetch_related("levels").order_by("position"))
    current_mark = (
        Mark.objects.filter(submission=OuterRef("pk"), kind__in=SHOWN_MARK_KINDS)
        .order_by("-created_at", "-pk")
        .values("pk")[:1]
    )
    submissions = list(
        Submission.objects.filter(enrolment=enrolment, assignment=assignment)
        .annotate(current_mark_id=Subquery(current_mark))
        .prefetch_related("files")
        .order_by("attempt")
    )
    mark_ids = [s.current_mark_id for s in submissions if s.current_mark_id]
    # No query while nothing is marked: Django skips an empty IN. Marks' default ordering
    # joins the submission, which a dict does not need.
    marks = {
        mark.pk: mark
        for mark in Mark.objects.filter(pk__in=mark_ids)
        .order_by()
        .prefetch_related(
            Prefetch(
                "levels",
                queryset=MarkLevel.objects.select_related("criterion", "level").order_by(
                    "criterion__position"
                ),
            )
        )
    }
    today = today or timezone.localdate()
    draft = next((s for s in submissions if s.status == SubmissionStatus.DRAFT), None)
    earlier = [s for s in submissions if s.status != SubmissionStatus.DRAFT]
    if draft is None:
        refusal = submission_may_start(
            enrolment=enrolment, assignment=assignment, attempts=earlier, today=today
        )
    else:
        # A draft already holds its attempt: only the enrolment and the cohort (or an open
        # resubmission after the cohort's end) decide whether it may be handed in.
        refusal = submission_may_hand_in(enrolment=enrolment, attempts=earlier, today=today)
    resubmission_due = resubmission_due_on(attempts=earlier)
    cohort_due_on = due_dates_for(cohort=cohort, assignments=[assignment])[assignment.pk]
    attempts = []
    for submission in reversed(earlier):
        mark = marks.get(submission.current_mark_id)
        attempts.append(
            Attempt(submission=submission, mark=mark, levels=list(mark.levels.all()) if mark else [])
        )
    return AssignmentPage(
        assignment=assignment,
        enrolment=enrolment,
        due_on=resubmission_due or cohort_due_on,
        criteria=criteria,
        attempts=attempts,
        draft=draft,
        refusal=refusal,
        progress=progress_of(attempts=submissions, max_attempts=assignment.max_attempts),
        today=today,
        is_resubmission_due=resubmission_due is not None,
    )
