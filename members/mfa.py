"""Who must use a second factor, and what the session remembers about it.

Trainers and staff reach marks and members' data (special category data), so they must
have an authenticator (an app giving one-time codes, or a security key) before they reach
anything but their account pages. The answer ("required", "enrolled") is part of the state
the member's session keeps (members.member_state), stamped with the member's
`access_version`; the gate (members.middleware.MfaRequiredMiddleware) reads it at no query
while the stamp matches the user row the request has already loaded. Every change to a
member's roles, permissions, superuser flag or authenticators moves the version
(members.receivers, the admin, the receivers below), so a role given in the middle of a
session takes the gate on the member's next request, and a role taken away stops counting at
once. See docs/decisions/0010-mfa-and-sessions.md, 0020 and 0028.
"""

from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Permission
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from config import crypto
from members.member_state import (
    ENROLLING_TYPES,
    MFA_REQUIRED_PERMISSIONS,
    SESSION_KEY,  # noqa: F401 - the session key's old home
    member_has_authenticator,
    member_state_load,
    member_state_save,
)
from members.services import user_access_version_bump

# Keys for authenticator secrets are derived with this context (config/crypto.py).
CRYPTO_CONTEXT = "members.mfa:"
# The parts of an authenticator's data allauth encrypts through the adapter.
ENCRYPTED_DATA_KEYS = ("secret", "seed")


def user_must_use_mfa(user) -> bool:
    """One query, and the user's permission cache left alone (has_perm would fill it, and a
    role given later in the same request or test would then go unseen)."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    codenames = [perm.split(".", 1)[1] for perm in MFA_REQUIRED_PERMISSIONS]
    return (
        Permission.objects.filter(content_type__app_label="members", codename__in=codenames)
        .filter(Q(user=user) | Q(group__user=user))
        .exists()
    )


def user_has_authenticator(user) -> bool:
    return member_has_authenticator(user)


def mfa_setup_needed(request) -> bool:
    """True while a signed-in member who must use MFA has no authenticator yet. No query
    while the session's kept state is current (members.member_state)."""
    state = member_state_load(request)
    return bool(state.get("required")) and not state.get("enrolled")


# --- signal receivers (connected in MembersConfig.ready) -------------------------------


def on_user_logged_in(sender, request, user, **kwargs) -> None:
    # Django's signal: fired by allauth's sign-in (after the second factor) and by the test
    # client's login() and force_login() alike.
    if request is not None and hasattr(request, "session"):
        member_state_save(session=request.session, user=user)


def on_authenticator_changed(sender, request, user, **kwargs) -> None:
    # The member's other sessions work it out again on their next request (a key added here
    # lets a session elsewhere past the gate; one removed by an operator stops it there).
    user_access_version_bump(user_ids=[user.pk])
    if request is not None and hasattr(request, "session") and request.user == user:
        member_state_save(session=request.session, user=user)


# --- allauth's MFA adapter ---------------------------------------------------------------


class MFAAdapter(DefaultMFAAdapter):
    """TOTP secrets and recovery-code seeds encrypted at rest; the required keep their factor."""

    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "cannot_delete_authenticator": _(
            "Trainers and staff must keep two-factor authentication. Add another authenticator "
            "before removing this one."
        ),
    }

    def get_totp_issuer(self) -> str:
        return "Future Leaders"

    def encrypt(self, text: str) -> str:
        return crypto.encrypt(context=CRYPTO_CONTEXT, text=text)

    def decrypt(self, encrypted_text: str) -> str:
        # A base32 TOTP secret never starts like a Fernet token.
        if not encrypted_text.startswith(crypto.FERNET_PREFIX):
            return encrypted_text  # stored in the clear, before encryption was switched on
        # A key no longer in SECRET_KEY or SECRET_KEY_FALLBACKS raises InvalidToken: loud on
        # purpose, as guessing would lock people out silently (`check --database default`
        # names the problem before anyone signs in: members.checks).
        return crypto.decrypt(context=CRYPTO_CONTEXT, token=encrypted_text)

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        """Someone who must use MFA may remove a factor only while another one remains."""
        if authenticator.type not in ENROLLING_TYPES or not user_must_use_mfa(authenticator.user):
            return True
        others = Authenticator.objects.filter(user_id=authenticator.user_id, type__in=ENROLLING_TYPES)
        return others.exclude(pk=authenticator.pk).exists()


def authenticators_reencrypt() -> int:
    """Every stored authenticator secret under the current SECRET_KEY; how many rows changed."""
    changed = 0
    for authenticator in Authenticator.objects.order_by("pk").iterator(chunk_size=500):
        data = dict(authenticator.data)
        for key in ENCRYPTED_DATA_KEYS:
            value = data.get(key)
            if not isinstance(value, str):
                continue
            if value.startswith(crypto.FERNET_PREFIX):
                data[key] = crypto.reencrypt(context=CRYPTO_CONTEXT, token=value)
            else:  # stored in the clear before encryption was switched on
                data[key] = crypto.encrypt(context=CRYPTO_CONTEXT, text=value)
        if data != authenticator.data:
            Authenticator.objects.filter(pk=authenticator.pk).update(data=data)
            changed += 1
    return changed


def authenticators_unreadable_count() -> int:
    """Authenticators whose secret no current or fallback key opens (a key was lost)."""
    unreadable = 0
    for data in Authenticator.objects.values_list("data", flat=True).iterator(chunk_size=500):
        for key in ENCRYPTED_DATA_KEYS:
            value = data.get(key) if isinstance(data, dict) else None
            encrypted = isinstance(value, str) and value.startswith(crypto.FERNET_PREFIX)
            if encrypted and not crypto.is_readable(context=CRYPTO_CONTEXT, token=value):
                unreadable += 1
                break
    return unreadable
