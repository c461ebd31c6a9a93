"""A real Celery worker consumes from Redis with the project's settings."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

from config.tasks import ping


@pytest.fixture
def celery_worker(redis_url):
    """A worker process on the configured Redis, stopped after the test."""
    env = {**os.environ, "REDIS_URL": redis_url}
    process = subprocess.Popen(  # noqa: S603 - our own worker command
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
        ],
        cwd=settings.BASE_DIR,
        env=env,
    )
    yield process
    process.terminate()
    process.wait(timeout=30)


def test_worker_runs_a_task_sent_through_redis(celery_worker):
    """A task sent to the broker is run by the worker and its result comes back."""
    assert settings.CELERY_TASK_ALWAYS_EAGER is False
    result = ping.delay()
    assert result.get(timeout=60) == "pong"
