"""Reads for the pages where trainers run their cohorts and staff open them.

Every function here takes an object already fetched through training.permissions, or a
queryset from there: access is decided once, in that module. Each page's cost is a fixed
number of queries, whatever the number of cohorts, sessions or trainees.
"""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, QuerySet, Subquery, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from training.models import (
    PLACE_HOLDING_STATUSES,
    Apology,
    Assignment,
    AssignmentDueDate,
    Attendance,
    AttendanceStatus,
    Cohort,
    CohortStatus,
    Enrolment,
    EnrolmentStatus,
    Module,
    Session,
    SessionConfirmation,
    SessionStatus,
)
from training.services.attendance import REGISTER_STATUSES
from training.services.submissions import assignment_due_on

User = get_user_model()

OVER_STATUSES = [CohortStatus.FINISHED, CohortStatus.CANCELLED]


def _count(queryset: QuerySet, *, by: str) -> Coalesce:
    """COUNT of `queryset` rows, correlated through the column `by` (filtered on OuterRef).

    A subquery rather than Count() over joins: two joined counts would multiply each other.
    """
    counted = queryset.order_by().values(by).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


# --- Cohort list ---------------------------------------------------------------------


def cohort_list_for_manage_page(
    *, cohorts: QuerySet[Cohort], status: str = "", region_id: int | None = None
) -> QuerySet[Cohort]:
    """`cohorts` (from permissions) with what the list page shows, in one query.

    Annotated with `places_taken`, `pending_count`, and the next scheduled session's
    `next_session_starts_at` / `next_session_ends_at` (None when there is none).
    """
    if status:
        cohorts = cohorts.filter(status=status)
    if region_id:
        cohorts = cohorts.filter(region_id=region_id)
    next_session = Session.objects.filter(
        cohort=OuterRef("pk"), status=SessionStatus.SCHEDULED, ends_at__gte=timezone.now()
    ).order_by("starts_at")
    return (
        cohorts.select_related("version__programme", "region")
        .annotate(
            places_taken=_count(
                Enrolment.objects.filter(cohort=OuterRef("pk"), status__in=PLACE_HOLDING_STATUSES),
                by="cohort",
            ),
            pending_count=_count(
                Enrolment.objects.filter(cohort=OuterRef("pk"), status=EnrolmentStatus.APPLIED),
                by="cohort",
            ),
            next_session_starts_at=Subquery(next_session.values("starts_at")[:1]),
            next_session_ends_at=Subquery(next_session.values("ends_at")[:1]),
        )
        # Cohorts still to run or running first, soonest first; finished ones after.
        .annotate(is_over=Case(When(status__in=OVER_STATUSES, then=1), default=0))
        .order_by("is_over", "starts_on", "name", "pk")
    )


# --- One cohort ----------------------------------------------------------------------


@dataclass
class CohortEnrolments:
    """A cohort's enrolments grouped the way a trainer works through them."""

    applied: list[Enrolment] = field(default_factory=list)
    enrolled: list[Enrolment] = field(default_factory=list)
    offered: list[Enrolment] = field(default_factory=list)
    # In the order places are offered: the first is next in line.
    waitlisted: list[Enrolment] = field(default_factory=list)
    completed: list[Enrolment] = field(default_factory=list)
    # Ended not completed when the cohort finished; each says why (completion_note).
    incomplete: list[Enrolment] = field(default_factory=list)
    # Withdrawn, declined and ended by the cohort's cancellation: history, shown folded away.
    closed: list[Enrolment] = field(default_factory=list)

    @property
    def places_taken(self) -> int:
        return len(self.enrolled) + len(self.offered)


def cohort_enrolments_grouped(*, cohort: Cohort) -> CohortEnrolments:
    """Every enrolment of the cohort with its member, grouped by status, in one query."""
    groups = CohortEnrolments()
    by_status = {
        EnrolmentStatus.APPLIED: groups.applied,
        EnrolmentStatus.ENROLLED: groups.enrolled,
        EnrolmentStatus.OFFERED: groups.offered,
        EnrolmentStatus.WAITLISTED: groups.waitlisted,
        EnrolmentStatus.COMPLETED: groups.completed,
        EnrolmentStatus.INCOMPLETE: groups.incomplete,
        EnrolmentStatus.WITHDRAWN: groups.closed,
        EnrolmentStatus.DECLINED: groups.closed,
        EnrolmentStatus.CANCELLED: groups.closed,
    }
    enrolments = Enrolment.objects.filter(cohort=cohort).select_related("member").order_by("applied_at", "pk")
    for enrolment in enrolments:
        by_status[enrolment.status].append(enrolment)
    # The service offers places by waitlisted_at, then pk: show the same order.
    groups.waitlisted.sort(key=lambda e: (e.waitlisted_at or e.applied_at, e.pk))
    groups.enrolled.sort(key=lambda e: (str(e.member).lower(), e.pk))
    groups.closed.sort(key=lambda e: (e.status_changed_at, e.pk), reverse=True)
    return groups


