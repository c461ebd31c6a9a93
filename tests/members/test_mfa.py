"""Two-factor authentication: open to everyone, required of trainers and staff (members/mfa.py)."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from members import mfa
from members.permissions import Role
from tests.factories import PASSWORD, TOTP_SECRET, UserFactory, totp_code

pytestmark = pytest.mark.django_db

MARKING = "training:marking-queue"


def _sign_in_with_password(client, user):
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return response


def _reauthenticate(client):
    """allauth asks for the password again (within five minutes) before any MFA change."""
    response = client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert response.status_code == 302


def _activate_totp(client) -> str:
    """Open the set-up page, read the secret it offers, answer with its code."""
    response = client.get(reverse("mfa_activate_totp"))
    assert response.url.startswith(reverse("account_reauthenticate"))
    _reauthenticate(client)
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    assert secret in response.content.decode()  # shown for typing in, beside the QR code
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302
    return secret


@pytest.mark.parametrize("role", [Role.TRAINER, Role.REGIONAL_STAFF, Role.NATIONAL_STAFF])
def test_trainers_and_staff_without_an_authenticator_are_sent_to_set_one_up(client, seeded, role):
    """Signed in with a password only, every page but the account pages leads to the MFA set-up,
    with a message that says why."""
    user = UserFactory(role=role, mfa=False)
    home = _sign_in_with_password(client, user).url
    for url in (home, reverse(MARKING), reverse("members:staff-home"), reverse("certification:registry")):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url == reverse("mfa_index"), url
    page = client.get(reverse("mfa_index"))
    assert page.status_code == 200
    assert "needs two-factor authentication" in page.content.decode()
    # A form post is held back too: nothing is changed without the second factor.
    response = client.post(reverse(MARKING))
    assert response.status_code == 302
    assert response.url == reverse("mfa_index")


def test_the_way_through_the_gate_stays_open(client, seeded):
    """Set-up, sessions, password, sign-out and the public certificate check are reachable."""
    _sign_in_with_password(client, UserFactory(role=Role.TRAINER, mfa=False))
    for name in ("mfa_index", "account_reauthenticate", "usersessions_list", "account_change_password"):
        assert client.get(reverse(name)).status_code == 200, name
    # The public check answers as it does for anyone: here, an unknown code.
    assert client.get(reverse("certification:verify", args=["AAAAAAAAAAAAAAAA"])).status_code == 404
    assert client.get(reverse("api:certificate-verify", args=["AAAAAAAAAAAAAAAA"])).status_code == 404
    assert client.get("/no-such-page/").status_code == 404
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


# allauth announces a new authenticator once its transaction commits: real commits here.
@pytest.mark.django_db(transaction=True)
def test_after_adding_an_authenticator_app_the_trainer_gets_through(client, seeded):
    """Setting up TOTP (with recovery codes) opens marking at once, in the same session."""
    user = UserFactory(role=Role.TRAINER, mfa=False)
    _sign_in_with_password(client, user)
    assert client.get(reverse(MARKING)).url == reverse("mfa_index")
    _activate_totp(client)
    assert client.get(reverse(MARKING)).status_code == 200
    types = set(Authenticator.objects.filter(user=user).values_list("type", flat=True))
    assert types == {Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES}


def test_a_trainee_is_never_forced(client, seeded):
    """Trainees may use MFA but are never sent to set it up."""
    user = UserFactory(role=Role.TRAINEE)
    _sign_in_with_password(client, user)
    assert client.get(reverse("training:my-training")).status_code == 200
    state = client.session[mfa.SESSION_KEY]
    assert (state["required"], state["enrolled"]) == (False, False)


def test_a_trainee_may_turn_it_on_and_is_then_asked_for_the_code(client, seeded):
    """MFA is open to everyone: a trainee who adds an app is asked for its code next time."""
    user = UserFactory(role=Role.TRAINEE)
    _sign_in_with_password(client, user)
    secret = _activate_totp(client)
    client.post(reverse("account_logout"))
    response = _sign_in_with_password(client, user)
    assert response.url == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_signing_in_with_an_authenticator_asks_for_the_code(client, seeded):
    """The password alone does not sign a trainer in; a wrong code is refused, the right one works."""
    user = UserFactory(role=Role.TRAINER)
    response = _sign_in_with_password(client, user)
    assert response.url == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    assert client.get(reverse(MARKING)).status_code == 302  # to the sign-in page, not the queue
    wrong = str((int(totp_code()) + 1) % 1_000_000).zfill(6)
    response = client.post(reverse("mfa_authenticate"), {"code": wrong})
    assert response.status_code == 200
    assert "Incorrect code" in response.content.decode()
    assert "_auth_user_id" not in client.session
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code()})
    assert response.status_code == 302
    assert client.get(reverse(MARKING)).status_code == 200


def test_a_code_works_only_once(client, seeded):
    """A code seen over someone's shoulder cannot be replayed within its 30 seconds."""
    user = UserFactory(role=Role.TRAINER)
    code = totp_code()
    _sign_in_with_password(client, user)
    assert client.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302
    other = Client()
    _sign_in_with_password(other, user)
    response = other.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 200
    assert "_auth_user_id" not in other.session


