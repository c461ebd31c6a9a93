"""Metrics for Prometheus at /metrics, for operators only (docs/decisions/0026-observability.md).

Two kinds:
- Counted by each process as requests pass (RequestMetricsMiddleware): requests by view,
  method and status, and their latency by view. Under gunicorn with several workers each
  worker counts its own, so set PROMETHEUS_MULTIPROC_DIR (an empty folder, emptied at each
  start) in the web processes' environment: prometheus-client then keeps the counts in files
  there and any worker's /metrics answers for all of them.
- Read at scrape time (StateCollector): Celery's queue lengths in Redis, notices waiting and
  failed, webhook deliveries by status (given up among them), certificates issued. A fixed
  number of queries per scrape (one per figure, through each app's selectors) and one Redis
  round trip, whatever the number of rows.

Who may read it: a client whose address (as the rate limits see it: TRUSTED_PROXY_COUNT or
TRUSTED_CLIENT_IP_HEADER behind a proxy) is in METRICS_ALLOWED_IPS, or a request with
`Authorization: Bearer <METRICS_TOKEN>`. Anyone else gets the site's 404, and with neither
set nobody reaches it.
"""

import hmac
import ipaddress
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from redis import Redis
from redis.exceptions import RedisError

# Counted per process, in this registry (or, with PROMETHEUS_MULTIPROC_DIR, in its files).
REQUEST_REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "fl_http_requests",
    "Requests answered, by view (URL name), method and status code.",
    ["view", "method", "status"],
    registry=REQUEST_REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "fl_http_request_duration_seconds",
    "Time from the first middleware in to the response out, by view (URL name).",
    ["view"],
    registry=REQUEST_REGISTRY,
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
# Anything else is counted as "other": a label's values must stay few.
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
# kombu's Redis transport keeps a task sent with a priority in its own list, the queue's name
# followed by this separator and the priority step; without one, in the list of the name.
KOMBU_PRIORITY_SEPARATOR = "\x06\x16"
KOMBU_PRIORITY_STEPS = (3, 6, 9)


def _view_label(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None and match.view_name:
        return match.view_name
    if request.path.startswith(settings.STATIC_URL):
        return "static"  # answered by WhiteNoise before any URL is resolved
    return "unresolved"  # a 404 with no pattern, or an answer from a middleware (a redirect to HTTPS)


class RequestMetricsMiddleware:
    """Second in MIDDLEWARE (after the request id): it times everything after it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        view = _view_label(request)
        method = request.method if request.method in METHODS else "other"
        REQUESTS.labels(view=view, method=method, status=str(response.status_code)).inc()
        REQUEST_SECONDS.labels(view=view).observe(time.perf_counter() - started)
        return response


def celery_queue_names() -> list[str]:
    """The queues tasks are sent to: the default one, the sweeps' and any named in routes."""
    names = {settings.CELERY_TASK_DEFAULT_QUEUE, settings.SWEEPS_QUEUE}
    names |= {route["queue"] for route in settings.CELERY_TASK_ROUTES.values() if "queue" in route}
    return sorted(names)


def celery_queue_lengths() -> dict[str, int] | None:
    """Tasks waiting in each queue, in one round trip to the broker's Redis; None without
    Redis (tasks run inline) or when it does not answer."""
    if not settings.REDIS_URL:
        return None
    names = celery_queue_names()
    keys = [
        [name, *(f"{name}{KOMBU_PRIORITY_SEPARATOR}{step}" for step in KOMBU_PRIORITY_STEPS)]
        for name in names
    ]
    try:
        client = Redis.from_url(settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5)
        pipeline = client.pipeline(transaction=False)
        for key in (key for group in keys for key in group):
            pipeline.llen(key)
        lengths = iter(pipeline.execute())
    except RedisError:
        return None
    return {name: sum(next(lengths) for _ in group) for name, group in zip(names, keys, strict=True)}


@dataclass(frozen=True)
class CountsByStatus:
    """A figure an app offers to the scrape: its rows counted by status (one query)."""

    name: str
    documentation: str
    counts: Callable[[], dict[str, int]]


# Registered by each app in its ready() (config is the lowest layer: it names no app).
_counts_by_status: list[CountsByStatus] = []


def counts_by_status_register(figure: CountsByStatus) -> None:
    _counts_by_status.append(figure)


class StateCollector:
    """Figures read from the database and the broker at each scrape."""

    def collect(self):
        lengths = celery_queue_lengths()
        if settings.REDIS_URL:
            redis_up = GaugeMetricFamily("fl_broker_up", "1 when the broker's Redis answered this scrape.")
            redis_up.add_metric([], 0 if lengths is None else 1)
            yield redis_up
        if lengths is not None:
            queues = GaugeMetricFamily(
                "fl_celery_queue_length", "Tasks waiting in each Celery queue in Redis.", labels=["queue"]
            )
            for name, length in lengths.items():
                queues.add_metric([name], length)
            yield queues
        for figure in _counts_by_status:
            yield _by_status(figure.name, figure.documentation, figure.counts())


def _by_status(name: str, documentation: str, counts: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=["status"])
    for status, count in counts.items():
        family.add_metric([str(status)], count)
    return family


class _Registry:
    """A registry's metrics as one collector of another registry."""

    def __init__(self, registry: CollectorRegistry):
        self.registry = registry

    def collect(self):
        yield from self.registry.collect()


def request_metrics_collector():
    """The request metrics: every process's (the files in PROMETHEUS_MULTIPROC_DIR) when it
    is set, else this process's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return MultiProcessCollector(None)
    return _Registry(REQUEST_REGISTRY)


def metrics_exposition() -> bytes:
    """The text a scrape gets: the request metrics and the state read now."""
    registry = CollectorRegistry()
    registry.register(request_metrics_collector())
    registry.register(StateCollector())
    return generate_latest(registry)


def metrics_access_allowed(request) -> bool:
    """METRICS_TOKEN as a bearer token, or a client address in METRICS_ALLOWED_IPS."""
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return True
    if not settings.METRICS_ALLOWED_IPS:
        return False
    try:
        address = ipaddress.ip_address(get_adapter(request).get_client_ip(request))
    except (PermissionDenied, ValueError):
        return False
    return any(
        address in ipaddress.ip_network(allowed, strict=False) for allowed in settings.METRICS_ALLOWED_IPS
    )


@never_cache
@require_GET
def metrics(request):
    """Operators only (see the module's docstring); a 404 to anyone else."""
    if not metrics_access_allowed(request):
        raise Http404
    return HttpResponse(metrics_exposition(), content_type=CONTENT_TYPE_LATEST)
