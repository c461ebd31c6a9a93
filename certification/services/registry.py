"""The Future Leaders registry: each leader decides who sees them, and it is recorded."""

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certification.models import (
    Certificate,
    CertificateEvent,
    CertificateEventKind,
    CertificateStatus,
    LocalAction,
    RegistryEntry,
    TrainerAccreditation,
    Visibility,
    VisibilityChange,
)
from members.permissions import Role
from members.services import user_assign_role
from training.models import Cohort, CohortStatus

BIO_MAX = 600


@transaction.atomic
def registry_entry_update(*, entry: RegistryEntry, actor, visibility: str, bio: str) -> RegistryEntry:
    """The leader's own choices. Any change of visibility is kept with who made it and when."""
    if actor.pk != entry.member_id:
        raise ValidationError(_("Only the leader can change their own entry."))
    if visibility not in Visibility.values:
        raise ValidationError({"visibility": _("Choose who can see your entry.")})
    bio = bio.strip()
    if len(bio) > BIO_MAX:
        raise ValidationError({"bio": _("Keep your bio under %(max)s characters.") % {"max": BIO_MAX}})
    entry = RegistryEntry.objects.select_for_update().get(pk=entry.pk)
    fields = []
    if entry.visibility != visibility:
        entry.visibility = visibility
        fields.append("visibility")
        VisibilityChange.objects.create(entry=entry, visibility=visibility, actor=actor)
    if entry.bio != bio:
        entry.bio = bio
        fields.append("bio")
    if fields:
        entry.save(update_fields=fields)
    return entry


@transaction.atomic
def local_action_create(*, entry: RegistryEntry, actor, **fields) -> LocalAction:
    """A leader records organising they did; it shows on their entry at its visibility."""
    if actor.pk != entry.member_id:
        raise ValidationError(_("Only the leader can record their own actions."))
    action = LocalAction(entry=entry, **fields)
    if action.ended_on and action.ended_on < action.started_on:
        raise ValidationError({"ended_on": _("The action cannot end before it started.")})
    action.full_clean()
    action.save()
    return action


@transaction.atomic
def local_action_delete(*, action: LocalAction, actor) -> None:
    if actor.pk != action.entry.member_id:
        raise ValidationError(_("Only the leader can remove their own actions."))
    action.delete()


@transaction.atomic
def trainer_accredit(*, member, actor, note: str = "", via_certificate=None) -> TrainerAccreditation:
    """Make a Future Leader a trainer: they can then be assigned to cohorts."""
    if not Certificate.objects.filter(holder=member, status=CertificateStatus.VALID).exists():
        raise ValidationError(
            _("Only a Future Leader with a valid certificate can be accredited as a trainer.")
        )
    accreditation, created = TrainerAccreditation.objects.get_or_create(
        member=member,
        defaults={
            "accredited_at": timezone.now(),
            "accredited_by": actor,
            "via_certificate": via_certificate,
            "note": note.strip()[:300],
        },
    )
    if not created:
        raise ValidationError(_("This leader is already an accredited trainer."))
    user_assign_role(user=member, role=Role.TRAINER)
    return accreditation


def renewal_activity_since(*, certificate: Certificate) -> bool:
    """Whether the leader has been active since the certificate was issued: a local action
    recorded, or a cohort they trained that has finished."""
    acted = LocalAction.objects.filter(
        entry__member_id=certificate.holder_id, created_at__gte=certificate.issued_at
    ).exists()
    trained = Cohort.objects.filter(
        trainers=certificate.holder_id,
        status=CohortStatus.FINISHED,
        ends_on__gte=certificate.issued_at.date(),
    ).exists()
    return acted or trained


@transaction.atomic
def certificate_renew(*, certificate: Certificate, actor) -> Certificate:
    """Extend a certificate that lapses, by activity rather than retaking the course."""
    certificate = Certificate.objects.select_for_update().select_related("version").get(pk=certificate.pk)
    if actor.pk != certificate.holder_id:
        raise ValidationError(_("Only the holder can renew their certificate."))
    if certificate.is_revoked:
        raise ValidationError(_("A revoked certificate cannot be renewed."))
    if certificate.expires_on is None or not certificate.version.certificate_valid_months:
        raise ValidationError(_("This certificate does not lapse, so there is nothing to renew."))
    if certificate.expires_on < timezone.localdate():
        raise ValidationError(_("This certificate has lapsed; ask national staff how to renew it."))
    if not renewal_activity_since(certificate=certificate):
        raise ValidationError(
            _("Record a local action, or train a cohort, since your certificate was issued; then renew.")
        )
    certificate.expires_on += relativedelta(months=certificate.version.certificate_valid_months)
    certificate.save(update_fields=["expires_on"])
    CertificateEvent.objects.create(
        certificate=certificate,
        kind=CertificateEventKind.RENEWED,
        actor=actor,
        reason=_("Renewed by activity."),
    )
    return certificate


def trainer_accredit_by_certificate(*, certificate: Certificate) -> None:
    """Accredit the holder of a trainers' programme certificate, unless already accredited."""
    if not TrainerAccreditation.objects.filter(member_id=certificate.holder_id).exists():
        trainer_accredit(
            member=certificate.holder, actor=None, note="Training the trainers", via_certificate=certificate
        )
