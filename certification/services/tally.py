"""The leader tally: one row per certified leader, with their place and since when.

Recomputed for the members concerned whenever one of their certificates or their profile
changes (the receivers in certification/receivers.py call these functions, so no service can
forget), and recomputed for everyone by `manage.py dashboard_rebuild`, which says what
differed. The dashboard counts leaders from it; the lists behind its figures still read the
certificates, and tests compare the two.
"""

from collections.abc import Iterable
from datetime import date, datetime

from django.db import transaction
from django.db.models import Count, F, Max, Min, Q
from django.utils import timezone

from certification.models import Certificate, CertificateStatus, LeaderTally
from members.models import User
from training.models import Enrolment

TALLY_FIELDS = [
    "has_profile",
    "region_id",
    "constituency_id",
    "first_certified_at",
    "first_certified_month",
    "in_date_until",
]


def month_of(moment: datetime) -> date:
    """The first day of the month `moment` falls in, in the site's time zone."""
    return timezone.localtime(moment).date().replace(day=1)


def leader_tally_compute(user_ids: Iterable[int] | None = None) -> dict[int, LeaderTally]:
    """{user id: the tally row they should have}, from their valid certificates and profile.
    One query, for some members or (None) for all; members with no valid certificate have none."""
    certificates = Certificate.objects.filter(status=CertificateStatus.VALID)
    if user_ids is not None:
        certificates = certificates.filter(holder_id__in=list(user_ids))
    rows = (
        certificates.values(
            "holder_id",
            profile_id=F("holder__profile__id"),
            place_region=F("holder__profile__region_id"),
            place_constituency=F("holder__profile__constituency_id"),
        )
        .annotate(
            first=Min("issued_at"),
            never_lapse=Count("pk", filter=Q(expires_on__isnull=True)),
            until=Max("expires_on"),
        )
        .order_by()
    )
    return {
        row["holder_id"]: LeaderTally(
            user_id=row["holder_id"],
            has_profile=row["profile_id"] is not None,
            region_id=row["place_region"],
            constituency_id=row["place_constituency"],
            first_certified_at=row["first"],
            first_certified_month=month_of(row["first"]),
            in_date_until=None if row["never_lapse"] else row["until"],
        )
        for row in rows
    }


@transaction.atomic
def leader_tally_refresh(*, user_ids: Iterable[int]) -> None:
    """Recompute the tally of these members. Four queries.

    Their user rows are locked first, so two changes to one member's certificates at once
    are counted one after the other (the second sees the first), never half each."""
    user_ids = sorted(set(user_ids))
    if not user_ids:
        return
    list(User.objects.select_for_update().filter(pk__in=user_ids).values_list("pk", flat=True))
    wanted = leader_tally_compute(user_ids)
    LeaderTally.objects.filter(user_id__in=user_ids).exclude(user_id__in=list(wanted)).delete()
    if wanted:
        LeaderTally.objects.bulk_create(
            wanted.values(), update_conflicts=True, unique_fields=["user"], update_fields=TALLY_FIELDS
        )


def leader_tally_place_set(*, user_id: int, region_id, constituency_id, has_profile: bool) -> None:
    """A member's profile moved (or went): move their tally row, if they are a leader. One query."""
    LeaderTally.objects.filter(user_id=user_id).update(
        has_profile=has_profile, region_id=region_id, constituency_id=constituency_id
    )


def leader_tally_rebuild(*, fix: bool) -> tuple[int, int]:
    """Compare every stored row with its recomputation; with `fix`, correct what differs.
    Returns (leaders now, rows that were wrong, missing or extra)."""
    wanted = leader_tally_compute()
    stored = {row.user_id: row for row in LeaderTally.objects.all()}
    extra = [user_id for user_id in stored if user_id not in wanted]
    wrong = [
        row
        for user_id, row in wanted.items()
        if user_id not in stored
        or any(getattr(stored[user_id], name) != getattr(row, name) for name in TALLY_FIELDS)
    ]
    if fix and (extra or wrong):
        with transaction.atomic():
            LeaderTally.objects.filter(user_id__in=extra).delete()
            LeaderTally.objects.bulk_create(
                wrong,
                batch_size=2000,
                update_conflicts=True,
                unique_fields=["user"],
                update_fields=TALLY_FIELDS,
            )
    return len(wanted), len(extra) + len(wrong)


def enrolment_certified_set(*, enrolment_id: int, certified_at) -> None:
    """Keep the enrolment's `certified_at` (its valid certificate's issue time, or none). One query."""
    Enrolment.objects.filter(pk=enrolment_id).update(certified_at=certified_at)


def enrolment_certified_rebuild(*, fix: bool) -> tuple[int, int]:
    """Compare every enrolment's `certified_at` with its certificate; with `fix`, correct it.
    Returns (enrolments, differing)."""
    issued = dict(
        Certificate.objects.filter(status=CertificateStatus.VALID).values_list("enrolment_id", "issued_at")
    )
    wrong = []
    checked = 0
    for enrolment in Enrolment.objects.only("pk", "certified_at"):
        checked += 1
        if enrolment.certified_at != issued.get(enrolment.pk):
            enrolment.certified_at = issued.get(enrolment.pk)
            wrong.append(enrolment)
    if fix:
        Enrolment.objects.bulk_update(wrong, ["certified_at"], batch_size=1000)
    return checked, len(wrong)
