"""The Future Leaders registry: each leader decides who sees them, and it is recorded.

Only the leader changes their own entry and actions; views reach them through
certification.selectors.registry (a 404 for anyone else), and these services refuse other
callers too. Accreditation is for national staff, or automatic with the trainers' programme.
"""

from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
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
from certification.signals import certificate_standing_changed_announce
from members.permissions import Role
from members.services import user_assign_role
from training.models import Cohort, CohortStatus

BIO_MAX = 600
NOTE_MAX = 300
# What a leader writes about an action, and how long each part may be. TextField lengths
# are not enforced by the model, so the service checks them all.
ACTION_TEXT_MAX = {"issue": 200, "organised_with": 300, "what_happened": 2000, "outcome": 1000}
ACTION_FIELDS = (*ACTION_TEXT_MAX, "started_on", "ended_on")


def _leader_only(*, entry: RegistryEntry, actor, message: str) -> None:
    if actor is None or actor.pk != entry.member_id:
        raise PermissionDenied(message)


# --- The leader's entry ------------------------------------------------------------------


@transaction.atomic
def visibility_set(*, entry: RegistryEntry, visibility: str, actor) -> RegistryEntry:
    """Who can see the entry: staff only (the default), members, or anyone.

    Only the leader chooses; wider visibility is their opt-in, and going back to staff only
    works the same way at any time. Each change is kept with who made it and when.
    """
    _leader_only(entry=entry, actor=actor, message=_("Only the leader chooses who can see their entry."))
    if visibility not in Visibility.values:
        raise ValidationError({"visibility": _("Choose who can see your entry.")})
    entry = RegistryEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.visibility != visibility:
        entry.visibility = visibility
        entry.save(update_fields=["visibility"])
        VisibilityChange.objects.create(entry=entry, visibility=visibility, actor=actor)
    return entry


@transaction.atomic
def entry_bio_set(*, entry: RegistryEntry, bio: str, actor) -> RegistryEntry:
    _leader_only(entry=entry, actor=actor, message=_("Only the leader writes their bio."))
    bio = bio.strip()
    if len(bio) > BIO_MAX:
        raise ValidationError({"bio": _("Keep your bio under %(max)s characters.") % {"max": BIO_MAX}})
    entry = RegistryEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.bio != bio:
        entry.bio = bio
        entry.save(update_fields=["bio"])
    return entry


@transaction.atomic
def registry_entry_update(*, entry: RegistryEntry, actor, visibility: str, bio: str) -> RegistryEntry:
    """The settings form: both choices saved together, or neither."""
    entry_bio_set(entry=entry, bio=bio, actor=actor)
    return visibility_set(entry=entry, visibility=visibility, actor=actor)


# --- Local actions -----------------------------------------------------------------------


def _action_clean(action: LocalAction) -> None:
    errors = {}
    for field, limit in ACTION_TEXT_MAX.items():
        value = (getattr(action, field) or "").strip()
        setattr(action, field, value)
        if len(value) > limit:
            errors[field] = _("Keep this under %(max)s characters.") % {"max": limit}
    today = timezone.localdate()
    if action.started_on and action.started_on > today:
        errors["started_on"] = _("Record an action once it has started.")
    if action.ended_on and action.ended_on > today:
        errors["ended_on"] = _("Leave the end date empty while the action goes on.")
    elif action.ended_on and action.started_on and action.ended_on < action.started_on:
        errors["ended_on"] = _("The action cannot end before it started.")
    if errors:
        raise ValidationError(errors)
    action.full_clean()


def _action_fields(fields: dict) -> dict:
    unknown = set(fields) - set(ACTION_FIELDS)
    if unknown:
        raise TypeError(f"Unknown local action fields: {sorted(unknown)}")
    return fields


@transaction.atomic
def local_action_create(*, entry: RegistryEntry, actor, **fields) -> LocalAction:
    """A leader records organising they did; it shows on their entry at its visibility."""
    _leader_only(entry=entry, actor=actor, message=_("Only the leader can record their own actions."))
    action = LocalAction(entry=entry, **_action_fields(fields))
    _action_clean(action)
    action.save()
    return action


@transaction.atomic
def local_action_update(*, action: LocalAction, actor, **fields) -> LocalAction:
    _leader_only(entry=action.entry, actor=actor, message=_("Only the leader can change their own actions."))
    changed = [name for name, value in _action_fields(fields).items() if getattr(action, name) != value]
    for name in changed:
        setattr(action, name, fields[name])
    _action_clean(action)
    if changed:
        action.save(update_fields=changed)
    return action


