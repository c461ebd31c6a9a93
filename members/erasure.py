"""Erasing a member's account (UK GDPR article 17), at their request or by national staff on
their request.

The user row stays, pseudonymised, so that what national staff count (certificates,
enrolments, marks given) still adds up: an erased certified leader counts as an anonymous
leader with no place. Everything that says who they were is deleted or blanked by the
sections registered in members.data_rights; uploaded files are deleted from storage once the
transaction commits, so a failure part-way changes nothing.
"""

import logging
from dataclasses import dataclass, field
from functools import partial

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditAction
from audit.selectors import audit_entries_about, audit_entry_as_dict
from audit.services import audit_record, audit_subject_pseudonymise
from members.data_rights import (
    DataSection,
    ErasurePart,
    ExportPart,
    data_section_register,
    data_sections,
    iso,
    member_traces,
    member_traces_collect,
)
from members.models import ConsentRecord, DataExport, Profile, User
from members.signals import member_name_changed_announce, member_place_changed_announce

logger = logging.getLogger(__name__)

ERASED_EMAIL_DOMAIN = "erased.invalid"  # .invalid never resolves (RFC 2606): nothing can be sent


def erased_email(user_id: int) -> str:
    return f"erased-{user_id}@{ERASED_EMAIL_DOMAIN}"


@dataclass
class ErasureReport:
    user_id: int
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    files_deleted: int = 0


