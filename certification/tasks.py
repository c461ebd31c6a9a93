"""Celery tasks of certification. Each takes ids, and is safe to run twice."""

from celery import shared_task
from django.urls import reverse
from django.utils import timezone

from certification.emails import email_send
from certification.models import Certificate


@shared_task(name="certification.certificate_issued_email")
def certificate_issued_email(certificate_id: int) -> bool:
    """Tell the holder their certificate is ready. Sent at most once: the row is claimed first."""
    claimed = Certificate.objects.filter(pk=certificate_id, holder_emailed_at__isnull=True).update(
        holder_emailed_at=timezone.now()
    )
    if not claimed:
        return False
    certificate = Certificate.objects.select_related("holder").get(pk=certificate_id)
    try:
        email_send(
            to=certificate.holder.email,
            template="certificate_issued",
            context={
                "certificate": certificate,
                "verify_path": reverse("certification:verify", args=[certificate.code]),
                "certificates_path": reverse("certification:my-certificates"),
            },
        )
    except Exception:
        # Let a retry send it: release the claim.
        Certificate.objects.filter(pk=certificate_id).update(holder_emailed_at=None)
        raise
    return True


@shared_task(name="certification.certificate_revoked_email")
def certificate_revoked_email(certificate_id: int) -> bool:
    certificate = Certificate.objects.select_related("holder").get(pk=certificate_id)
    email_send(
        to=certificate.holder.email, template="certificate_revoked", context={"certificate": certificate}
    )
    return True
