"""Health checks for load balancers and uptime checks (docs/decisions/0021-redis-down.md).

- /healthz/live: the process answers; nothing else is asked. A failing liveness check means
  "restart this process".
- /healthz/ready (and /healthz, as before, the same answer): may this node take requests?
  The database is required (no page works without it): 503 when it is down. Redis is
  reported but does not fail readiness: with it down, pages still work (the cache misses,
  rate limits let requests through, tasks wait in the database for the sweeps), and Redis
  is shared by every node, so failing on it would take every node out at once. The object
  store (with STORAGE_URL) is reported the same way, for the same reasons: only the pages that
  read or write files need it, and every node shares it.
"""

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files.storage import storages
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from redis import Redis
from redis.exceptions import RedisError


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # noqa: BLE001 - any failure means "down"
        return False


def _redis_ok() -> bool:
    try:
        client = Redis.from_url(settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5)
        return bool(client.ping())
    except RedisError:
        return False


# A probe that answers within a second or says "down": never boto3's default minute-long
# connect timeout and retries, which would hold the load balancer's check.
OBJECT_STORE_PROBE = Config(
    connect_timeout=1, read_timeout=1, retries={"max_attempts": 1, "mode": "standard"}
)


def _object_store_ok() -> bool:
    """The store lists the storage's prefix (at most one key) for the storage's own keys. A
    refusal (bad keys, no such bucket), an error or no answer is "down"."""
    storage = storages["default"]
    client = boto3.client(
        "s3",
        endpoint_url=storage.endpoint_url,
        region_name=storage.region_name,
        aws_access_key_id=storage.access_key or None,
        aws_secret_access_key=storage.secret_key or None,
        config=OBJECT_STORE_PROBE.merge(Config(s3={"addressing_style": storage.addressing_style})),
    )
    try:
        client.list_objects_v2(Bucket=storage.bucket_name, Prefix=storage.location, MaxKeys=1)
    except (BotoCoreError, ClientError):
        return False
    return True


@never_cache
@require_GET
def healthz_live(request):
    """Anyone: 200 while this process answers requests; no dependency is asked."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def healthz_ready(request):
    """Anyone: 200 when the database answers, else 503; Redis and the object store, when
    configured, are reported ("degraded" when down) without failing the check."""
    checks = {"database": "ok" if _database_ok() else "down"}
    if settings.REDIS_URL:
        checks["redis"] = "ok" if _redis_ok() else "down"
    if settings.STORAGE_URL:
        checks["object_store"] = "ok" if _object_store_ok() else "down"
    if checks["database"] != "ok":
        status, code = "down", 503
    elif "down" in checks.values():
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return JsonResponse({"status": status, "checks": checks}, status=code)


# /healthz, kept for the checks already pointed at it: the readiness answer.
healthz = healthz_ready
