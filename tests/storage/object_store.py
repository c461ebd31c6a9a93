"""An S3-compatible object store for the tests: moto's server mode (`moto[server]`, pure
Python, from PyPI), started once per test run on a free local port
(docs/decisions/0025-object-storage.md).

`on_object_storage` points the default storage at it for one test, under a prefix of its own
(as each test has its own MEDIA_ROOT). Tests marked `object_storage` (the upload, PDF, export
and import tests: tests/conftest.py lists them) use it under CI=true, or locally with
TEST_STORAGE=s3; tests/storage/ always does.
"""

import logging
import secrets
from dataclasses import dataclass

import boto3
import pytest

from config.storage import storage_from_url

BUCKET = "future-leaders-test"
# moto accepts any keys; these only have to be the same on both sides.
ACCESS_KEY, SECRET_KEY = "test-access-key", "test-secret-key"  # noqa: S105 - moto's, not real
REGION = "eu-west-2"


@dataclass(frozen=True)
class ObjectStore:
    host: str
    port: int

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, *, prefix: str = "") -> str:
        """A STORAGE_URL for this store (and a prefix in its bucket)."""
        path = f"{BUCKET}/{prefix}".rstrip("/")
        return f"s3://{ACCESS_KEY}:{SECRET_KEY}@{self.host}:{self.port}/{path}?region={REGION}&tls=false"

    def client(self):
        """A boto3 client of the store, to look at objects as the store itself keeps them."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )

    def keys(self, *, prefix: str) -> list[str]:
        listing = self.client().list_objects_v2(Bucket=BUCKET, Prefix=prefix)
        return [entry["Key"] for entry in listing.get("Contents", [])]


@pytest.fixture(scope="session")
def object_store():
    """moto's S3 server in a thread of the test process, with the test bucket made."""
    from moto.server import ThreadedMotoServer

    # Its access log (werkzeug's) would fill every failing test's captured output.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    store = ObjectStore(host=host, port=port)
    store.client().create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    yield store
    server.stop()


@pytest.fixture
def on_object_storage(object_store, settings):
    """The default storage on the object store, under a prefix of this test's own. Returns
    the prefix."""
    prefix = f"test-{secrets.token_hex(6)}"
    settings.STORAGES = {**settings.STORAGES, "default": storage_from_url(object_store.url(prefix=prefix))}
    return prefix
