"""The leader tally: one row per certified leader, with their place and since when.

`leader_tally_sync` is the one piece of code that writes it. The receivers (reporting/
receivers.py) run it for the members an event names, inside the transaction of the change;
`manage.py dashboard_rebuild` runs it for everyone and says what differed. The dashboard
counts leaders from the tally; the lists behind its figures still read the certificates, and
tests compare the two.
"""

from collections.abc import Iterable
from datetime import date, datetime

from django.db import transaction
from django.db.models import Count, F, Max, Min, Q
from django.utils import timezone

from certification.models import Certificate, CertificateStatus
from members.models import User
from reporting.models import LeaderTally

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
def leader_tally_sync(*, user_ids: Iterable[int] | None = None, fix: bool = True) -> tuple[int, int]:
    """Bring the tally of these members (None: of everyone) in line with their certificates
    and profiles: rows added, corrected or removed, idempotently. Without `fix`, only count.
    Returns (leaders among them, rows that were wrong, missing or extra).

    For named members their user rows are locked first, so two changes to one member at once
    are counted one after the other (the second sees the first), never half each."""
    stored = LeaderTally.objects.all()
    if user_ids is not None:
        user_ids = sorted(set(user_ids))
        if not user_ids:
            return 0, 0
        if fix:
            list(User.objects.select_for_update().filter(pk__in=user_ids).values_list("pk", flat=True))
        stored = stored.filter(user_id__in=user_ids)
    wanted = leader_tally_compute(user_ids)
    stored_rows = {row.user_id: row for row in stored}
    extra = [user_id for user_id in stored_rows if user_id not in wanted]
    wrong = [
        row
        for user_id, row in wanted.items()
        if user_id not in stored_rows
        or any(getattr(stored_rows[user_id], name) != getattr(row, name) for name in TALLY_FIELDS)
    ]
    if fix and extra:
        LeaderTally.objects.filter(user_id__in=extra).delete()
    if fix and wrong:
        LeaderTally.objects.bulk_create(
            wrong, batch_size=2000, update_conflicts=True, unique_fields=["user"], update_fields=TALLY_FIELDS
        )
    return len(wanted), len(extra) + len(wrong)
