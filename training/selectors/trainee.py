"""Reads for the trainee's pages: their training, their cohorts, modules and calendars.

The cohort finder's reads are training.selectors.finder.

Which cohorts, sessions and enrolments a user may reach is decided in training.permissions.
The access functions here (modules, materials, calendar feeds) are built on it and, like
it, raise Http404 for what the user may not see. Each page costs a fixed number of
queries, whatever the number of cohorts, sessions, modules or attendance records.
"""

import datetime as dt
import math
from dataclasses import dataclass, field

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from training import permissions
from training.models import (
    ACTIVE_ENROLMENT_STATUSES,
    PLACE_HOLDING_STATUSES,
    Apology,
    Assignment,
    AssignmentDueDate,
    Attendance,
    AttendanceStatus,
    CalendarFeed,
    Cohort,
    CohortStatus,
    Enrolment,
    EnrolmentStatus,
    Material,
    MaterialKind,
    Module,
    Outcome,
    Session,
    SessionConfirmation,
    Submission,
    SubmissionStatus,
)
from training.selectors.submissions import Progress, due_dates_for, progress_for, progress_of
from training.services.attendance import checkin_is_open, checkin_opens_at
from training.services.enrolment import cohort_accepts_applications
from training.services.submissions import resubmission_due_on, work_due_on

# How long a declined application (or a place in a cancelled cohort) stays on the member's
# page, with the trainer's reason.
DECLINED_SHOWN_FOR = dt.timedelta(days=60)


def _count(queryset: QuerySet, *, by: str) -> Coalesce:
    """COUNT of `queryset` rows, correlated through the column `by` (filtered on OuterRef).

    A subquery rather than Count() over joins: two joined counts would multiply each other.
    """
    counted = queryset.order_by().values(by).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _waitlist_position() -> Coalesce:
    """1 + the number waitlisted ahead, in the order the service offers places."""
    ahead = Enrolment.objects.filter(cohort=OuterRef("cohort"), status=EnrolmentStatus.WAITLISTED).filter(
        Q(waitlisted_at__lt=OuterRef("waitlisted_at"))
        | Q(waitlisted_at=OuterRef("waitlisted_at"), pk__lt=OuterRef("pk"))
    )
    return _count(ahead, by="cohort") + 1


# --- One cohort ----------------------------------------------------------------------


@dataclass
class CohortPage:
    """What the cohort page shows a member, gathered in a fixed number of queries."""

    cohort: Cohort
    trainers: list
    sessions: list[Session]
    modules: list[Module]
    places_left: int
    accepts_applications: bool
    # The member's latest enrolment in this cohort (any status), if any.
    enrolment: Enrolment | None
    # The member's active enrolment in another cohort of the same programme, if any.
    other_active: Enrolment | None
    # Enrolled (or completed) members read the modules and send apologies.
    attends: bool
    # They, the cohort's trainers and staff see the online links.
    shows_online_link: bool

    @property
    def may_apply(self) -> bool:
        has_active = self.enrolment is not None and self.enrolment.is_active
        return self.accepts_applications and not has_active and self.other_active is None


def cohort_page_get(*, user, cohort: Cohort) -> CohortPage:
    """`cohort` comes from permissions.cohort_get_visible."""
    enrolments = list(
        Enrolment.objects.filter(member=user, programme_id=cohort.version.programme_id)
        .filter(Q(cohort=cohort) | Q(status__in=ACTIVE_ENROLMENT_STATUSES))
        .select_related("cohort")
        .annotate(waitlist_position=_waitlist_position())
        .order_by("-applied_at", "-pk")
    )
    own = next((e for e in enrolments if e.cohort_id == cohort.pk), None)
    other = next((e for e in enrolments if e.cohort_id != cohort.pk and e.is_active), None)
    attends = own is not None and own.status in permissions.ATTENDING_STATUSES
    places_taken = cohort.enrolments.filter(status__in=PLACE_HOLDING_STATUSES).count()
    return CohortPage(
        cohort=cohort,
        trainers=list(cohort.trainers.order_by("first_name", "last_name", "pk")),
        sessions=list(
            cohort.sessions.annotate(
                has_apology=Exists(Apology.objects.filter(session=OuterRef("pk"), enrolment__member=user))
            ).order_by("starts_at", "pk")
        ),
        modules=list(Module.objects.filter(version_id=cohort.version_id).order_by("position")),
        places_left=max(cohort.capacity - places_taken, 0),
        accepts_applications=cohort_accepts_applications(cohort),
        enrolment=own,
        other_active=other,
        attends=attends,
        shows_online_link=attends or permissions.user_may_manage_cohort(user=user, cohort=cohort),
    )


