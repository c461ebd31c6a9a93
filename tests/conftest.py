"""Shared test setup: the CI guard, real-service fixtures and the common factories."""

import os
import tempfile

import pytest
from django.conf import settings
from redis import Redis
from redis.exceptions import RedisError

IN_CI = os.environ.get("CI", "").lower() == "true"

pytest_plugins = ["tests.storage.object_store"]

# The tests of uploads, certificate PDFs, data exports and imports: under CI (or locally with
# TEST_STORAGE=s3) their files go to the test object store instead of a temporary MEDIA_ROOT.
OBJECT_STORAGE_TESTS = IN_CI or os.environ.get("TEST_STORAGE", "").lower() == "s3"
OBJECT_STORAGE_MODULES = {
    "tests/training/test_submissions.py",
    "tests/training/test_authoring.py",
    "tests/training/test_retention.py",
    "tests/certification/test_pdf_storage.py",
    "tests/certification/test_pdf_and_pages.py",
    "tests/certification/test_certificate_pdf_tagged.py",
    "tests/members/test_data_rights.py",
    "tests/members/test_data_export_sweep.py",
    "tests/imports/test_import.py",
    "tests/imports/test_confirming_sweep.py",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid.split("::", 1)[0] in OBJECT_STORAGE_MODULES:
            item.add_marker(pytest.mark.object_storage)


if settings.CACHES["default"]["BACKEND"].endswith("FileBasedCache"):
    # Without Redis the cache is a folder (config.settings): each test run gets its own, so
    # two runs on one machine never clear each other's; processes the tests start share it.
    os.environ["CACHE_DIR"] = settings.CACHES["default"]["LOCATION"] = tempfile.mkdtemp(
        prefix="future-leaders-test-cache-"
    )


def _redis_reachable(url: str) -> bool:
    try:
        return bool(Redis.from_url(url, socket_connect_timeout=1).ping())
    except RedisError:
        return False


def pytest_sessionstart(session):
    """Under CI the suite must run on PostgreSQL and Redis: stop at once if they are missing."""
    if not IN_CI:
        return
    problems = []
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        problems.append("DATABASE_URL does not point at PostgreSQL")
    if not settings.REDIS_URL or not _redis_reachable(settings.REDIS_URL):
        problems.append(f"Redis is not reachable at {settings.REDIS_URL!r}")
    if problems:
        pytest.exit("CI=true but " + "; ".join(problems), returncode=3)


@pytest.fixture
def redis_url() -> str:
    """The configured Redis. Under CI a missing Redis fails; locally the test skips."""
    if settings.REDIS_URL and _redis_reachable(settings.REDIS_URL):
        return settings.REDIS_URL
    reason = "needs Redis: set REDIS_URL to a running server (make test does under CI=true)"
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache (Redis under CI): start each test clean."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Argon2 is slow on purpose (about half a second a user here); tests make many users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path, request):
    """Uploaded files go to a temporary folder, never the project's; in the object-storage
    tests under CI, to the test object store (tests/storage/object_store.py)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    if OBJECT_STORAGE_TESTS and request.node.get_closest_marker("object_storage"):
        request.getfixturevalue("on_object_storage")


@pytest.fixture(autouse=True)
def _tasks_inline(request):
    """Tasks run inline, as in `make run`, so a test sees their effects (emails) at once.

    Under CI the app is configured for Redis; only tests with a real worker
    (tests/config/test_celery_worker.py) or marked `celery_as_configured` see that.
    """
    from celery.result import allow_join_result

    from config.celery import app

    # Each test starts allowed to wait on a worker's result. Celery keeps "a join would block"
    # in one process-wide flag that eager tasks save and restore; a live server's thread and
    # the test's thread running eager tasks at once can leave it set, and every later
    # result.get() (the worker and chaos tests) would then refuse ("Never call result.get()
    # within a task!").
    with allow_join_result():
        if "celery_worker" in request.fixturenames or request.node.get_closest_marker("celery_as_configured"):
            yield
            return
        previous = app.conf.task_always_eager
        app.conf.task_always_eager = True
        yield
        app.conf.task_always_eager = previous


@pytest.fixture
def seeded(db):
    """Roles, regions, constituencies and the consent text, as `make setup` loads them."""
    from django.core.management import call_command

    call_command("load_seeds", verbosity=0)
