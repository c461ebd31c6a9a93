"""Reads for the public cohort finder, the public cohort page and the home page's nearby cohorts.

Anyone may see these, signed in or not, so they carry no member's data: no trainers, no
enrolled names, no online links. Each page costs a fixed number of queries, whatever the
number of cohorts or sessions.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from training.models import (
    ACTIVE_ENROLMENT_STATUSES,
    PLACE_HOLDING_STATUSES,
    Cohort,
    CohortStatus,
    Enrolment,
    Module,
    Session,
    SessionMode,
    SessionStatus,
    VersionStatus,
)

# How many cohorts the home page shows before linking to the finder.
NEARBY_SHOWN = 3


class CohortMode:
    """How a cohort meets, from its scheduled sessions: all in person, all online, or both."""

    IN_PERSON = SessionMode.IN_PERSON.value
    ONLINE = SessionMode.ONLINE.value
    MIXED = "mixed"
    choices = [
        (IN_PERSON, _("In person")),
        (ONLINE, _("Online")),
        (MIXED, _("Online and in person")),
    ]


def cohort_list_open_for_applications(*, today: dt.date | None = None) -> QuerySet[Cohort]:
    """The one rule for "open for applications" in a list: open, with a published version,
    and applications not yet closed (they may open later; the page says when).

    training.services.enrolment.cohort_accepts_applications says whether one cohort takes an
    application today; this list also shows those opening soon.
    """
    today = today or timezone.localdate()
    return Cohort.objects.filter(
        status=CohortStatus.OPEN,
        version__status=VersionStatus.PUBLISHED,
        enrolment_closes_on__gte=today,
    )


def _places_taken() -> Coalesce:
    """The places held in the cohort (OuterRef), as a subquery: a Count() over joins would be
    multiplied by the sessions joined for the cohort's mode."""
    held = (
        Enrolment.objects.filter(cohort=OuterRef("pk"), status__in=PLACE_HOLDING_STATUSES)
        .order_by()
        .values("cohort")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(held, output_field=IntegerField()), 0)


def _with_public_figures(cohorts: QuerySet[Cohort]) -> QuerySet[Cohort]:
    """Annotated with `places_left` (capacity minus the places held, never below 0 in the
    template's eyes: a full cohort says so) and `meets` (a CohortMode value, or "" when no
    session is scheduled yet), in the same query as the cohorts."""
    scheduled = Session.objects.filter(cohort=OuterRef("pk"), status=SessionStatus.SCHEDULED)
    return cohorts.annotate(
        places_taken=_places_taken(),
        places_left=F("capacity") - F("places_taken"),
        has_online=Exists(scheduled.filter(mode=SessionMode.ONLINE)),
        has_in_person=Exists(scheduled.filter(mode=SessionMode.IN_PERSON)),
        meets=Case(
            When(Q(has_online=True, has_in_person=True), then=Value(CohortMode.MIXED)),
            When(has_online=True, then=Value(CohortMode.ONLINE)),
            When(has_in_person=True, then=Value(CohortMode.IN_PERSON)),
            default=Value(""),
            output_field=CharField(),
        ),
    )


def cohort_list_for_finder(
    *,
    member=None,
    region_id: int | None = None,
    constituency=None,
    starts_from: dt.date | None = None,
    starts_to: dt.date | None = None,
    mode: str = "",
) -> QuerySet[Cohort]:
    """Cohorts open for applications, soonest first, in one query (and one to count them).

    `constituency` also matches the cohorts that serve its whole region (no constituency of
    their own). `mode` is a CohortMode value. `member`, when signed in, adds `my_status`: their
    active enrolment's status in the cohort, or None.
    """
    cohorts = cohort_list_open_for_applications()
    if region_id:
        cohorts = cohorts.filter(region_id=region_id)
    if constituency is not None:
        cohorts = cohorts.filter(
            Q(constituency=constituency) | Q(constituency__isnull=True, region_id=constituency.region_id)
        )
    if starts_from:
        cohorts = cohorts.filter(starts_on__gte=starts_from)
    if starts_to:
        cohorts = cohorts.filter(starts_on__lte=starts_to)
    cohorts = _with_public_figures(cohorts)
    if mode:
        cohorts = cohorts.filter(meets=mode)
    if member is not None and member.is_authenticated:
        mine = Enrolment.objects.filter(
            cohort=OuterRef("pk"), member=member, status__in=ACTIVE_ENROLMENT_STATUSES
        ).values("status")[:1]
        cohorts = cohorts.annotate(my_status=Subquery(mine))
    else:
        cohorts = cohorts.annotate(my_status=Value(None, output_field=CharField()))
    return cohorts.select_related("version__programme", "region", "constituency").order_by(
        "starts_on", "name", "pk"
    )


def cohort_list_nearby(*, region_id: int, member=None) -> list[Cohort]:
    """The home page's few cohorts in a region, soonest first: one query."""
    return list(cohort_list_for_finder(member=member, region_id=region_id)[:NEARBY_SHOWN])


# --- One cohort's public page ----------------------------------------------------------


@dataclass
class CohortPublicPage:
    """What anyone may see of a cohort open for applications."""

    cohort: Cohort
    # Scheduled sessions, with their times and where they meet (never an online link).
    sessions: list[Session]
    modules: list[Module]

    @property
    def places_left(self) -> int:
        return max(self.cohort.places_left, 0)


def cohort_get_open(*, pk) -> Cohort:
    """A cohort open for applications, with its public figures; 404 for any other."""
    cohort = (
        _with_public_figures(cohort_list_open_for_applications())
        .select_related("version__programme", "region", "constituency")
        .filter(pk=pk)
        .first()
    )
    if cohort is None:
        raise Http404("Not found.")
    return cohort


def cohort_public_page_get(*, cohort: Cohort) -> CohortPublicPage:
    """`cohort` comes from cohort_get_open. Two queries, however many sessions and modules."""
    sessions = (
        Session.objects.filter(cohort=cohort, status=SessionStatus.SCHEDULED)
        .only("pk", "cohort_id", "title", "starts_at", "ends_at", "mode", "venue", "address", "status")
        .order_by("starts_at", "pk")
    )
    return CohortPublicPage(
        cohort=cohort,
        sessions=list(sessions),
        modules=list(
            Module.objects.filter(version_id=cohort.version_id)
            .only("pk", "title", "summary", "position", "version_id")
            .order_by("position")
        ),
    )
