"""The national dashboard's numbers, each aggregated in the database in a fixed number of queries.

Definitions (one place, used by the dashboard and by the lists behind its figures, which are
in `dashboard_lists.py` and share the filters below):
- A **leader** is a member holding at least one valid (not revoked) certificate; counted once
  however many programmes they finished. Lapsed certificates still count as certified; the
  dashboard shows how many have lapsed. Revoked certificates do not count.
- A leader's or trainee's **place** is the region and constituency of their profile now. A
  member without a profile (erased, or never finished signing up) has no place: national
  figures count them, under "place not recorded".
- A person's **stage** in a cohort is the furthest they reached: applied, enrolled (ever held
  a place), attending (present at least once), all work submitted (every required assignment
  handed in), certified. Withdrawn and declined applications count as applied in funnels and
  rates, and not at all in the pipeline.
- **In training**: enrolments seeking or holding a place (applied, waiting, offered, enrolled)
  in cohorts open or running, not yet certified. A person in two such cohorts counts twice.
The enrolment milestones are kept on the enrolment by training's services
(`first_enrolled_at`, `first_attended_at`, `work_submitted_at`), with copies of its
certificate's issue time (`certified_at`) and of its member's place (`member_region`,
`member_constituency`), so funnels and the pipeline read one table; leaders are counted from
the leader tally (one row per leader). `manage.py dashboard_rebuild --check` proves all of
them against the source rows, and the lists behind the figures read the source rows.

Every selector takes `region_id`, the viewer's region (regional staff), or None for all.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from django.core.cache import cache
from django.db.models import Case, CharField, Count, Exists, F, OuterRef, Q, Sum, Value, When
from django.db.models.functions import TruncMonth
from django.utils import timezone

from certification.models import Target, TargetScope
from certification.standing import in_date_q, leader_certificates
from members.models import Constituency, Region, User
from reporting.forecast import (
    PIPELINE_STAGES,
    ConversionRates,
    Forecast,
    forecast,
    rates_from_counts,
    verdict,
)
from reporting.models import LeaderTally
from training.models import (
    ACTIVE_ENROLMENT_STATUSES,
    Cohort,
    CohortStatus,
    Enrolment,
)

IN_FLIGHT_COHORTS = [CohortStatus.OPEN, CohortStatus.RUNNING]
# Names the module: the value is a pickled ConversionRates, which moved from
# certification.forecast to reporting.forecast; what the old code cached is never read back.
RATES_CACHE_KEY = "dashboard:conversion-rates:reporting"
RATES_CACHE_SECONDS = 600
NOWHERE = 0  # a region or constituency id meaning "none recorded"


class Place(NamedTuple):
    """Where a count belongs: a region, a constituency (maybe none), and whether it is a target seat."""

    region_id: int | None
    constituency_id: int | None
    target_seat: bool


@dataclass(frozen=True)
class Scope:
    """Which people a figure counts: a place (any part may be left open) and a programme.

    region_id / constituency_id NOWHERE (0) means people with none recorded.
    """

    region_id: int | None = None
    constituency_id: int | None = None
    target_seats: bool = False
    programme_id: int | None = None

    @classmethod
    def of_target(cls, target: Target) -> "Scope":
        return cls(
            region_id=target.region_id,
            constituency_id=target.constituency_id,
            target_seats=target.scope == TargetScope.TARGET_SEATS,
            programme_id=target.programme_id,
        )

    def place_q(self, member_path: str, *, region_id: int | None = None) -> Q:
        """A filter on the member at `member_path` ("holder", "member", "" for users), with the
        viewer's region on top."""
        prefix = f"{member_path}__" if member_path else ""
        q = Q()
        if self.region_id == NOWHERE:
            q &= Q(**{f"{prefix}profile__isnull": True})
        elif self.region_id is not None:
            q &= Q(**{f"{prefix}profile__region_id": self.region_id})
        if self.constituency_id == NOWHERE:
            q &= Q(**{f"{prefix}profile__isnull": False, f"{prefix}profile__constituency__isnull": True})
        elif self.constituency_id is not None:
            q &= Q(**{f"{prefix}profile__constituency_id": self.constituency_id})
        if self.target_seats:
            q &= Q(**{f"{prefix}profile__constituency__is_target_seat": True})
        if region_id is not None:
            q &= Q(**{f"{prefix}profile__region_id": region_id})
        return q

    def enrolment_q(self) -> Q:
        """The same filter as place_q("member"), on enrolments' copy of their member's place
        (no region: no profile)."""
        q = Q()
        if self.region_id == NOWHERE:
            q &= Q(member_region__isnull=True)
        elif self.region_id is not None:
            q &= Q(member_region_id=self.region_id)
        if self.constituency_id == NOWHERE:
            q &= Q(member_region__isnull=False, member_constituency__isnull=True)
        elif self.constituency_id is not None:
            q &= Q(member_constituency_id=self.constituency_id)
        if self.target_seats:
            q &= Q(member_constituency__is_target_seat=True)
        return q

    def tally_q(self, *, region_id: int | None = None) -> Q:
        """The same filter as place_q, on the leader tally."""
        q = Q()
        if self.region_id == NOWHERE:
            q &= Q(has_profile=False)
        elif self.region_id is not None:
            q &= Q(region_id=self.region_id)
        if self.constituency_id == NOWHERE:
            q &= Q(has_profile=True, constituency__isnull=True)
        elif self.constituency_id is not None:
            q &= Q(constituency_id=self.constituency_id)
        if self.target_seats:
            q &= Q(constituency__is_target_seat=True)
        if region_id is not None:
            q &= Q(region_id=region_id)
        return q

    def contains(self, place: Place) -> bool:
        if self.region_id is not None and (place.region_id or NOWHERE) != self.region_id:
            return False
        if self.constituency_id is not None and (place.constituency_id or NOWHERE) != self.constituency_id:
            return False
        if self.constituency_id == NOWHERE and place.region_id is None:
            return False  # "no constituency given" is said of people with a place
        return not self.target_seats or place.target_seat


