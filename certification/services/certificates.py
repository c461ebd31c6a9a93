"""Issuing, revoking and reviewing certificates. Every change leaves a CertificateEvent."""

import logging

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditAction
from audit.services import audit_record
from certification.models import (
    Certificate,
    CertificateEvent,
    CertificateEventKind,
    CertificateStatus,
    RegistryEntry,
)
from certification.notice_letters import certificate_notify
from certification.selectors.owed import enrolments_owed_window
from certification.services.registry import trainer_accredit_by_certificate
from certification.signals import certificate_standing_changed_announce
from certification.status_list import status_list_index_allocate
from training.models import Enrolment, NoticeKind
from training.selectors.standing import Standing, enrolment_standing_list
from training.services.completion import enrolment_complete_on_certification
from webhooks.events import certificate_data, leader_data
from webhooks.models import EventType
from webhooks.services import webhook_event_record

logger = logging.getLogger(__name__)

REASON_MAX = 1000
PUBLIC_REASON_MAX = 200


def _holder_name(member) -> str:
    return member.get_full_name().strip() or member.email


def _registry_promote(*, member, now) -> RegistryEntry:
    """Certification makes a member a Future Leader: their entry starts visible to staff only."""
    entry, created = RegistryEntry.objects.get_or_create(member=member, defaults={"joined_at": now})
    if created:
        webhook_event_record(event_type=EventType.LEADER_REGISTERED, payload=leader_data(entry))
    return entry


def _certificate_label(certificate: Certificate) -> str:
    # The code and programme, not the holder's name: the entry names its subject separately.
    return f"{certificate.code} · {certificate.programme_title}"


def _status_list_index_save(certificate: Certificate, *, attempts: int = 5) -> None:
    """Save the new certificate with a random free bit in the status list. Another process may
    draw the same index at the same moment; the unique constraint refuses the later insert
    (inside a savepoint, so the transaction goes on) and it draws again. The enrolment is
    locked by the caller, so the refusal is the index's, not a second certificate's."""
    for attempt in range(attempts):
        certificate.status_list_index = status_list_index_allocate()
        try:
            with transaction.atomic():
                certificate.save(force_insert=True)
            return
        except IntegrityError:
            last = attempt == attempts - 1
            if last or Certificate.objects.filter(enrolment_id=certificate.enrolment_id).exists():
                raise


def _create(*, standing: Standing, actor, reason: str, manual: bool) -> Certificate:
    enrolment = standing.enrolment
    version = enrolment.cohort.version
    now = timezone.now()
    expires_on = None
    if version.certificate_valid_months:
        expires_on = timezone.localdate(now) + relativedelta(months=version.certificate_valid_months)
    certificate = Certificate(
        enrolment=enrolment,
        holder=enrolment.member,
        version=version,
        holder_name=_holder_name(enrolment.member),
        programme_title=version.programme.title,
        version_number=version.number,
        cohort_name=enrolment.cohort.name,
        issuer_name=settings.CERTIFICATE_ISSUER_NAME,
        issued_at=now,
        issued_manually=manual,
        expires_on=expires_on,
    )
    _status_list_index_save(certificate)
    # reporting counts a new leader (and the enrolment as certified) in this transaction.
    certificate_standing_changed_announce(holder_ids=[certificate.holder_id], enrolment_ids=[enrolment.pk])
    CertificateEvent.objects.create(
        certificate=certificate,
        kind=CertificateEventKind.ISSUED_MANUALLY if manual else CertificateEventKind.ISSUED,
        actor=actor,
        reason=reason,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CERTIFICATE_ISSUED,
        obj=certificate,
        subject=enrolment.member,
        label=_certificate_label(certificate),
        changes={"status": {"before": None, "after": certificate.status}, "manual": manual},
    )
    webhook_event_record(event_type=EventType.CERTIFICATE_ISSUED, payload=certificate_data(certificate))
    _registry_promote(member=enrolment.member, now=now)
    if version.programme.slug == settings.TRAINER_PROGRAMME_SLUG:
        # "Training the trainers" accredits by itself: the movement trains itself.
        trainer_accredit_by_certificate(certificate=certificate)
    # Once the cohort has finished, the certificate completes the enrolment (also one that
    # ended not completed and passed late); during the cohort, its end will.
    enrolment_complete_on_certification(enrolment_id=enrolment.pk, actor=actor)
    certificate_notify(certificate=certificate, kind=NoticeKind.CERTIFICATE_ISSUED)
    return certificate


def certificate_issue_if_complete(*, enrolment_id: int) -> Certificate | None:
    """Issue the enrolment's certificate if it meets the rule and has none. Safe to call twice,
    or at the same moment from two places: the enrolment row is locked, and the database
    refuses a second certificate for one enrolment."""
    try:
        with transaction.atomic():
            Enrolment.objects.select_for_update().filter(pk=enrolment_id).first()
            existing = Certificate.objects.filter(enrolment_id=enrolment_id).first()
            if existing is not None:
                return existing
            standing = enrolment_standing_list([enrolment_id]).get(enrolment_id)
            if standing is None or not standing.meets_rule:
                return None
            return _create(standing=standing, actor=None, reason="", manual=False)
    except IntegrityError:
        return Certificate.objects.get(enrolment_id=enrolment_id)


# The sweep looks at this many enrolments without a certificate at a time.
OWED_SWEEP_BATCH = 2000