def cohort_session_list(*, cohort: Cohort) -> list[Session]:
    """The cohort's sessions in time order, each with its register counts.

    `recorded_count`: attendance rows recorded; `present_count`: of them, present.
    """
    return list(
        Session.objects.filter(cohort=cohort)
        .annotate(
            recorded_count=_count(Attendance.objects.filter(session=OuterRef("pk")), by="session"),
            present_count=_count(
                Attendance.objects.filter(session=OuterRef("pk"), status=AttendanceStatus.PRESENT),
                by="session",
            ),
        )
        .order_by("starts_at", "pk")
    )


def cohort_trainer_list(*, cohort: Cohort) -> list:
    return list(cohort.trainers.order_by("first_name", "last_name", "pk"))


def trainer_candidate_list() -> QuerySet:
    """Active users allowed to run cohorts (the permission held through a role or directly).

    One query, with the permission looked up inside it; superusers are left out, since
    they are operators rather than trainers.
    """
    run_cohorts = Permission.objects.filter(content_type__app_label="training", codename="run_cohorts")
    through_group = Exists(
        User.groups.through.objects.filter(user_id=OuterRef("pk"), group__permissions__in=run_cohorts)
    )
    held_directly = Exists(
        User.user_permissions.through.objects.filter(user_id=OuterRef("pk"), permission__in=run_cohorts)
    )
    return (
        User.objects.filter(is_active=True)
        .filter(through_group | held_directly)
        .order_by("first_name", "last_name", "email")
    )


def cohort_module_list(*, cohort: Cohort) -> QuerySet[Module]:
    """The modules of the programme version the cohort follows, in order."""
    return Module.objects.filter(version_id=cohort.version_id).order_by("position")


# --- Register ------------------------------------------------------------------------


@dataclass
class RegisterRow:
    """One enrolled trainee on a session's register."""

    enrolment: Enrolment
    attendance: Attendance | None
    apology: Apology | None
    # The trainee said they will come (from the reminder's link). Never with an apology:
    # each replaces the other.
    confirmation: SessionConfirmation | None = None

    @property
    def name(self) -> str:
        return str(self.enrolment.member)

    @property
    def initial_status(self) -> str:
        """What the register shows before the trainer touches it: the record, else the apology."""
        if self.attendance is not None:
            return self.attendance.status
        if self.apology is not None:
            return AttendanceStatus.EXCUSED
        return ""


def session_register_rows(*, session: Session) -> list[RegisterRow]:
    """Every trainee on the session's register (services.attendance.REGISTER_STATUSES), by
    name, with their record, apology and confirmation: four queries whatever the size of the
    cohort."""
    enrolments = list(
        Enrolment.objects.filter(cohort_id=session.cohort_id, status__in=REGISTER_STATUSES)
        .select_related("member")
        .order_by("member__first_name", "member__last_name", "pk")
    )
    attendance = {row.enrolment_id: row for row in Attendance.objects.filter(session=session)}
    apologies = {row.enrolment_id: row for row in Apology.objects.filter(session=session)}
    confirmations = {row.enrolment_id: row for row in SessionConfirmation.objects.filter(session=session)}
    return [
        RegisterRow(
            enrolment=enrolment,
            attendance=attendance.get(enrolment.pk),
            apology=apologies.get(enrolment.pk),
            confirmation=confirmations.get(enrolment.pk),
        )
        for enrolment in enrolments
    ]


@dataclass
class DueDateRow:
    assignment: object
    module_title: str
    default_due_on: object
    own_due_on: object  # the cohort's own date, or None

    @property
    def due_on(self):
        return self.own_due_on or self.default_due_on


def cohort_due_date_rows(*, cohort: Cohort) -> list[DueDateRow]:
    """Each assignment of the cohort's version, in module order, with its due dates. Two queries."""
    own = dict(AssignmentDueDate.objects.filter(cohort=cohort).values_list("assignment_id", "due_on"))
    assignments = Assignment.objects.filter(module__version_id=cohort.version_id).select_related("module")
    return [
        DueDateRow(
            assignment=assignment,
            module_title=assignment.module.title,
            default_due_on=assignment_due_on(assignment=assignment, cohort=cohort),
            own_due_on=own.get(assignment.pk),
        )
        for assignment in assignments.order_by("module__position", "pk")
    ]
