"""One walk through the platform with Redis stopped, and again with it paused (SIGSTOP).

Issue 18's "done when": with Redis down, a trainer signs in (password, then the TOTP code), a
trainee applies to a cohort, the trainer marks the trainee's last pass (the completion rule
then holds), staff confirm a member import, anyone checks the certificate on the public
check page, and the REST API is called with a token. Each request answers within a second
and never 500; what is owed after a commit (the certificate, the import's write, the
notices) is done at once, or by its sweep once Redis is back, and exactly once.

The cache is this test's own redis-server (tests/config/own_redis.py). The broker is the same
Redis in production, so it is down too: every enqueue raises what kombu raises when Redis
refuses (a paused broker gives up the same way within a quarter second:
tests/config/test_redis_down.py). Once it is back, tasks run inline as in every test without
a worker, so what the sweeps hand over is done at once.
"""

import pytest
from celery.app.task import Task
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from kombu.exceptions import OperationalError
from rest_framework.test import APIClient

from api.models import ApiResource
from api.services import api_token_create
from certification.models import Certificate, Verification
from certification.selectors.owed import enrolments_owed_certificate
from certification.tasks import certificates_owed_sweep_task
from imports.models import ImportedMember, MemberImport, MemberImportStatus
from imports.services import member_imports_stuck
from imports.tasks import member_imports_confirming_sweep_task
from members.permissions import Role
from tests.config.own_redis import needs_redis_server, timed, totp_code_fresh
from tests.factories import (
    PASSWORD,
    AssignmentFactory,
    CohortFactory,
    SessionFactory,
    SubmissionFactory,
    UserFactory,
    levels_chosen,
    rubric_add,
)
from tests.imports.conftest import csv_bytes, member_row
from training.models import EnrolmentStatus, Notice, NoticeStatus, Outcome
from training.services.attendance import register_save
from training.services.notices import notices_waiting_ids
from training.tasks import notices_sweep

pytestmark = [pytest.mark.django_db, needs_redis_server]


class RedisOutage:
    """Call it to take Redis down (the cache's server stopped or paused, the broker refusing);
    `back()` brings both back."""

    def __init__(self, cache_server, monkeypatch):
        self.cache_server, self.monkeypatch = cache_server, monkeypatch

    def __call__(self) -> None:
        self.cache_server()
        self.monkeypatch.setattr(Task, "apply_async", _broker_refuses)

    def back(self) -> None:
        self.monkeypatch.undo()
        self.cache_server.back()


def _broker_refuses(*args, **kwargs):
    raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


@pytest.fixture
def outage(redis_down, monkeypatch):
    return RedisOutage(redis_down, monkeypatch)


