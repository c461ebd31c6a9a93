"""allauth's pages and emails speak the site's voice, in the site's layout (issue 20).

Pages: each is rendered for the kind of person who sees it, inside the site's layout (its main
landmark and title), with headings and buttons in sentence case. Emails: each has a text and an
HTML part in the platform's branded layout, says who sent it and why, and its links are
absolute and lead to a page that answers.
"""

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.core import mail
from django.core.cache import cache
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from members.permissions import Role
from tests.factories import PASSWORD, UserFactory, totp_code

pytestmark = pytest.mark.django_db

# allauth's stock wording, which must not reach a page or an email.
STOCK_WORDING = (
    "Sign In",
    "Sign Up",
    "Signup",
    "Remember Me",
    "Please contact us",
    "Forgot your password",
    "Verify Your",
    "Password Reset",
    "Reset My Password",
    "Change Password",
    "Set Password",
    "Email Addresses",
    "Add Email",
    "Make Primary",
    "Re-send",
    "Sign Out",
    "Confirm Access",
    "Two-Factor",
    "Authenticator App",
    "Recovery Codes",
    "Security Key",
    "Account Inactive",
    "Hello from",
    "Thank you for using",
    "has given your email address",
    "finalize",
)
# Words that keep their capital in the middle of a heading or a button.
PROPER_WORDS = {"Future", "Leaders", "Movement", "Change", "QR", "UK", "I"}


def _sentence_case_breaks(html: str) -> list[str]:
    """Headings and buttons (and button-like links) with a capital past the first word."""
    found = []
    pattern = r"<(h[1-3]|button|a class=\"btn)[^>]*>(.*?)</(?:h[1-3]|button|a)>"
    for _tag, inner in re.findall(pattern, html, flags=re.S):
        text = " ".join(re.sub(r"<[^>]+>", " ", inner).split())
        words = text.split(" ")[1:]
        if any(word[:1].isupper() and word.strip("“”.,:?") not in PROPER_WORDS for word in words):
            found.append(text)
    return found


def _assert_house_page(response) -> str:
    assert response.status_code == 200, response
    html = response.content.decode()
    assert '<main id="main"' in html, "not in the site's layout"
    assert re.search(r"<title>[^<]+ · Future Leaders</title>", html), "no page title"
    assert html.count("<h1") == 1
    for stock in STOCK_WORDING:
        assert stock not in html, stock
    assert not _sentence_case_breaks(html), _sentence_case_breaks(html)
    return html


def _signed_in(user) -> Client:
    """Signed in through the form, as a person is, and the password given again, as allauth
    asks before a change to two-factor authentication."""
    client = Client()
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    _reauthenticate(client)
    return client


def _reauthenticate(client) -> None:
    response = client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert response.status_code == 302


@pytest.fixture
def member(seeded):
    return UserFactory(role=Role.TRAINEE, first_name="Rosa", email="rosa@example.org")


# --- Pages -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url_name",
    [
        "account_login",
        "account_signup",
        "account_email_verification_sent",
        "account_reset_password",
        "account_reset_password_done",
        "account_reset_password_from_key_done",
        "account_inactive",
    ],
)
def test_pages_for_someone_signed_out(client, seeded, url_name):
    _assert_house_page(client.get(reverse(url_name)))


def test_sign_in_page_words_and_labels(client, seeded):
    """The labels the browser tests use stay; the rest reads as the site does."""
    html = _assert_house_page(client.get(reverse("account_login")))
    for words in ("Sign in", "Remember me", "Forgotten your password?"):
        assert words in html, words
    for label in ("Email", "Password"):
        assert re.search(rf"<label[^>]*>\s*{label}\b", html), label
    assert 'type="submit"' in html


def test_verification_page_offers_send_again_change_address_and_a_contact(client, seeded, settings):
    """Not signed in yet: sending again is signing in (allauth sends again, within its rate
    limit), a different address is a new sign-up; and there is someone to write to."""
    settings.SUPPORT_EMAIL = "help@movement.example"
    html = _assert_house_page(client.get(reverse("account_email_verification_sent")))
    assert "Verify your email address" in html
    assert f'href="{reverse("account_login")}">Send the email again' in html
    assert f'href="{reverse("account_signup")}">Use a different address' in html
    assert 'href="mailto:help@movement.example"' in html


def test_signing_in_unconfirmed_sends_the_email_again(client, seeded):
    """The page's "send the email again" works: signing in before confirming sends a new link."""
    client.post(
        reverse("account_signup"), {"email": "new@example.org", "password1": PASSWORD, "password2": PASSWORD}
    )
    mail.outbox.clear()
    cache.clear()  # allauth sends at most one confirmation every three minutes per address
    response = client.post(reverse("account_login"), {"login": "new@example.org", "password": PASSWORD})
    assert response.url == reverse("account_email_verification_sent")
    [sent] = mail.outbox
    assert sent.to == ["new@example.org"]
    assert "/accounts/confirm-email/" in sent.body