# --- My training ---------------------------------------------------------------------


# Work still to do, and marks, shown on each cohort of My training; the rest are a click away.
WORK_DUE_SHOWN = 3
FEEDBACK_SHOWN = 3
# Progress that leaves something for the trainee to do.
WORK_TO_DO = {Progress.NOT_STARTED, Progress.DRAFT, Progress.RESUBMIT}


@dataclass
class WorkDue:
    assignment: Assignment
    due_on: dt.date
    progress: str
    # due_on is the date the marker set for a resubmission (not the cohort's date).
    is_resubmission_due: bool = False

    @property
    def progress_label(self) -> str:
        return Progress(self.progress).label

    @property
    def is_resubmit(self) -> bool:
        return self.progress == Progress.RESUBMIT


@dataclass
class Feedback:
    """A marked attempt: the outcome the trainee sees, and where to read the feedback."""

    assignment: Assignment
    submission: Submission
    progress: str

    @property
    def progress_label(self) -> str:
        return Progress(self.progress).label


@dataclass
class CohortProgress:
    """One cohort the member is enrolled in: what is next, and how far along they are.

    Attendance is one fact read twice: a session counts once it has started, or once the
    member checked in to it (check-in opens before the start), so the tally and the
    "attended n of m" line can never disagree.
    """

    enrolment: Enrolment
    next_session: Session | None
    modules: list[Module]
    # Sessions counted so far (not cancelled, and started or checked in to).
    past_sessions: int
    present: int
    absent: int
    excused: int
    # Sessions not cancelled, past and future: the completion rule counts against these.
    total_sessions: int
    # What the member has recorded for the next session ("" for nothing yet).
    next_session_status: str = ""
    # Whether the member may check in to the next session now, and from when.
    checkin_open: bool = False
    checkin_opens_at: dt.datetime | None = None
    # Filled by my_training_get only (the gradebook needs attendance alone).
    work_due: list[WorkDue] = field(default_factory=list)
    work_due_more: int = 0
    feedback: list[Feedback] = field(default_factory=list)
    has_ended: bool = False

    @property
    def cohort(self) -> Cohort:
        return self.enrolment.cohort

    @property
    def present_total(self) -> int:
        # Present is only ever recorded for a counted session: the same number as the tally.
        return self.present

    @property
    def not_recorded(self) -> int:
        return max(self.past_sessions - self.present - self.absent - self.excused, 0)

    @property
    def checked_in(self) -> bool:
        return self.next_session_status == AttendanceStatus.PRESENT

    @property
    def required_percent(self) -> int:
        return self.cohort.version.min_attendance_percent

    @property
    def attended_percent(self) -> int:
        if not self.total_sessions:
            return 0
        return min(math.floor(self.present * 100 / self.total_sessions), 100)

    @property
    def sessions_needed(self) -> int:
        return math.ceil(self.total_sessions * self.required_percent / 100)

    @property
    def attendance_met(self) -> bool:
        return self.total_sessions > 0 and self.present >= self.sessions_needed


@dataclass
class MyTraining:
    offers: list[Enrolment] = field(default_factory=list)
    pending: list[Enrolment] = field(default_factory=list)
    enrolled: list[CohortProgress] = field(default_factory=list)
    # Ended: completed (with certified_at once the certificate is issued) or not completed
    # (with the reason in completion_note), newest cohort first.
    completed: list[Enrolment] = field(default_factory=list)
    declined: list[Enrolment] = field(default_factory=list)
    # Ended lately because their cohort was cancelled.
    cancelled: list[Enrolment] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (
            self.offers
            or self.pending
            or self.enrolled
            or self.completed
            or self.incomplete
            or self.declined
            or self.cancelled
        )


