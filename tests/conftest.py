"""Shared test setup: the CI guard, real-service fixtures and the common factories."""

import gc
import io
import os
import tempfile

import pytest
from django.conf import settings
from django.db import connection, connections
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


# Tests that time requests against a limit (Redis down, the chaos runs, the XLSX reader's
# bounds): `make test` runs them in a second pass on their own, so that the other parallel
# worker's browser, checker and server do not take the time they measure.
SERIAL_MODULES = {
    "tests/config/test_redis_down.py",
    "tests/config/test_redis_down_walk.py",
    "tests/imports/test_bounds.py",
    "tests/training/test_notices_chaos.py",
    "tests/training/test_notices_chaos_more.py",
}


def pytest_ignore_collect(collection_path, config):
    """`-m serial` (the second pass of `make test`) reads only the serial modules rather than
    importing and collecting the whole suite to deselect it (5 s)."""
    if config.getoption("markexpr") != "serial" or collection_path.suffix != ".py":
        return None
    module = collection_path.relative_to(config.rootpath).as_posix()
    if module.startswith("tests/") and collection_path.name.startswith("test_"):
        return module not in SERIAL_MODULES
    return None


# On PostgreSQL the tests' connections empty tables with DELETE rather than TRUNCATE
# (tests/postgresql/base.py: the flush after each transactional test, 20 times faster).
# Django made the connection object as it loaded the models (none is open yet): it is made
# again, from the changed settings, when next used. Processes the tests start are unchanged.
if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    settings.DATABASES["default"]["ENGINE"] = "tests.postgresql"
    del connections["default"]


# WhiteNoise's middleware lists every collected static file as it starts (about 1,200 here),
# and the test client starts the middleware anew for each test: 0.3 s a test. Told to look a
# file up when it is asked for (its documented development mode), it starts at once and
# serves the same files from STATIC_ROOT with the same headers.
settings.WHITENOISE_AUTOREFRESH = True


# Argon2 is slow on purpose (about half a second a user here); tests make many users, some in
# data built once per module (tests/security/conftest.py), before any test's own fixtures run.
# Processes the tests start (workers, servers) keep the project's hashers.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# Python's collector of reference cycles walks every object the process holds in each full
# collection, and a test process holds half a million (Django, the test modules, the data built
# once per module). At Python's default thresholds (700, 10, 10) the collector took 9% of a
# test process's CPU on tests/security (6.4 of 72 CPU-s), most of it in fifteen full
# collections. Here the youngest objects are collected a third as often and the oldest a tenth
# as often: 3.1 CPU-s of collecting, 66 CPU-s in all, and 37 MB more held at the end.
# Processes the tests start keep Python's defaults.
TEST_GC_THRESHOLDS = (2000, 10, 100)
gc.set_threshold(*TEST_GC_THRESHOLDS)


def pytest_collection_finish(session):
    """What the process holds once the tests are collected (the modules, the tests) lives as
    long as it does: the full collections leave it out (gc.freeze), and took a third of the
    time on tests/security (0.44 CPU-s instead of 1.35)."""
    gc.collect()
    gc.freeze()


# The cache waits a quarter second for Redis and then skips it for five (CACHE_REDIS_TIMEOUT,
# decision 0021): right for a server, wrong for a test. On this 2-core machine, busy with
# browsers and servers, one late answer would leave the test's cache empty for five seconds: a
# kept page lost between two requests costs a query more than pinned, a rate limit counts
# nothing. The tests' own process waits longer; the Redis-down tests set the quarter second
# themselves (tests/config/conftest.py), and the processes the tests start keep the project's.
TEST_CACHE_REDIS_TIMEOUT = 5.0
if settings.CACHES["default"]["BACKEND"] == "config.cache.FailSafeRedisCache":
    settings.CACHES["default"]["OPTIONS"].update(
        socket_connect_timeout=TEST_CACHE_REDIS_TIMEOUT, socket_timeout=TEST_CACHE_REDIS_TIMEOUT
    )


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


# Fixtures of tests that start real processes beside the test (a Celery worker, a live server
# and Chromium, redis-server, Node): `make test-fast` leaves these tests out (marker `processes`).
PROCESS_FIXTURES = {"celery_worker", "worker_database_url", "chaos", "live_server", "browser", "redis_down"}


def pytest_collection_modifyitems(items):
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        if item.get_closest_marker("serial") and module not in SERIAL_MODULES:
            # `make test` would run it in neither pass (see pytest_ignore_collect).
            raise pytest.UsageError(f"{item.nodeid} is marked serial: add its module to SERIAL_MODULES")
        if PROCESS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.processes)
        if module in OBJECT_STORAGE_MODULES:
            item.add_marker(pytest.mark.object_storage)
        if module in SERIAL_MODULES:
            item.add_marker(pytest.mark.serial)


