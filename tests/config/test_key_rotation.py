"""Changing SECRET_KEY: the old key waits in SECRET_KEY_FALLBACKS, read from the environment,
so sessions, emailed links and two-factor sign-in go on working; `secrets_reencrypt` moves the
stored secrets to the new key, after which the old one can go (config/crypto.py)."""

import json
import os
import subprocess
import sys

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.management import CommandError, call_command
from django.core.management.base import SystemCheckError
from django.test import Client
from django.urls import reverse

from members import mfa
from members.permissions import Role
from tests.factories import PASSWORD, TOTP_SECRET, UserFactory, totp_code
from training.models import NoticeKind
from training.services.notices import unsubscribe_token
from webhooks.crypto import secret_decrypt
from webhooks.models import Endpoint
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db

OLD_KEY = "the-old-key-" + "o" * 50
NEW_KEY = "the-new-key-" + "n" * 50
MARKING = "training:marking-queue"


def _sign_in(client: Client, user, *, at: float) -> None:
    """Password, then the authenticator's code at time `at`: the trainer lands signed in."""
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(at=at)})
    assert response.status_code == 302, response.content.decode()[:500]
    assert client.get(reverse(MARKING)).status_code == 200


def test_the_fallback_keys_are_read_from_the_environment():
    """README tells operators to set SECRET_KEY_FALLBACKS: the settings must read it."""
    env = {**os.environ, "SECRET_KEY": NEW_KEY, "SECRET_KEY_FALLBACKS": f"{OLD_KEY},older-key"}
    code = "import json, django; django.setup(); from django.conf import settings; " + (
        "print(json.dumps([settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS]))"
    )
    result = subprocess.run(  # noqa: S603 - our own settings, fixed arguments
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout) == [NEW_KEY, [OLD_KEY, "older-key"]]


def test_rotating_the_key_keeps_sessions_links_and_two_factor_sign_in(seeded, settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD_KEY, []
    with time_machine.travel(1_900_000_000.0, tick=False) as clock:
        trainer = UserFactory(role=Role.TRAINER)  # its authenticator is encrypted under the old key
        kept = Client()
        _sign_in(kept, trainer, at=1_900_000_000.0)
        link = reverse(
            "training:notice-unsubscribe",
            args=[unsubscribe_token(member_id=trainer.pk, kind=NoticeKind.SESSION_REMINDER)],
        )

        settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, [OLD_KEY]
        clock.shift(60)  # the next code window: a code works only once
        assert kept.get(reverse(MARKING)).status_code == 200, "the session made under the old key"
        assert Client().get(link).status_code == 200, "the emailed link signed with the old key"
        _sign_in(Client(), trainer, at=1_900_000_060.0)
        call_command("check", databases=["default"])  # every stored secret still opens


def test_re_encrypting_lets_the_old_key_go(seeded, settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD_KEY, []
    settings.WEBHOOKS_ALLOW_LOCAL_HTTP = True  # an address on this machine, no DNS needed
    trainer = UserFactory(role=Role.TRAINER)
    staff = UserFactory(role=Role.NATIONAL_STAFF)
    endpoint, secret = endpoint_create(
        url="http://127.0.0.1:9/in", events=["certificate.issued"], actor=staff
    )

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, [OLD_KEY]
    call_command("secrets_reencrypt", stdout=open(os.devnull, "w"))  # noqa: SIM115

    settings.SECRET_KEY_FALLBACKS = []
    call_command("check", databases=["default"])
    stored = Authenticator.objects.get(user=trainer, type=Authenticator.Type.TOTP).data["secret"]
    assert mfa.MFAAdapter().decrypt(stored) == TOTP_SECRET
    assert secret_decrypt(Endpoint.objects.get(pk=endpoint.pk).secret_encrypted) == secret


def test_a_lost_old_key_is_named_before_anyone_signs_in(seeded, settings):
    """A new key with the old one left out: the database check says so, and re-encrypting
    refuses and changes nothing (the old key can still be put back)."""
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD_KEY, []
    trainer = UserFactory(role=Role.TRAINER)
    before = Authenticator.objects.get(user=trainer, type=Authenticator.Type.TOTP).data

    settings.SECRET_KEY = NEW_KEY
    with pytest.raises(SystemCheckError, match="config.E003"):
        call_command("check", databases=["default"])
    with pytest.raises(CommandError, match="Nothing was changed"):
        call_command("secrets_reencrypt")
    assert Authenticator.objects.get(user=trainer, type=Authenticator.Type.TOTP).data == before