def _storage_delete(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            # The row no longer points at it; an operator can sweep orphans. Never undo erasure.
            logger.exception("Could not delete %s from storage after erasure", name)


def account_erase(*, user: User, actor: User, reason: str = "", request=None) -> ErasureReport:
    """Erase the account of `user`. `actor` is the member themselves or national staff (the
    caller checks who may); staff give `reason`. Erasing an erased account is refused."""
    if user.is_superuser:
        raise PermissionDenied(_("Operators' accounts are removed by an operator, not here."))
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.erased_at is not None:
            raise ValidationError(_("This account has already been erased."))
        now = timezone.now()
        report = ErasureReport(user_id=locked.pk)
        # Read before any section deletes the addresses and the phone it needs.
        member_traces_collect(locked)
        storage_names: list[str] = []
        for section in data_sections():
            part = section.erase(locked, now)
            report.counts[section.name] = part.counts
            storage_names.extend(part.storage_names)

        # Last, the account itself: no name, an address that cannot receive mail, no login.
        locked.first_name = ""
        locked.last_name = ""
        locked.email = erased_email(locked.pk)
        locked.set_unusable_password()  # also ends every session: their hash no longer matches
        locked.is_active = False
        locked.is_staff = False
        locked.last_login = None
        locked.erased_at = now
        locked.save(
            update_fields=[
                "first_name",
                "last_name",
                "email",
                "password",
                "is_active",
                "is_staff",
                "last_login",
                "erased_at",
            ]
        )
        # Their profile went with the members section, their name just now: whoever keeps
        # copies of either hears it in this transaction.
        member_place_changed_announce(user_ids=[locked.pk])
        member_name_changed_announce(user_ids=[locked.pk])
        _audit_erasure(user=locked, actor=actor, reason=reason, report=report, request=request)
        report.files_deleted = len(storage_names)
        transaction.on_commit(partial(_storage_delete, storage_names))
    user.refresh_from_db()
    return report


def _audit_erasure(*, user: User, actor: User, reason: str, report: ErasureReport, request) -> None:
    """Record the erasure, after replacing what the trail said about the member (and the
    reason staff give may name them too)."""
    traces = member_traces(user)
    audit_subject_pseudonymise(user, traces=traces)
    audit_record(
        actor=actor,
        action=AuditAction.ACCOUNT_ERASED,
        subject=user,
        changes={
            "by": "member" if actor.pk == user.pk else "staff",
            "reason": traces.scrub(reason),
            "counts": report.counts,
        },
        request=request,
        label=f"Account {user.pk}",
    )


# --- The members app's own section --------------------------------------------------------


def _members_export(user: User) -> ExportPart:
    profile = Profile.objects.select_related("region", "constituency").filter(user=user).first()
    consents = ConsentRecord.objects.filter(user=user).select_related("text").order_by("given_at")
    data = {
        "account": {
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "joined_at": iso(user.date_joined),
            "last_signed_in_at": iso(user.last_login),
            "roles": sorted(user.groups.values_list("name", flat=True)),
        },
        "email_addresses": [
            {"email": address.email, "verified": address.verified, "primary": address.primary}
            for address in EmailAddress.objects.filter(user=user).order_by("pk")
        ],
        "profile": (
            {
                "region": profile.region.name,
                "constituency": profile.constituency.name if profile.constituency else None,
                "phone": str(profile.phone) if profile.phone else "",
                "membership_number": profile.membership_number,
                "updated_at": iso(profile.updated_at),
            }
            if profile
            else None
        ),
        "consent_records": [
            {
                "version": record.text.version,
                "text": record.text.body,
                "given_at": iso(record.given_at),
                "withdrawn_at": iso(record.withdrawn_at),
            }
            for record in consents
        ],
        "data_export_requests": [
            {"requested_at": iso(export.requested_at), "status": export.status}
            for export in DataExport.objects.filter(user=user).order_by("requested_at")
        ],
        "audit_entries_about_you": _audit_entries(user),
        "sign_in_sessions": _sessions(user),
        "second_factors": _authenticators(user),
    }
    return ExportPart(data=data)


def _sessions(user: User) -> list[dict]:
    """Where and with what the member is signed in (allauth.usersessions): never the session key,
    which would let anyone holding the copy act as them."""
    return [
        {
            "address": session.ip,
            "browser": session.user_agent,
            "signed_in_at": iso(session.created_at),
            "last_seen_at": iso(session.last_seen_at),
        }
        for session in UserSession.objects.filter(user=user).order_by("created_at", "pk")
    ]


def _authenticators(user: User) -> list[dict]:
    """The member's second factors: which kind, the name they gave a security key, when added
    and last used. Never their data: the TOTP seed, the recovery codes (or their seed) and a
    key's credential would let anyone holding the copy pass the second step as them."""
    return [
        {
            "kind": authenticator.type,
            "kind_label": str(authenticator.get_type_display()),
            "name": str(authenticator.data.get("name", ""))
            if authenticator.type == Authenticator.Type.WEBAUTHN
            else "",
            "added_at": iso(authenticator.created_at),
            "last_used_at": iso(authenticator.last_used_at),
        }
        for authenticator in Authenticator.objects.filter(user=user).order_by("created_at", "pk")
    ]


def _audit_entries(user: User) -> list[dict]:
    return [audit_entry_as_dict(entry) for entry in audit_entries_about(user)]


def _admin_log_scrub(user: User) -> int:
    """The admin's log keeps what staff did (who, when, which object, which fields) but not
    the member: its snapshot of the object's name ("Profile of ...") and its message lose
    their names, addresses and phone. Entries about the member's account, profile or
    addresses lose their first or last name alone too; any other entry, only what names them
    for certain."""
    traces = member_traces(user)
    fields = ["object_repr", "change_message"]
    theirs = Q(pk__in=[])
    for model, ids in [
        (User, [user.pk]),
        (Profile, Profile.objects.filter(user=user).values_list("pk", flat=True)),
        (EmailAddress, EmailAddress.objects.filter(user=user).values_list("pk", flat=True)),
    ]:
        content_type = ContentType.objects.get_for_model(model, for_concrete_model=True)
        theirs |= Q(content_type=content_type, object_id__in=[str(pk) for pk in ids])
    changed = traces.rows_scrub(LogEntry.objects.filter(theirs), fields, weak=True)
    return changed + traces.rows_scrub(LogEntry.objects.all(), fields, weak=False)


def _members_erase(user: User, now) -> ErasurePart:
    part = ErasurePart()
    part.counts["admin_log"] = _admin_log_scrub(user)
    part.counts["profile"] = Profile.objects.filter(user=user).delete()[0]
    part.counts["consent_records"] = ConsentRecord.objects.filter(user=user).delete()[0]
    part.counts["email_addresses"] = EmailAddress.objects.filter(user=user).delete()[0]
    exports = DataExport.objects.filter(user=user)
    part.storage_names.extend(name for name in exports.values_list("file", flat=True) if name)
    part.counts["data_exports"] = exports.delete()[0]
    part.counts["permissions"] = user.user_permissions.count()
    user.user_permissions.clear()
    # Sign-in factors and sessions (allauth.mfa and allauth.usersessions: the second-factor
    # gate needs both, so both are always installed).
    part.counts["authenticators"] = Authenticator.objects.filter(user=user).delete()[0]
    sessions = list(UserSession.objects.filter(user=user))
    for session in sessions:
        session.end()  # deletes the Django session too
    part.counts["sessions"] = len(sessions)
    return part


def register() -> None:
    data_section_register(DataSection(name="membership", export=_members_export, erase=_members_erase))
