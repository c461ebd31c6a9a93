"""Notices through a real Celery worker, Redis and PostgreSQL: each reminder reaches each
person exactly once, and a request never hangs when the broker is down.

The worker is a separate process on the pytest test database, so these tests commit their
data (transaction=True) and need PostgreSQL and Redis: they skip without them, and fail
under CI=true. The worker writes mail to files (Django's file backend, EMAIL_URL=filemail://),
one Message-ID per notice, which the test reads back.
"""

import datetime as dt
import email
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from config.celery import app
from config.tasks import ping
from members.permissions import Role
from tests.conftest import IN_CI
from tests.factories import CohortFactory, EnrolmentFactory, SessionFactory, UserFactory
from training.models import CohortStatus, Notice, NoticeKind, NoticeStatus
from training.services.notices import NOTICE_CLAIM_LEASE
from training.services.reminders import sweep
from training.tasks import notices_sweep

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 60  # seconds: a worker starting, a sweep, a batch sent
UNREACHABLE = "redis://127.0.0.1:1/0"  # nothing listens on port 1
MAIL_SEPARATOR = b"\n" + b"-" * 79 + b"\n"  # between messages in the file backend's files


# --- A worker process on the test database ------------------------------------------------


@pytest.fixture
def worker_database_url(transactional_db) -> str:
    """The pytest test database (test_<name>) as a URL for the worker process."""
    if connection.vendor != "postgresql":
        reason = "needs PostgreSQL shared with a worker process: set DATABASE_URL=postgres://..."
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "localhost"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{auth}@{host}{port}/{quote(db['NAME'], safe='')}"