def test_trainers_cannot_remove_their_only_authenticator(client, seeded):
    """Deactivating the one authenticator app is refused for a trainer, allowed for a trainee."""
    trainer = UserFactory(role=Role.TRAINER)
    _sign_in_with_password(client, trainer)
    client.post(reverse("mfa_authenticate"), {"code": totp_code()})
    _reauthenticate(client)
    response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 200
    assert "must keep two-factor authentication" in response.content.decode()
    assert Authenticator.objects.filter(user=trainer, type=Authenticator.Type.TOTP).exists()

    trainee = UserFactory(role=Role.TRAINEE, mfa=True)
    other = Client()
    _sign_in_with_password(other, trainee)
    other.post(reverse("mfa_authenticate"), {"code": totp_code()})
    _reauthenticate(other)
    assert other.post(reverse("mfa_deactivate_totp")).status_code == 302
    assert not Authenticator.objects.filter(user=trainee, type=Authenticator.Type.TOTP).exists()


def test_superusers_must_use_it_too(client, seeded):
    """A superuser reaches everything, the admin included: no way in without a second factor."""
    user = UserFactory(role=Role.NATIONAL_STAFF, is_staff=True, is_superuser=True, mfa=False)
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response.url == reverse("mfa_index")


def test_the_gate_costs_no_query(seeded, settings):
    """The same page makes the same queries with and without the MFA gate: it reads the session."""
    user = UserFactory(role=Role.TRAINER)
    url = reverse(MARKING)

    def count() -> int:
        client = Client()  # a new client loads the middleware as configured now
        client.force_login(user)
        client.get(url)  # warm the per-process caches (content types, permissions' names)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    with_gate = count()
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "members.middleware.MfaRequiredMiddleware"]
    assert count() == with_gate


def test_a_session_from_before_the_gate_is_worked_out_once(client, seeded):
    """A session without the remembered answer (signed in before the gate existed) gets one."""
    user = UserFactory(role=Role.TRAINER, mfa=False)
    client.force_login(user)
    session = client.session
    del session[mfa.SESSION_KEY]
    session.save()
    assert client.get(reverse(MARKING)).url == reverse("mfa_index")
    state = client.session[mfa.SESSION_KEY]
    assert (state["required"], state["enrolled"]) == (True, False)


def test_authenticator_secrets_are_encrypted_at_rest(seeded):
    """The TOTP secret in the database is not the secret; it decrypts back to it."""
    user = UserFactory(role=Role.TRAINER)
    stored = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP).data["secret"]
    assert TOTP_SECRET not in stored
    assert mfa.MFAAdapter().decrypt(stored) == TOTP_SECRET


def test_an_old_secret_key_in_the_fallbacks_still_decrypts(seeded, settings):
    """Rotating SECRET_KEY with the old one in SECRET_KEY_FALLBACKS keeps everyone's codes working."""
    stored = mfa.MFAAdapter().encrypt(TOTP_SECRET)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-key-" + "x" * 50
    assert mfa.MFAAdapter().decrypt(stored) == TOTP_SECRET
