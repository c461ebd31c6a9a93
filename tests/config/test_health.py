"""/healthz reports the state of the database and, when configured, Redis."""

import os
import subprocess
import sys

import pytest
from django.conf import settings


@pytest.mark.django_db
def test_healthy_when_everything_answers(client, settings):
    """With the database up (and Redis, when configured), /healthz answers 200."""
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert ("redis" in body["checks"]) == bool(settings.REDIS_URL)


@pytest.mark.django_db
def test_reports_redis_when_configured(client, settings, redis_url):
    """With a reachable Redis configured, its state is part of the answer."""
    settings.REDIS_URL = redis_url
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["redis"] == "ok"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/healthz/ready"])
def test_ready_but_degraded_when_only_redis_is_down(client, settings, path):
    """A configured Redis that does not answer is reported, but the node stays ready (200):
    pages work without it, and every node shares it (docs/decisions/0021-redis-down.md)."""
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get(path)
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "redis": "down"},
    }


@pytest.mark.django_db
def test_live_asks_no_dependency(client, settings, django_assert_num_queries):
    """/healthz/live answers 200 without asking the database or Redis."""
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    with django_assert_num_queries(0):
        response = client.get("/healthz/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_unavailable_when_the_database_is_down():
    """A database that cannot be reached makes /healthz answer 503, not 500."""
    script = (
        "from django.test import Client; r = Client().get('/healthz'); "
        "print(r.status_code, r.content.decode())"
    )
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere",  # nothing listens on port 1
        "REDIS_URL": "",
        "ALLOWED_HOSTS": "testserver",
        "HTTPS": "false",
    }
    result = subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "503 {" in result.stdout, result.stdout + result.stderr
    assert '"database": "down"' in result.stdout


def test_only_get(client):
    """/healthz changes nothing and refuses other methods."""
    assert client.post("/healthz").status_code == 405