def certificates_owed_issue(*, batch: int = OWED_SWEEP_BATCH) -> int:
    """Issue every certificate owed (certification.selectors.owed) through the normal issue,
    one enrolment at a time: the receiver that should have issued it failed after its pass
    committed. Idempotent: the enrolment is locked, and the database holds one certificate
    per enrolment. Returns how many were issued by this run."""
    issued = 0
    after = 0
    while True:
        owed, after = enrolments_owed_window(after=after, limit=batch)
        for enrolment_id in owed:
            certificate = certificate_issue_if_complete(enrolment_id=enrolment_id)
            # It had none a moment ago: issued now (by this run, or very rarely by a pass
            # committed in between; either way it is no longer owed).
            if certificate is not None:
                issued += 1
                logger.warning("Certificate %s issued by the sweep: it was owed", certificate.code)
        if after is None:
            return issued


@transaction.atomic
def certificate_issue_manually(*, enrolment: Enrolment, actor, reason: str) -> Certificate:
    """Staff issue where the rule is met by evidence outside the platform; the reason is kept."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say what evidence shows the rule is met.")})
    if len(reason) > REASON_MAX:
        raise ValidationError(
            {"reason": _("Keep the reason under %(max)s characters.") % {"max": REASON_MAX}}
        )
    Enrolment.objects.select_for_update().filter(pk=enrolment.pk).first()
    if Certificate.objects.filter(enrolment=enrolment).exists():
        raise ValidationError(_("This enrolment already has a certificate."))
    standing = enrolment_standing_list([enrolment.pk])[enrolment.pk]
    return _create(standing=standing, actor=actor, reason=reason, manual=True)


@transaction.atomic
def certificate_revoke(*, certificate: Certificate, actor, public_reason: str, note: str = "") -> Certificate:
    """Revoke at once: the verification page and the credential status say so from now on."""
    certificate = (
        Certificate.objects.select_for_update(of=("self",)).select_related("holder").get(pk=certificate.pk)
    )
    public_reason = public_reason.strip()
    if certificate.is_revoked:
        raise ValidationError(_("This certificate is already revoked."))
    if not public_reason:
        raise ValidationError({"public_reason": _("Give a short, neutral reason; it is shown publicly.")})
    if len(public_reason) > PUBLIC_REASON_MAX:
        raise ValidationError(
            {
                "public_reason": _("Keep the public reason under %(max)s characters.")
                % {"max": PUBLIC_REASON_MAX}
            }
        )
    certificate.status = CertificateStatus.REVOKED
    certificate.revoked_at = timezone.now()
    certificate.revoked_reason = public_reason
    certificate.needs_review = False
    certificate.save(update_fields=["status", "revoked_at", "revoked_reason", "needs_review"])
    certificate_standing_changed_announce(
        holder_ids=[certificate.holder_id], enrolment_ids=[certificate.enrolment_id]
    )
    CertificateEvent.objects.create(
        certificate=certificate,
        kind=CertificateEventKind.REVOKED,
        actor=actor,
        reason="\n\n".join(part for part in [public_reason, note.strip()] if part),
    )
    audit_record(
        actor=actor,
        action=AuditAction.CERTIFICATE_REVOKED,
        obj=certificate,
        subject=certificate.holder,
        label=_certificate_label(certificate),
        changes={
            "status": {"before": CertificateStatus.VALID, "after": certificate.status},
            "public_reason": public_reason,
        },
    )
    webhook_event_record(event_type=EventType.CERTIFICATE_REVOKED, payload=certificate_data(certificate))
    certificate_notify(certificate=certificate, kind=NoticeKind.CERTIFICATE_REVOKED)
    return certificate


@transaction.atomic
def certificate_review_close(*, certificate: Certificate, actor, note: str) -> Certificate:
    """Staff looked at a flagged certificate and keep it; the note says why."""
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if not certificate.needs_review:
        raise ValidationError(_("This certificate is not waiting for review."))
    if not note.strip():
        raise ValidationError({"note": _("Say why the certificate stands.")})
    certificate.needs_review = False
    certificate.review_note = ""
    certificate.save(update_fields=["needs_review", "review_note"])
    CertificateEvent.objects.create(
        certificate=certificate, kind=CertificateEventKind.REVIEWED, actor=actor, reason=note.strip()
    )
    return certificate


@transaction.atomic
def certificates_flag_below_rule(*, standings: dict[int, Standing]) -> int:
    """A correction took enrolments back below the rule: flag their certificates, never delete."""
    below = [pk for pk, standing in standings.items() if not standing.meets_rule]
    flagged = 0
    for certificate in Certificate.objects.select_for_update().filter(
        enrolment_id__in=below, status=CertificateStatus.VALID, needs_review=False
    ):
        standing = standings[certificate.enrolment_id]
        note = _("Now %(steps)s step(s) short of the completion rule.") % {"steps": standing.steps_short}
        certificate.needs_review = True
        certificate.review_note = note
        certificate.save(update_fields=["needs_review", "review_note"])
        CertificateEvent.objects.create(
            certificate=certificate, kind=CertificateEventKind.FLAGGED, reason=note
        )
        flagged += 1
    return flagged


def certificate_name_display_set(*, certificate: Certificate, holder, shows_full_name: bool) -> Certificate:
    """The holder, and only the holder, chooses how the public check page names them."""
    if certificate.holder_id != holder.pk:
        # Views reach the certificate through permissions.certificate_get_for_holder (a 404
        # for anyone else); this guards callers that do not.
        raise PermissionDenied(_("Only the holder chooses how the check page names them."))
    certificate.shows_full_name = shows_full_name
    certificate.save(update_fields=["shows_full_name"])
    return certificate


def standing_changed_handle(*, enrolment_ids) -> None:
    """What certification does when training says an enrolment's standing may have changed."""
    standings = enrolment_standing_list(enrolment_ids)
    certificates_flag_below_rule(standings=standings)
    for enrolment_id, standing in standings.items():
        if standing.meets_rule:
            certificate_issue_if_complete(enrolment_id=enrolment_id)
