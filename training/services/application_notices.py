"""Notices about applications: the applicant hears that theirs arrived (and what happens next),
and whoever may decide a cohort's applications gets one digest a day of those waiting.

Both go through the notice ledger (training.services.notices); their letters are written
in training.notices_applications.
"""

from dataclasses import dataclass
from datetime import date, datetime, time

from django.contrib.auth import get_user_model
from django.db.models import Count, Min
from django.utils import timezone

from training.models import Cohort, Enrolment, EnrolmentStatus, NoticeKind
from training.services.notices import notices_create, notices_send_on_commit

# Who may decide applications: the cohort's trainers (if they still run cohorts) and national
# staff (training.permissions: cohort_list_manageable_by, enrolment_get_manageable).
RUNS_COHORTS = "training.run_cohorts"
MANAGES_COHORTS = "training.manage_cohorts"


# --- Application received -------------------------------------------------------------------


def application_received_subject(enrolment: Enrolment) -> str:
    """ "application:12:waitlisted": the status the application was given, so that the letter
    is dropped once that is no longer true (withdrawn, or decided since)."""
    return f"application:{enrolment.pk}:{enrolment.status}"


def application_received_notify(*, enrolment: Enrolment) -> list[int]:
    """The applicant hears what happened to their application and what happens next. One
    notice per application (the subject names it; the ledger's constraint does the rest)."""
    ids = notices_create(
        kind=NoticeKind.APPLICATION_RECEIVED,
        subject=application_received_subject(enrolment),
        recipient_ids=[enrolment.member_id],
        scheduled_for=enrolment.applied_at,
    )
    notices_send_on_commit(ids)
    return ids


# --- Applications waiting: the daily digest -----------------------------------------------


@dataclass(frozen=True)
class CohortWaiting:
    cohort_id: int
    cohort_name: str
    programme_title: str
    region_id: int
    waiting: int
    oldest_applied_at: datetime


def _deciders(*, perm: str, member_ids: set[int] | None):
    users = (
        get_user_model()
        .objects.with_perm(
            perm,
            include_superusers=False,
            backend="django.contrib.auth.backends.ModelBackend",  # where roles give permissions
        )
        .filter(is_active=True, erased_at__isnull=True)
    )
    return users if member_ids is None else users.filter(pk__in=member_ids)


def applications_waiting_by_decider(*, member_ids: set[int] | None = None) -> dict[int, list[CohortWaiting]]:
    """{member id: the cohorts with applications waiting (status applied) that they may
    decide, by name}. The cohort's trainers, and national staff: of the region they were given
    (User.staff_region), or of every region when they were given none. `member_ids` limits the
    answer to those members (a digest about to be sent). Three queries, whatever the numbers."""
    rows = (
        Enrolment.objects.filter(status=EnrolmentStatus.APPLIED)
        .values("cohort_id", "cohort__name", "cohort__version__programme__title", "cohort__region_id")
        .annotate(waiting=Count("pk"), oldest=Min("applied_at"))
        .order_by()
    )
    cohorts = {
        row["cohort_id"]: CohortWaiting(
            cohort_id=row["cohort_id"],
            cohort_name=row["cohort__name"],
            programme_title=row["cohort__version__programme__title"],
            region_id=row["cohort__region_id"],
            waiting=row["waiting"],
            oldest_applied_at=row["oldest"],
        )
        for row in rows
    }
    if not cohorts:
        return {}
    trainers = Cohort.trainers.through.objects.filter(
        cohort_id__in=cohorts, user_id__in=_deciders(perm=RUNS_COHORTS, member_ids=member_ids).values("pk")
    ).values_list("cohort_id", "user_id")
    decides: dict[int, set[int]] = {}
    for cohort_id, user_id in trainers:
        decides.setdefault(user_id, set()).add(cohort_id)
    staff = _deciders(perm=MANAGES_COHORTS, member_ids=member_ids).values_list("pk", "staff_region_id")
    for user_id, region_id in staff:
        decides.setdefault(user_id, set()).update(
            cohort.cohort_id
            for cohort in cohorts.values()
            if region_id is None or cohort.region_id == region_id
        )
    return {
        user_id: sorted(
            (cohorts[cohort_id] for cohort_id in cohort_ids),
            key=lambda cohort: (cohort.oldest_applied_at, cohort.cohort_id),
        )
        for user_id, cohort_ids in decides.items()
        if cohort_ids
    }


def applications_waiting_subject(day: date) -> str:
    return f"applications-waiting:{day.isoformat()}"


def applications_waiting_digest_write(*, now: datetime | None = None) -> list[int]:
    """Write today's digest for each person who may decide waiting applications, and ask for
    it to be sent. Safe to run twice a day, or twice at once: the subject and due time are the
    day's, so the ledger's unique constraint keeps one per person. Returns the ids of the
    digests still to send (none once today's went)."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    recipients = applications_waiting_by_decider()
    ids = notices_create(
        kind=NoticeKind.APPLICATIONS_WAITING,
        subject=applications_waiting_subject(day),
        recipient_ids=recipients,
        scheduled_for=timezone.make_aware(datetime.combine(day, time.min)),
    )
    notices_send_on_commit(ids)
    return ids
