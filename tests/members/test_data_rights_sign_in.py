"""A member's sign-in data in their copy (article 15): where and with what they are signed in,
and which second factors they use, never a secret that would let the copy's reader act as
them."""

import json

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from allauth.usersessions.models import UserSession
from django.urls import reverse

from members.export import export_contents
from members.permissions import Role
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0 TestBrowser"
KEY_CREDENTIAL_ID = "cred-id-9f8e7d6c5b4a"


def test_the_export_lists_sessions_and_second_factors_without_their_secrets(client, seeded):
    member = UserFactory(role=Role.TRAINEE)
    other = UserFactory(role=Role.TRAINEE)
    client.post(
        reverse("account_login"),
        {"login": member.email, "password": PASSWORD},
        HTTP_USER_AGENT=BROWSER,
        REMOTE_ADDR="198.51.100.23",
    )
    session = UserSession.objects.get(user=member)
    seed = generate_totp_secret()
    TOTP.activate(member, seed)
    codes = RecoveryCodes.activate(member).get_unused_codes()
    Authenticator.objects.create(
        user=member,
        type=Authenticator.Type.WEBAUTHN,
        data={
            "name": "Blue key",
            "credential": {"id": KEY_CREDENTIAL_ID, "rawId": KEY_CREDENTIAL_ID, "response": {"x": "y"}},
        },
    )
    TOTP.activate(other, generate_totp_secret())

    data, _files = export_contents(user=member)
    membership = data["membership"]
    [listed] = membership["sign_in_sessions"]
    assert listed["address"] == session.ip
    assert listed["browser"] == BROWSER
    assert listed["signed_in_at"]
    assert listed["last_seen_at"]
    factors = {factor["kind"]: factor for factor in membership["second_factors"]}
    assert set(factors) == {"totp", "recovery_codes", "webauthn"}
    assert factors["webauthn"]["name"] == "Blue key"
    assert factors["totp"]["added_at"]
    assert "last_used_at" in factors["totp"]
    # No secret: not the TOTP seed (plain or as stored), a recovery code or its seed, the key's
    # credential, nor the session's key; and nothing of another member's factors.
    stored = [authenticator.data for authenticator in Authenticator.objects.filter(user=member)]
    everything = json.dumps(data)
    for secret in [
        seed,
        *codes,
        KEY_CREDENTIAL_ID,
        session.session_key,
        *(value for data in stored for key, value in data.items() if key in {"secret", "seed"}),
    ]:
        assert secret not in everything, secret
    assert len(membership["second_factors"]) == 3
