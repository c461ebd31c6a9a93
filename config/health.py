"""Health checks for load balancers and uptime checks (docs/decisions/0021-redis-down.md).

- /healthz/live: the process answers; nothing else is asked. A failing liveness check means
  "restart this process".
- /healthz/ready (and /healthz, as before, the same answer): may this node take requests?
  The database is required (no page works without it): 503 when it is down. Redis is
  reported but does not fail readiness: with it down, pages still work (the cache misses,
  rate limits let requests through, tasks wait in the database for the sweeps), and Redis
  is shared by every node, so failing on it would take every node out at once.
"""

from django.conf import settings
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


@never_cache
@require_GET
def healthz_live(request):
    """Anyone: 200 while this process answers requests; no dependency is asked."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def healthz_ready(request):
    """Anyone: 200 when the database answers, else 503; Redis, when configured, is reported
    ("degraded" when down) without failing the check."""
    checks = {"database": "ok" if _database_ok() else "down"}
    if settings.REDIS_URL:
        checks["redis"] = "ok" if _redis_ok() else "down"
    if checks["database"] != "ok":
        status, code = "down", 503
    elif "down" in checks.values():
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return JsonResponse({"status": status, "checks": checks}, status=code)


# /healthz, kept for the checks already pointed at it: the readiness answer.
healthz = healthz_ready
