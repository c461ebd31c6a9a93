"""What a signed-in member's requests keep between them, and how it stays true.

Every page needs the member's permissions (the menu, the gates, the views' checks), whether
they have agreed to the current consent text and made a profile (the onboarding gate), and
whether they must and do use a second factor (the MFA gate). Read afresh that was three
queries a request; it is kept in the member's session with the two stamps it was worked out
at, and worked out again (five or six queries, once) only when one of them has moved:

- `User.access_version` (and `is_superuser`, which grants every permission without a role),
  on the user row every request loads anyway. It moves in the same
  transaction as a change to the member's roles or permissions (members.receivers), their
  authenticators (members.mfa), and whatever ends a complete onboarding: a consent withdrawn
  or deleted, the profile deleted (members.receivers).
- the id of the current consent text, kept in the cache: dropped when a text is published
  or removed and set again on commit, read from the database when the cache misses (Redis
  down, decision 0021). A new version sends every member to the consent page on their next request.

An onboarding not yet complete is not kept: it is read on each request (one query) until
it is, so giving consent or making a profile needs no stamp of its own.

`members.backends.KeptPermissionsBackend` answers the request's permission checks from the
kept permissions. See docs/decisions/0028-signed-in-floor.md.
"""

from allauth.mfa.models import Authenticator
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db import transaction

from members.models import ConsentText, User
from members.selectors import OnboardingState, member_onboarding_state

# {"version": int, "superuser": bool, "consent_text": int, "permissions": [str], "onboarded": bool,
#  "required": bool, "enrolled": bool}: worked out at access_version "version" and consent
# text "consent_text" (0: none published). "required"/"enrolled": members.mfa's answer.
SESSION_KEY = "members_state"

CONSENT_TEXT_CACHE_KEY = "members:consent-text-current"
# Bounds how long a publication made while Redis was unreachable (its write dropped) can go
# unseen once Redis is back; otherwise the key is replaced the moment a text is published.
CONSENT_TEXT_CACHE_SECONDS = 300

# Any one of these (a trainer, regional or national staff; a superuser has them all) means
# the member reaches other people's data and must use a second factor (members.mfa).
MFA_REQUIRED_PERMISSIONS = (
    "members.access_trainer_area",
    "members.access_regional_area",
    "members.access_staff_area",
)
# Recovery codes alone are a fallback, not a second factor someone has set up.
ENROLLING_TYPES = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


# --- The current consent text, a stamp every request reads --------------------------------


def _consent_text_current_id_read() -> int:
    return ConsentText.objects.order_by("-published_at").values_list("pk", flat=True).first() or 0


def consent_text_current_id() -> int:
    """The id of the text members must have agreed to (0: none): the cache's copy, or the
    database's on a miss. Filled with add, never set: a reader that read the database just
    before a publication cannot overwrite the new id the publisher has set."""
    kept = cache.get(CONSENT_TEXT_CACHE_KEY)
    if kept is not None:
        return kept
    current = _consent_text_current_id_read()
    cache.add(CONSENT_TEXT_CACHE_KEY, current, CONSENT_TEXT_CACHE_SECONDS)
    return current


def consent_text_current_announce() -> None:
    """A text was published or removed. The cache's copy goes now, so that the rest of this
    transaction (and a test, which never commits) reads the database; once the change
    commits, the new id is set. A request that read the database before the commit and
    fills the cache in between cannot outlast that set (readers fill with add)."""
    cache.delete(CONSENT_TEXT_CACHE_KEY)

    def replace() -> None:
        cache.set(CONSENT_TEXT_CACHE_KEY, _consent_text_current_id_read(), CONSENT_TEXT_CACHE_SECONDS)

    transaction.on_commit(replace, robust=True)


# --- The member's state ----------------------------------------------------------------------


def member_state_save(*, session, user) -> dict:
    """Work out what `user`'s requests keep, and keep it in `session`.

    The stamps are read before what they guard (the version from the row, not the instance,
    which may be older): a change racing this leaves the session stamped older than the row,
    so the next request works it out again, never the reverse."""
    consent_text = consent_text_current_id()
    member = User.objects.filter(pk=user.pk).first()
    if member is None:
        return {}
    # ModelBackend's own reading (user and group permissions, none if inactive), on an
    # instance of our own so that no caller's instance caches what may change later.
    permissions = sorted(ModelBackend().get_all_permissions(member))
    required = member.is_superuser or any(perm in permissions for perm in MFA_REQUIRED_PERMISSIONS)
    state = {
        "version": member.access_version,
        # On the row, not in a role: a superuser has every permission (ModelBackend's answer).
        "superuser": member.is_superuser,
        "consent_text": consent_text,
        "permissions": permissions,
        "onboarded": member_onboarding_state(user=member).is_complete,
        "required": required,
        "enrolled": required and member_has_authenticator(member),
    }
    session[SESSION_KEY] = state
    return state


def member_has_authenticator(user) -> bool:
    return Authenticator.objects.filter(user_id=user.pk, type__in=ENROLLING_TYPES).exists()


def member_state_current(*, session, user) -> dict:
    """The kept state, worked out again when a stamp has moved: no query while both match."""
    state = session.get(SESSION_KEY)
    if (
        state is None
        or state.get("version") != user.access_version
        or state.get("superuser") != user.is_superuser
        or state.get("consent_text") != consent_text_current_id()
    ):
        state = member_state_save(session=session, user=user)
    return state


def member_state_load(request) -> dict:
    """For the request's signed-in member (once a request, as request.member_state: the
    gates, the menu and the views share it): the kept state, its permissions handed to the
    user for KeptPermissionsBackend. Empty for anyone not signed in."""
    state = getattr(request, "member_state", None)
    if state is not None:
        return state
    user = request.user
    state = member_state_current(session=request.session, user=user) if user.is_authenticated else {}
    if user.is_authenticated:
        user.kept_permissions = frozenset(state.get("permissions", ()))
    request.member_state = state
    return state


def member_onboarding(request, state: dict) -> OnboardingState:
    """The member's onboarding: complete when kept so; otherwise read (one query), and kept
    once it is complete."""
    if state.get("onboarded"):
        return OnboardingState(has_current_consent=True, has_profile=True)
    onboarding = member_onboarding_state(user=request.user)
    if onboarding.is_complete and state:
        state["onboarded"] = True
        request.session[SESSION_KEY] = state
    return onboarding