def my_training_get(*, user, now: dt.datetime | None = None) -> MyTraining:
    """Everything on the member's home page: one query, or six when they are enrolled,
    whatever the number of cohorts, sessions, modules, assignments, attempts and marks."""
    now = now or timezone.now()
    shown = Q(
        status__in=[*ACTIVE_ENROLMENT_STATUSES, EnrolmentStatus.COMPLETED, EnrolmentStatus.INCOMPLETE]
    ) | Q(
        status__in=[EnrolmentStatus.DECLINED, EnrolmentStatus.CANCELLED],
        status_changed_at__gte=now - DECLINED_SHOWN_FOR,
    )
    enrolments = list(
        Enrolment.objects.filter(member=user)
        .filter(shown)
        .select_related("cohort__version__programme", "cohort__region")
        .annotate(waitlist_position=_waitlist_position())
        .order_by("cohort__starts_on", "pk")
    )
    page = MyTraining()
    enrolled = []
    for enrolment in enrolments:
        if enrolment.status == EnrolmentStatus.OFFERED:
            page.offers.append(enrolment)
        elif enrolment.status in (EnrolmentStatus.APPLIED, EnrolmentStatus.WAITLISTED):
            page.pending.append(enrolment)
        elif enrolment.status == EnrolmentStatus.ENROLLED:
            enrolled.append(enrolment)
        elif enrolment.status in (EnrolmentStatus.COMPLETED, EnrolmentStatus.INCOMPLETE):
            page.completed.insert(0, enrolment)
        elif enrolment.status == EnrolmentStatus.CANCELLED:
            page.cancelled.append(enrolment)
        else:
            page.declined.append(enrolment)
    if enrolled:
        page.enrolled = cohort_progress_list(enrolled, user=user, now=now)
        _work_add(page.enrolled, today=timezone.localdate(now))
    if page.completed:
        _resubmissions_after_end_add(page.completed, today=timezone.localdate(now))
    return page


def _resubmissions_after_end_add(enrolments: list[Enrolment], *, today: dt.date) -> None:
    """Give each ended enrolment `resubmissions_due`: the attempts sent back for resubmission
    whose own due date has not passed and that nothing has been handed in after, since they
    may still be handed in once the cohort has finished (services.submissions). One query."""
    handed_in_later = Submission.objects.filter(
        enrolment_id=OuterRef("enrolment_id"),
        assignment_id=OuterRef("assignment_id"),
        attempt__gt=OuterRef("attempt"),
        status=SubmissionStatus.SUBMITTED,
    )
    due: dict[int, list[WorkDue]] = {}
    for submission in (
        Submission.objects.filter(
            enrolment__in=[e for e in enrolments if e.cohort.status == CohortStatus.FINISHED],
            status=SubmissionStatus.SUBMITTED,
            outcome=Outcome.RESUBMIT,
            resubmit_due_on__gte=today,
        )
        .exclude(Exists(handed_in_later))
        .select_related("assignment")
        .order_by("resubmit_due_on", "pk")
    ):
        due.setdefault(submission.enrolment_id, []).append(
            WorkDue(
                assignment=submission.assignment,
                due_on=submission.resubmit_due_on,
                progress=Progress.RESUBMIT,
                is_resubmission_due=True,
            )
        )
    for enrolment in enrolments:
        enrolment.resubmissions_due = due.get(enrolment.pk, [])


