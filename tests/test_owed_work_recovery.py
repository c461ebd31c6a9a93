"""Issue 18, decision 0022: every kind of work owed after a commit is recovered by a beat
sweep, from the database, within 2 minutes of a fault ending: lease (or re-ask age) plus the
sweep's interval is at most 120 s, and each sweep runs on the sweeps queue."""

import pytest
from django.conf import settings

from webhooks.services import CLAIM_LEASE, ENQUEUE_LEASE, PAUSED_NOTICE_GRACE

TWO_MINUTES = 120.0


def _interval(task: str) -> float:
    (entry,) = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == task]
    assert settings.CELERY_TASK_ROUTES[task] == {"queue": settings.SWEEPS_QUEUE}
    return float(entry["schedule"])


@pytest.mark.parametrize(
    ("task", "lease"),
    [
        ("training.notices_sweep", lambda: settings.NOTICE_CLAIM_LEASE_SECONDS),
        ("certification.certificates_owed_sweep", lambda: 0),  # owed the moment the pass commits
        ("imports.member_imports_confirming_sweep", lambda: settings.MEMBER_IMPORT_WRITE_LEASE_SECONDS),
        ("imports.member_invitations_sweep", lambda: settings.MEMBER_INVITATION_CLAIM_LEASE_SECONDS),
        ("members.data_exports_sweep", lambda: settings.DATA_EXPORT_REENQUEUE_SECONDS),
        ("webhooks.deliveries_sweep", lambda: PAUSED_NOTICE_GRACE.total_seconds()),
        ("webhooks.deliveries_sweep", lambda: max(ENQUEUE_LEASE, CLAIM_LEASE).total_seconds()),
    ],
)
def test_each_kind_of_owed_work_is_recovered_within_two_minutes(task, lease):
    assert _interval(task) + lease() <= TWO_MINUTES


def test_certificates_owed_are_swept_every_minute():
    assert _interval("certification.certificates_owed_sweep") <= 60