def pytest_sessionstart(session):
    """Under CI the suite must run on PostgreSQL and Redis: stop at once if they are missing.

    Parallel workers (pytest-xdist) need a Redis database of their own (tests/xdist_redis.py)."""
    if (
        os.environ.get("PYTEST_XDIST_WORKER")
        and settings.REDIS_URL
        and not session.config.pluginmanager.has_plugin("tests.xdist_redis")
    ):
        pytest.exit(
            "With Redis, run parallel workers with `-p tests.xdist_redis` (as `make test` does): "
            "on one Redis database they would clear each other's cache and take each other's tasks",
            returncode=3,
        )
    if not IN_CI:
        return
    problems = []
    if connection.vendor != "postgresql":
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


# --- Seeds ---------------------------------------------------------------------------------
# The seeds (`load_seeds` without --demo: roles, regions, constituencies, the consent text and
# the programme) are loaded once, into the test database as it is made, not for each test:
# each test that is not transactional runs in a transaction rolled back at its end, so it sees
# them and leaves them. Transactional tests (a live server, a real worker) empty every table
# when they end; pytest-django runs them after all the others, and `seeded` loads the seeds
# again for those that ask.


class _SeedState:
    """Whether the test database holds the seeds now, and the tables they fill."""

    in_database = False
    tables: list[str] = []


def _seeds_load() -> None:
    from django.core.management import call_command

    call_command("load_seeds", verbosity=0, stdout=io.StringIO())


def _row_counts() -> dict[str, int]:
    from django.apps import apps

    return {
        model._meta.db_table: model._base_manager.count()
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    }


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """On PostgreSQL each test database is a copy of the migrated template
    (tests/postgresql/template.py) rather than migrated afresh."""
    if connection.vendor == "postgresql":
        from tests.postgresql.template import migrated_template

        settings.DATABASES["default"].setdefault("TEST", {})["TEMPLATE"] = migrated_template()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test databases, with the seeds loaded once."""
    with django_db_blocker.unblock():
        before = _row_counts()
        _seeds_load()
        after = _row_counts()
    _SeedState.tables = [table for table, count in after.items() if count > before[table]]
    _SeedState.in_database = True
    # Factory-made codes clear of the seeds' real ones (regions E12000001-9, seats from
    # E14001063): a factory region is never a seeded one, a factory seat never clashes.
    from tests.factories import ConstituencyFactory, RegionFactory

    RegionFactory.reset_sequence(100)
    ConstituencyFactory.reset_sequence(2000)


def _transactional(item: pytest.Item) -> bool:
    """As pytest-django decides it: the test empties every table when it ends."""
    marker = item.get_closest_marker("django_db")
    if marker and (
        marker.kwargs.get("transaction")
        or marker.kwargs.get("reset_sequences")
        or (marker.args and marker.args[0])
    ):
        return True
    return bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


@pytest.fixture(autouse=True)
def _transactional_tests_start_as_before(request):
    """A transactional test starts without the seeds unless it asks for them (`seeded`), as
    each did before the seeds were loaded once; its end empties the tables anyway."""
    if not _transactional(request.node):
        yield
        return
    request.getfixturevalue("transactional_db")
    if _SeedState.in_database and "seeded" not in request.fixturenames:
        from django.core.management import call_command

        call_command("flush", interactive=False, verbosity=0)
        _SeedState.in_database = False
    yield
    _SeedState.in_database = False  # emptied by pytest-django as the test ends


@pytest.fixture
def seeded(request, db):
    """Roles, regions, constituencies, the consent text and the programme, as `make setup`
    loads them (without the demo): already there, or loaded again after a transactional
    test emptied the tables."""
    if not _SeedState.in_database:
        _seeds_load()
        # A test that is not transactional loaded them in its own transaction, rolled back.
        _SeedState.in_database = _transactional(request.node)


def seeds_present() -> None:
    """For a fixture wider than one test that builds its data in a transaction of its own
    (rolled back after its last test): the seeds, loaded again in that transaction if a
    transactional test emptied the tables."""
    if not _SeedState.in_database:
        _seeds_load()


def read_again(value):
    """For data built once for many tests: each model instance (in a dict, list or tuple too)
    as the database holds it now, a fresh copy, so that a test's changes to the shared
    instances (rolled back in the database) never reach the next test."""
    from django.db.models import Model

    if isinstance(value, dict):
        return {key: read_again(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(read_again(item) for item in value)
    if isinstance(value, Model):
        return type(value)._base_manager.get(pk=value.pk)
    return value


@pytest.fixture
def unseeded(db):
    """The tables the seeds fill, empty again (in this test's transaction, rolled back at its
    end): for tests of loading the seeds themselves."""
    from django.core.management.color import no_style

    connection.ops.execute_sql_flush(
        connection.ops.sql_flush(no_style(), _SeedState.tables, allow_cascade=True)
    )
