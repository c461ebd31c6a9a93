"""A certificate owed is never lost: issuing does not depend on the cache, a sweep issues
what an after-commit receiver failed to, and the integrity check reports what is owed."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from certification.models import Certificate
from certification.receivers import standing_changed_receive
from certification.selectors.owed import enrolments_owed_certificate
from certification.services.certificates import certificate_issue_if_complete, certificates_owed_issue
from certification.tasks import certificates_owed_sweep_task
from members.permissions import Role
from tests.certification.test_issuance import PASS, attend, mark
from tests.factories import (
    AssignmentFactory,
    EnrolmentFactory,
    SessionFactory,
    SubmissionFactory,
    UserFactory,
    rubric_add,
)
from training.signals import standing_changed

pytestmark = pytest.mark.django_db


@pytest.fixture
def course(seeded):
    """As test_issuance's: a trainee, their trainer, four sessions, one required assignment."""
    trainer = UserFactory(role=Role.TRAINER)
    enrolment = EnrolmentFactory(cohort__trainers=[trainer])
    sessions = [SessionFactory(cohort=enrolment.cohort) for _ in range(4)]
    assignment = AssignmentFactory(module__version=enrolment.cohort.version, required_for_completion=True)
    rubric_add(assignment, criteria=1)
    submission = SubmissionFactory(enrolment=enrolment, assignment=assignment)
    return {"trainer": trainer, "enrolment": enrolment, "sessions": sessions, "submission": submission}


# A Redis that is not there: nothing listens on port 1.
DEAD_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "KEY_PREFIX": "fl",
    }
}


def test_the_issue_itself_does_not_need_the_cache(course):
    """Redis down: the certificate is still issued (webhook subscriptions read from the database)."""
    attend(course, 3)
    mark(course, PASS)  # no on-commit here: nothing issued yet
    with override_settings(CACHES=DEAD_CACHE):
        certificate = certificate_issue_if_complete(enrolment_id=course["enrolment"].pk)
    assert certificate is not None
    assert Certificate.objects.filter(enrolment=course["enrolment"]).count() == 1


def test_a_certificate_the_receiver_failed_to_issue_is_reported_and_swept_once(
    course, django_capture_on_commit_callbacks, capsys
):
    attend(course, 3)
    # The issuing receiver fails (as it did when it reached a Redis that was down).
    standing_changed.disconnect(dispatch_uid="certification.standing_changed")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            mark(course, PASS)
    finally:
        standing_changed.connect(standing_changed_receive, dispatch_uid="certification.standing_changed")
    assert not Certificate.objects.exists()
    assert enrolments_owed_certificate() == [course["enrolment"].pk]

    with pytest.raises(CommandError):
        call_command("integrity_check")
    assert "1 certificate owed" in capsys.readouterr().out

    assert certificates_owed_sweep_task() == 1
    certificate = Certificate.objects.get()
    assert certificate.enrolment_id == course["enrolment"].pk
    assert certificates_owed_sweep_task() == 0
    assert Certificate.objects.count() == 1
    assert enrolments_owed_certificate() == []
    call_command("integrity_check")
    assert "0 certificates owed" in capsys.readouterr().out


def test_owed_selector_runs_in_a_fixed_number_of_queries(course):
    attend(course, 3)
    counts = []
    for extra in (1, 50):
        for _ in range(extra):
            EnrolmentFactory(cohort=course["enrolment"].cohort)
        with CaptureQueriesContext(connection) as queries:
            enrolments_owed_certificate()
        counts.append(len(queries))
    assert counts[0] == counts[1]
    print("owed selector queries:", counts)


def test_the_sweep_issues_through_the_service(course):
    attend(course, 3)
    mark(course, PASS)
    assert certificates_owed_issue() == 1
    assert certificates_owed_issue() == 0
