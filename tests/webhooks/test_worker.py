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
from tests.training.test_notices_worker import Worker, worker_database_url  # noqa: F401 - a fixture
from webhooks.models import Delivery, DeliveryStatus, EventType
from webhooks.services import webhook_event_record

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

    deadline = time.monotonic() + WAIT
    while Delivery.objects.get(pk=delivery.pk).status != DeliveryStatus.DELIVERED:
        assert time.monotonic() < deadline, f"Not delivered in time.\n{celery_worker.log()}"
        time.sleep(0.2)

    (got,) = receiver.received
    assert got.signature_ok
    assert got.json["data"] == {"certificate_id": 7}
    assert got.headers["X-Webhook-Id"] == str(delivery.event_id)
    assert Delivery.objects.get(pk=delivery.pk).attempts == 1
    assert endpoint.deliveries.count() == 1
