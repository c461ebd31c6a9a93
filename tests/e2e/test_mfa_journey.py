"""A new trainer is sent to set up two-factor authentication, does it with an app, and then
signs in with a code; another adds a security key (WebAuthn) and signs in with it."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from members.permissions import Role
from tests.e2e.conftest import assert_accessible, authenticator_next_step, field
from tests.factories import PASSWORD, UserFactory, totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _reauthenticate_if_asked(page) -> None:
    """allauth asks for the password again before an MFA change."""
    if "/accounts/reauthenticate/" in page.url:
        assert_accessible(page)
        field(page, "Password").fill(PASSWORD)
        page.get_by_role("button", name="Confirm").click()


def test_a_trainer_sets_up_an_app_then_signs_in_with_its_code(sign_in, browser, live_server, time_machine):
    call_command("load_seeds", verbosity=0)
    trainer = UserFactory(role=Role.TRAINER, mfa=False, first_name="Tomasz")

    page = sign_in(trainer)
    # Straight to the set-up page, told why.
    expect(page).to_have_url(re.compile(r"/accounts/2fa/$"))
    expect(page.get_by_text("needs two-factor authentication")).to_be_visible()
    assert_accessible(page)
    page.goto("/manage/marking/")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/$"))

    page.goto("/accounts/2fa/totp/activate/")
    _reauthenticate_if_asked(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up an authenticator app")
    assert_accessible(page)
    secret = page.get_by_label("Authenticator secret").input_value()
    field(page, "Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    # Recovery codes are made at once and shown.
    expect(page.get_by_role("heading", name="Recovery codes")).to_be_visible()
    assert_accessible(page)

    page.goto("/manage/marking/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Marking")

    # Next time the password alone is not enough.
    other = browser.new_context(base_url=live_server.url).new_page()
    other.goto("/accounts/login/")
    field(other, "Email").fill(trainer.email)
    field(other, "Password").fill(PASSWORD)
    other.get_by_role("button", name="Sign in").click()
    expect(other).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    assert_accessible(other)
    # Half signed in, marking is out of reach: back to the code.
    other.goto("/manage/marking/")
    expect(other.get_by_role("heading", level=1)).to_have_text("Two-factor authentication")
    # The code that activated the app works once: the app's next one, a step later.
    authenticator_next_step(time_machine)
    field(other, "Code").fill(totp_code(secret))
    other.get_by_role("button", name="Sign in").click()
    other.goto("/manage/marking/")
    expect(other.get_by_role("heading", level=1)).to_have_text("Marking")
    other.context.close()


def test_a_trainer_adds_a_security_key_and_signs_in_with_it(sign_in, live_server, settings):
    """WebAuthn with Chromium's virtual authenticator. Security keys need a secure context:
    http://localhost is one for the browser; the server's origin check is told to accept
    plain HTTP here, as DEBUG does for `make run`."""
    settings.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
    call_command("load_seeds", verbosity=0)
    trainer = UserFactory(role=Role.TRAINER, mfa=False)
    page = sign_in(trainer)
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )

    page.goto("/accounts/2fa/webauthn/add/")
    _reauthenticate_if_asked(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a security key")
    assert_accessible(page)
    field(page, "Name").fill("Desk key")
    page.get_by_role("button", name="Add").click()
    page.wait_for_url(lambda url: "/webauthn/add/" not in url)
    page.goto("/manage/marking/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Marking")

    # Signing in again: password, then the key.
    page.get_by_role("button", name="Account").click()
    page.get_by_role("button", name="Sign out").click()
    # Signed out once the next page comes without the Account menu: a goto before then
    # could overtake the sign-out's form.
    expect(page.get_by_role("button", name="Account")).to_have_count(0)
    page.goto("/accounts/login/")
    field(page, "Email").fill(trainer.email)
    field(page, "Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    page.get_by_role("button", name="Use a security key").click()
    page.wait_for_url(lambda url: "/accounts/2fa/authenticate/" not in url)
    page.goto("/manage/marking/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Marking")
