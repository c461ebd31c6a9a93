"""Reads for the trainer's side of marking: the queue, the marking page and the gradebook.

Every function here takes an object already fetched through training.permissions, or a
queryset from there: access is decided once, in that module. Each page's cost is a fixed
number of queries, whatever the number of submissions, trainees or assignments.
"""

import datetime as dt
import math
from dataclasses import dataclass, field

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from config.ids import id_from_text
from training import permissions
from training.models import (
    Assignment,
    AssignmentDueDate,
    Cohort,
    Enrolment,
    Mark,
    MarkKind,
    MarkLevel,
    Moderation,
    Outcome,
    RubricCriterion,
    Submission,
    SubmissionFile,
    SubmissionStatus,
)
from training.selectors.trainee import cohort_progress_list
from training.services.submissions import resubmission_due_on, work_due_on

# --- The marking queue ---------------------------------------------------------------


def marking_queue_list(
    *,
    submissions: QuerySet[Submission],
    region_id: int | None = None,
    cohort_id: int | None = None,
    assignment_id: int | None = None,
) -> QuerySet[Submission]:
    """`submissions` (from permissions) still waiting for a first mark, oldest first."""
    waiting = submissions.filter(status=SubmissionStatus.SUBMITTED, outcome="")
    if region_id:
        waiting = waiting.filter(enrolment__cohort__region_id=region_id)
    if cohort_id:
        waiting = waiting.filter(enrolment__cohort_id=cohort_id)
    if assignment_id:
        waiting = waiting.filter(assignment_id=assignment_id)
    return waiting.select_related("enrolment__member", "enrolment__cohort__version", "assignment").order_by(
        "submitted_at", "pk"
    )


@dataclass
class QueueRow:
    """One submission on the queue, with how long it has waited."""

    submission: Submission
    now: dt.datetime

    @property
    def waited(self) -> dt.timedelta:
        return self.now - self.submission.submitted_at

    @property
    def turnaround_days(self) -> int:
        return self.submission.enrolment.cohort.version.marking_turnaround_days

    @property
    def is_overdue(self) -> bool:
        return self.waited > dt.timedelta(days=self.turnaround_days)


def marking_queue_rows(submissions, *, now: dt.datetime | None = None) -> list[QueueRow]:
    """A page of the queue as rows; no queries beyond the page's own."""
    now = now or timezone.now()
    return [QueueRow(submission=submission, now=now) for submission in submissions]


def marking_queue_next(*, queue: QuerySet[Submission], after: Submission) -> Submission | None:
    """The oldest submission on `queue` other than `after`: the one to mark next."""
    return queue.exclude(pk=after.pk).first()


def marking_queue_cohort_choices(
    *, user, keep: str | None = None, region: str | None = None
) -> QuerySet[Cohort]:
    """The cohorts the queue may be filtered by: those the user runs with work waiting for a
    first mark, and `keep` (the cohort chosen, a pk as the query string gives it) while the
    user runs it, so that a filtered queue stays filtered once its last work is marked.

    Not every cohort the user runs: for staff that is every cohort there has ever been, and a
    list of thousands of options costs the page more than the queue itself. Even those with
    work waiting grow with the country's activity (355 at 100,000 members), so staff see
    one `region`'s at a time (a pk as the query string gives it), and none before choosing.
    """
    waiting = Submission.objects.filter(status=SubmissionStatus.SUBMITTED, outcome="").values(
        "enrolment__cohort_id"
    )
    shown = Q(pk__in=waiting)
    if permissions.user_manages_all_cohorts(user):
        region_id = id_from_text(region)
        shown &= Q(region_id=region_id) if region_id else Q(pk__in=[])
    if keep_id := id_from_text(keep):
        shown |= Q(pk=keep_id)
    return permissions.cohort_list_manageable_by(user=user).filter(shown).order_by("name", "pk")