def _in_scope(place: Place, *, scope: str, region_id=None, constituency_id=None) -> bool:
    if scope == TargetScope.NATIONAL:
        return True
    if scope == TargetScope.REGION:
        return place.region_id == region_id
    if scope == TargetScope.CONSTITUENCY:
        return place.constituency_id == constituency_id
    return place.target_seat  # TargetScope.TARGET_SEATS


def valid_certificates():
    """Certificates that make their holder a leader (certification.standing)."""
    return leader_certificates()


def in_flight_enrolments():
    """Enrolments in training now: seeking or holding a place in an open or running cohort,
    not yet certified."""
    return Enrolment.objects.filter(
        cohort__status__in=IN_FLIGHT_COHORTS, status__in=ACTIVE_ENROLMENT_STATUSES
    ).filter(certified_at__isnull=True)


# --- Leaders ------------------------------------------------------------------------------


def leaders_by_place(
    *, region_id: int | None = None, programme_ids: list[int] | None = None
) -> dict[tuple[int | None, Place], int]:
    """{(programme id or None for any, place): leaders}. One query, on the leader tally.

    A leader has one tally row, so nothing is counted distinct and a sum over places is
    exact; leaders with no profile have no place. `programme_ids`: the programmes to count
    apart as well (those with targets), each leader once.
    """
    programme_ids = sorted(set(programme_ids or []))
    valid = valid_certificates().filter(holder_id=OuterRef("user_id"))
    tallies = LeaderTally.objects.annotate(
        **{f"holds_{pk}": Exists(valid.filter(version__programme_id=pk)) for pk in programme_ids}
    )
    if region_id is not None:
        tallies = tallies.filter(region_id=region_id)
    rows = (
        tallies.values("region_id", "constituency_id", seat=F("constituency__is_target_seat"))
        .annotate(
            n=Count("pk"),
            **{f"n_{pk}": Count("pk", filter=Q(**{f"holds_{pk}": True})) for pk in programme_ids},
        )
        .order_by()
    )
    counts: dict[tuple[int | None, Place], int] = {}
    for row in rows:
        place = Place(row["region_id"], row["constituency_id"], bool(row["seat"]))
        if row["n"]:
            counts[(None, place)] = counts.get((None, place), 0) + row["n"]
        for pk in programme_ids:
            if row[f"n_{pk}"]:
                counts[(pk, place)] = counts.get((pk, place), 0) + row[f"n_{pk}"]
    return counts


def leaders_count(leaders: dict[tuple[int | None, Place], int], *, scope: Scope) -> int:
    """Leaders in a scope, from leaders_by_place's counts."""
    return sum(
        n
        for (programme, place), n in leaders.items()
        if programme == scope.programme_id and scope.contains(place)
    )


