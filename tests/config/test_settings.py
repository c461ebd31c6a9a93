"""Settings reach the libraries that use them, and production passes Django's deploy check."""

import os
import secrets
import subprocess
import sys

import pytest
from allauth.account import app_settings as allauth_settings
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

from certification.signing_keys import key_new
from config.celery import app as celery_app


@pytest.mark.celery_as_configured
def test_celery_takes_its_settings_from_django():
    """Celery's broker and serialisation come from Django settings."""
    assert celery_app.conf.broker_url == settings.CELERY_BROKER_URL
    assert celery_app.conf.task_always_eager is settings.CELERY_TASK_ALWAYS_EAGER
    assert celery_app.conf.task_serializer == "json"
    assert celery_app.conf.accept_content == ["json"]
    assert celery_app.conf.task_time_limit == 120


@pytest.mark.celery_as_configured
def test_sweeps_and_sends_go_to_separate_queues_within_time_limits():
    """Every task beat runs goes to the sweeps' queue, the rest (sends) to the default one, so
    a backlog of sends never delays a sweep; each task has time limits, and the broker hands a
    dead worker's task out again after longer than any of them may run, within an hour."""
    celery_app.loader.import_default_modules()

    def queue(name: str) -> str:
        return celery_app.amqp.router.route({}, name)["queue"].name

    beat_tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "training.notices_sweep" in beat_tasks
    tasks = {name: task for name, task in celery_app.tasks.items() if not name.startswith("celery.")}
    assert beat_tasks <= set(tasks)
    for name in tasks:
        assert queue(name) == ("sweeps" if name in beat_tasks else "celery"), name
    assert {"training.notices_send", "webhooks.delivery_send", "imports.member_import_write"} <= set(tasks)
    hard_limits = []
    for name, task in tasks.items():
        hard = task.time_limit or celery_app.conf.task_time_limit
        soft = task.soft_time_limit or celery_app.conf.task_soft_time_limit
        assert hard, name
        assert soft, name
        assert soft < hard, name
        hard_limits.append(hard)
    visibility = celery_app.conf.broker_transport_options["visibility_timeout"]
    assert max(hard_limits) < visibility < 60 * 60


def test_redis_url_drives_the_broker_and_the_cache():
    """With REDIS_URL set, Celery and the cache use Redis; without it nothing needs a server."""
    if settings.REDIS_URL:
        assert settings.CELERY_BROKER_URL == settings.REDIS_URL
        assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
        # Another database on the same server: cache.clear() must not drop queued tasks.
        assert settings.CACHES["default"]["LOCATION"] != settings.CELERY_BROKER_URL
        assert settings.CELERY_TASK_ALWAYS_EAGER is False
    else:
        assert settings.CELERY_BROKER_URL == "memory://"
        # Shared by every process of the machine (web workers, beat), unlike a per-process cache.
        assert settings.CACHES["default"]["BACKEND"].endswith("FileBasedCache")
        assert settings.CELERY_TASK_ALWAYS_EAGER is True


def test_allauth_logs_in_by_email_with_mandatory_verification_and_rate_limits():
    """Outside demo mode, email verification is mandatory and login rate limits are on."""
    assert {"email"} == allauth_settings.LOGIN_METHODS
    assert allauth_settings.EMAIL_VERIFICATION == allauth_settings.EmailVerificationMethod.MANDATORY
    assert allauth_settings.PREVENT_ENUMERATION is True
    assert "login_failed" in allauth_settings.RATE_LIMITS


def _run_manage(*args, **extra_env):
    dropped = {"HTTPS", "DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    env.update(extra_env)
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_configuration_passes_the_deploy_check():
    """With DEBUG off and real keys, `check --deploy` reports no warnings at all."""
    badge_key = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    result = _run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(64),
        OPENBADGES_SIGNING_KEY=badge_key.decode(),
        # The VC-JWT's key (ES256) beside the Ed25519 one.
        OPENBADGES_SIGNING_KEYS=key_new(curve="P-256").private_pem(),
        ALLOWED_HOSTS="futureleaders.example",
        # A cache every process shares (the check connects to nothing).
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_catches_the_development_key():
    """The built-in development key is refused by the deploy check, so it cannot ship unseen."""
    result = _run_manage(
        "check", "--deploy", "--fail-level", "WARNING", DEBUG="false", ALLOWED_HOSTS="x.example"
    )
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


def test_content_security_policy_allows_nothing_inline_or_third_party(client):
    """Every page carries a CSP that allows scripts and styles from this site only."""
    response = client.get("/healthz")
    policy = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert "unsafe-inline" not in policy
    assert "http" not in policy


def test_the_cache_takes_the_next_redis_database():
    from config.settings import _redis_database_next

    assert _redis_database_next("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/1"
    assert (
        _redis_database_next("redis://:secret@cache.example:6380") == "redis://:secret@cache.example:6380/1"
    )
    assert _redis_database_next("redis://127.0.0.1:6379/15") == "redis://127.0.0.1:6379/0"


# --- security headers and cookies on real responses -----------------------------------------


def _directives(policy: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())


def _assert_security_headers(response) -> None:
    csp = _directives(response.headers["Content-Security-Policy"])
    assert csp["script-src"] == "'self'"  # no 'unsafe-inline', no nonce, no other origin
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    permissions = dict(
        part.strip().split("=", 1) for part in response.headers["Permissions-Policy"].split(",")
    )
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert permissions[feature] == "()", feature
    assert permissions["publickey-credentials-get"] == "(self)"  # security keys, this site only


@pytest.mark.django_db
def test_security_headers_on_a_public_page_a_signed_in_page_and_an_error_page(client, seeded):
    """The landing page, a member's page, a 404, a 403 and the sign-in page all carry the headers."""
    from django.urls import reverse

    from members.permissions import Role
    from tests.factories import UserFactory

    responses = [client.get(reverse("members:home")), client.get(reverse("account_login"))]
    client.force_login(UserFactory(role=Role.TRAINEE))
    responses += [
        client.get(reverse("training:my-training")),
        client.get("/no-such-page/"),
        client.get(reverse("members:staff-home")),
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 404, 403]
    for response in responses:
        _assert_security_headers(response)


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_secure_httponly_and_samesite(client, seeded, settings):
    """Signing in sets both cookies Secure (as in production), HttpOnly and SameSite=Lax."""
    from django.urls import reverse

    from tests.factories import PASSWORD, UserFactory

    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True  # as HTTPS=true sets them
    user = UserFactory()
    client.get(reverse("account_login"))
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME):
        cookie = client.cookies[name]
        assert cookie["secure"] is True, name
        assert cookie["httponly"] is True, name
        assert cookie["samesite"] == "Lax", name


def test_production_turns_on_secure_cookies_and_https():
    """With DEBUG off (HTTPS defaults on), the cookies are Secure and HTTP is redirected."""
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.CSRF_COOKIE_HTTPONLY, "
        "s.SESSION_COOKIE_HTTPONLY, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0)"
    )
    dropped = {"HTTPS", "DEBUG"}
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", DEBUG="false")
    result = subprocess.run(  # noqa: S603 - our own settings, fixed arguments
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == ["True"] * 6
