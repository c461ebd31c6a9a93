"""Whatever the cache keeps is the same for every process: without Redis, a folder they all
share; a cache kept per process is refused by the deploy check."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.checks import Error
from django.urls import reverse
from django.utils.html import escape

from certification.services.certificates import certificate_issue_manually, certificate_revoke
from certification.verification_cache import checked_page_key
from config.checks import shared_cache_check
from members.erasure import account_erase
from members.permissions import Role
from tests.factories import EnrolmentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def folder_cache(settings, tmp_path):
    """The cache as configured without Redis (config.settings), in a folder of this test's."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }
    return tmp_path / "cache"


def _kept_elsewhere(folder, key: str) -> str:
    """What another process, started as a web worker would be (no Redis), reads at `key`:
    the kept check page's content, or '' if nothing is kept."""
    env = {
        **os.environ,
        "REDIS_URL": "",
        "CACHE_DIR": str(folder),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    script = (
        "import json, django; django.setup()\n"
        "from django.core.cache import cache\n"
        f"kept = cache.get({key!r})\n"
        "print(json.loads(kept)['content'] if kept else '')\n"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and settings
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.strip()


def test_a_revocation_and_an_erasure_reach_every_process(
    client, seeded, folder_cache, django_capture_on_commit_callbacks
):
    """The check page kept by one process is forgotten for all when a certificate is revoked
    or its holder erased, so no worker goes on showing 'Valid' or the erased name."""
    staff = UserFactory(role=Role.NATIONAL_STAFF)
    certificate = certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="Evidence.")
    url = reverse("certification:verify", kwargs={"code": certificate.code})
    assert "Valid" in client.get(url).content.decode()
    key = checked_page_key(certificate.code)
    assert escape(certificate.holder_name) in _kept_elsewhere(folder_cache, key)

    with django_capture_on_commit_callbacks(execute=True):
        certificate_revoke(certificate=certificate, actor=staff, public_reason="Issued in error.")
    assert _kept_elsewhere(folder_cache, key) == ""
    assert "Revoked" in client.get(url).content.decode()
    assert "Revoked" in _kept_elsewhere(folder_cache, key)

    with django_capture_on_commit_callbacks(execute=True):
        account_erase(user=certificate.holder, actor=staff, reason="Asked by the member.")
    assert _kept_elsewhere(folder_cache, key) == ""
    page = client.get(url).content.decode()
    assert "Withdrawn" in page
    assert escape(certificate.holder_name) not in page


@pytest.mark.parametrize("backend", ["locmem.LocMemCache", "dummy.DummyCache"])
def test_the_deploy_check_refuses_a_cache_kept_per_process(settings, backend):
    settings.CACHES = {"default": {"BACKEND": f"django.core.cache.backends.{backend}"}}
    problems = shared_cache_check(None)
    assert [problem.id for problem in problems] == ["config.E001"]
    assert all(isinstance(problem, Error) for problem in problems)


def test_the_deploy_check_accepts_redis_and_notes_a_folder(settings, folder_cache):
    assert [problem.id for problem in shared_cache_check(None)] == ["config.I001"]
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1"}
    }
    assert shared_cache_check(None) == []