def cohort_progress_list(enrolments: list[Enrolment], *, user, now: dt.datetime) -> list[CohortProgress]:
    """Sessions, attendance and modules of the enrolled cohorts: three queries in all."""
    cohort_ids = [e.cohort_id for e in enrolments]
    sessions_by_cohort: dict[int, list[Session]] = {pk: [] for pk in cohort_ids}
    sessions = Session.objects.filter(cohort_id__in=cohort_ids).annotate(
        has_apology=Exists(Apology.objects.filter(session=OuterRef("pk"), enrolment__member=user)),
        is_confirmed=Exists(
            SessionConfirmation.objects.filter(session=OuterRef("pk"), enrolment__member=user)
        ),
    )
    for session in sessions.order_by("starts_at", "pk"):
        sessions_by_cohort[session.cohort_id].append(session)
    statuses: dict[tuple[int, int], str] = {
        (enrolment_id, session_id): status
        for enrolment_id, session_id, status in Attendance.objects.filter(
            enrolment_id__in=[e.pk for e in enrolments]
        ).values_list("enrolment_id", "session_id", "status")
    }
    modules_by_version: dict[int, list[Module]] = {}
    for module in Module.objects.filter(version_id__in={e.cohort.version_id for e in enrolments}).only(
        "pk", "title", "position", "version_id"
    ):
        modules_by_version.setdefault(module.version_id, []).append(module)

    progress = []
    today = timezone.localdate(now)
    for enrolment in enrolments:
        held = [s for s in sessions_by_cohort[enrolment.cohort_id] if not s.is_cancelled]
        own = {s.pk: statuses.get((enrolment.pk, s.pk), "") for s in held}
        counted = [s for s in held if s.starts_at <= now or own[s.pk] == AttendanceStatus.PRESENT]
        counts = {status: 0 for status in AttendanceStatus.values}
        for session in counted:
            if own[session.pk]:
                counts[own[session.pk]] += 1
        next_session = next((s for s in held if s.ends_at > now), None)
        progress.append(
            CohortProgress(
                enrolment=enrolment,
                next_session=next_session,
                modules=modules_by_version.get(enrolment.cohort.version_id, []),
                past_sessions=len(counted),
                present=counts[AttendanceStatus.PRESENT],
                absent=counts[AttendanceStatus.ABSENT],
                excused=counts[AttendanceStatus.EXCUSED],
                total_sessions=len(held),
                next_session_status=own[next_session.pk] if next_session else "",
                checkin_open=bool(next_session) and checkin_is_open(session=next_session, now=now),
                checkin_opens_at=checkin_opens_at(next_session) if next_session else None,
                has_ended=enrolment.cohort.ends_on < today,
            )
        )
    return progress


def _work_add(progress: list[CohortProgress], *, today: dt.date) -> None:
    """Work due and the latest marks of each enrolled cohort: two queries in all."""
    enrolments = [p.enrolment for p in progress]
    # Each cohort's assignments with the cohort's own due date, if it set one.
    own_due_on = AssignmentDueDate.objects.filter(
        cohort_id=OuterRef("cohort_id"), assignment_id=OuterRef("pk")
    ).values("due_on")[:1]
    assignments_by_cohort: dict[int, list[Assignment]] = {}
    for assignment in (
        Assignment.objects.filter(module__version__cohorts__in={e.cohort_id for e in enrolments})
        .annotate(cohort_id=F("module__version__cohorts__pk"), own_due_on=Subquery(own_due_on))
        .only("pk", "title", "due_offset_days", "max_attempts", "module_id")
        .order_by("module__position", "pk")
    ):
        assignments_by_cohort.setdefault(assignment.cohort_id, []).append(assignment)
    attempts: dict[tuple[int, int], list[Submission]] = {}
    for submission in (
        Submission.objects.filter(enrolment__in=enrolments)
        .only(
            "pk",
            "enrolment_id",
            "assignment_id",
            "attempt",
            "status",
            "outcome",
            "marked_at",
            "resubmit_due_on",
        )
        .order_by("attempt", "pk")
    ):
        attempts.setdefault((submission.enrolment_id, submission.assignment_id), []).append(submission)

    for item in progress:
        cohort = item.cohort
        due, marked = [], []
        for assignment in assignments_by_cohort.get(cohort.pk, []):
            tried = attempts.get((item.enrolment.pk, assignment.pk), [])
            state = progress_of(attempts=tried, max_attempts=assignment.max_attempts)
            if state in WORK_TO_DO:
                # A resubmission is due on the date its mark set.
                due_on = work_due_on(
                    assignment=assignment, cohort=cohort, attempts=tried, override=assignment.own_due_on
                )
                due.append(
                    WorkDue(
                        assignment=assignment,
                        due_on=due_on,
                        progress=state,
                        is_resubmission_due=resubmission_due_on(attempts=tried) is not None,
                    )
                )
            latest_marked = next(
                (s for s in reversed(tried) if s.status == SubmissionStatus.SUBMITTED and s.outcome), None
            )
            if latest_marked is not None:
                marked.append(Feedback(assignment=assignment, submission=latest_marked, progress=state))
        due.sort(key=lambda work: (work.due_on, work.assignment.pk))
        marked.sort(key=lambda seen: seen.submission.marked_at or dt.datetime.min.replace(tzinfo=dt.UTC))
        item.work_due = due[:WORK_DUE_SHOWN]
        item.work_due_more = max(len(due) - WORK_DUE_SHOWN, 0)
        item.feedback = list(reversed(marked))[:FEEDBACK_SHOWN]


# --- Modules and materials -----------------------------------------------------------


