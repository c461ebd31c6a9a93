"""Redis is a cache and a broker, not a store (docs/decisions/0021-redis-down.md).

With the cache's Redis stopped, or paused (SIGSTOP: it accepts connections and never
answers), signing in (password, then the TOTP code), every enrolment change, marking, the
public check page and the REST API answer as they do with it up, each within a second. The
Redis here is this test's own server on a port of its own, never the machine's.
"""

import os
import subprocess
import sys

import pytest
from django.urls import reverse

from api.models import ApiResource
from api.services import api_token_create
from certification.models import Verification
from certification.services.certificates import certificate_issue_manually
from members.permissions import Role
from tests.config.own_redis import OwnRedis, needs_redis_server, totp_code_fresh
from tests.config.own_redis import timed as _timed
from tests.factories import (
    PASSWORD,
    AssignmentFactory,
    CohortFactory,
    EnrolmentFactory,
    SubmissionFactory,
    UserFactory,
    levels_chosen,
    rubric_add,
)
from training.models import EnrolmentStatus, Mark, Outcome
from training.services.enrolment import enrolment_apply

pytestmark = [pytest.mark.django_db, needs_redis_server]


def test_signing_in_with_password_and_totp(client, seeded, redis_down):
    """A trainer signs in with their password, then their TOTP code (allauth's rate limits and
    its record of used codes are in the cache: they let the sign-in through)."""
    trainer = UserFactory(role=Role.TRAINER)
    trainee = UserFactory(role=Role.TRAINEE)
    redis_down()

    response = _timed(client.post, reverse("account_login"), {"login": trainer.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("mfa_authenticate")
    response = _timed(client.post, reverse("mfa_authenticate"), {"code": totp_code_fresh()})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(trainer.pk)
    assert _timed(client.get, reverse("training:marking-queue")).status_code == 200

    other = client.__class__()
    response = _timed(other.post, reverse("account_login"), {"login": trainee.email, "password": PASSWORD})
    assert response.status_code == 302
    assert other.session["_auth_user_id"] == str(trainee.pk)


def test_enrolment_changes(client, seeded, redis_down):
    """Apply, withdraw (the freed place offered on), accept an offer, and a trainer's decision."""
    trainer = UserFactory(role=Role.TRAINER)
    open_cohort = CohortFactory(capacity=1)
    reviewed = CohortFactory(trainers=[trainer], reviews_applications=True)
    applicant, waiting = UserFactory.create_batch(2, role=Role.TRAINEE)
    application = EnrolmentFactory(cohort=reviewed, status=EnrolmentStatus.APPLIED)
    redis_down()

    client.force_login(applicant)
    response = _timed(
        client.post, reverse("training:cohort-apply", args=[open_cohort.pk]), {"motivation": ""}
    )
    assert response.status_code == 302
    enrolment = applicant.enrolments.get(cohort=open_cohort)
    assert enrolment.status == EnrolmentStatus.ENROLLED
    next_in_line = enrolment_apply(cohort=open_cohort, member=waiting)
    response = _timed(client.post, reverse("training:enrolment-withdraw", args=[enrolment.pk]), {"note": ""})
    assert response.status_code == 302
    next_in_line.refresh_from_db()
    assert next_in_line.status == EnrolmentStatus.OFFERED

    client.force_login(waiting)
    response = _timed(
        client.post, reverse("training:enrolment-offer", args=[next_in_line.pk]), {"accept": "yes"}
    )
    assert response.status_code == 302
    next_in_line.refresh_from_db()
    assert next_in_line.status == EnrolmentStatus.ENROLLED

    client.force_login(trainer)
    response = _timed(
        client.post, reverse("training:enrolment-decide", args=[application.pk]), {"decision": "accept"}
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == EnrolmentStatus.ENROLLED


def test_marking(client, seeded, redis_down):
    """A trainer marks a submission (the last pass: standing and certificates follow on commit)."""
    trainer = UserFactory(role=Role.TRAINER)
    cohort = CohortFactory(trainers=[trainer])
    assignment = AssignmentFactory(module__version=cohort.version)
    rubric_add(assignment, 2)
    submission = SubmissionFactory(enrolment=EnrolmentFactory(cohort=cohort), assignment=assignment)
    redis_down()

    client.force_login(trainer)
    url = reverse("training:submission-mark", args=[submission.pk])
    assert _timed(client.get, url).status_code == 200
    data = {
        f"criterion_{criterion}": level
        for criterion, level in levels_chosen(assignment, [Outcome.PASS, Outcome.PASS]).items()
    }
    response = _timed(client.post, url, {**data, "feedback": "Clear.", "seen_version": 0})
    assert response.status_code == 302
    assert Mark.objects.filter(submission=submission).count() == 1


def test_the_check_page_renders_and_counts_without_the_cache(client, seeded, redis_down):
    """The public check page renders the certificate uncached and counts the check in the
    database at once (nothing can be queued in Redis); its rate limit lets it through."""
    staff = UserFactory(role=Role.NATIONAL_STAFF)
    certificate = certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="Evidence.")
    redis_down()

    for _ in range(3):
        response = _timed(client.get, reverse("certification:verify", args=[certificate.code]))
        assert response.status_code == 200
    assert Verification.objects.filter(certificate=certificate, channel="page").count() == 3
    unknown = _timed(client.get, reverse("certification:verify", args=["AAAAAAAAAAAAAAAA"]))
    assert unknown.status_code == 404


def test_the_rest_api(client, seeded, redis_down):
    """Token, session and anonymous calls answer; DRF's throttles let them through."""
    from rest_framework.test import APIClient

    staff = UserFactory(role=Role.NATIONAL_STAFF)
    certificate = certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="Evidence.")
    _token, raw = api_token_create(
        user=staff, name="Test", access="read_write", resources=list(ApiResource.values), expires_in_days=30
    )
    redis_down()

    token_client = APIClient()
    token_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert _timed(token_client.get, reverse("api:cohort-list")).status_code == 200
    assert _timed(token_client.get, reverse("api:certificate-list")).status_code == 200
    session_client = APIClient()
    session_client.force_login(staff)
    assert _timed(session_client.get, reverse("api:enrolment-list")).status_code == 200
    anonymous = APIClient()
    assert (
        _timed(anonymous.get, reverse("api:certificate-verify", args=[certificate.code])).status_code == 200
    )


def test_health(client, redis_down):
    """Live answers 200 and asks nothing; ready answers 200, reporting Redis down."""
    redis_down()
    assert _timed(client.get, "/healthz/live").status_code == 200
    for path in ("/healthz/ready", "/healthz"):
        response = _timed(client.get, path)
        assert response.status_code == 200
        assert response.json() == {"status": "degraded", "checks": {"database": "ok", "redis": "down"}}


def test_enqueueing_gives_up_within_the_budget_and_the_request_goes_on(settings):
    """With the broker paused, a web process's enqueue (data_export_enqueue, whose sweep asks
    again) gives up within a quarter second or so and says so, instead of holding the request
    for seconds; a stopped broker fails at once. Run in a process configured for Redis."""
    server = OwnRedis()
    script = (
        "import os, signal, time\n"
        "from members.export import data_export_enqueue\n"
        "from members.tasks import data_export_build_task\n"
        "from config.celery import app\n"
        "assert not app.conf.task_always_eager\n"
        "with app.producer_or_acquire() as producer:\n"
        "    producer.connection.ensure_connection()\n"
        "os.kill(int(os.environ['FL_TEST_REDIS_PID']), signal.SIGSTOP)\n"
        "for _ in range(2):\n"
        "    started = time.monotonic()\n"
        "    handed = data_export_enqueue(export_id=0)\n"
        "    print(handed, round(time.monotonic() - started, 3))\n"
    )
    env = {
        **os.environ,
        "REDIS_URL": server.url,
        "FL_TEST_REDIS_PID": str(server.process.pid),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    env.pop("DATABASE_URL", None)  # the default SQLite file: the enqueue reads no rows
    try:
        result = subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
            [sys.executable, "manage.py", "shell", "-c", script],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        server.paused = True  # the script paused it
        server.close()
    lines = [line.split() for line in result.stdout.splitlines() if line.startswith(("True", "False"))]
    assert len(lines) == 2, result.stdout + result.stderr
    for handed, seconds in lines:
        assert handed == "False"
        assert float(seconds) < 0.6, lines


def test_workers_wait_longer_for_the_broker():
    """A worker keeps the longer broker timeouts and a second try (config.celery)."""
    from types import SimpleNamespace

    from config.celery import worker_broker_patience

    conf = SimpleNamespace(
        broker_connection_timeout=0.25,
        broker_transport_options={"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        task_publish_retry_policy={"max_retries": 0, "interval_start": 0},
    )
    worker_broker_patience(conf=conf)
    assert conf.broker_connection_timeout == 2
    assert conf.broker_transport_options == {"socket_connect_timeout": 2, "socket_timeout": 5}
    assert conf.task_publish_retry_policy == {"max_retries": 1, "interval_start": 0}