def leader_list(*, scope: Scope, region_id: int | None = None):
    """Members who are leaders in a scope (users, each once): the list behind leaders_count."""
    certificates = valid_certificates().filter(holder=OuterRef("pk"))
    if scope.programme_id:
        certificates = certificates.filter(version__programme_id=scope.programme_id)
    return User.objects.filter(Exists(certificates)).filter(scope.place_q("", region_id=region_id))


def lapsed_leader_list(*, region_id: int | None = None, today: dt.date | None = None):
    """Leaders none of whose valid certificates is still in date."""
    today = today or timezone.localdate()
    in_date = valid_certificates().filter(in_date_q(today), holder=OuterRef("pk"))
    return leader_list(scope=Scope(), region_id=region_id).exclude(Exists(in_date))


def lapsed_leaders_count(*, region_id: int | None = None, today: dt.date | None = None) -> int:
    """The length of lapsed_leader_list, from the leader tally. One query."""
    tallies = LeaderTally.objects.filter(in_date_until__lt=today or timezone.localdate())
    if region_id is not None:
        tallies = tallies.filter(region_id=region_id)
    return tallies.count()


# --- The pipeline ---------------------------------------------------------------------------


def stage_reached_q() -> dict[str, Q]:
    """Filters on enrolments for each stage reached. Cumulative: reaching a stage means having
    passed the ones before, so a certificate issued by staff on evidence from outside the
    platform (no work handed in here) still counts at every stage, and the funnel never widens."""
    certified = Q(certified_at__isnull=False)
    submitted = Q(work_submitted_at__isnull=False) | certified
    attending = Q(first_attended_at__isnull=False) | submitted
    return {
        "applied": Q(),
        "enrolled": Q(first_enrolled_at__isnull=False) | attending,
        "attending": attending,
        "submitted": submitted,
        "certified": certified,
    }


def stage_now_q() -> dict[str, Q]:
    """Filters on in-flight enrolments for the furthest stage reached (the pipeline: exclusive)."""
    submitted = Q(work_submitted_at__isnull=False)
    attending = Q(first_attended_at__isnull=False)
    enrolled = Q(first_enrolled_at__isnull=False)
    return {
        "submitted": submitted,
        "attending": ~submitted & attending,
        "enrolled": ~submitted & ~attending & enrolled,
        "applied": ~submitted & ~attending & ~enrolled,
    }


def pipeline_by_target(*, targets: list[Target], region_id: int | None = None) -> dict[int, dict[str, int]]:
    """{target id: {stage: people}}: people in training now, in the target's place and
    programme, in cohorts ending by its deadline, by their furthest stage. One query over the
    enrolments in training, a row per stage and a conditional count per target (not per
    target and stage: building four times the expressions cost more than the query)."""
    if not targets:
        return {}
    enrolments = in_flight_enrolments()
    if region_id is not None:
        enrolments = enrolments.filter(member_region_id=region_id)
    stages = stage_now_q()  # exclusive: each enrolment is at one stage
    counts = {}
    for target in targets:
        scope = Scope.of_target(target)
        in_target = scope.enrolment_q() & Q(cohort__ends_on__lte=target.deadline)
        if scope.programme_id:
            in_target &= Q(programme_id=scope.programme_id)
        counts[f"t{target.pk}"] = Count("pk", filter=in_target)
    stage_now = Case(
        *(When(stages[stage], then=Value(stage)) for stage in PIPELINE_STAGES), output_field=CharField()
    )
    rows = enrolments.annotate(stage_now=stage_now).values("stage_now").annotate(**counts).order_by()
    result = {target.pk: dict.fromkeys(PIPELINE_STAGES, 0) for target in targets}
    for row in rows:
        for target in targets:
            result[target.pk][row["stage_now"]] = row[f"t{target.pk}"]
    return result


