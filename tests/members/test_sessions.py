"""Members see where they are signed in and can sign out everywhere else (allauth usersessions)."""

import datetime as dt

import pytest
from allauth.usersessions.models import UserSession
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import PASSWORD, UserFactory
from tests.listing import listing_check

pytestmark = pytest.mark.django_db

PHONE = "Mozilla/5.0 (Linux; Android 14) Mobile Firefox/140.0"
LAPTOP = "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0"
# allauth checks each session before listing it (does it still exist, and whose is it?).
ALLAUTH_PURGE_QUERIES_A_SESSION = 3
SESSIONS_PAGE_QUERIES_FOR_TWO = 9


def _browser(user, agent: str, address: str) -> Client:
    client = Client(HTTP_USER_AGENT=agent, REMOTE_ADDR=address)
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_a_member_sees_each_place_they_are_signed_in(seeded):
    """The list shows both browsers, with their address and browser, and marks this one."""
    member = UserFactory()
    _browser(member, PHONE, "198.51.100.20")
    laptop = _browser(member, LAPTOP, "203.0.113.9")
    _browser(UserFactory(), "Someone else's browser", "192.0.2.1")
    page = laptop.get(reverse("usersessions_list")).content.decode()
    assert "198.51.100.20" in page
    assert "203.0.113.9" in page
    assert PHONE in page
    assert LAPTOP in page
    assert "This one" in page
    assert "Someone else" not in page
    assert "192.0.2.1" not in page
    assert "Sign out everywhere else" in page


def test_signing_out_everywhere_else_ends_the_other_sessions_only(seeded):
    """After 'sign out everywhere else' the phone is signed out; the laptop stays in."""
    member = UserFactory()
    phone = _browser(member, PHONE, "198.51.100.20")
    laptop = _browser(member, LAPTOP, "203.0.113.9")
    assert phone.get(reverse("members:profile-edit")).status_code == 200

    response = laptop.post(reverse("usersessions_list"))
    assert response.status_code == 302

    assert laptop.get(reverse("members:profile-edit")).status_code == 200
    response = phone.get(reverse("members:profile-edit"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    page = laptop.get(reverse("usersessions_list")).content.decode()
    assert "198.51.100.20" not in page
    assert "You are signed in here only." in page


def test_the_sessions_page_needs_sign_in(client):
    """Signed out, the page sends you to sign in."""
    response = client.get(reverse("usersessions_list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_the_account_menu_links_to_sessions_and_two_factor(client, seeded):
    """Every signed-in page offers the two-factor and sessions pages in the account menu."""
    client.force_login(UserFactory())
    page = client.get(reverse("members:profile-edit")).content.decode()
    assert f'href="{reverse("usersessions_list")}"' in page
    assert f'href="{reverse("mfa_index")}"' in page


def _signed_in_elsewhere(member, count: int) -> None:
    """`count` more browsers signed in as `member`, each a day earlier than the one before."""
    for n in range(count):
        _browser(member, f"Browser {n:02d}", f"198.51.100.{n + 1}")
    start = timezone.now() - dt.timedelta(days=40)
    for n, session in enumerate(UserSession.objects.filter(user=member).order_by("pk")):
        UserSession.objects.filter(pk=session.pk).update(created_at=start + dt.timedelta(days=n))


def test_the_sessions_list_sorts_and_pages_on_the_one_table_component(seeded):
    """Oldest first, 20 a page; sortable by when signed in; unknown keys and bad pages change nothing."""
    member = UserFactory()
    _signed_in_elsewhere(member, 22)
    laptop = _browser(member, LAPTOP, "203.0.113.9")
    listing_check(
        laptop,
        reverse("usersessions_list"),
        table="table-usersessiontable",
        caption="Your sessions",
        sort="-created_at",
        per_page=20,
        total=23,
    )


def _page_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("usersessions_list")).status_code == 200
    return len(queries)


def test_the_sessions_page_costs_a_fixed_number_of_queries_beyond_allauths_purge(seeded):
    """The table reads nothing: the page's cost grows only by allauth's check of each session
    (still signed in? it deletes those that are not), which its list needs to be true."""
    member = UserFactory()
    laptop = _browser(member, LAPTOP, "203.0.113.9")
    _signed_in_elsewhere(member, 1)
    small = _page_queries(laptop)
    _signed_in_elsewhere(member, 20)
    large = _page_queries(laptop)
    assert small == SESSIONS_PAGE_QUERIES_FOR_TWO
    assert large - small == 20 * ALLAUTH_PURGE_QUERIES_A_SESSION