def test_password_pages_from_the_emailed_link(client, member):
    client.post(reverse("account_reset_password"), {"email": member.email})
    link = re.search(r"https?://\S+/password/reset/key/\S+/", mail.outbox[-1].body).group(0)
    response = client.get(link, follow=True)
    html = _assert_house_page(response)
    assert "Choose a new password" in html
    assert "New password (again)" in html
    html = _assert_house_page(client.get(reverse("account_reset_password_from_key", args=["0", "bad-key"])))
    assert "This link no longer works" in html


def test_confirmation_page_from_the_emailed_link_and_a_stale_one(client, seeded):
    client.post(
        reverse("account_signup"), {"email": "new@example.org", "password1": PASSWORD, "password2": PASSWORD}
    )
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[-1].body).group(0)
    html = _assert_house_page(client.get(link))
    assert "new@example.org" in html
    html = _assert_house_page(client.get(reverse("account_confirm_email", args=["stale"])))
    assert "This link no longer works" in html


@pytest.mark.parametrize(
    "url_name",
    [
        "account_email",
        "account_change_password",
        "account_logout",
        "account_reauthenticate",
        "mfa_index",
        "mfa_activate_totp",
        "mfa_list_webauthn",
        "mfa_add_webauthn",
        "usersessions_list",
    ],
)
def test_pages_for_a_signed_in_member(member, url_name):
    _assert_house_page(_signed_in(member).get(reverse(url_name)))


def test_change_password_labels_are_in_sentence_case(member):
    html = _assert_house_page(_signed_in(member).get(reverse("account_change_password")))
    for label in ("Current password", "New password", "New password (again)"):
        assert label in html


def test_set_password_page_for_a_member_without_one(member):
    client = _signed_in(member)
    member.set_unusable_password()
    member.save()
    client.force_login(member)
    _assert_house_page(client.get(reverse("account_set_password")))


def test_two_factor_pages_for_a_member_with_an_app(seeded):
    """The second step at sign-in, the codes, and taking the app away."""
    user = UserFactory(role=Role.TRAINEE, mfa=True)
    client = Client()
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.url == reverse("mfa_authenticate")
    html = _assert_house_page(client.get(reverse("mfa_authenticate")))
    assert "Two-factor authentication" in html
    # The security-key button names a form that is on the page.
    assert 'form="webauthn_form"' in html
    assert 'id="webauthn_form"' in html
    client.post(reverse("mfa_authenticate"), {"code": totp_code()})
    _reauthenticate(client)
    for url_name in ("mfa_index", "mfa_reauthenticate", "mfa_deactivate_totp"):
        _assert_house_page(client.get(reverse(url_name)))
    client.post(reverse("mfa_generate_recovery_codes"))
    for url_name in ("mfa_view_recovery_codes", "mfa_generate_recovery_codes"):
        _assert_house_page(client.get(reverse(url_name)))


def test_sessions_table_can_be_scrolled_with_the_keyboard(member):
    """axe: scrollable-region-focusable. The table's frame is a named, focusable region."""
    html = _assert_house_page(_signed_in(member).get(reverse("usersessions_list")))
    # Named by the table's caption (the one table component).
    assert re.search(r'class="table-responsive" tabindex="0" role="region" aria-labelledby="[^"]+"', html)
    assert re.search(r'<caption id="[^"]+"[^>]*>Your sessions', html)


# --- Emails ----------------------------------------------------------------------------------

LINK = re.compile(r"https?://[^\s\"<>]+")


def _assert_house_email(message, client) -> None:
    """Text and HTML, the site named, why it came, no stock wording, links absolute and alive."""
    html = dict((mimetype, body) for body, mimetype in message.alternatives)["text/html"]
    text = message.body
    assert message.subject.startswith("[Future Leaders] ")
    subject = message.subject.removeprefix("[Future Leaders] ")
    assert not [word for word in subject.split()[1:] if word[:1].isupper()], subject
    for part in (text, html, message.subject):
        for stock in STOCK_WORDING:
            assert stock not in part, (message.subject, stock)
        assert "127.0.0.1:8830" not in part
    for part in (text, html):
        assert "Future Leaders" in part
        assert "Movement for Change" in part
        assert "You receive this because" in part
        assert "help@futureleaders.example" in part
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert "#7a1f2b" in html  # the platform's branded layout
    links = set(LINK.findall(text)) | set(LINK.findall(html))
    assert links, message.subject
    visitor = Client()
    for link in links:
        link = link.replace("&amp;", "&")
        response = (client or visitor).get(link, follow=True)
        assert response.status_code == 200, (message.subject, link)


def test_sign_up_emails(client, seeded):
    """A new address gets the confirmation; a taken one gets "you already have an account"."""
    UserFactory(email="taken@example.org")
    for email in ("new@example.org", "taken@example.org"):
        Client().post(
            reverse("account_signup"), {"email": email, "password1": PASSWORD, "password2": PASSWORD}
        )
    confirm, exists = mail.outbox
    assert confirm.subject == "[Future Leaders] Confirm your email address"
    assert "signing up to Future Leaders" in confirm.body
    assert "If you did not sign up" in confirm.body
    assert exists.subject == "[Future Leaders] You already have an account"
    for message in (confirm, exists):
        _assert_house_email(message, None)