def marking_queue_assignment_choices(*, user) -> QuerySet[Assignment]:
    """The assignments the queue may be filtered by: those of the cohorts the user runs."""
    versions = permissions.cohort_list_manageable_by(user=user).values("version_id")
    return (
        Assignment.objects.filter(module__version_id__in=versions)
        .select_related("module__version__programme")
        .order_by("module__version__programme__title", "module__version__number", "module__position", "pk")
    )


# --- The marking page ----------------------------------------------------------------


def rubric_list(*, assignment: Assignment) -> list[RubricCriterion]:
    """The assignment's criteria in order, each with its levels lowest first: two queries."""
    return list(assignment.criteria.prefetch_related("levels").order_by("position"))


def mark_list_for_marker(*, submission: Submission, user) -> list[Mark]:
    """The marks of a submission, oldest first, as the marking page shows them.

    Second markings are blind: only people who moderate see them, never the first marker.
    """
    marks = (
        Mark.objects.filter(submission=submission)
        .select_related("marker")
        .prefetch_related(
            Prefetch(
                "levels",
                queryset=MarkLevel.objects.select_related("criterion", "level").order_by(
                    "criterion__position"
                ),
            )
        )
        .order_by("created_at", "pk")
    )
    if not permissions.user_moderates(user):
        marks = marks.exclude(kind=MarkKind.MODERATION)
    return list(marks)


def user_second_marks_blind(*, user, submission: Submission) -> bool:
    """Whether the user has still to second-mark this work, so must not see its marks yet."""
    return Moderation.objects.filter(
        first_mark__submission=submission, second_marker=user, second_mark__isnull=True
    ).exists()


@dataclass
class MarkingPage:
    """What the marking page shows beside the form."""

    submission: Submission
    criteria: list[RubricCriterion]
    files: list[SubmissionFile]
    due_on: dt.date
    earlier_attempts: list[Submission]
    # Empty while the user is a pending second marker: they mark blind.
    marks: list[Mark] = field(default_factory=list)
    is_blind: bool = False

    @property
    def cohort(self) -> Cohort:
        return self.submission.enrolment.cohort

    @property
    def current_mark(self) -> Mark | None:
        """The mark the trainee sees: the latest that is not a second marking."""
        shown = [mark for mark in self.marks if mark.kind != MarkKind.MODERATION]
        return shown[-1] if shown else None

    @property
    def is_correction(self) -> bool:
        return bool(self.submission.outcome)

    @property
    def is_resubmission_due(self) -> bool:
        """Whether due_on is the date an earlier mark set for this resubmission."""
        return resubmission_due_on(attempts=self.earlier_attempts) is not None

    @property
    def may_ask_resubmission(self) -> bool:
        """Whether a resubmit outcome leaves an attempt to hand in (and so takes a due date)."""
        return len(self.earlier_attempts) + 1 < self.submission.assignment.max_attempts

    @property
    def may_mark(self) -> bool:
        """Whether the form is offered: there is a rubric, and the user is not marking blind."""
        return bool(self.criteria) and not self.is_blind


def marking_page_get(*, user, submission: Submission) -> MarkingPage:
    """Everything the marking page needs about a submission fetched for its marker."""
    cohort = submission.enrolment.cohort
    override = (
        AssignmentDueDate.objects.filter(cohort=cohort, assignment=submission.assignment)
        .values_list("due_on", flat=True)
        .first()
    )
    is_blind = user_second_marks_blind(user=user, submission=submission)
    earlier_attempts = list(
        Submission.objects.filter(
            enrolment_id=submission.enrolment_id,
            assignment_id=submission.assignment_id,
            status=SubmissionStatus.SUBMITTED,
            attempt__lt=submission.attempt,
        ).order_by("attempt")
    )
    return MarkingPage(
        submission=submission,
        criteria=rubric_list(assignment=submission.assignment),
        files=list(submission.files.all()),
        # A resubmission was due on the date its mark set, not on the cohort's date.
        due_on=work_due_on(
            assignment=submission.assignment, cohort=cohort, attempts=earlier_attempts, override=override
        ),
        earlier_attempts=earlier_attempts,
        marks=[] if is_blind else mark_list_for_marker(submission=submission, user=user),
        is_blind=is_blind,
    )


