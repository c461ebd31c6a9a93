"""/healthz/ready reports the object store when STORAGE_URL is set: "ok" while it answers,
"down" (the node "degraded", still ready) when it cannot be reached or refuses the keys.
Against moto's S3 server."""

import socket

import pytest

from config.storage import storage_from_url
from tests.storage.object_store import ACCESS_KEY, BUCKET, REGION

pytestmark = pytest.mark.django_db


def _store_at(settings, url: str) -> None:
    settings.STORAGE_URL = url
    settings.STORAGES = {**settings.STORAGES, "default": storage_from_url(url)}


def _closed_port() -> int:
    """A local port nothing listens on (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_answering_store_is_ok(client, settings, object_store):
    _store_at(settings, object_store.url(prefix="health"))
    response = client.get("/healthz/ready")
    assert response.status_code == 200
    assert response.json()["checks"]["object_store"] == "ok"


@pytest.mark.parametrize("path", ["/healthz", "/healthz/ready"])
def test_a_store_that_cannot_be_reached_is_down_and_the_node_degraded_but_ready(client, settings, path):
    """As with Redis: the node still takes requests (pages without files work), and says so."""
    settings.REDIS_URL = ""  # only the store is asked besides the database
    _store_at(settings, f"s3://{ACCESS_KEY}:x@127.0.0.1:{_closed_port()}/{BUCKET}?region={REGION}&tls=false")
    response = client.get(path)
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "checks": {"database": "ok", "object_store": "down"}}


def test_a_bucket_the_store_does_not_have_is_down(client, settings, object_store):
    """The store answers, but not for this deployment's bucket: files could not be kept."""
    _store_at(settings, object_store.url().replace(BUCKET, "no-such-bucket"))
    assert client.get("/healthz/ready").json()["checks"]["object_store"] == "down"


def test_without_storage_url_the_store_is_not_asked(client, settings):
    settings.STORAGE_URL = ""
    assert "object_store" not in client.get("/healthz/ready").json()["checks"]
