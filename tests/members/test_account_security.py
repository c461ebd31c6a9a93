"""allauth's protections as configured here: rate limits, password reset without enumeration."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from members.models import Constituency
from members.permissions import Role
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_repeated_failed_logins_lock_the_account_for_a_while(client, seeded):
    """After five wrong passwords, even the right one is refused for now."""
    user = UserFactory()
    for _attempt in range(5):
        response = client.post(reverse("account_login"), {"login": user.email, "password": "wrong-guess-1"})
        assert response.status_code == 200
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert "Too many failed login attempts" in response.content.decode()


def test_password_reset_reads_the_same_for_known_and_unknown_addresses(client, seeded):
    """A reset request answers alike whether or not the address has an account."""
    user = UserFactory()
    known = client.post(reverse("account_reset_password"), {"email": user.email})
    unknown = client.post(reverse("account_reset_password"), {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url == reverse("account_reset_password_done")
    reset_mail = next(m for m in mail.outbox if m.to == [user.email])
    assert "/accounts/password/reset/key/" in reset_mail.body


def test_password_reset_sets_a_new_password(client, seeded):
    """Following the emailed link lets the member choose a new password and sign in with it."""
    user = UserFactory()
    client.post(reverse("account_reset_password"), {"email": user.email})
    link = next(line for line in mail.outbox[-1].body.splitlines() if "/password/reset/key/" in line)
    path = link[link.index("/accounts/") :].strip()
    response = client.get(path, follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else path
    new_password = "a-brand-new-passphrase"
    response = client.post(form_url, {"password1": new_password, "password2": new_password})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new_password)


def test_staff_flag_a_target_seat_in_the_admin(client, seeded):
    """National staff flag constituencies as target seats with the admin action."""
    client.force_login(UserFactory(role=Role.NATIONAL_STAFF, is_staff=True))
    seats = list(Constituency.objects.order_by("pk")[:2])
    response = client.post(
        reverse("admin:members_constituency_changelist"),
        {"action": "flag_as_target_seat", "_selected_action": [seat.pk for seat in seats]},
    )
    assert response.status_code == 302
    assert Constituency.objects.filter(is_target_seat=True).count() == 2


def test_trainers_cannot_flag_target_seats(client, seeded):
    """Only national staff may change constituencies; a trainer is refused."""
    client.force_login(UserFactory(role=Role.TRAINER))
    seat = Constituency.objects.first()
    response = client.post(
        reverse("admin:members_constituency_changelist"),
        {"action": "flag_as_target_seat", "_selected_action": [seat.pk]},
        follow=True,
    )
    assert response.status_code == 403
    assert not Constituency.objects.filter(is_target_seat=True).exists()


# --- the client's address behind proxies ------------------------------------------------


def _failed_login(client, n: int, **headers):
    """A wrong password for a new address each time, so that only the per-address limit counts."""
    return client.post(
        reverse("account_login"), {"login": f"guess{n}@example.org", "password": "wrong-guess-1"}, **headers
    )


@pytest.fixture
def three_logins_a_minute(settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "3/m/ip"}


def test_behind_one_proxy_a_forged_forwarded_for_does_not_reset_the_count(
    client, seeded, settings, three_logins_a_minute
):
    """The client writes anything into X-Forwarded-For; the proxy appends the real address,
    and only that one counts: forging the rest buys no more attempts."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for n in range(3):
        forged = f"192.0.2.{n}, 198.51.100.{n}"
        response = _failed_login(client, n, HTTP_X_FORWARDED_FOR=f"{forged}, 203.0.113.7", **proxy)
        assert response.status_code == 200
    response = _failed_login(client, 9, HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.7", **proxy)
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    # Another client behind the same proxy is not held back.
    assert _failed_login(client, 10, HTTP_X_FORWARDED_FOR="203.0.113.8", **proxy).status_code == 200


def test_behind_two_proxies_the_address_before_them_counts(client, seeded, settings, three_logins_a_minute):
    """With two proxies of ours, the second address from the right is the client."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 2
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for n in range(3):
        chain = f"192.0.2.{n}, 203.0.113.7, 10.0.0.1"
        assert _failed_login(client, n, HTTP_X_FORWARDED_FOR=chain, **proxy).status_code == 200
    chain = "192.0.2.50, 203.0.113.7, 10.0.0.1"
    assert _failed_login(client, 9, HTTP_X_FORWARDED_FOR=chain, **proxy).status_code == 429


def test_without_trusted_proxies_forwarded_for_is_ignored(client, seeded, settings, three_logins_a_minute):
    """By default the connecting address counts and X-Forwarded-For is not read at all."""
    assert settings.ALLAUTH_TRUSTED_PROXY_COUNT == 0
    for n in range(3):
        assert _failed_login(client, n, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code == 200
    assert _failed_login(client, 9, HTTP_X_FORWARDED_FOR="192.0.2.77").status_code == 429


def test_a_request_that_skipped_the_proxy_counts_its_own_address(client, seeded, settings):
    """Fewer forwarded addresses than trusted proxies (a request straight to the app): the
    connecting address counts, rather than allauth's ImproperlyConfigured (a 500)."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 2
    response = _failed_login(client, 1, HTTP_X_FORWARDED_FOR="192.0.2.1", REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 200
    response = client.get(reverse("certification:verify", args=["AAAAAAAAAAAAAAAA"]), REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 404


def test_a_header_set_by_the_proxy_can_name_the_client(client, seeded, settings, three_logins_a_minute):
    """With TRUSTED_CLIENT_IP_HEADER (e.g. X-Real-IP), that header alone names the client."""
    settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER = "X-Real-IP"
    for n in range(3):
        headers = {"HTTP_X_REAL_IP": "203.0.113.7", "HTTP_X_FORWARDED_FOR": f"192.0.2.{n}"}
        assert _failed_login(client, n, **headers).status_code == 200
    assert _failed_login(client, 9, HTTP_X_REAL_IP="203.0.113.7").status_code == 429
    assert _failed_login(client, 10, HTTP_X_REAL_IP="203.0.113.8").status_code == 200


def test_the_certificate_check_counts_the_same_address_as_sign_in(client, seeded, settings):
    """VERIFY_RATE_LIMIT uses allauth's client address: a forged X-Forwarded-For does not help."""
    settings.VERIFY_RATE_LIMIT = 2
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    url = reverse("certification:verify", args=["AAAAAAAAAAAAAAAA"])
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for n in range(2):
        assert client.get(url, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.7", **proxy).status_code == 404
    assert client.get(url, HTTP_X_FORWARDED_FOR="192.0.2.9, 203.0.113.7", **proxy).status_code == 429


def test_the_settings_come_from_the_environment():
    """TRUSTED_PROXY_COUNT and TRUSTED_CLIENT_IP_HEADER in the environment reach allauth."""
    import os
    import subprocess
    import sys

    from django.conf import settings

    code = (
        "import django; django.setup(); from allauth import app_settings as a; "
        "print(a.TRUSTED_PROXY_COUNT, a.TRUSTED_CLIENT_IP_HEADER)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.update(TRUSTED_PROXY_COUNT="2", TRUSTED_CLIENT_IP_HEADER="X-Real-IP")
    result = subprocess.run(  # noqa: S603 - our own settings, fixed arguments
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == ["2", "X-Real-IP"]


# --- the admin signs in through allauth ---------------------------------------------------


def test_the_admin_has_no_login_form_of_its_own(client, seeded):
    """/admin/login/ sends everyone to allauth's sign-in: no way around its limits or MFA."""
    staff = UserFactory(role=Role.NATIONAL_STAFF, is_staff=True)
    response = client.post(reverse("admin:login"), {"username": staff.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session


def test_admin_sign_in_is_rate_limited(client, seeded, settings, three_logins_a_minute):
    """Arriving from the admin, sign-in attempts count against the same per-address limit."""
    login_url = client.get(reverse("admin:index"), follow=True).redirect_chain[-1][0]
    assert login_url.startswith(reverse("account_login"))
    for n in range(3):
        response = client.post(login_url, {"login": f"guess{n}@example.org", "password": "wrong-guess-1"})
        assert response.status_code == 200
    response = client.post(login_url, {"login": "guess9@example.org", "password": "wrong-guess-1"})
    assert response.status_code == 429


# --- nothing tells whether an address has an account --------------------------------------


def _page_text(response) -> str:
    """The page without its CSRF tokens, which differ on every response."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def test_sign_up_reads_the_same_for_known_and_unknown_addresses(client, seeded):
    """Signing up with a taken address and with a new one: the same redirect, the same page."""
    UserFactory(email="taken@example.org")
    answers = []
    for email in ("taken@example.org", "brand.new@example.org"):
        other = Client()
        response = other.post(
            reverse("account_signup"), {"email": email, "password1": PASSWORD, "password2": PASSWORD}
        )
        assert response.status_code == 302
        # The page repeats the address typed in; apart from that, nothing may differ.
        page = _page_text(other.get(response.url)).replace(email, "ADDRESS")
        assert "Confirmation email sent to ADDRESS" in page
        answers.append((response.url, page))
    assert answers[0] == answers[1]


def test_password_reset_pages_read_the_same_for_known_and_unknown_addresses(client, seeded):
    """The page after asking for a reset says the same whether or not the account exists."""
    user = UserFactory()
    pages = []
    for email in (user.email, "nobody@example.org"):
        other = Client()
        response = other.post(reverse("account_reset_password"), {"email": email}, follow=True)
        assert response.status_code == 200
        pages.append(_page_text(response))
    assert pages[0] == pages[1]
    # The unknown address is told, by email only, that it has no account here.
    assert {tuple(m.to) for m in mail.outbox} == {(user.email,), ("nobody@example.org",)}


def test_sign_in_counts_live_in_the_shared_cache(client, seeded, settings, redis_url):
    """With Redis configured, the counters are in Redis (every web process sees them), under
    the client's address as the trusted proxy gave it."""
    from django.conf import settings as live_settings
    from redis import Redis

    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    _failed_login(client, 1, HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.7", REMOTE_ADDR="10.0.0.1")
    redis = Redis.from_url(live_settings.CACHES["default"]["LOCATION"])
    keys = [key.decode() for key in redis.scan_iter(match="fl:*allauth:rl:*")]
    assert any(key.endswith(":ip:203.0.113.7") for key in keys), keys
    assert not any("192.0.2.1" in key or "10.0.0.1" in key for key in keys), keys
