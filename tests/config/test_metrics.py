"""/metrics for Prometheus: operators only, parseable, a fixed cost per scrape, and the
request counts of several processes added up (config.metrics)."""

import os
import subprocess
import sys

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis

from certification.models import CertificateStatus
from config.metrics import celery_queue_names
from tests.config.own_redis import OwnRedis, needs_redis_server
from tests.factories import UserFactory
from training.models import NoticeKind, NoticeStatus

pytestmark = pytest.mark.django_db

METRICS = "/metrics"


def samples(text: str) -> dict[tuple, float]:
    """Every sample, keyed by (name, sorted labels)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_nobody_reaches_it_by_default(client, settings):
    """Neither METRICS_ALLOWED_IPS nor METRICS_TOKEN set: the site's 404, signed in or not."""
    assert settings.METRICS_ALLOWED_IPS == []
    assert settings.METRICS_TOKEN == ""
    assert client.get(METRICS).status_code == 404
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    assert client.get(METRICS).status_code == 404


def test_an_allowed_address_or_network_reaches_it(client, settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "192.0.2.7"]
    assert client.get(METRICS, REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get(METRICS, REMOTE_ADDR="192.0.2.7").status_code == 200
    assert client.get(METRICS, REMOTE_ADDR="192.0.2.8").status_code == 404


def test_behind_a_proxy_the_client_address_counts_not_the_proxys(client, settings):
    """With TRUSTED_PROXY_COUNT=1 a request through the proxy (127.0.0.1) is judged by the
    address the proxy saw: allowing the proxy's address does not open it to the world."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    through_proxy = client.get(METRICS, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert through_proxy.status_code == 404
    spoofed = client.get(METRICS, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="127.0.0.1, 203.0.113.9")
    assert spoofed.status_code == 404


def test_the_token_reaches_it_and_a_wrong_one_does_not(client, settings):
    settings.METRICS_TOKEN = "a-long-random-token-for-the-scraper"
    assert (
        client.get(
            METRICS, headers={"authorization": "Bearer a-long-random-token-for-the-scraper"}
        ).status_code
        == 200
    )
    assert (
        client.get(
            METRICS, headers={"authorization": "Bearer a-long-random-token-for-the-scrapeR"}
        ).status_code
        == 404
    )
    assert (
        client.get(METRICS, headers={"authorization": "a-long-random-token-for-the-scraper"}).status_code
        == 404
    )
    assert client.get(METRICS).status_code == 404


def _world(size: int):
    """`size` more of each: notices pending, failed and sent; webhook deliveries given up and
    delivered; certificates issued."""
    from django.utils import timezone

    from certification.services.certificates import certificate_issue_manually
    from members.permissions import Role
    from tests.factories import CohortFactory, EnrolmentFactory
    from training.models import EnrolmentStatus, Notice
    from webhooks.models import Delivery, DeliveryStatus, Endpoint, EventType

    now = timezone.now()
    member = UserFactory()
    Notice.objects.bulk_create(
        Notice(
            recipient=member,
            kind=NoticeKind.SESSION_REMINDER,
            subject=f"session:{status}:{index}:{now.timestamp()}",
            scheduled_for=now,
            next_attempt_at=now,
            created_at=now,
            status=status,
        )
        for status in (NoticeStatus.PENDING, NoticeStatus.FAILED, NoticeStatus.SENT)
        for index in range(size)
    )
    endpoint = Endpoint.objects.create(url="https://hooks.example/in", events=[], secret_encrypted="x")
    Delivery.objects.bulk_create(
        Delivery(endpoint=endpoint, event_type=EventType.PING, payload={}, status=status, next_attempt_at=now)
        for status in (DeliveryStatus.GAVE_UP, DeliveryStatus.DELIVERED)
        for _ in range(size)
    )
    staff = UserFactory(role=Role.NATIONAL_STAFF)
    cohort = CohortFactory()
    for _ in range(size):
        enrolment = EnrolmentFactory(cohort=cohort, status=EnrolmentStatus.COMPLETED)
        certificate_issue_manually(enrolment=enrolment, actor=staff, reason="Evidence on paper.")


def test_a_scrape_parses_and_costs_the_same_queries_at_any_size(client, settings, seeded):
    settings.METRICS_TOKEN = "token"
    auth = {"authorization": "Bearer token"}
    counts = []
    for size in (1, 4):
        _world(size)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(METRICS, headers=auth)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain")
        counts.append(len(queries))
        found = samples(response.content.decode())
        made = 1 if size == 1 else 5  # both worlds so far
        # Issuing a certificate writes its email's notice too: pending counts those as well.
        assert found[("fl_notices", (("status", "pending"),))] >= made
        assert found[("fl_notices", (("status", "failed"),))] == made
        assert found[("fl_webhook_deliveries", (("status", "gave_up"),))] == made
        assert found[("fl_certificates", (("status", CertificateStatus.VALID),))] == made
    assert counts[0] == counts[1] == 3, counts


def test_requests_are_counted_and_timed_by_view(client, settings):
    settings.METRICS_TOKEN = "token"
    auth = {"authorization": "Bearer token"}
    before = samples(client.get(METRICS, headers=auth).content.decode())
    for _ in range(3):
        client.get(reverse("healthz-live"))
    client.get("/no-such-page-of-ours/")
    after = samples(client.get(METRICS, headers=auth).content.decode())

    def grew(key):
        return after.get(key, 0) - before.get(key, 0)

    assert (
        grew(("fl_http_requests_total", (("method", "GET"), ("status", "200"), ("view", "healthz-live"))))
        == 3
    )
    assert (
        grew(("fl_http_requests_total", (("method", "GET"), ("status", "404"), ("view", "unresolved")))) == 1
    )
    assert grew(("fl_http_request_duration_seconds_count", (("view", "healthz-live"),))) == 3


@needs_redis_server
def test_queue_lengths_are_read_from_the_brokers_redis(client, settings):
    """Each queue's length, tasks sent with a priority included (kombu keeps those apart)."""
    server = OwnRedis()
    try:
        settings.REDIS_URL = server.url
        settings.METRICS_TOKEN = "token"
        broker = Redis.from_url(server.url)
        broker.lpush("celery", "a", "b")
        broker.lpush("celery\x06\x163", "c")
        broker.lpush("sweeps", "d")
        found = samples(client.get(METRICS, headers={"authorization": "Bearer token"}).content.decode())
        assert found[("fl_celery_queue_length", (("queue", "celery"),))] == 3
        assert found[("fl_celery_queue_length", (("queue", "sweeps"),))] == 1
        assert found[("fl_broker_up", ())] == 1
        assert set(celery_queue_names()) >= {"celery", "sweeps"}
        server.close()
        found = samples(client.get(METRICS, headers={"authorization": "Bearer token"}).content.decode())
        assert found[("fl_broker_up", ())] == 0
        assert not any(name == "fl_celery_queue_length" for name, _ in found)
    finally:
        server.close()


COUNT_REQUESTS = """
import django
django.setup()
from django.test import Client
client = Client()
for _ in range({n}):
    assert client.get("/healthz/live", HTTP_HOST="127.0.0.1").status_code == 200
"""
EXPOSE = """
import django
django.setup()
from prometheus_client import CollectorRegistry, generate_latest
from config.metrics import request_metrics_collector
registry = CollectorRegistry()
registry.register(request_metrics_collector())
print(generate_latest(registry).decode())
"""


def test_with_prometheus_multiproc_dir_a_scrape_adds_up_every_process(tmp_path):
    """Two processes (gunicorn workers) count requests into PROMETHEUS_MULTIPROC_DIR; a third
    exposes their sum, and the text parses."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }

    def run(script: str) -> str:
        return subprocess.run(  # noqa: S603 - this interpreter, a fixed script
            [sys.executable, "-c", script],
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout

    run(COUNT_REQUESTS.format(n=2))
    run(COUNT_REQUESTS.format(n=3))
    text = run(EXPOSE)
    found = samples(text)
    assert found, text
    assert (
        found[("fl_http_requests_total", (("method", "GET"), ("status", "200"), ("view", "healthz-live")))]
        == 5
    )
    assert found[("fl_http_request_duration_seconds_count", (("view", "healthz-live"),))] == 5
