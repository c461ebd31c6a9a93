"""What certification holds about a member, for their data export and for erasing their
account (registered with members.data_rights from CertificationConfig.ready).

Erasure keeps every certificate row, so the count of certified leaders does not change (an
erased leader counts as an anonymous one with no place), but removes the name it carries;
its verification page then says "withdrawn" (Certificate.is_withdrawn). The registry entry
and the local actions recorded on it are deleted, and so are the stored PDFs of the
certificates (deleted from storage once the erasure commits). What staff wrote about the
member's certificates goes (a revocation keeps its neutral public reason, nameless), and the
member's full name, address or phone goes from free text written about anyone else.
"""

from django.db.models import Count, Prefetch
from django.urls import reverse

from certification.models import (
    Certificate,
    CertificateEvent,
    CertificateEventKind,
    LocalAction,
    RegistryEntry,
    TargetChange,
    TrainerAccreditation,
    VisibilityChange,
)
from certification.services.pdfs import certificate_pdf_stored_names
from certification.verification_cache import checked_pages_forget
from members.data_rights import (
    ERASED,
    DataSection,
    ErasurePart,
    ExportPart,
    data_section_register,
    iso,
    member_traces,
)


def certification_export(user) -> ExportPart:
    certificates = (
        Certificate.objects.filter(holder=user)
        .annotate(times_checked=Count("verifications"))
        .prefetch_related(Prefetch("events", queryset=CertificateEvent.objects.order_by("at", "pk")))
        .order_by("issued_at", "pk")
    )
    entry = (
        RegistryEntry.objects.filter(member=user)
        .prefetch_related(
            Prefetch("visibility_changes", queryset=VisibilityChange.objects.order_by("at", "pk")),
            Prefetch("actions", queryset=LocalAction.objects.order_by("started_on", "pk")),
        )
        .first()
    )
    accreditation = TrainerAccreditation.objects.filter(member=user).first()
    data = {
        "certificates": [
            {
                "code": certificate.code,
                "check_page": reverse("certification:verify", args=[certificate.code]),
                "name_on_certificate": certificate.holder_name,
                "programme": certificate.programme_title,
                "version": certificate.version_number,
                "cohort": certificate.cohort_name,
                "issued_by": certificate.issuer_name,
                "issued_at": iso(certificate.issued_at),
                "expires_on": certificate.expires_on.isoformat() if certificate.expires_on else None,
                "status": certificate.status,
                "revoked_at": iso(certificate.revoked_at),
                "revoked_reason": certificate.revoked_reason,
                "check_page_shows_full_name": certificate.shows_full_name,
                "times_checked": certificate.times_checked,
                "history": [
                    {"what": event.kind, "at": iso(event.at), "reason": event.reason}
                    for event in certificate.events.all()
                ],
            }
            for certificate in certificates
        ],
        "registry_entry": (
            {
                "joined_at": iso(entry.joined_at),
                "visibility": entry.visibility,
                "bio": entry.bio,
                "visibility_history": [
                    {"visibility": change.visibility, "at": iso(change.at)}
                    for change in entry.visibility_changes.all()
                ],
            }
            if entry
            else None
        ),
        "local_actions": [
            {
                "issue": action.issue,
                "organised_with": action.organised_with,
                "what_happened": action.what_happened,
                "outcome": action.outcome,
                "started_on": action.started_on.isoformat(),
                "ended_on": action.ended_on.isoformat() if action.ended_on else None,
                "recorded_at": iso(action.created_at),
            }
            for action in (entry.actions.all() if entry else [])
        ],
        "trainer_accreditation": (
            {"accredited_at": iso(accreditation.accredited_at), "note": accreditation.note}
            if accreditation
            else None
        ),
    }
    return ExportPart(data=data)


def certification_erase(user, now) -> ErasurePart:
    part = ErasurePart()
    certificates = list(Certificate.objects.filter(holder=user).values_list("pk", "code"))
    # Updated below without signals: the verification page's kept copies are forgotten here.
    checked_pages_forget(codes=[code for _pk, code in certificates])
    for certificate_id, _code in certificates:
        part.storage_names.extend(certificate_pdf_stored_names(certificate_id=certificate_id))
    part.counts["certificate_pdfs"] = len(part.storage_names)
    part.counts["certificate_names"] = Certificate.objects.filter(holder=user).update(
        holder_name="", shows_full_name=False, review_note=""
    )
    part.counts["certificate_reasons"] = _certificate_reasons_erase(user)
    entries = RegistryEntry.objects.filter(member=user)
    part.counts["local_actions"] = LocalAction.objects.filter(entry__in=entries).delete()[0]
    part.counts["registry_entry"] = entries.delete()[1].get("certification.RegistryEntry", 0)
    # Kept: who trained whom is part of the counts; only the free-text note goes.
    TrainerAccreditation.objects.filter(member=user).update(note="")
    part.counts["mentions_elsewhere"] = _mentions_erase(user)
    return part


def _certificate_reasons_erase(user) -> int:
    """What staff wrote about the member's certificates. The record keeps that a certificate
    was issued by hand, revoked or reviewed, when and by whom; the revocation keeps its public
    reason, which is neutral by design, without the member's name; every other reason a person
    wrote (the evidence, the private note, why a review closed) goes. What the platform wrote
    itself (a flag: "now 2 steps short") names no one and stays."""
    traces = member_traces(user)
    certificates = Certificate.objects.filter(holder=user)
    changed = traces.rows_scrub(certificates, ["revoked_reason"], weak=True)
    public_reasons = dict(certificates.values_list("pk", "revoked_reason"))
    events = CertificateEvent.objects.filter(certificate__holder=user)
    for event in events.filter(kind=CertificateEventKind.REVOKED):
        event.reason = public_reasons.get(event.certificate_id) or ERASED
        event.save(update_fields=["reason"])
        changed += 1
    written = events.exclude(kind=CertificateEventKind.REVOKED).exclude(reason="")
    changed += written.filter(actor__isnull=False).update(reason=ERASED)
    return changed + traces.rows_scrub(written.filter(actor__isnull=True), ["reason"], weak=True)


# Free text about other people and things, where staff or another member may have named this
# member: only what names them for certain (full name, address, phone) is replaced.
FREE_TEXT = [
    (Certificate, ["revoked_reason", "review_note"]),
    (CertificateEvent, ["reason"]),
    (TrainerAccreditation, ["note"]),
    (TargetChange, ["note"]),
    (RegistryEntry, ["bio"]),
    (LocalAction, ["issue", "organised_with", "what_happened", "outcome"]),
]


def _mentions_erase(user) -> int:
    traces = member_traces(user)
    return sum(traces.rows_scrub(model.objects.all(), fields, weak=False) for model, fields in FREE_TEXT)


def register() -> None:
    data_section_register(
        DataSection(name="certification", export=certification_export, erase=certification_erase)
    )
