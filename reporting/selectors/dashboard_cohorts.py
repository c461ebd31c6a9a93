"""The dashboard's cohorts at risk and its trainers, aggregated in the database.

A cohort is **at risk** (open or running cohorts only) when:
- attendance: among the sessions held so far (not cancelled, already over), the enrolled
  trainees were present at fewer than the version's minimum attendance share of them
  (present marks / (sessions held x trainees enrolled));
- marking: work handed in and not yet marked has waited longer than the version's marking
  turnaround;
- submissions: the cohort ends within SUBMISSIONS_WINDOW_DAYS and fewer than half of the
  enrolled trainees have handed in all their required work;
- numbers: it starts within NUMBERS_WINDOW_DAYS and fewer than half of its places are taken.

A cohort's place, for regional staff, is where it meets (the cohort's region).
"""

import datetime as dt
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Count, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from certification.dbfunctions import DaysBetween, Median
from members.models import User
from reporting.selectors.dashboard import IN_FLIGHT_COHORTS, valid_certificates
from training.models import (
    PLACE_HOLDING_STATUSES,
    Attendance,
    AttendanceStatus,
    Cohort,
    CohortStatus,
    Enrolment,
    EnrolmentStatus,
    Mark,
    MarkKind,
    Session,
    SessionStatus,
    Submission,
    SubmissionStatus,
)

# The trainers' median marking time and lineage are kept this long: they sort or walk every
# first mark and certificate, change slowly, and no list hangs from them.
ANALYTICS_CACHE_PREFIX = "dashboard:trainers:"
ANALYTICS_CACHE_SECONDS = 600
SUBMISSIONS_WINDOW_DAYS = 14
NUMBERS_WINDOW_DAYS = 14
RISK_REASONS = {
    "attendance": gettext_lazy("Low attendance"),
    "marking": gettext_lazy("Marking overdue"),
    "submissions": gettext_lazy("Few submissions near the end"),
    "numbers": gettext_lazy("Too few people near the start"),
}
# Cohorts a trainer has run: under way or done.
RUN_STATUSES = [CohortStatus.RUNNING, CohortStatus.FINISHED]


@dataclass
class CohortRisk:
    pk: int
    name: str
    programme: str
    region: str
    starts_on: dt.date
    ends_on: dt.date
    status: str
    reasons: dict[str, str] = field(default_factory=dict)  # reason key: what is wrong, in words

    @property
    def reason_list(self) -> list[tuple[str, str]]:
        return [(RISK_REASONS[key], text) for key, text in self.reasons.items()]


def _by_cohort(queryset, cohort_field: str, **aggregates) -> dict[int, dict]:
    return {
        row.pop(cohort_field): row for row in queryset.values(cohort_field).annotate(**aggregates).order_by()
    }