def module_list_accessible_to(*, user) -> QuerySet[Module]:
    """Modules a user may read: staff all; trainers those of the cohorts they run;
    members those of the cohorts they are enrolled in or have completed."""
    if permissions.user_manages_all_cohorts(user) or permissions.user_authors_programmes(user):
        return Module.objects.all()
    attending = Enrolment.objects.filter(member=user, status__in=permissions.ATTENDING_STATUSES)
    runs = permissions.cohort_list_manageable_by(user=user)
    return Module.objects.filter(
        Q(version_id__in=attending.values("cohort__version_id")) | Q(version_id__in=runs.values("version_id"))
    )


def module_get_for_user(*, user, pk) -> Module:
    module = module_list_accessible_to(user=user).select_related("version__programme").filter(pk=pk).first()
    if module is None:
        raise Http404("Not found.")
    return module


def material_file_get_for_user(*, user, pk) -> Material:
    """A file (never a link) attached to a module the user may read; 404 otherwise."""
    material = (
        Material.objects.filter(kind=MaterialKind.FILE, module__in=module_list_accessible_to(user=user))
        .filter(pk=pk)
        .first()
    )
    if material is None:
        raise Http404("Not found.")
    return material


@dataclass
class AssignmentDue:
    assignment: Assignment
    # None when the reader follows no cohort of this version (a trainer or staff member).
    due_on: dt.date | None
    # The reader's Progress with it, or "" for a reader who follows no cohort of this version.
    progress: str = ""

    @property
    def progress_label(self) -> str:
        return Progress(self.progress).label if self.progress else ""


@dataclass
class ModulePage:
    module: Module
    materials: list[Material]
    assignments: list[AssignmentDue]
    # The reader's own cohort of this version, which sets the due dates, if any.
    cohort: Cohort | None


def module_page_get(*, user, module: Module) -> ModulePage:
    """`module` comes from module_get_for_user."""
    enrolment = (
        Enrolment.objects.filter(
            member=user, status__in=permissions.ATTENDING_STATUSES, cohort__version_id=module.version_id
        )
        .select_related("cohort")
        .order_by("-cohort__starts_on", "-pk")
        .first()
    )
    cohort = enrolment.cohort if enrolment else None
    module_assignments = list(Assignment.objects.filter(module=module).order_by("pk"))
    # The reader's own due dates and progress: two queries, however many assignments.
    due = due_dates_for(cohort=cohort, assignments=module_assignments) if cohort else {}
    progress = progress_for(enrolment=enrolment, assignments=module_assignments) if enrolment else {}
    assignments = [
        AssignmentDue(
            assignment=assignment, due_on=due.get(assignment.pk), progress=progress.get(assignment.pk, "")
        )
        for assignment in module_assignments
    ]
    return ModulePage(
        module=module,
        materials=list(Material.objects.filter(module=module).order_by("pk")),
        assignments=assignments,
        cohort=cohort,
    )


# --- Calendars -----------------------------------------------------------------------


def calendar_feed_get(*, member) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(member=member).first()


def calendar_feed_get_by_token(*, token: str) -> CalendarFeed:
    """The feed with this token, of an active member; 404 for any other token."""
    feed = CalendarFeed.objects.select_related("member").filter(token=token, member__is_active=True).first()
    if feed is None:
        raise Http404("Not found.")
    return feed


def calendar_feed_session_list(*, feed: CalendarFeed) -> list[Session]:
    """Every session the member attends or runs, once each, in one query whatever their number:
    those of the cohorts they are enrolled in (or completed), those whose place ended when the
    cohort was cancelled (so calendars mark the sessions cancelled rather than guess), and
    those of the cohorts they train. Cancelled sessions are included so calendars drop them."""
    member = feed.member
    attends = Enrolment.objects.filter(member=member).filter(
        Q(status__in=permissions.ATTENDING_STATUSES)
        # Held a place when the cohort was cancelled (first_enrolled_at: enrolled at some point,
        # and an enrolled place ends only as withdrawn, completed or cancelled).
        | Q(status=EnrolmentStatus.CANCELLED, first_enrolled_at__isnull=False)
    )
    trains = Cohort.trainers.through.objects.filter(user=member)
    return list(
        Session.objects.filter(
            Q(cohort_id__in=attends.values("cohort_id")) | Q(cohort_id__in=trains.values("cohort_id"))
        )
        .select_related("cohort")
        .order_by("starts_at", "pk")
    )
