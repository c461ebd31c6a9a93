"""The national dashboard's numbers, each aggregated in the database in a fixed number of queries.

Definitions (one place, used by the dashboard and by the lists behind its figures):
- A **leader** is a member holding at least one valid (not revoked) certificate; counted once
  however many programmes they finished. Lapsed certificates still count as certified; the
  dashboard shows how many have lapsed. Revoked certificates do not count.
- A leader's or trainee's **place** is the region and constituency of their profile now.
- A person's **stage** in a cohort is the furthest they reached: applied, enrolled (ever held
  a place), attending (present at least once), all work submitted (every required assignment
  handed in), certified. Withdrawn and declined applications count as applied in funnels and
  rates, and not at all in the pipeline.
The enrolment milestones are kept on the enrolment by training's services
(`first_enrolled_at`, `first_attended_at`, `work_submitted_at`), so funnels read one table.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Count, F, Min, Q, Sum
from django.utils import timezone

from certification.forecast import (
    PIPELINE_STAGES,
    ConversionRates,
    Forecast,
    forecast,
    rates_from_counts,
    verdict,
)
from certification.models import Certificate, CertificateStatus, Target, TargetScope
from training.models import (
    ACTIVE_ENROLMENT_STATUSES,
    PLACE_HOLDING_STATUSES,
    Cohort,
    CohortStatus,
    Enrolment,
)

IN_FLIGHT_COHORTS = [CohortStatus.OPEN, CohortStatus.RUNNING]
RATES_CACHE_KEY = "dashboard:conversion-rates"
RATES_CACHE_SECONDS = 600


@dataclass(frozen=True)
class Place:
    """Where a count belongs: a region, a constituency (maybe none), and whether it is a target seat."""

    region_id: int | None
    constituency_id: int | None
    target_seat: bool


def _in_scope(place: Place, *, scope: str, region_id=None, constituency_id=None) -> bool:
    if scope == TargetScope.NATIONAL:
        return True
    if scope == TargetScope.REGION:
        return place.region_id == region_id
    if scope == TargetScope.CONSTITUENCY:
        return place.constituency_id == constituency_id
    return place.target_seat  # TargetScope.TARGET_SEATS


def _valid_certificates():
    return Certificate.objects.filter(status=CertificateStatus.VALID)


# --- Leaders ------------------------------------------------------------------------------


def leaders_by_place(*, region_id: int | None = None) -> dict[tuple[int | None, Place], int]:
    """{(programme id or None for any, place): leaders}. Two queries.

    Within one place a leader is counted once; a leader has one place, so sums over places
    are exact. Per programme, a leader with that programme's certificate counts once.
    """
    certificates = _valid_certificates()
    if region_id is not None:
        certificates = certificates.filter(holder__profile__region_id=region_id)
    place_fields = {
        "region": F("holder__profile__region_id"),
        "constituency": F("holder__profile__constituency_id"),
        "seat": F("holder__profile__constituency__is_target_seat"),
    }
    counts: dict[tuple[int | None, Place], int] = {}
    for row in certificates.values(**place_fields).annotate(n=Count("holder", distinct=True)):
        counts[(None, Place(row["region"], row["constituency"], bool(row["seat"])))] = row["n"]
    by_programme = certificates.values(programme=F("version__programme_id"), **place_fields).annotate(
        n=Count("holder", distinct=True)
    )
    for row in by_programme:
        place = Place(row["region"], row["constituency"], bool(row["seat"]))
        counts[(row["programme"], place)] = row["n"]
    return counts


def lapsed_leaders_count(*, region_id: int | None = None, today: dt.date | None = None) -> int:
    """Leaders none of whose valid certificates is still in date. One query."""
    today = today or timezone.localdate()
    in_date = _valid_certificates().filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today))
    certificates = _valid_certificates().exclude(holder__in=in_date.values("holder"))
    if region_id is not None:
        certificates = certificates.filter(holder__profile__region_id=region_id)
    return certificates.values("holder").distinct().count()


# --- The pipeline ---------------------------------------------------------------------------


def _stage_of_enrolment():
    """Filters for each stage reached, on enrolments."""
    return {
        "applied": Q(),
        "enrolled": Q(first_enrolled_at__isnull=False),
        "attending": Q(first_attended_at__isnull=False),
        "submitted": Q(work_submitted_at__isnull=False),
        "certified": Q(certificate__status=CertificateStatus.VALID),
    }


def pipeline_by_place(*, region_id: int | None = None) -> list[dict]:
    """People in cohorts still running or open, not yet certified, grouped by their current
    stage, place, programme and their cohort's end date. One query."""
    enrolments = (
        Enrolment.objects.filter(cohort__status__in=IN_FLIGHT_COHORTS, status__in=ACTIVE_ENROLMENT_STATUSES)
        .exclude(certificate__status=CertificateStatus.VALID)
        .annotate(
            stage_submitted=Q(work_submitted_at__isnull=False),
            stage_attending=Q(first_attended_at__isnull=False),
            stage_enrolled=Q(first_enrolled_at__isnull=False),
        )
    )
    if region_id is not None:
        enrolments = enrolments.filter(member__profile__region_id=region_id)
    rows = enrolments.values(
        "stage_submitted",
        "stage_attending",
        "stage_enrolled",
        programme=F("cohort__version__programme_id"),
        region=F("member__profile__region_id"),
        constituency=F("member__profile__constituency_id"),
        seat=F("member__profile__constituency__is_target_seat"),
        ends_on=F("cohort__ends_on"),
    ).annotate(n=Count("pk"))
    result = []
    for row in rows:
        if row["stage_submitted"]:
            stage = "submitted"
        elif row["stage_attending"]:
            stage = "attending"
        elif row["stage_enrolled"]:
            stage = "enrolled"
        else:
            stage = "applied"
        result.append(
            {
                "stage": stage,
                "programme": row["programme"],
                "place": Place(row["region"], row["constituency"], bool(row["seat"])),
                "ends_on": row["ends_on"],
                "n": row["n"],
            }
        )
    return result


