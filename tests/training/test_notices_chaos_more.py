"""More chaos, end to end (decision 0008's fault table): the broker's queue lost while
batches wait in it, two beats at once and a beat killed and restarted, and the worker's
PostgreSQL connection dropped in the middle of a batch and while it is idle.

The same rig as test_notices_chaos.py: a real worker, a Redis of the test's own, a counting
mail server. Needs PostgreSQL and redis-server: skipped without them locally, failed under
CI=true. The machine's own Redis is never touched; only the worker's own connections to the
test database are terminated (found by their application_name).
"""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from config.tasks import ping
from tests.factories import CohortFactory, SessionFactory, UserFactory, trainees_enrolled
from tests.training.test_notices_chaos import WAIT, _beat, _point_celery_at, _wait, chaos  # noqa: F401
from tests.training.test_notices_worker import message_id, worker_database_url  # noqa: F401
from training.models import CohortStatus, Notice, NoticeStatus
from training.tasks import notices_sweep

pytestmark = pytest.mark.django_db(transaction=True)

WORKER_APP = "fl_chaos_worker"


def _reminders_due(trainees: int) -> None:
    trainer = UserFactory()
    cohort = CohortFactory(trainers=[trainer], status=CohortStatus.RUNNING)
    trainees_enrolled(cohort, trainees)
    start = timezone.now() + timezone.timedelta(hours=1)
    SessionFactory(cohort=cohort, starts_at=start, ends_at=start + timezone.timedelta(hours=2))


def _all_sent(expected_count: int):
    notices = Notice.objects.all()
    return lambda: (
        notices.count() == expected_count and not notices.exclude(status=NoticeStatus.SENT).exists()
    )


def _figures(smtp) -> tuple[set, int]:
    expected = {message_id(pk) for pk in Notice.objects.values_list("pk", flat=True)}
    accepted = dict(smtp.accepted)
    assert set(accepted) == expected  # nothing missing, nothing else
    assert not Notice.objects.filter(sent_at__isnull=True).exists()  # the ledger agrees
    return expected, sum(count - 1 for count in accepted.values())


def _stragglers() -> None:
    for _ in range(3):
        _beat()
        time.sleep(1)


def _terminate_worker_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND application_name = %s AND pid <> pg_backend_pid()",
            [connection.settings_dict["NAME"], WORKER_APP],
        )
        return cursor.fetchone()[0]


def redis_queue_length(redis) -> int:
    import redis as redis_client

    return redis_client.Redis.from_url(redis.url).llen("celery")


def test_a_broker_queue_lost_with_batches_in_it_loses_nothing(chaos):  # noqa: F811
    """Batches queued and no worker to take them; Redis restarted empty; then a worker."""
    redis, smtp, worker = chaos
    _reminders_due(149)
    notices_sweep()  # here, in the test: the notices are written, their batches queued
    assert Notice.objects.filter(status=NoticeStatus.PENDING).count() == 150
    assert redis_queue_length(redis) >= 2  # batches wait in the broker; no worker yet
    redis.down("stopped")
    redis.up()  # empty: the queue is gone
    _point_celery_at(redis.url)
    lost_at = time.monotonic()
    worker.start()
    recovered = _wait(_all_sent(150), what="every reminder is sent", worker=worker)
    _stragglers()
    expected, duplicates = _figures(smtp)
    print(
        f"\nqueue lost: {len(expected)} reminders, {duplicates} duplicates, all sent {recovered:.1f} s after"
    )
    assert duplicates == 0  # nothing was in flight
    assert time.monotonic() - lost_at < WAIT


class Beat:
    """`celery beat` with django-celery-beat's DatabaseScheduler (the settings'), on the test
    database, sweeping every second."""

    def __init__(self, env: dict, log_path):
        self.env = env
        self.log_path = log_path
        self.process = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own beat command
                [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=WARNING"],
                cwd=settings.BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=WAIT)
            self.process = None


def test_two_beats_at_once_and_a_beat_killed_send_nothing_twice(chaos, tmp_path):  # noqa: F811
    redis, smtp, worker = chaos
    _reminders_due(299)
    env = {**worker.env, "NOTICE_SWEEP_SECONDS": "1"}
    beats = [Beat(env, tmp_path / "beat1.log"), Beat(env, tmp_path / "beat2.log")]
    try:
        for beat in beats:
            beat.start()
        worker.start()
        assert ping.delay().get(timeout=WAIT) == "pong"
        started = time.monotonic()
        notices = Notice.objects.all()
        deadline = time.monotonic() + WAIT
        while smtp.total < 100:  # both beats ask for sweeps; the worker sends
            assert time.monotonic() < deadline, worker.log()
            time.sleep(0.05)
        beats[0].kill()  # one beat killed mid-run, and started again
        beats[0].start()
        deadline = time.monotonic() + WAIT
        while not _all_sent(300)():  # no help from the test: the beats alone
            assert time.monotonic() < deadline, worker.log() + (tmp_path / "beat1.log").read_text()
            time.sleep(0.1)
        took = time.monotonic() - started
        time.sleep(3)  # both beats keep sweeping: nothing more may go
    finally:
        for beat in beats:
            beat.kill()
    expected, duplicates = _figures(smtp)
    print(f"\ntwo beats, one killed: {len(expected)} sent, {duplicates} duplicates, all sent in {took:.1f} s")
    assert duplicates == 0
    assert notices.count() == 300


def test_the_workers_database_connection_dropped_mid_batch_and_idle(chaos):  # noqa: F811
    redis, smtp, worker = chaos
    _reminders_due(299)
    worker.env = {
        **worker.env,
        "DATABASE_URL": worker.env["DATABASE_URL"] + f"?application_name={WORKER_APP}",
    }
    worker.start()
    assert ping.delay().get(timeout=WAIT) == "pong"
    # 1. Mid-batch: the UPDATE after an accepted message fails; the batch ends.
    _wait(lambda: smtp.total >= 40, what="the first batch is being sent", worker=worker)
    assert _terminate_worker_connections() >= 1
    dropped_at = time.monotonic()
    recovered = _wait(_all_sent(300), what="every reminder is sent", worker=worker)
    # 2. Idle: the worker's connection is dropped between tasks; the next task must reconnect
    # (Celery's Django fix-up closes the connections before and after every task).
    _terminate_worker_connections()
    assert ping.delay().get(timeout=WAIT) == "pong"
    _reminders_due(9)
    _wait(_all_sent(310), what="the later reminders are sent", worker=worker)
    _stragglers()
    expected, duplicates = _figures(smtp)
    print(
        f"\nconnection dropped: {len(expected)} reminders, {duplicates} duplicates, 0 missing; "
        f"all sent {recovered:.1f} s after the drop mid-batch"
    )
    assert duplicates <= 1  # the one message accepted whose record failed
    assert time.monotonic() - dropped_at < 2 * WAIT


def test_a_web_process_survives_its_connection_dropped_between_requests(worker_database_url):  # noqa: F811
    """What a request does with a persistent connection (CONN_MAX_AGE): request_started runs
    close_old_connections, and CONN_HEALTH_CHECKS makes the next query check it and reconnect,
    instead of failing with "the connection is closed"."""
    import psycopg
    from django.db import close_old_connections

    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
    close_old_connections()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with psycopg.connect(
        worker_database_url.replace("postgres://", "postgresql://"), autocommit=True
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    close_old_connections()  # the next request starts
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid
