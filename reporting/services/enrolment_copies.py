"""Each enrolment's copies, kept on training's Enrolment table so that the funnels count by
place and by certification without a join: its member's place (`member_region`,
`member_constituency`, from their profile now; none without a profile) and its valid
certificate's issue time (`certified_at`).

The columns belong to training's table, but only these functions write them: the receivers
(reporting/receivers.py) run them for the enrolments or members an event names, inside the
transaction of the change, and `manage.py dashboard_rebuild` runs them over every enrolment.
Each compares what is stored with what the source rows say and writes only the difference,
so running one twice changes nothing the second time.
"""

from collections.abc import Iterable

from certification.models import Certificate, CertificateStatus
from members.models import Profile
from training.models import Enrolment


def enrolment_places_sync(
    *,
    member_ids: Iterable[int] | None = None,
    enrolment_ids: Iterable[int] | None = None,
    fix: bool = True,
) -> tuple[int, int]:
    """Copy the member's place onto these enrolments (of these members, or these enrolments;
    neither: all). Without `fix`, only count. Returns (checked, differing). Two queries and the
    writes."""
    enrolments = Enrolment.objects.only("pk", "member_id", "member_region_id", "member_constituency_id")
    if member_ids is not None:
        enrolments = enrolments.filter(member_id__in=list(member_ids))
    if enrolment_ids is not None:
        enrolments = enrolments.filter(pk__in=list(enrolment_ids))
    enrolments = list(enrolments)
    profiles = Profile.objects.all()
    if member_ids is not None or enrolment_ids is not None:
        profiles = profiles.filter(user_id__in={enrolment.member_id for enrolment in enrolments})
    places = {
        user_id: (region_id, constituency_id)
        for user_id, region_id, constituency_id in profiles.values_list(
            "user_id", "region_id", "constituency_id"
        )
    }
    wrong = []
    for enrolment in enrolments:
        place = places.get(enrolment.member_id, (None, None))
        if (enrolment.member_region_id, enrolment.member_constituency_id) != place:
            enrolment.member_region_id, enrolment.member_constituency_id = place
            wrong.append(enrolment)
    checked = len(enrolments)
    if fix and wrong:
        Enrolment.objects.bulk_update(wrong, ["member_region_id", "member_constituency_id"], batch_size=1000)
    return checked, len(wrong)


def enrolment_certified_sync(
    *, enrolment_ids: Iterable[int] | None = None, fix: bool = True
) -> tuple[int, int]:
    """Set these enrolments' (None: every enrolment's) `certified_at` to their valid
    certificate's issue time, or none. Without `fix`, only count. Returns (checked, differing).
    Two queries and the writes."""
    enrolments = Enrolment.objects.only("pk", "certified_at")
    certificates = Certificate.objects.filter(status=CertificateStatus.VALID)
    if enrolment_ids is not None:
        enrolment_ids = list(enrolment_ids)
        enrolments = enrolments.filter(pk__in=enrolment_ids)
        certificates = certificates.filter(enrolment_id__in=enrolment_ids)
    issued = dict(certificates.values_list("enrolment_id", "issued_at"))
    wrong = []
    checked = 0
    for enrolment in enrolments.iterator(chunk_size=2000):
        checked += 1
        if enrolment.certified_at != issued.get(enrolment.pk):
            enrolment.certified_at = issued.get(enrolment.pk)
            wrong.append(enrolment)
    if fix and wrong:
        Enrolment.objects.bulk_update(wrong, ["certified_at"], batch_size=1000)
    return checked, len(wrong)
