"""Every request has an id: returned in X-Request-ID, written in each of its log lines with
the member's pseudonym (never their email or name), and shown on the 500 page
(config.request_id, config.logging, config.errors)."""

import logging
import re

import pytest
from django.test import Client
from django.urls import reverse

from config.logging import logging_config
from config.request_id import REQUEST_ID_PATTERN, member_pseudonym
from members.permissions import Role
from tests.config.logs import json_log_lines
from tests.factories import UserFactory

UUID4 = re.compile(r"\A[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\Z")
# Not a key: text in PEM armour that no parser takes, so every page that signs fails.
BROKEN_SIGNING_KEYS = (
    "Created: 2026-01-01T00:00:00Z\n-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"
)


def test_every_response_carries_a_new_request_id(client):
    first = client.get(reverse("healthz-live"))
    second = client.get(reverse("healthz-live"))
    assert UUID4.match(first["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_a_well_formed_incoming_id_is_kept(client):
    """The id a proxy in front gave the request (nginx's $request_id: 32 hex digits)."""
    given = "4f1c2b9e8d7a6b5c4d3e2f1a0b9c8d7e"
    assert client.get(reverse("healthz-live"), headers={"x-request-id": given})["X-Request-ID"] == given


@pytest.mark.parametrize(
    "spoofed",
    [
        "<script>alert(1)</script>-aaaaaaaaaaaa",
        "aaaaaaaaaaaaaaaa\nlevel=ERROR forged log line",
        "aaaaaaaaaaaaaaaa\r\nSet-Cookie: sessionid=x",
        "' OR 1=1 -- aaaaaaaaaaaaaaaaaaa",
        "../../../../etc/passwd-aaaaaaa",
        "ada.lovelace@example.org-aaaa",
        "a" * 65,
        "short",
        "",
    ],
)
def test_a_malformed_or_malicious_incoming_id_is_replaced(client, spoofed):
    response = client.get(reverse("healthz-live"), HTTP_X_REQUEST_ID=spoofed)
    assert response["X-Request-ID"] != spoofed
    assert UUID4.match(response["X-Request-ID"])


def test_the_pattern_takes_letters_digits_and_hyphens_only():
    assert REQUEST_ID_PATTERN.match("0123456789abcdef")
    assert not REQUEST_ID_PATTERN.match("0123456789abcdef\n")
    assert not REQUEST_ID_PATTERN.match("0123456789_abcdef")


@pytest.mark.django_db
def test_a_requests_log_lines_name_its_id_and_a_pseudonym_of_the_member(client, seeded):
    """A JSON line (Django's own "Not Found" warning) carries the id returned in the header
    and the member's pseudonym; neither their email nor their name appears."""
    member = UserFactory(
        role=Role.TRAINEE, email="ada.lovelace@example.org", first_name="Augusta", last_name="Byron"
    )
    client.force_login(member)
    with json_log_lines() as lines:
        response = client.get("/no-such-page-of-ours/")
    assert response.status_code == 404
    [line] = [record for record in lines.records() if record["logger"] == "django.request"]
    assert line["level"] == "WARNING"
    assert line["request_id"] == response["X-Request-ID"]
    assert line["member"] == member_pseudonym(user_id=member.pk)
    assert line["task_id"] == "-"
    assert re.fullmatch(r"[0-9a-f]{16}", line["member"])
    for personal in ("ada.lovelace", "Augusta", "Byron"):
        assert personal not in lines.text


def test_a_pseudonym_is_stable_and_tells_members_apart(settings):
    assert member_pseudonym(user_id=7) == member_pseudonym(user_id=7)
    assert member_pseudonym(user_id=7) != member_pseudonym(user_id=8)
    before = member_pseudonym(user_id=7)
    settings.SECRET_KEY = "another-key-entirely-another-key-entirely-another-key"
    assert member_pseudonym(user_id=7) != before  # derived from SECRET_KEY: not guessable from the id


def test_email_addresses_are_blanked_in_messages_and_tracebacks():
    """A mail server's refusal quoting its recipient, a database error quoting a value."""
    with json_log_lines() as lines:
        logger = logging.getLogger("training.services.notices")
        logger.warning("Notice %s not sent: %s", 5, "550 <ada.lovelace@example.org> refused")
        try:
            raise ValueError("Key (email)=(grace.hopper@example.org) already exists.")
        except ValueError:
            logger.exception("Import stopped")
    assert "example.org" not in lines.text
    first, second = lines.records()
    assert first["message"] == "Notice 5 not sent: 550 <[email]> refused"
    assert "Key (email)=([email]) already exists." in second["exc_info"]


def test_lines_outside_a_request_say_so():
    with json_log_lines() as lines:
        logging.getLogger("config").warning("At start")
    [line] = lines.records()
    assert (line["request_id"], line["member"], line["task_id"]) == ("-", "-", "-")


def test_text_in_development_and_json_when_asked():
    """LOG_FORMAT picks the console's formatter; both go through the same filter."""
    text = logging_config(log_format="text", level="INFO")
    json_ = logging_config(log_format="json", level="INFO")
    assert text["handlers"]["console"]["formatter"] == "text"
    assert json_["handlers"]["console"]["formatter"] == "json"
    assert json_["handlers"]["console"]["filters"] == ["request_context"]


@pytest.mark.django_db
def test_the_500_page_shows_the_request_id(settings):
    """A page that fails (its signing keys unreadable) answers the site's 500 page, which
    quotes the id sent in the header."""
    settings.OPENBADGES_SIGNING_KEYS = BROKEN_SIGNING_KEYS
    client = Client(raise_request_exception=False)
    response = client.get(reverse("certification:jwks"))
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    assert "/static/css/site." in page  # the site's link colour and focus ring, as on every page
    assert f'<code class="user-select-all" id="request-id">{response["X-Request-ID"]}</code>' in page


@pytest.mark.django_db
@pytest.mark.parametrize(("dsn", "told"), [("", False), ("http://public@127.0.0.1:9/1", True)])
def test_the_500_page_says_the_team_knows_only_when_errors_are_reported(settings, dsn, told):
    settings.OPENBADGES_SIGNING_KEYS = BROKEN_SIGNING_KEYS
    settings.SENTRY_DSN, settings.ADMINS = dsn, []
    page = Client(raise_request_exception=False).get(reverse("certification:jwks")).content.decode()
    assert ("The team has been told." in page) is told
    assert settings.SUPPORT_EMAIL in page
