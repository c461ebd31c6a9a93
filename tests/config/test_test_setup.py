"""The suite's own set-up: test databases copied from a migrated template, seeds loaded once
per test database, Redis databases per parallel worker, tables emptied with DELETE
(tests/conftest.py, tests/xdist_redis.py, tests/postgresql)."""

import gc
import threading

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from redis import Redis

from audit.models import AuditEntry
from members.models import ConsentText, Constituency, Region, User
from members.permissions import Role, user_roles
from members.selectors import member_onboarding_state
from tests.config import own_redis
from tests.config.own_redis import OwnRedis, needs_redis_server
from tests.factories import CohortFactory, EnrolmentFactory, UserFactory, trainees_enrolled
from tests.xdist_redis import _worker_number, worker_url
from training.models import Programme


@pytest.mark.django_db
def test_every_test_database_starts_with_the_seeds():
    assert Region.objects.count() == 12
    assert Constituency.objects.count() == 650
    assert ConsentText.objects.exists()
    assert Programme.objects.exists()


@pytest.mark.django_db
def test_the_test_database_is_a_copy_of_the_template_of_the_current_migrations():
    """Made from the template named by the migrations' digest, with every migration applied."""
    if connection.vendor != "postgresql":
        pytest.skip("templates are PostgreSQL's (CREATE DATABASE ... TEMPLATE)")
    from tests.postgresql.template import migrations_digest

    template = settings.DATABASES["default"]["TEST"]["TEMPLATE"]
    assert template.endswith("_migrated_" + migrations_digest())
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [template])
        assert cursor.fetchone() == (1,)
    executor = MigrationExecutor(connection)
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []


def test_unseeded_empties_the_seeds_tables(unseeded):
    assert not Region.objects.exists()
    assert not Constituency.objects.exists()
    assert not ConsentText.objects.exists()
    assert not Programme.objects.exists()


def test_each_worker_moves_up_two_redis_databases():
    assert worker_url("redis://127.0.0.1:6379/0", 0) == "redis://127.0.0.1:6379/0"
    assert worker_url("redis://127.0.0.1:6379/0", 1) == "redis://127.0.0.1:6379/2"
    assert worker_url("redis://:secret@127.0.0.1:6379", 1) == "redis://:secret@127.0.0.1:6379/2"
    assert worker_url("redis://127.0.0.1:6379/12", 1) == "redis://127.0.0.1:6379/14"


def test_a_run_beside_the_workers_takes_the_redis_databases_it_is_given(monkeypatch):
    """make test's serial pass runs without xdist, beside the workers: TEST_REDIS_WORKER=N gives
    it worker N's databases, after the last worker's; a worker keeps its own."""
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("TEST_REDIS_WORKER", raising=False)
    assert _worker_number() is None
    monkeypatch.setenv("TEST_REDIS_WORKER", "2")
    assert _worker_number() == 2
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    assert _worker_number() == 1


def test_a_worker_past_the_last_redis_database_is_refused():
    with pytest.raises(RuntimeError, match="run fewer workers"):
        worker_url("redis://127.0.0.1:6379/12", 2)


@pytest.mark.django_db(transaction=True)
def test_emptying_the_tables_deletes_rows_and_truncates_only_the_append_only_trail():
    """On PostgreSQL the tests' connection empties tables with DELETE (tests/postgresql): the
    rows go, foreign keys and all; the audit trail, which refuses DELETE, is truncated."""
    if connection.vendor != "postgresql":
        pytest.skip("the tests' own PostgreSQL backend (make test uses it under CI=true)")
    statements = connection.ops.sql_flush(no_style(), ["members_user", "audit_auditentry"])
    assert 'DELETE FROM "members_user";' in statements
    assert 'TRUNCATE "audit_auditentry";' in statements
    UserFactory(role=Role.NATIONAL_STAFF)  # a user with a profile, a region and audit entries
    assert AuditEntry.objects.exists()

    call_command("flush", interactive=False, verbosity=0)

    assert not User.objects.exists()
    assert not Region.objects.exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_trainees_enrolled_in_bulk_are_as_the_factory_makes_them_one_by_one(client):
    """The chaos runs' bulk trainees: signed up, consenting, placed, trainees, enrolled, and
    the enrolment carries its member's place as EnrolmentFactory's does."""
    cohort = CohortFactory()
    one = EnrolmentFactory(cohort=cohort)
    bulk = trainees_enrolled(cohort, 3)
    assert len({enrolment.member.email for enrolment in bulk} | {one.member.email}) == 4
    for enrolment in [one, *bulk]:
        enrolment.refresh_from_db()
        member = enrolment.member
        assert member_onboarding_state(user=member).is_complete
        assert user_roles(member) == [Role.TRAINEE]
        assert enrolment.member_region_id == member.profile.region_id
        assert enrolment.programme_id == cohort.version.programme_id
    client.force_login(bulk[0].member)
    assert cohort.name in client.get(reverse("training:my-training")).content.decode()


@needs_redis_server
def test_a_redis_server_of_a_tests_own_is_its_own_even_when_its_port_is_taken(monkeypatch):
    """Two tests' servers (a parallel worker's and the serial pass's) may be handed the same
    free port: the second then answers with the first's server, and a test pausing "its"
    broker paused nothing (the Redis-down enqueue test saw a task handed over). The second
    moves on to another port, and each answers as itself."""
    first = OwnRedis()
    ports = iter([first.port])
    real_free_port = own_redis.free_port
    monkeypatch.setattr(own_redis, "free_port", lambda: next(ports, None) or real_free_port())
    try:
        second = OwnRedis()
        try:
            assert second.port != first.port
            for server in (first, second):
                assert Redis.from_url(server.url).info("server")["process_id"] == server.process.pid
            second.down("stopped")
            second.up()  # on its own port again
            assert Redis.from_url(second.url).info("server")["process_id"] == second.process.pid
        finally:
            second.close()
    finally:
        first.close()


@needs_redis_server
def test_the_tests_cache_waits_out_a_redis_slower_than_a_servers_quarter_second(redis_url, settings):
    """The test process's cache, configured as tests/conftest.py leaves it, keeps its value
    through a Redis that answers half a second late (paused, then resumed): with the project's
    quarter second it would miss, and skip Redis for the next five seconds."""
    server = OwnRedis()
    try:
        settings.CACHES = {
            "default": {**settings.CACHES["default"], "LOCATION": server.url},
        }
        from django.core.cache import cache

        cache.set("kept", "yes")
        server.down("paused")
        resume = threading.Timer(0.5, server.up)
        resume.start()
        try:
            assert cache.get("kept") == "yes"
        finally:
            resume.join()
    finally:
        server.close()


def test_the_test_process_collects_reference_cycles_less_often_than_python_by_default():
    """Full collections walk every object a test process holds (tests/conftest.py)."""
    youngest, _middle, oldest = gc.get_threshold()
    assert youngest > 700
    assert oldest > 10
    assert gc.get_freeze_count() > 100_000  # what collecting the tests left, out of the walks
