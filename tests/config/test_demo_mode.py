"""Demo mode publishes its logins: it never passes the deploy check, and sign-up in demo mode
tells no one which addresses have accounts."""

import os
import subprocess
import sys

from django.conf import settings
from django.core.checks import Error

from config.checks import demo_mode_check
from tests.config.test_settings import _run_manage


def test_the_deploy_check_fails_with_demo_mode_and_debug_off():
    result = _run_manage(
        "check", "--deploy", DEBUG="false", DEMO_MODE="true", ALLOWED_HOSTS="futureleaders.example"
    )
    assert result.returncode != 0
    assert "config.E002" in result.stdout + result.stderr


def test_the_demo_mode_check_speaks_only_with_debug_off(settings):
    settings.DEMO_MODE, settings.DEBUG = True, False
    (problem,) = demo_mode_check(None)
    assert isinstance(problem, Error)
    assert problem.id == "config.E002"
    settings.DEBUG = True  # `make run`
    assert demo_mode_check(None) == []
    settings.DEMO_MODE, settings.DEBUG = False, False
    assert demo_mode_check(None) == []


def test_demo_mode_keeps_email_verification_mandatory_so_sign_up_reveals_nothing():
    """With optional verification allauth must refuse a taken address at sign-up (a free one
    signs in at once): the answers would differ. Mandatory, both end at "check your email"
    (tests/members/test_signup.py::test_taken_email_does_not_reveal_the_account)."""
    code = (
        "import django; django.setup(); from allauth.account import app_settings as a; "
        "print(a.EMAIL_VERIFICATION.value, a.PREVENT_ENUMERATION)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEMO_MODE": "true", "DEBUG": "true"}
    result = subprocess.run(  # noqa: S603 - our own settings, fixed arguments
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == ["mandatory", "True"]