def open_places_by_cohort(*, region_id: int | None = None) -> list[dict]:
    """Places not yet taken in cohorts still open for applications. One query."""
    cohorts = Cohort.objects.filter(status=CohortStatus.OPEN)
    if region_id is not None:
        cohorts = cohorts.filter(region_id=region_id)
    rows = cohorts.annotate(
        taken=Count("enrolments", filter=Q(enrolments__status__in=PLACE_HOLDING_STATUSES))
    ).values(
        "capacity",
        "taken",
        "ends_on",
        programme=F("version__programme_id"),
        place_region=F("region_id"),
        place_constituency=F("constituency_id"),
        seat=F("constituency__is_target_seat"),
    )
    return [
        {
            "free": max(row["capacity"] - row["taken"], 0),
            "ends_on": row["ends_on"],
            "programme": row["programme"],
            "place": Place(row["place_region"], row["place_constituency"], bool(row["seat"])),
        }
        for row in rows
    ]


def conversion_rates() -> ConversionRates:
    """From every finished cohort: of those who reached each stage, the share certified; and
    the share of places taken up. One query (two on a cold cache), kept for ten minutes."""
    cached = cache.get(RATES_CACHE_KEY)
    if cached is not None:
        return cached
    stages = _stage_of_enrolment()
    certified = stages["certified"]
    finished = Enrolment.objects.filter(cohort__status=CohortStatus.FINISHED)
    aggregates = {f"reached_{stage}": Count("pk", filter=stages[stage]) for stage in PIPELINE_STAGES}
    aggregates |= {
        f"certified_{stage}": Count("pk", filter=stages[stage] & certified) for stage in PIPELINE_STAGES
    }
    counts = finished.aggregate(**aggregates)
    places = Cohort.objects.filter(status=CohortStatus.FINISHED).aggregate(
        places=Sum("capacity"),
        filled=Count("enrolments", filter=Q(enrolments__first_enrolled_at__isnull=False)),
    )
    rates = rates_from_counts(
        reached={stage: counts[f"reached_{stage}"] for stage in PIPELINE_STAGES},
        certified_after={stage: counts[f"certified_{stage}"] for stage in PIPELINE_STAGES},
        places=places["places"] or 0,
        filled=places["filled"] or 0,
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


def _target_matches(target: Target, *, programme, place: Place) -> bool:
    if target.programme_id is not None and programme != target.programme_id:
        return False
    return _in_scope(
        place, scope=target.scope, region_id=target.region_id, constituency_id=target.constituency_id
    )


def targets_progress(*, targets: list[Target], region_id: int | None = None) -> list[TargetProgress]:
    """Each target's leaders now, pipeline, forecast and verdict. A fixed number of queries,
    whatever the number of targets or people."""
    leaders = leaders_by_place(region_id=region_id)
    pipeline = pipeline_by_place(region_id=region_id)
    places = open_places_by_cohort(region_id=region_id)
    rates = conversion_rates()
    today = timezone.localdate()
    progress = []
    for target in targets:
        certified = sum(
            n
            for (programme, place), n in leaders.items()
            if programme == target.programme_id and _target_matches(target, programme=programme, place=place)
        )
        stages: dict[str, int] = defaultdict(int)
        for row in pipeline:
            if row["ends_on"] <= target.deadline and _target_matches(
                target, programme=row["programme"], place=row["place"]
            ):
                stages[row["stage"]] += row["n"]
        free = sum(
            row["free"]
            for row in places
            if row["ends_on"] <= target.deadline
            and _target_matches(target, programme=row["programme"], place=row["place"])
        )
        result = forecast(certified_now=certified, pipeline=dict(stages), open_places=free, rates=rates)
        progress.append(
            TargetProgress(
                target=target,
                certified=certified,
                forecast=result,
                verdict=verdict(target=target.leaders, result=result),
                pipeline={stage: stages.get(stage, 0) for stage in PIPELINE_STAGES},
                open_places=free,
                today=today,
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


# --- Over time ---------------------------------------------------------------------------------


def leaders_by_month(*, target: Target) -> list[tuple[dt.date, int]]:
    """Cumulative leaders in the target's scope at the end of each month, from each leader's
    first valid certificate (of the target's programme, if it has one). One query."""
    certificates = _valid_certificates()
    if target.programme_id:
        certificates = certificates.filter(version__programme_id=target.programme_id)
    if target.scope == TargetScope.REGION:
        certificates = certificates.filter(holder__profile__region_id=target.region_id)
    elif target.scope == TargetScope.CONSTITUENCY:
        certificates = certificates.filter(holder__profile__constituency_id=target.constituency_id)
    elif target.scope == TargetScope.TARGET_SEATS:
        certificates = certificates.filter(holder__profile__constituency__is_target_seat=True)
    firsts = certificates.values("holder").annotate(first=Min("issued_at")).values_list("first", flat=True)
    per_month: dict[dt.date, int] = defaultdict(int)
    for first in firsts:
        local = timezone.localtime(first)
        per_month[dt.date(local.year, local.month, 1)] += 1
    running = 0
    series = []
    for month in sorted(per_month):
        running += per_month[month]
        series.append((month, running))
    return series


# --- Funnels ------------------------------------------------------------------------------------


def funnel(*, group_by: str, region_id: int | None = None) -> list[dict]:
    """People reaching each stage, grouped by programme or by region. One query.

    group_by: "programme" or "region" (allow-listed by the caller)."""
    group_field = {
        "programme": F("cohort__version__programme__title"),
        "region": F("member__profile__region__name"),
    }[group_by]
    stages = _stage_of_enrolment()
    enrolments = Enrolment.objects.all()
    if region_id is not None:
        enrolments = enrolments.filter(member__profile__region_id=region_id)
    rows = (
        enrolments.values(group=group_field)
        .annotate(**{stage: Count("pk", filter=condition) for stage, condition in stages.items()})
        .order_by("group")
    )
    return list(rows)
