"""What each event's payload holds: the documented contract with receivers.

Members' data here is special category data (taking part in a political leadership
programme reveals political opinion). A payload therefore names people by their member id
only: no name, email, region or free text. A receiver that needs more asks the REST API
with a token, where the same permission rules and the audit trail apply. Certificates carry
their public code and check URL: both are printed on the certificate and show only what its
holder allows.

The builders read the objects the calling service already holds (no query), and webhooks
imports nothing from training or certification: the arrows still point one way.

Every payload is the envelope
    {"id": <event uuid>, "type": <event type>, "created_at": <ISO 8601 UTC>, "data": {...}}
where `data` is one of the shapes below.
"""

from django.conf import settings
from django.urls import reverse


def _iso(moment) -> str | None:
    return moment.isoformat() if moment is not None else None


def certificate_data(certificate) -> dict:
    """certificate.issued and certificate.revoked."""
    return {
        "certificate_id": certificate.pk,
        "code": certificate.code,
        "status": certificate.status,
        "programme_title": certificate.programme_title,
        "programme_version_id": certificate.version_id,
        "programme_version": certificate.version_number,
        "enrolment_id": certificate.enrolment_id,
        "member_id": certificate.holder_id,
        "issued_at": _iso(certificate.issued_at),
        "expires_on": certificate.expires_on.isoformat() if certificate.expires_on else None,
        "revoked_at": _iso(certificate.revoked_at),
        "verify_url": settings.SITE_URL + reverse("certification:verify", kwargs={"code": certificate.code}),
    }


def enrolment_data(enrolment, *, previous_status: str) -> dict:
    """enrolment.changed: created (previous_status is "") or its status changed."""
    return {
        "enrolment_id": enrolment.pk,
        "cohort_id": enrolment.cohort_id,
        "programme_id": enrolment.programme_id,
        "member_id": enrolment.member_id,
        "status": enrolment.status,
        "previous_status": previous_status or None,
        "changed_at": _iso(enrolment.status_changed_at),
    }


def leader_data(entry) -> dict:
    """leader.registered: a member entered the Future Leaders registry (on certification)."""
    return {
        "registry_entry_id": entry.pk,
        "member_id": entry.member_id,
        "joined_at": _iso(entry.joined_at),
    }


def ping_data() -> dict:
    """webhook.ping: staff's test event. Nothing about anyone."""
    return {"message": "Test event from Future Leaders."}
