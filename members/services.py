"""Writes for the members app: each one a transaction, validated before saving."""

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditAction
from audit.services import audit_record
from members.models import ConsentRecord, ConsentText, Constituency, Profile, Region, User
from members.permissions import ROLE_GROUP_NAMES, ROLE_PERMISSIONS, Role
from members.signals import (
    consent_given_announce,
    member_name_changed_announce,
    member_place_changed_announce,
)


@transaction.atomic
def roles_sync() -> None:
    """Create each role's group and give it exactly the permissions its role lists."""
    for role, group_name in ROLE_GROUP_NAMES.items():
        group, _created = Group.objects.get_or_create(name=group_name)
        wanted = []
        for dotted in ROLE_PERMISSIONS[role]:
            app_label, codename = dotted.split(".")
            wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)


def _perm_cache_drop(user: User) -> None:
    # Permissions are cached on the instance (and kept for a request: members.backends); drop
    # them so has_perm sees the change.
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache", "kept_permissions"):
        user.__dict__.pop(cache, None)


@transaction.atomic
def user_assign_role(*, user: User, role: Role, actor: User | None = None) -> None:
    """Give the user a role; `actor` is who did (None: the platform, e.g. at sign-up).
    Recorded in the audit trail when it changes anything."""
    group = Group.objects.get(name=ROLE_GROUP_NAMES[role])
    if not user.groups.filter(pk=group.pk).exists():
        user.groups.add(group)
        audit_record(
            actor=actor,
            action=AuditAction.ROLE_CHANGED,
            obj=user,
            subject=user,
            label=user.email,
            changes={"role": {"before": None, "after": role.value}},
        )
    _perm_cache_drop(user)


@transaction.atomic
def user_remove_role(*, user: User, role: Role, actor: User | None = None) -> None:
    """Take a role away from the user, recorded in the audit trail if they held it."""
    group = Group.objects.get(name=ROLE_GROUP_NAMES[role])
    if user.groups.filter(pk=group.pk).exists():
        user.groups.remove(group)
        audit_record(
            actor=actor,
            action=AuditAction.ROLE_CHANGED,
            obj=user,
            subject=user,
            label=user.email,
            changes={"role": {"before": role.value, "after": None}},
        )
    _perm_cache_drop(user)


def user_access_version_bump(*, user_ids) -> None:
    """What these members may reach has changed (a role, a permission, the superuser flag, an
    authenticator): every session of theirs works out again, on its next request, whether it
    must pass the second factor first (members.mfa). Runs in the caller's transaction, so a
    change rolled back moves nothing. Called by members.receivers for every change to a
    user's groups or permissions, whatever makes it, and by the admin for the flags."""
    ids = {pk for pk in user_ids if pk is not None}
    if ids:
        User.objects.filter(pk__in=ids).update(access_version=F("access_version") + 1)


@transaction.atomic
def staff_region_set(*, user: User, region: Region | None, actor: User | None) -> User:
    """Set the region a regional staff member oversees (their access scope), recorded in the
    audit trail when it changes. Only those who grant roles may (national staff,
    members.grant_roles); `actor` None is the platform itself (a migration, the demo). The
    member's own profile region is not touched: it is their place, not their scope."""
    if actor is not None and not actor.has_perm("members.grant_roles"):
        raise PermissionDenied(_("Only national staff set the region a regional staff member oversees."))
    before = User.objects.select_for_update().values_list("staff_region_id", flat=True).get(pk=user.pk)
    after = region.pk if region is not None else None
    user.staff_region = region
    if before != after:
        user.save(update_fields=["staff_region"])
        audit_record(
            actor=actor,
            action=AuditAction.ROLE_CHANGED,
            obj=user,
            subject=user,
            label=user.email,
            changes={"staff_region": {"before": before, "after": after}},
        )
    return user


@transaction.atomic
def consent_text_publish(*, version: str, body: str) -> ConsentText:
    """Publish a consent text version; publishing the same version again changes nothing."""
    text, created = ConsentText.objects.get_or_create(
        version=version, defaults={"body": body, "published_at": timezone.now()}
    )
    if not created and text.body != body:
        raise ValueError(f"Consent text {version} is already published with other words.")
    return text


@transaction.atomic
def consent_give(*, user: User, text: ConsentText) -> ConsentRecord:
    """Record that the user agreed to this text now. Agreeing twice keeps the first record."""
    record, created = ConsentRecord.objects.get_or_create(
        user=user, text=text, defaults={"given_at": timezone.now()}
    )
    if record.withdrawn_at is not None:
        record.given_at = timezone.now()
        record.withdrawn_at = None
        record.save(update_fields=["given_at", "withdrawn_at"])
    elif not created:
        return record  # agreed already: nothing new to announce
    consent_given_announce(user_id=user.pk)
    return record


@transaction.atomic
def profile_save(
    *,
    user: User,
    first_name: str,
    last_name: str,
    region: Region,
    constituency: Constituency | None,
    phone: str = "",
) -> Profile:
    """Create or update a member's profile and the name on their account."""
    user.first_name = first_name
    user.last_name = last_name
    user.full_clean(exclude=["password"])
    user.save(update_fields=["first_name", "last_name"])

    profile = Profile.objects.filter(user=user).first() or Profile(user=user)
    moved = profile.pk is None or (profile.region_id, profile.constituency_id) != (
        region.pk,
        constituency.pk if constituency else None,
    )
    profile.region = region
    profile.constituency = constituency
    profile.phone = phone
    profile.full_clean()
    profile.save()
    # Announced on every save: a caller's form may already have put the new name on `user`.
    member_name_changed_announce(user_ids=[user.pk])
    if moved:
        member_place_changed_announce(user_ids=[user.pk])
    return profile