def cohorts_at_risk(*, region_id: int | None = None, now: dt.datetime | None = None) -> list[CohortRisk]:
    """Open and running cohorts with at least one risk, soonest ending first. Five queries."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    cohorts = Cohort.objects.filter(status__in=IN_FLIGHT_COHORTS)
    if region_id is not None:
        cohorts = cohorts.filter(region_id=region_id)
    rows = list(
        cohorts.values(
            "pk",
            "name",
            "starts_on",
            "ends_on",
            "status",
            "capacity",
            "version__programme__title",
            "version__min_attendance_percent",
            "version__marking_turnaround_days",
            "region__name",
        ).order_by("ends_on", "name", "pk")
    )
    in_flight = {"cohort__status__in": IN_FLIGHT_COHORTS}
    if region_id is not None:
        in_flight["cohort__region_id"] = region_id
    people = _by_cohort(
        Enrolment.objects.filter(**in_flight),
        "cohort_id",
        enrolled=Count("pk", filter=Q(status=EnrolmentStatus.ENROLLED)),
        holding=Count("pk", filter=Q(status__in=PLACE_HOLDING_STATUSES)),
        handed_in=Count("pk", filter=Q(status=EnrolmentStatus.ENROLLED, work_submitted_at__isnull=False)),
    )
    held_sessions = Q(status=SessionStatus.SCHEDULED, ends_at__lt=now)
    held = _by_cohort(Session.objects.filter(held_sessions, **in_flight), "cohort_id", n=Count("pk"))
    present = _by_cohort(
        Attendance.objects.filter(
            status=AttendanceStatus.PRESENT,
            enrolment__status=EnrolmentStatus.ENROLLED,
            session__status=SessionStatus.SCHEDULED,
            session__ends_at__lt=now,
            **{f"session__{key}": value for key, value in in_flight.items()},
        ),
        "session__cohort_id",
        n=Count("pk"),
    )
    waiting = _by_cohort(
        Submission.objects.filter(
            status=SubmissionStatus.SUBMITTED,
            outcome="",
            **{f"enrolment__{key}": value for key, value in in_flight.items()},
        ),
        "enrolment__cohort_id",
        n=Count("pk"),
        oldest=Min("submitted_at"),
    )
    result = []
    for row in rows:
        pk = row["pk"]
        risk = CohortRisk(
            pk=pk,
            name=row["name"],
            programme=row["version__programme__title"],
            region=row["region__name"],
            starts_on=row["starts_on"],
            ends_on=row["ends_on"],
            status=row["status"],
        )
        counts = people.get(pk, {"enrolled": 0, "holding": 0, "handed_in": 0})
        enrolled = counts["enrolled"]
        sessions = held.get(pk, {}).get("n", 0)
        minimum = row["version__min_attendance_percent"]
        if sessions and enrolled:
            attended = present.get(pk, {}).get("n", 0)
            percent = 100 * attended / (sessions * enrolled)
            if percent < minimum:
                risk.reasons["attendance"] = ngettext(
                    "%(percent)d%% attendance over %(sessions)d session held (the rule asks %(minimum)d%%)",
                    "%(percent)d%% attendance over %(sessions)d sessions held (the rule asks %(minimum)d%%)",
                    sessions,
                ) % {"percent": percent, "sessions": sessions, "minimum": minimum}
        backlog = waiting.get(pk)
        turnaround = row["version__marking_turnaround_days"]
        if backlog and backlog["oldest"] < now - dt.timedelta(days=turnaround):
            risk.reasons["marking"] = ngettext(
                "%(count)d piece of work waiting to be marked, for %(days)d days "
                "(turnaround %(turnaround)d days)",
                "%(count)d pieces of work waiting to be marked, the oldest for %(days)d days "
                "(turnaround %(turnaround)d days)",
                backlog["n"],
            ) % {"count": backlog["n"], "days": (now - backlog["oldest"]).days, "turnaround": turnaround}
        days_to_end = (row["ends_on"] - today).days
        ending = row["status"] == CohortStatus.RUNNING and 0 <= days_to_end <= SUBMISSIONS_WINDOW_DAYS
        if ending and enrolled and 2 * counts["handed_in"] < enrolled:
            risk.reasons["submissions"] = _(
                "%(done)d of %(enrolled)d have handed in all their work, %(days)d days before the end"
            ) % {"done": counts["handed_in"], "enrolled": enrolled, "days": days_to_end}
        days_to_start = (row["starts_on"] - today).days
        if 0 <= days_to_start <= NUMBERS_WINDOW_DAYS and 2 * counts["holding"] < row["capacity"]:
            risk.reasons["numbers"] = _(
                "%(taken)d of %(capacity)d places taken, %(days)d days before the start"
            ) % {"taken": counts["holding"], "capacity": row["capacity"], "days": days_to_start}
        if risk.reasons:
            result.append(risk)
    return result


# --- Trainers --------------------------------------------------------------------------------


def trainer_rows(*, region_id: int | None = None) -> list[dict]:
    """Everyone who has trained a cohort under way or done (in the region, for regional staff):
    cohorts run, leaders produced (valid certificates from their cohorts, each leader once),
    median days from hand-in to their first mark (kept ten minutes), and their place in the
    lineage (likewise). Two queries, four on a cold cache."""
    cohort_filter = Q(trained_cohorts__status__in=RUN_STATUSES)
    if region_id is not None:
        cohort_filter &= Q(trained_cohorts__region_id=region_id)
    trainers = list(
        User.objects.filter(cohort_filter)
        .annotate(cohorts_run=Count("trained_cohorts", filter=cohort_filter, distinct=True))
        .values("pk", "first_name", "last_name", "email", "cohorts_run")
        .order_by()
    )
    # Enrolments carry their valid certificate's date (certified_at): no join to certificates.
    certified = Enrolment.objects.filter(certified_at__isnull=False, cohort__trainers__isnull=False)
    if region_id is not None:
        certified = certified.filter(cohort__region_id=region_id)
    produced = dict(
        certified.values("cohort__trainers")
        .annotate(n=Count("member", distinct=True))
        .values_list("cohort__trainers", "n")
        .order_by()
    )
    turnaround = marking_turnaround(region_id=region_id)
    lineage = lineage_positions()
    rows = []
    for trainer in trainers:
        pk = trainer["pk"]
        generation, depth = lineage.get(pk, (None, 0))
        marking = turnaround.get(pk, {})
        rows.append(
            {
                "id": pk,
                "name": f"{trainer['first_name']} {trainer['last_name']}".strip() or trainer["email"],
                "cohorts_run": trainer["cohorts_run"],
                "leaders": produced.get(pk, 0),
                "median_days": marking.get("median_days"),
                "marked": marking.get("marked", 0),
                "generation": generation,
                "depth": depth,
            }
        )
    rows.sort(key=lambda row: (-row["leaders"], row["name"], row["id"]))
    return rows


def marking_turnaround(*, region_id: int | None = None) -> dict[int, dict]:
    """{marker id: {"median_days", "marked"}} over first marks (in the region's cohorts, for
    regional staff). Aggregated in the database; one query on a cold cache, kept for ten
    minutes (nothing links to it, and it sorts every first mark)."""
    key = f"{ANALYTICS_CACHE_PREFIX}turnaround:{region_id or 'all'}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    marks = Mark.objects.filter(kind=MarkKind.FIRST)
    if region_id is not None:
        marks = marks.filter(submission__enrolment__cohort__region_id=region_id)
    turnaround = {
        row.pop("marker_id"): row
        for row in marks.values("marker_id")
        .annotate(
            median_days=Median(DaysBetween("created_at", "submission__submitted_at")),
            marked=Count("pk"),
        )
        .order_by()
    }
    cache.set(key, turnaround, ANALYTICS_CACHE_SECONDS)
    return turnaround


def lineage_positions() -> dict[int, tuple[int, int]]:
    """Cached for ten minutes: see _lineage_positions."""
    key = f"{ANALYTICS_CACHE_PREFIX}lineage"
    cached = cache.get(key)
    if cached is None:
        cached = _lineage_positions()
        cache.set(key, cached, ANALYTICS_CACHE_SECONDS)
    return cached


def _lineage_positions() -> dict[int, tuple[int, int]]:
    """{member id: (generation, generations trained below)}. One query, a row per pair of
    trainer and leader they certified (valid certificates only).

    Generations as on the lineage page: the founding trainers (who trained certified leaders
    without being certified here) are 0; a leader is in the generation after the earliest of
    their trainers. Below a trainer: the longest line of leaders, each trained by the one
    before and each in the next generation.
    """
    pairs = (
        valid_certificates()
        .exclude(enrolment__cohort__trainers=None)
        .values_list("enrolment__cohort__trainers", "holder_id")
        .order_by()  # without it the default ordering's issued_at joins the DISTINCT
        .distinct()
    )
    trained: dict[int, set[int]] = {}
    leaders: set[int] = set()
    for trainer_id, leader_id in pairs:
        if trainer_id != leader_id:
            trained.setdefault(trainer_id, set()).add(leader_id)
            leaders.add(leader_id)
    generation = {pk: 0 for pk in set(trained) - leaders}
    frontier = list(generation)
    order: list[int] = []
    while frontier:
        next_frontier = []
        for trainer_id in frontier:
            for leader_id in trained.get(trainer_id, ()):
                if leader_id not in generation:
                    generation[leader_id] = generation[trainer_id] + 1
                    next_frontier.append(leader_id)
        order.extend(next_frontier)
        frontier = next_frontier
    depth: dict[int, int] = {}
    for pk in [*reversed(order), *(pk for pk, g in generation.items() if g == 0)]:
        depth[pk] = max(
            (
                1 + depth.get(child, 0)
                for child in trained.get(pk, ())
                if generation.get(child) == generation[pk] + 1
            ),
            default=0,
        )
    return {pk: (generation[pk], depth[pk]) for pk in generation}


def trainer_cohort_list(*, trainer_id: int, region_id: int | None = None):
    """The cohorts behind a trainer's "cohorts run"."""
    cohorts = Cohort.objects.filter(trainers=trainer_id, status__in=RUN_STATUSES)
    if region_id is not None:
        cohorts = cohorts.filter(region_id=region_id)
    return cohorts


def trainer_leader_list(*, trainer_id: int, region_id: int | None = None):
    """The members behind a trainer's "leaders produced"."""
    certificates = valid_certificates().filter(enrolment__cohort__trainers=trainer_id)
    if region_id is not None:
        certificates = certificates.filter(enrolment__cohort__region_id=region_id)
    return User.objects.filter(pk__in=certificates.values("holder_id"))