@transaction.atomic
def local_action_delete(*, action: LocalAction, actor) -> None:
    _leader_only(entry=action.entry, actor=actor, message=_("Only the leader can remove their own actions."))
    action.delete()


# --- Renewal by activity -----------------------------------------------------------------


def renewal_activity_since(*, certificate: Certificate) -> bool:
    """Whether the leader has been active since the certificate was issued: a local action
    recorded, or a cohort they trained that has finished."""
    acted = LocalAction.objects.filter(
        entry__member_id=certificate.holder_id, created_at__gte=certificate.issued_at
    ).exists()
    # Cohorts keep no finishing time: a finished cohort that ended on or after the day of
    # issue is one trained since.
    trained = Cohort.objects.filter(
        trainers=certificate.holder_id,
        status=CohortStatus.FINISHED,
        ends_on__gte=timezone.localdate(certificate.issued_at),
    ).exists()
    return acted or trained


@transaction.atomic
def certificate_renew(*, certificate: Certificate, actor) -> Certificate:
    """Extend a certificate that lapses, by activity rather than retaking the course: a
    further certificate_valid_months from its current expiry, while it has not lapsed."""
    certificate = Certificate.objects.select_for_update().select_related("version").get(pk=certificate.pk)
    if actor.pk != certificate.holder_id:
        raise PermissionDenied(_("Only the holder can renew their certificate."))
    if certificate.is_revoked:
        raise ValidationError(_("A revoked certificate cannot be renewed."))
    if certificate.expires_on is None or not certificate.version.certificate_valid_months:
        raise ValidationError(_("This certificate does not lapse, so there is nothing to renew."))
    # Valid through its expiry date (as the registry counts it), so renewable that day too.
    if certificate.expires_on < timezone.localdate():
        raise ValidationError(_("This certificate has lapsed; ask national staff how to renew it."))
    if not renewal_activity_since(certificate=certificate):
        raise ValidationError(
            _("Record a local action, or train a cohort, since your certificate was issued; then renew.")
        )
    certificate.expires_on += relativedelta(months=certificate.version.certificate_valid_months)
    certificate.save(update_fields=["expires_on"])
    certificate_standing_changed_announce(
        holder_ids=[certificate.holder_id], enrolment_ids=[certificate.enrolment_id]
    )
    CertificateEvent.objects.create(
        certificate=certificate,
        kind=CertificateEventKind.RENEWED,
        actor=actor,
        reason=_("Renewed by activity."),
    )
    return certificate


# --- Trainer accreditation -----------------------------------------------------------


def _holds_active_certificate(member) -> bool:
    return Certificate.objects.filter(
        Q(expires_on__isnull=True) | Q(expires_on__gte=timezone.localdate()),
        holder=member,
        status=CertificateStatus.VALID,
    ).exists()


@transaction.atomic
def trainer_accredit(*, member, actor, note: str = "", via_certificate=None) -> TrainerAccreditation:
    """Make a Future Leader a trainer: they get the trainer role, so they can be assigned to
    cohorts. By national staff (actor), or by a trainers' certificate (no actor)."""
    if actor is not None and not actor.has_perm("certification.issue_certificates"):
        raise PermissionDenied(_("Only national staff accredit trainers."))
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": _("Keep the note under %(max)s characters.") % {"max": NOTE_MAX}})
    if not _holds_active_certificate(member):
        raise ValidationError(
            _("Only a Future Leader with a valid certificate can be accredited as a trainer.")
        )
    accreditation, created = TrainerAccreditation.objects.get_or_create(
        member=member,
        defaults={
            "accredited_at": timezone.now(),
            "accredited_by": actor,
            "via_certificate": via_certificate,
            "note": note,
        },
    )
    if not created:
        raise ValidationError(_("This leader is already an accredited trainer."))
    user_assign_role(user=member, role=Role.TRAINER, actor=actor)
    return accreditation


def trainer_accredit_by_certificate(*, certificate: Certificate) -> None:
    """Accredit the holder of a trainers' programme certificate, unless already accredited.
    Runs inside the issuing transaction, so the certificate and the accreditation stand or
    fall together."""
    if not TrainerAccreditation.objects.filter(member_id=certificate.holder_id).exists():
        trainer_accredit(
            member=certificate.holder,
            actor=None,
            note=_("Certified in %(programme)s.") % {"programme": certificate.programme_title},
            via_certificate=certificate,
        )