def _sign_in(client, user, *, second_factor: bool) -> None:
    response = timed(client.post, reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    if second_factor:
        assert response.url == reverse("mfa_authenticate")
        response = timed(client.post, reverse("mfa_authenticate"), {"code": totp_code_fresh()})
        assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_walk_through_the_platform_with_redis_down(seeded, outage, django_capture_on_commit_callbacks):
    # Made while Redis is up: a cohort taking applications, with its trainer, four sessions and
    # one required assignment; a trainee; a staff member with an API token.
    trainer = UserFactory(role=Role.TRAINER)
    trainee = UserFactory(role=Role.TRAINEE)
    staff = UserFactory(role=Role.NATIONAL_STAFF)
    cohort = CohortFactory(trainers=[trainer])
    sessions = [SessionFactory(cohort=cohort) for _ in range(4)]
    assignment = AssignmentFactory(module__version=cohort.version, required_for_completion=True)
    rubric_add(assignment, criteria=2)
    _token, raw_token = api_token_create(
        user=staff, name="Walk", access="read", resources=list(ApiResource.values), expires_in_days=30
    )
    notices_before = Notice.objects.count()
    # Warm, as a running server is (code imported, templates compiled): the times below are
    # what Redis down costs, not a first request's (0.3-0.5 s here, more on a loaded machine).
    warm = Client()
    warm.post(reverse("account_login"), {"login": UserFactory(role=Role.TRAINER).email, "password": PASSWORD})
    warm.post(reverse("mfa_authenticate"), {"code": totp_code_fresh()})
    outage()

    # 1. Sign-in: the trainer with password and TOTP code; the trainee with a password.
    trainer_client, trainee_client, staff_client, anyone = (Client() for _ in range(4))
    _sign_in(trainer_client, trainer, second_factor=True)
    _sign_in(trainee_client, trainee, second_factor=False)

    # 2. The trainee applies (no review: enrolled at once).
    with django_capture_on_commit_callbacks(execute=True):
        response = timed(
            trainee_client.post, reverse("training:cohort-apply", args=[cohort.pk]), {"motivation": "Keen."}
        )
    assert response.status_code == 302
    enrolment = trainee.enrolments.get(cohort=cohort)
    assert enrolment.status == EnrolmentStatus.ENROLLED

    # 3. The course runs (every session attended, the work handed in); the trainer marks the
    # last pass, and the completion rule holds.
    with django_capture_on_commit_callbacks(execute=True):
        for session in sessions:
            # Taken after each session (a register records presence once a session started).
            register_save(
                session=session, marks={enrolment.pk: "present"}, actor=trainer, now=session.ends_at
            )
    submission = SubmissionFactory(enrolment=enrolment, assignment=assignment)
    mark_url = reverse("training:submission-mark", args=[submission.pk])
    assert timed(trainer_client.get, mark_url).status_code == 200
    levels = levels_chosen(assignment, [Outcome.PASS, Outcome.PASS])
    data = {f"criterion_{criterion}": level for criterion, level in levels.items()}
    with django_capture_on_commit_callbacks(execute=True):
        response = timed(trainer_client.post, mark_url, {**data, "feedback": "Clear.", "seen_version": 0})
    assert response.status_code == 302
    issued_at_once = Certificate.objects.filter(enrolment=enrolment).exists()
    if not issued_at_once:
        # The after-commit issuing needed Redis: owed, and the sweep issues it once Redis is back.
        assert enrolments_owed_certificate() == [enrolment.pk]
        outage.back()
        assert certificates_owed_sweep_task() == 1
        outage()
    certificate = Certificate.objects.get(enrolment=enrolment)

    # 4. Staff upload a member import and confirm it. The broker is down: the page says the
    # write waits for the task queue (the sweep writes it once Redis is back).
    staff_client.force_login(staff)
    upload = SimpleUploadedFile("members.csv", csv_bytes([member_row(1), member_row(2)]))
    response = timed(staff_client.post, reverse("imports:import-create"), {"file": upload, "cohort": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    member_import = MemberImport.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = timed(staff_client.post, reverse("imports:import-confirm", args=[member_import.pk]))
    assert response.status_code == 302
    member_import.refresh_from_db()
    assert member_import.status == MemberImportStatus.CONFIRMING
    page = timed(staff_client.get, reverse("imports:import-detail", args=[member_import.pk]))
    assert "the task queue could not be reached" in page.content.decode()

    # 5. Anyone checks the certificate on the public check page (counted in the database).
    response = timed(anyone.get, reverse("certification:verify", args=[certificate.code]))
    assert response.status_code == 200
    assert certificate.code in response.content.decode()
    assert Verification.objects.filter(certificate=certificate, channel="page").count() == 1

    # 6. The REST API, with the staff member's token.
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_token}")
    response = timed(api.get, reverse("api:certificate-list"))
    assert response.status_code == 200
    assert certificate.code in response.content.decode()
    assert timed(api.get, reverse("api:enrolment-list")).status_code == 200

    # Redis back: the sweeps (beat's, run here by hand) finish what is owed, once.
    outage.back()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):  # the write's commit asks for its invitations
        assert member_imports_confirming_sweep_task() == 1
    member_import.refresh_from_db()
    assert member_import.status == MemberImportStatus.CONFIRMED
    assert get_user_model().objects.filter(email__startswith="imported").count() == 2
    assert not ImportedMember.objects.filter(member_import=member_import, invited_at__isnull=True).exists()
    assert sorted(message.to[0] for message in mail.outbox) == [
        "imported1@example.org",
        "imported2@example.org",
    ]
    notices_sweep()
    assert notices_waiting_ids() == []
    assert Notice.objects.count() > notices_before  # the walk's notices were written...
    assert not Notice.objects.filter(status=NoticeStatus.PENDING).exists()  # ...and sent
    assert certificates_owed_sweep_task() == 0
    assert member_imports_confirming_sweep_task() == 0
    assert list(member_imports_stuck()) == []
    assert Certificate.objects.filter(enrolment=enrolment).count() == 1
    print(f"certificate issued {'at once' if issued_at_once else 'by the sweep once Redis was back'}")