def training_by_place(*, region_id: int | None = None) -> dict[tuple[int | None, int | None], int]:
    """{(region id, constituency id): people in training}, None for none recorded. One query."""
    enrolments = in_flight_enrolments()
    if region_id is not None:
        enrolments = enrolments.filter(member_region_id=region_id)
    rows = (
        enrolments.values_list("member_region_id", "member_constituency_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {(region, constituency): n for region, constituency, n in rows}


def open_places_by_cohort(*, region_id: int | None = None) -> list[dict]:
    """Places in cohorts still open for applications that nobody holds or has applied for.
    One query.

    Applicants (applied or on the waiting list) are in the pipeline already, at the stage
    "applied": the places they seek are left out here, so that each person is counted once.
    A cohort's place is where it meets (its region and constituency)."""
    cohorts = Cohort.objects.filter(status=CohortStatus.OPEN)
    if region_id is not None:
        cohorts = cohorts.filter(region_id=region_id)
    rows = (
        cohorts.annotate(
            claimed=Count("enrolments", filter=Q(enrolments__status__in=ACTIVE_ENROLMENT_STATUSES))
        )
        .values(
            "capacity",
            "claimed",
            "ends_on",
            programme=F("version__programme_id"),
            place_region=F("region_id"),
            place_constituency=F("constituency_id"),
            seat=F("constituency__is_target_seat"),
        )
        .order_by()
    )
    return [
        {
            "unclaimed": max(row["capacity"] - row["claimed"], 0),
            "ends_on": row["ends_on"],
            "programme": row["programme"],
            "place": Place(row["place_region"], row["place_constituency"], bool(row["seat"])),
        }
        for row in rows
    ]


def conversion_rates() -> ConversionRates:
    """From every finished cohort: of those who reached each stage, the share certified; and
    the share of places taken up. Two queries on a cold cache, none for ten minutes after."""
    cached = cache.get(RATES_CACHE_KEY)
    if cached is not None:
        return cached
    stages = stage_reached_q()
    certified = stages["certified"]
    finished = Enrolment.objects.filter(cohort__status=CohortStatus.FINISHED)
    aggregates = {f"reached_{stage}": Count("pk", filter=stages[stage]) for stage in PIPELINE_STAGES}
    aggregates |= {
        f"certified_{stage}": Count("pk", filter=stages[stage] & certified) for stage in PIPELINE_STAGES
    }
    counts = finished.aggregate(**aggregates)
    # Capacity summed over cohorts alone: joined to enrolments it would count once per enrolment.
    places = Cohort.objects.filter(status=CohortStatus.FINISHED).aggregate(places=Sum("capacity"))["places"]
    rates = rates_from_counts(
        reached={stage: counts[f"reached_{stage}"] for stage in PIPELINE_STAGES},
        certified_after={stage: counts[f"certified_{stage}"] for stage in PIPELINE_STAGES},
        places=places or 0,
        filled=counts["reached_enrolled"],
    )
    cache.set(RATES_CACHE_KEY, rates, RATES_CACHE_SECONDS)
    return rates


# --- Targets ---------------------------------------------------------------------------------


@dataclass
class TargetProgress:
    target: Target
    certified: int
    forecast: Forecast
    verdict: str
    pipeline: dict[str, int] = field(default_factory=dict)
    open_places: int = 0
    today: dt.date = field(default_factory=timezone.localdate)

    @property
    def share_done(self) -> float:
        return min(self.certified / self.target.leaders, 1.0) if self.target.leaders else 0.0

    @property
    def days_left(self) -> int:
        return (self.target.deadline - self.today).days

    @property
    def gap(self) -> int:
        return max(self.target.leaders - self.certified, 0)

    @property
    def in_pipeline(self) -> int:
        return sum(self.pipeline.values())

    @property
    def scope(self) -> Scope:
        return Scope.of_target(self.target)


def _target_matches(target: Target, *, programme, place: Place) -> bool:
    if target.programme_id is not None and programme != target.programme_id:
        return False
    return _in_scope(
        place, scope=target.scope, region_id=target.region_id, constituency_id=target.constituency_id
    )


@dataclass
class Base:
    """The grouped counts most of the dashboard is built from, read once per page."""

    leaders: dict[tuple[int | None, Place], int]
    in_training: dict[tuple[int | None, int | None], int]
    target_pipeline: dict[int, dict[str, int]]
    open_places: list[dict]
    rates: ConversionRates
    today: dt.date

    @property
    def training_total(self) -> int:
        return sum(self.in_training.values())


def base_get(*, region_id: int | None = None, targets: list[Target] | None = None) -> Base:
    """Six queries (five when the conversion rates are cached), whatever the data."""
    targets = targets or []
    programme_ids = [target.programme_id for target in targets if target.programme_id]
    return Base(
        leaders=leaders_by_place(region_id=region_id, programme_ids=programme_ids),
        in_training=training_by_place(region_id=region_id),
        target_pipeline=pipeline_by_target(targets=targets, region_id=region_id),
        open_places=open_places_by_cohort(region_id=region_id),
        rates=conversion_rates(),
        today=timezone.localdate(),
    )


def targets_progress(
    *, targets: list[Target], region_id: int | None = None, base: Base | None = None
) -> list[TargetProgress]:
    """Each target's leaders now, pipeline, forecast and verdict. A fixed number of queries
    (none given a `base` read for these targets), whatever the number of people."""
    base = base or base_get(region_id=region_id, targets=targets)
    progress = []
    for target in targets:
        certified = leaders_count(base.leaders, scope=Scope.of_target(target))
        stages = base.target_pipeline.get(target.pk, {})
        free = sum(
            row["unclaimed"]
            for row in base.open_places
            if row["ends_on"] <= target.deadline
            and _target_matches(target, programme=row["programme"], place=row["place"])
        )
        result = forecast(certified_now=certified, pipeline=dict(stages), open_places=free, rates=base.rates)
        progress.append(
            TargetProgress(
                target=target,
                certified=certified,
                forecast=result,
                verdict=verdict(
                    target=target.leaders, result=result, deadline_passed=target.deadline < base.today
                ),
                pipeline={stage: stages.get(stage, 0) for stage in PIPELINE_STAGES},
                open_places=free,
                today=base.today,
            )
        )
    return progress


def target_list(*, region_id: int | None = None) -> list[Target]:
    """Targets a viewer sees: all, or (regional staff) those for their region and its seats."""
    targets = Target.objects.select_related("region", "constituency", "programme")
    if region_id is not None:
        targets = targets.filter(
            Q(scope=TargetScope.REGION, region_id=region_id)
            | Q(scope=TargetScope.CONSTITUENCY, constituency__region_id=region_id)
        )
    return list(targets)


def target_main(targets: list[Target], *, today: dt.date) -> Target | None:
    """The target the dashboard leads with: the widest place, any programme, nearest deadline
    still to come (or the latest passed)."""
    if not targets:
        return None
    width = {TargetScope.NATIONAL: 0, TargetScope.REGION: 1, TargetScope.TARGET_SEATS: 2}
    return min(
        targets,
        key=lambda t: (
            t.programme_id is not None,
            width.get(t.scope, 3),
            t.deadline < today,
            abs((t.deadline - today).days),
            t.pk,
        ),
    )


# --- Over time ---------------------------------------------------------------------------------


def leaders_by_month(*, scope: Scope, region_id: int | None = None) -> list[tuple[dt.date, int]]:
    """Cumulative leaders in a scope at the end of each month, from each leader's first valid
    certificate (of the scope's programme, if it has one). One query, a row per month: on the
    leader tally, or for a programme on its certificates."""
    if scope.programme_id:
        certificates = valid_certificates().filter(version__programme_id=scope.programme_id)
        earlier = certificates.filter(holder=OuterRef("holder")).filter(
            Q(issued_at__lt=OuterRef("issued_at")) | Q(issued_at=OuterRef("issued_at"), pk__lt=OuterRef("pk"))
        )
        firsts = (
            certificates.filter(scope.place_q("holder", region_id=region_id))
            .filter(~Exists(earlier))
            .annotate(month=TruncMonth("issued_at"))
        )
    else:
        firsts = LeaderTally.objects.filter(scope.tally_q(region_id=region_id)).annotate(
            month=F("first_certified_month")
        )
    rows = firsts.values("month").annotate(n=Count("pk")).order_by("month")
    running = 0
    series = []
    for row in rows:
        running += row["n"]
        month = row["month"]
        if isinstance(month, dt.datetime):
            month = timezone.localtime(month).date() if timezone.is_aware(month) else month.date()
        series.append((month.replace(day=1), running))
    return series


# --- Funnels ------------------------------------------------------------------------------------

FUNNEL_GROUPS = {
    "programme": ("programme_id", "programme__title"),
    "region": ("member_region_id", "member_region__name"),
    "constituency": ("member_constituency_id", "member_constituency__name"),
}


def funnel(*, group_by: str, region_id: int | None = None) -> list[dict]:
    """Enrolments reaching each stage, grouped by programme, region or constituency. One query.

    group_by: a key of FUNNEL_GROUPS (allow-listed by the caller). Rows: {"group": id or None,
    "label": name or None, stage: count, ...}."""
    return funnels(group_bys=[group_by], region_id=region_id)[group_by]


def funnels(*, group_bys: list[str], region_id: int | None = None) -> dict[str, list[dict]]:
    """Several funnels from one pass over the enrolments: grouped by every key at once, then
    summed in Python for each (the groups are few: programmes times places). One query."""
    stages = stage_reached_q()
    enrolments = Enrolment.objects.all()
    if region_id is not None:
        enrolments = enrolments.filter(member_region_id=region_id)
    fields = {}
    for group_by in group_bys:
        id_field, label_field = FUNNEL_GROUPS[group_by]
        fields[f"by_{group_by}"] = F(id_field)
        fields[f"by_{group_by}_label"] = F(label_field)
    rows = (
        enrolments.values(**fields)
        .annotate(**{stage: Count("pk", filter=condition) for stage, condition in stages.items()})
        .order_by()
    )
    sums: dict[str, dict] = {group_by: {} for group_by in group_bys}
    for row in rows:
        for group_by in group_bys:
            key = row[f"by_{group_by}"]
            total = sums[group_by].setdefault(
                key, {"group": key, "label": row[f"by_{group_by}_label"], **dict.fromkeys(stages, 0)}
            )
            for stage in stages:
                total[stage] += row[stage]
    return {
        group_by: sorted(groups.values(), key=lambda item: (item["label"] is None, item["label"] or ""))
        for group_by, groups in sums.items()
    }


# --- By place ----------------------------------------------------------------------------------


def place_names(*, region_id: int | None = None) -> tuple[list[Region], list[Constituency]]:
    """Every region, and the constituencies of `region_id` (none without it). Two queries, or one."""
    regions = list(Region.objects.order_by("name"))
    constituencies = (
        list(Constituency.objects.filter(region_id=region_id).order_by("-is_target_seat", "name"))
        if region_id is not None
        else []
    )
    return regions, constituencies


def place_rows(
    *,
    base: Base,
    targets: list[Target],
    regions: list[Region],
    constituencies: list[Constituency],
    region: Region | None,
) -> list[dict]:
    """By place: for each region (or, given `region`, each of its constituencies) the leaders,
    people in training, the place's target (any programme, nearest deadline to come) and the
    gap. No queries: built from `base`. A last row counts people with no place recorded."""
    leaders: dict[int, int] = defaultdict(int)
    training: dict[int, int] = defaultdict(int)
    key = (lambda place: place.constituency_id or NOWHERE) if region else (lambda p: p.region_id or NOWHERE)
    for (programme, place), n in base.leaders.items():
        if programme is None and (region is None or place.region_id == region.pk):
            leaders[key(place)] += n
    for (region_id, constituency_id), n in base.in_training.items():
        if region is None or region_id == region.pk:
            training[key(Place(region_id, constituency_id, False))] += n
    place_targets: dict[int, Target] = {}
    scope = TargetScope.CONSTITUENCY if region else TargetScope.REGION
    upcoming = sorted(
        (t for t in targets if t.scope == scope and t.programme_id is None),
        key=lambda t: (t.deadline < base.today, abs((t.deadline - base.today).days)),
    )
    for target in upcoming:
        place_targets.setdefault(target.constituency_id if region else target.region_id, target)
    places = constituencies if region else regions
    rows = []
    for place in places:
        target = place_targets.get(place.pk)
        rows.append(
            {
                "id": place.pk,
                "name": place.name,
                "target_seat": getattr(place, "is_target_seat", False),
                "leaders": leaders.get(place.pk, 0),
                "training": training.get(place.pk, 0),
                "target": target.leaders if target else None,
                "deadline": target.deadline if target else None,
                "gap": max(target.leaders - leaders.get(place.pk, 0), 0) if target else None,
            }
        )
    if leaders.get(NOWHERE) or training.get(NOWHERE):
        rows.append(
            {
                "id": NOWHERE,
                "name": None,
                "target_seat": False,
                "leaders": leaders.get(NOWHERE, 0),
                "training": training.get(NOWHERE, 0),
                "target": None,
                "deadline": None,
                "gap": None,
            }
        )
    return rows
