"""Reads of certificates for their pages."""

from django.db.models import Count, Q, QuerySet

from certification.models import CODE_ALPHABET, CODE_LENGTH, Certificate, CertificateStatus


def code_normalise(code: str) -> str:
    """What people type or scan: any case, with spaces or hyphens. '' if it cannot be a code."""
    cleaned = "".join(code.split()).replace("-", "").upper()
    if len(cleaned) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in cleaned):
        return ""
    return cleaned


def certificate_for_verification(*, code: str) -> Certificate | None:
    """The certificate with this code, or None. One query, whatever the number of certificates.

    A malformed code runs the same query (with a code no certificate can have), so that the
    time taken does not tell a malformed code from an unknown one.
    """
    normalised = code_normalise(code) or "0" * CODE_LENGTH  # "0" is not in CODE_ALPHABET
    # The holder comes along (same query) to tell whether the certificate was withdrawn.
    return Certificate.objects.select_related("holder").filter(code=normalised).first()


def certificate_list_for_holder(*, user) -> QuerySet[Certificate]:
    return (
        Certificate.objects.filter(holder=user)
        .select_related("holder")  # its standing: withdrawn once the holder is erased
        .annotate(times_checked=Count("verifications"))
    )


def certificate_list_revoked() -> QuerySet[Certificate]:
    """Every revoked certificate, and every certificate withdrawn because its holder erased
    their account, oldest first: what the credentials' revocation list says."""
    return (
        Certificate.objects.filter(Q(status=CertificateStatus.REVOKED) | Q(holder__erased_at__isnull=False))
        .select_related("holder")
        .order_by("pk")
    )


def certificate_counts_by_status() -> dict[str, int]:
    """Certificates issued, by status (valid, revoked), every status named: one query
    (config.metrics reports it at each scrape)."""
    counts = dict(
        Certificate.objects.order_by()
        .values_list("status")
        .annotate(count=Count("pk"))
        .values_list("status", "count")
    )
    return {status: counts.get(status, 0) for status in CertificateStatus.values}
