"""One delivery end to end through a real Celery worker, Redis and PostgreSQL: the event
commits, the on-commit task reaches the worker through Redis, and the worker POSTs to the
receiver in this process, which checks the signature.

Like tests/training/test_notices_worker.py (whose worker fixture this reuses), the worker is
another process on the test database, so the test commits its data; it skips without
PostgreSQL and Redis, and fails under CI=true.
"""

import os
import time

import pytest
from django.db import transaction

from config.celery import app
from tests.training.test_notices_worker import (  # noqa: F401 - worker_database_url is a fixture
    Worker,
    redis_unreachable,
    worker_database_url,
)
from webhooks.models import Delivery, DeliveryStatus, EventType
from webhooks.services import webhook_event_record
from webhooks.tasks import deliveries_sweep

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 60


@pytest.fixture
def celery_worker(redis_url, worker_database_url, tmp_path):  # noqa: F811
    """Named `celery_worker` so that tests/conftest.py leaves Celery as configured (Redis)."""
    worker = Worker(
        env={
            **os.environ,
            "REDIS_URL": redis_url,
            "DATABASE_URL": worker_database_url,
            "WEBHOOKS_ALLOW_LOCAL_HTTP": "true",
        },
        log_path=tmp_path / "worker.log",
    )
    assert not app.conf.task_always_eager
    yield worker
    worker.stop()


def test_a_committed_event_is_delivered_by_the_worker(celery_worker, receiver, endpoint_for):
    endpoint = endpoint_for(receiver, events=[EventType.CERTIFICATE_ISSUED])
    celery_worker.start()

    with transaction.atomic():
        (delivery,) = webhook_event_record(
            event_type=EventType.CERTIFICATE_ISSUED, payload={"certificate_id": 7}
        )
        # Not before the commit: the worker cannot see the row yet, and is not asked.
        assert receiver.received == []

    _wait_delivered(delivery, celery_worker)

    (got,) = receiver.received
    assert got.signature_ok
    assert got.json["data"] == {"certificate_id": 7}
    assert got.headers["X-Webhook-Id"] == str(delivery.event_id)
    assert Delivery.objects.get(pk=delivery.pk).attempts == 1
    assert endpoint.deliveries.count() == 1


def _wait_delivered(delivery, worker) -> None:
    deadline = time.monotonic() + WAIT
    while Delivery.objects.get(pk=delivery.pk).status != DeliveryStatus.DELIVERED:
        assert time.monotonic() < deadline, f"Not delivered in time.\n{worker.log()}"
        time.sleep(0.2)


def test_with_redis_down_the_event_still_commits_and_the_sweep_sends_it_later(
    celery_worker, receiver, endpoint_for
):
    """The broker cannot be reached when the event commits: the change stands, the enqueue
    gives up within seconds without raising, the row waits unmarked, and once Redis is back
    the sweep hands it to the worker."""
    endpoint_for(receiver, events=[EventType.LEADER_REGISTERED])
    with redis_unreachable():
        started = time.monotonic()
        with transaction.atomic():
            (delivery,) = webhook_event_record(
                event_type=EventType.LEADER_REGISTERED, payload={"member_id": 1}
            )
        took = time.monotonic() - started
    assert took < 10
    waiting = Delivery.objects.get(pk=delivery.pk)
    assert (waiting.status, waiting.enqueued_at) == (DeliveryStatus.PENDING, None)
    assert receiver.received == []

    celery_worker.start()
    assert deliveries_sweep.delay().get(timeout=WAIT)["enqueued"] == 1
    _wait_delivered(delivery, celery_worker)
    assert len(receiver.received) == 1
    assert receiver.received[0].signature_ok