# --- The gradebook -------------------------------------------------------------------


class CellState:
    """What a gradebook cell says when there is no outcome to show."""

    WAITING = "waiting"
    DRAFT = "draft"
    NONE = ""


@dataclass
class GradebookCell:
    """One trainee's standing on one assignment: their latest handed-in attempt, if any."""

    assignment: Assignment
    submission: Submission | None = None
    has_draft: bool = False

    @property
    def state(self) -> str:
        """An Outcome value, or a CellState."""
        if self.submission is not None:
            return self.submission.outcome or CellState.WAITING
        return CellState.DRAFT if self.has_draft else CellState.NONE

    @property
    def label(self) -> str:
        """What the cell says, in words ("" when nothing was started)."""
        state = self.state
        if state == CellState.WAITING:
            return _("Waiting")
        if state == CellState.DRAFT:
            return _("Draft")
        return Outcome(state).label if state else ""

    @property
    def is_late(self) -> bool:
        return self.submission is not None and self.submission.is_late


@dataclass
class GradebookRow:
    enrolment: Enrolment
    cells: list[GradebookCell]
    # Over the sessions held so far (started, not cancelled): what the trainee sees too.
    present: int
    sessions_held: int

    @property
    def name(self) -> str:
        return str(self.enrolment.member)

    @property
    def attendance_percent(self) -> int | None:
        if not self.sessions_held:
            return None
        return min(math.floor(self.present * 100 / self.sessions_held), 100)


@dataclass
class Gradebook:
    cohort: Cohort
    assignments: list[Assignment]
    rows: list[GradebookRow]


def cohort_gradebook_get(*, cohort: Cohort, user, now: dt.datetime | None = None) -> Gradebook:
    """The cohort's trainees (enrolled or completed, by name) against the version's assignments
    (in module order), with attendance: six queries whatever the size of the cohort."""
    now = now or timezone.now()
    assignments = list(
        Assignment.objects.filter(module__version_id=cohort.version_id)
        .select_related("module")
        .order_by("module__position", "pk")
    )
    enrolments = list(
        Enrolment.objects.filter(cohort=cohort, status__in=permissions.ATTENDING_STATUSES)
        .select_related("member")
        .order_by("member__first_name", "member__last_name", "pk")
    )
    for enrolment in enrolments:
        enrolment.cohort = cohort  # already loaded: saves a join per row below
    latest: dict[tuple[int, int], Submission] = {}
    drafts: set[tuple[int, int]] = set()
    submissions = (
        Submission.objects.filter(
            enrolment__cohort=cohort, enrolment__status__in=permissions.ATTENDING_STATUSES
        )
        .exclude(status=SubmissionStatus.WITHDRAWN)
        .only("pk", "enrolment_id", "assignment_id", "attempt", "status", "outcome", "is_late")
        .order_by("attempt")
    )
    for submission in submissions:
        key = (submission.enrolment_id, submission.assignment_id)
        if submission.status == SubmissionStatus.DRAFT:
            drafts.add(key)
        else:
            latest[key] = submission  # later attempts come later, so the last one wins
    # The same counts the trainee sees on My training: present over the sessions held so far.
    progress = {p.enrolment.pk: p for p in cohort_progress_list(enrolments, user=user, now=now)}
    rows = [
        GradebookRow(
            enrolment=enrolment,
            cells=[
                GradebookCell(
                    assignment=assignment,
                    submission=latest.get((enrolment.pk, assignment.pk)),
                    has_draft=(enrolment.pk, assignment.pk) in drafts,
                )
                for assignment in assignments
            ],
            present=progress[enrolment.pk].present,
            sessions_held=progress[enrolment.pk].past_sessions,
        )
        for enrolment in enrolments
    ]
    return Gradebook(cohort=cohort, assignments=assignments, rows=rows)