class Worker:
    """`celery worker --pool=solo` on the configured Redis and the test database."""

    def __init__(self, *, env: dict, log_path: Path):
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self, **env) -> None:
        assert self.process is None, "one worker at a time"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own worker command
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--queues=celery,sweeps",
                    "--pool=solo",
                    "--concurrency=1",
                    "--loglevel=WARNING",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                ],
                cwd=settings.BASE_DIR,
                env={**self.env, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.drain()

    def drain(self) -> None:
        """Wait until the worker has run everything queued before now (one process, each
        queue in order): a ping on the sweeps' queue comes back after the sweeps, then one on
        the default queue after the sends those sweeps asked for."""
        try:
            assert ping.apply_async(queue=settings.SWEEPS_QUEUE).get(timeout=WAIT) == "pong"
            assert ping.delay().get(timeout=WAIT) == "pong"
        except Exception as error:
            raise AssertionError(f"The worker did not answer: {error}\n{self.log()}") from error

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no acknowledgement, nothing recorded."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=WAIT)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=WAIT)
        self.process = None

    def log(self) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "Worker log (tail):\n" + text[-4000:]


@pytest.fixture
def mail_dir(tmp_path) -> Path:
    path = tmp_path / "mail"
    path.mkdir()
    return path


@pytest.fixture
def celery_worker(redis_url, worker_database_url, mail_dir, tmp_path):
    """A worker to start (and kill, and start again) in the test; stopped afterwards.

    Named `celery_worker` so that tests/conftest.py leaves Celery as configured (Redis)."""
    worker = Worker(
        env={
            **os.environ,
            "REDIS_URL": redis_url,
            "DATABASE_URL": worker_database_url,
            "EMAIL_URL": f"filemail:///{mail_dir}",  # an absolute path needs four slashes
        },
        log_path=tmp_path / "worker.log",
    )
    assert not app.conf.task_always_eager
    yield worker
    worker.stop()


# --- Helpers ---------------------------------------------------------------------------------


def delivered(mail_dir: Path) -> list[tuple[str, str]]:
    """(To, Message-ID) of every message the worker wrote."""
    messages = []
    for path in sorted(mail_dir.iterdir()):
        for chunk in path.read_bytes().split(MAIL_SEPARATOR):
            if chunk.strip():
                message = email.message_from_bytes(chunk)
                messages.append((message["To"], message["Message-ID"]))
    return messages


def message_id(notice_id: int) -> str:
    return f"<notice-{notice_id}@{settings.NOTICE_MESSAGE_ID_DOMAIN}>"


def wait_until(condition, *, what: str, worker: Worker, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out waiting until {what}.\n{worker.log()}")
        time.sleep(0.2)


def all_sent(**filters):
    notices = Notice.objects.filter(**filters)
    return lambda: notices.exists() and not notices.exclude(status=NoticeStatus.SENT).exists()


def sweep_through_broker() -> dict:
    return notices_sweep.delay().get(timeout=WAIT)


def running_cohort_with_session(*, starts_in=dt.timedelta(hours=1), trainer_role=Role.TRAINEE):
    """A running cohort with a trainer and three trainees, and a session starting soon."""
    trainer = UserFactory(role=trainer_role)
    cohort = CohortFactory(trainers=[trainer], status=CohortStatus.RUNNING)
    trainees = [EnrolmentFactory(cohort=cohort).member for _ in range(3)]
    start = timezone.now() + starts_in
    session = SessionFactory(cohort=cohort, starts_at=start, ends_at=start + dt.timedelta(hours=2))
    return session, [trainer, *trainees]


def assert_once_each(mail_dir: Path, notices) -> None:
    """Every notice went exactly once, to its recipient; nothing else went."""
    messages = delivered(mail_dir)
    expected = {message_id(notice.pk): notice.recipient.email for notice in notices}
    assert Counter(mid for _to, mid in messages) == Counter(expected.keys())
    assert {mid: to for to, mid in messages} == expected


@contextmanager
def redis_unreachable():
    """Point this process's Celery (broker and result store, both on REDIS_URL) at a port
    where nothing listens, as when Redis is down; put it back afterwards."""
    saved = app.conf.broker_url, app.conf.result_backend

    def forget_connections():
        # Connections and the result store are kept per app: drop them so the next send
        # connects to whatever the configuration now says.
        app._pool = None
        app.amqp._producer_pool = None
        app._backend_cache = None
        app._local.backend = None

    app.conf.broker_url = app.conf.result_backend = UNREACHABLE
    forget_connections()
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.result_backend = saved
        forget_connections()


# --- Exactly once ------------------------------------------------------------------------------


def test_reminders_go_once_per_person_and_a_lapsed_claim_is_sent_once(celery_worker, mail_dir):
    """Through Redis and a worker: one reminder per person; a second sweep sends none
    more; a notice left claimed by a worker that died is sent once when its claim lapses."""
    session, people = running_cohort_with_session()
    celery_worker.start()

    report = sweep_through_broker()
    assert report == {"written": 4, "waiting": 4, "enqueued": 4}
    wait_until(all_sent(), what="every reminder is sent", worker=celery_worker)
    reminders = Notice.objects.filter(subject=f"session:{session.pk}").select_related("recipient")
    assert sorted(notice.recipient_id for notice in reminders) == sorted(person.pk for person in people)
    assert_once_each(mail_dir, reminders)

    assert sweep_through_broker() == {"written": 0, "waiting": 0, "enqueued": 0}
    celery_worker.drain()
    assert_once_each(mail_dir, reminders)

    # A worker claimed a reminder of a second session and died before sending it: the
    # claim is older than the lease, so the sweep hands it to a new task, with the others.
    later = SessionFactory(
        cohort=session.cohort,
        starts_at=session.starts_at + dt.timedelta(minutes=30),
        ends_at=session.ends_at + dt.timedelta(minutes=30),
    )
    due_at = later.starts_at - dt.timedelta(hours=2)
    long_ago = timezone.now() - NOTICE_CLAIM_LEASE - dt.timedelta(minutes=1)
    assert sweep().written == 4  # in this process: written, not yet handed to a worker
    # One of them was claimed by a task whose worker died before sending it.
    Notice.objects.filter(recipient=people[1], subject=f"session:{later.pk}", scheduled_for=due_at).update(
        status=NoticeStatus.SENDING,
        attempts=1,
        enqueued_at=long_ago,
        claimed_by="a-task-whose-worker-died",
        claimed_at=long_ago,
    )

    assert sweep_through_broker() == {"written": 0, "waiting": 4, "enqueued": 4}
    wait_until(
        all_sent(subject=f"session:{later.pk}"), what="the later reminders are sent", worker=celery_worker
    )
    assert sweep_through_broker() == {"written": 0, "waiting": 0, "enqueued": 0}
    celery_worker.drain()
    assert_once_each(mail_dir, Notice.objects.select_related("recipient"))
    assert Notice.objects.count() == 8


def test_a_worker_killed_between_claim_and_send_loses_nothing_and_sends_once(celery_worker, mail_dir):
    """SIGKILL while the worker holds the claim and waits for the mail server: nothing is
    sent twice while the claim is live, and everything is sent once after the lease."""
    session, people = running_cohort_with_session()
    # A mail server that accepts the connection and never says hello: the worker waits
    # there, after claiming its batch and before sending any of it.
    with socket.create_server(("127.0.0.1", 0)) as silent_server:
        port = silent_server.getsockname()[1]
        celery_worker.start(EMAIL_URL=f"smtp://127.0.0.1:{port}")
        assert sweep_through_broker()["enqueued"] == 4
        wait_until(
            lambda: Notice.objects.filter(status=NoticeStatus.SENDING).count() == 4,
            what="the batch is claimed",
            worker=celery_worker,
        )
        readable, _w, _x = select.select([silent_server], [], [], WAIT)
        assert readable, "the worker never connected to the mail server"
        celery_worker.kill()

    assert set(Notice.objects.values_list("status", flat=True)) == {NoticeStatus.SENDING}
    assert len(set(Notice.objects.values_list("claimed_by", flat=True))) == 1  # the killed task
    assert delivered(mail_dir) == []

    # A new worker, before the lease has run out: the dead worker's claim stands.
    celery_worker.start()
    assert sweep_through_broker() == {"written": 0, "waiting": 0, "enqueued": 0}
    celery_worker.drain()
    assert delivered(mail_dir) == []

    # The lease runs out (the worker's clock cannot be frozen; the claim is aged instead).
    Notice.objects.update(claimed_at=F("claimed_at") - NOTICE_CLAIM_LEASE - dt.timedelta(seconds=1))
    assert sweep_through_broker() == {"written": 0, "waiting": 4, "enqueued": 4}
    wait_until(all_sent(), what="the reminders are sent after the lease", worker=celery_worker)
    assert sweep_through_broker() == {"written": 0, "waiting": 0, "enqueued": 0}
    celery_worker.drain()
    notices = Notice.objects.select_related("recipient")
    assert_once_each(mail_dir, notices)
    assert {notice.recipient_id for notice in notices} == {person.pk for person in people}


# --- Redis down ----------------------------------------------------------------------------------


def test_with_redis_down_a_cancellation_still_succeeds_and_the_next_sweep_sends(
    client, seeded, celery_worker, mail_dir
):
    """Cancelling a session while Redis is unreachable: the page answers at once,
    the cancellations wait in the ledger, and the next sweep sends them."""
    session, people = running_cohort_with_session(trainer_role=Role.TRAINER)
    client.force_login(people[0])
    url = reverse("training:session-cancel", args=[session.pk])
    assert client.get(url).status_code == 200  # the confirmation page (and the imports)

    with redis_unreachable():
        started = time.monotonic()
        response = client.post(url)
        elapsed = time.monotonic() - started

    assert response.status_code == 302
    assert elapsed < 5, f"the request took {elapsed:.1f}s"
    cancellations = Notice.objects.filter(kind=NoticeKind.SESSION_CANCELLED).select_related("recipient")
    assert {notice.recipient_id for notice in cancellations} == {person.pk for person in people}
    assert {(notice.status, notice.enqueued_at) for notice in cancellations} == {(NoticeStatus.PENDING, None)}

    celery_worker.start()
    assert sweep_through_broker() == {"written": 0, "waiting": 4, "enqueued": 4}
    wait_until(all_sent(), what="the cancellations are sent", worker=celery_worker)
    assert_once_each(mail_dir, cancellations)
    assert not Notice.objects.filter(kind=NoticeKind.SESSION_REMINDER).exists()
