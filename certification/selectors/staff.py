"""Reads for national staff's certificate pages: what needs a decision, and the audit trail."""

from django.db.models import Count, Prefetch, Q, QuerySet

from certification.models import Certificate, CertificateEvent
from training.models import CohortStatus, Enrolment, EnrolmentStatus
from training.selectors.standing import Standing, enrolment_standing_list

# Cohorts whose trainees may be near completion.
COHORTS_UNDER_WAY = [CohortStatus.RUNNING, CohortStatus.FINISHED]
ONE_STEP_LIMIT = 200


def certificate_list_for_staff(*, query: str = "") -> QuerySet[Certificate]:
    """Certificates newest first; `query` matches the code or the holder's name."""
    certificates = Certificate.objects.select_related("holder").order_by("-issued_at", "-pk")
    query = query.strip()
    if query:
        certificates = certificates.filter(
            Q(code__iexact=query.replace("-", "").replace(" ", "")) | Q(holder_name__icontains=query)
        )
    return certificates


def certificate_list_flagged() -> QuerySet[Certificate]:
    return Certificate.objects.filter(needs_review=True).select_related("holder").order_by("issued_at")


def enrolment_list_one_step_away(*, limit: int = ONE_STEP_LIMIT) -> list[Standing]:
    """Enrolled trainees in running or finished cohorts (and those the end left not completed),
    without a certificate, exactly one step (a session or an assignment) short of the rule.
    Fixed queries; looks at the `limit` most recent enrolments so that the page stays quick
    (the dashboard counts them all)."""
    candidates = (
        Enrolment.objects.filter(
            status__in=[EnrolmentStatus.ENROLLED, EnrolmentStatus.INCOMPLETE],
            cohort__status__in=COHORTS_UNDER_WAY,
            certificate__isnull=True,
        )
        .order_by("-cohort__ends_on", "-pk")
        .values_list("pk", flat=True)[:limit]
    )
    standings = enrolment_standing_list(list(candidates))
    return sorted(
        (s for s in standings.values() if s.steps_short == 1),
        key=lambda s: (s.enrolment.cohort.name, s.enrolment.member.last_name, s.enrolment.pk),
    )


def certificate_detail_for_staff(*, certificate: Certificate) -> Certificate:
    """The certificate with its audit trail and verification counts by channel."""
    return (
        Certificate.objects.filter(pk=certificate.pk)
        .select_related("holder", "enrolment__cohort")
        .prefetch_related(Prefetch("events", queryset=CertificateEvent.objects.select_related("actor")))
        .annotate(
            checks_page=Count("verifications", filter=Q(verifications__channel="page")),
            checks_credential=Count("verifications", filter=Q(verifications__channel="credential")),
        )
        .get()
    )