def test_password_reset_emails_known_and_unknown(client, member):
    client.post(reverse("account_reset_password"), {"email": member.email})
    client.post(reverse("account_reset_password"), {"email": "nobody@example.org"})
    known, unknown = mail.outbox
    assert known.subject == "[Future Leaders] Choose a new password"
    assert unknown.subject == "[Future Leaders] There is no account with this address"
    for message in (known, unknown):
        _assert_house_email(message, None)


def test_a_completed_reset_is_told_to_the_member(client, member):
    client.post(reverse("account_reset_password"), {"email": member.email})
    link = re.search(r"https?://\S+/password/reset/key/\S+/", mail.outbox[-1].body).group(0)
    form_url = client.get(link, follow=True).redirect_chain[-1][0]
    mail.outbox.clear()
    client.post(form_url, {"password1": "a-brand-new-passphrase", "password2": "a-brand-new-passphrase"})
    [notice] = mail.outbox
    assert notice.subject == "[Future Leaders] Your password was reset"
    assert "If it was not you" in notice.body
    _assert_house_email(notice, None)


def test_account_change_emails(member):
    """Password changed, an address added, made primary (the old one is told) and removed."""
    client = _signed_in(member)
    new_password = "another-long-passphrase"
    client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": new_password, "password2": new_password},
    )
    client.post(reverse("account_email"), {"action_add": "", "email": "rosa.work@example.net"})
    EmailAddress.objects.filter(email="rosa.work@example.net").update(verified=True)
    client.post(reverse("account_email"), {"action_primary": "", "email": "rosa.work@example.net"})
    client.post(reverse("account_email"), {"action_remove": "", "email": member.email})
    subjects = [message.subject.removeprefix("[Future Leaders] ") for message in mail.outbox]
    assert subjects == [
        "Your password was changed",
        "Confirm your new email address",
        "Your email address was changed",
        "An email address was removed from your account",
    ]
    for message in mail.outbox:
        _assert_house_email(message, None)
    changed = mail.outbox[2]
    assert changed.to == [member.email]
    assert "from rosa@example.org to rosa.work@example.net" in changed.body


def test_password_set_email(member):
    member.set_unusable_password()
    member.save()
    client = Client()
    client.force_login(member)
    client.post(
        reverse("account_set_password"),
        {"password1": "a-fresh-passphrase", "password2": "a-fresh-passphrase"},
    )
    [notice] = mail.outbox
    assert notice.subject == "[Future Leaders] A password was set for your account"
    _assert_house_email(notice, None)


def test_removing_the_authenticator_app_is_told(seeded):
    """Setting it up and new recovery codes are told after the commit (allauth's on_commit,
    run by the browser journey in tests/e2e/test_mfa_journey.py; their templates below)."""
    user = UserFactory(role=Role.TRAINEE, email="ada@example.org", mfa=True)
    client = Client()
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    client.post(reverse("mfa_authenticate"), {"code": totp_code()})
    _reauthenticate(client)
    mail.outbox.clear()
    client.post(reverse("mfa_deactivate_totp"))
    assert not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    [notice] = mail.outbox
    assert notice.subject == "[Future Leaders] Your authenticator app was removed"
    _assert_house_email(notice, None)


@pytest.mark.parametrize(
    ("template", "context"),
    [
        ("mfa/email/totp_activated", {}),
        ("mfa/email/recovery_codes_generated", {}),
        ("mfa/email/webauthn_added", {}),
        ("mfa/email/webauthn_removed", {}),
        ("account/email/email_confirm", {"email": "rosa@example.org"}),
        ("account/email/login_code", {"code": "ABC123"}),
        ("account/email/password_reset_code", {"code": "ABC123"}),
    ],
)
def test_emails_not_reached_through_a_page_here_are_in_the_layout_too(seeded, template, context):
    """Sent after a commit or with a browser (tests/e2e), or off here (codes by email):
    their templates still say who, why and what to do."""
    context = {
        "support_email": "help@futureleaders.example",
        "home_url": "http://testserver/",
        "password_reset_url": "http://testserver/accounts/password/reset/",
        "timestamp": timezone.now(),
        "ip": "192.0.2.1",
        "user_agent": "Firefox",
        **context,
    }
    subject = render_to_string(f"{template}_subject.txt", context).strip()
    text = render_to_string(f"{template}_message.txt", context)
    html = render_to_string(f"{template}_message.html", context)
    assert subject[:1].isupper()
    assert not [word for word in subject.split()[1:] if word[:1].isupper()]
    for part in (text, html):
        assert "Future Leaders" in part
        assert "You receive this because" in part
        assert "help@futureleaders.example" in part
        for stock in STOCK_WORDING:
            assert stock not in part
