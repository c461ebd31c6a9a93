"""Issue 18: a data export's build handed to the broker and lost (or never handed over: the
broker down) is asked again by beat's sweep within 2 minutes, from the database's state."""

import datetime as dt

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.utils import timezone
from kombu.exceptions import OperationalError

from members.export import data_export_request, data_exports_sweep
from members.models import DataExport, DataExportStatus
from members.tasks import data_export_build_task
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _message_lost(*args, **kwargs):
    """Handed to the broker, and then lost (a Redis restarted empty)."""


def _broker_down(*args, **kwargs):
    raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def test_the_sweep_and_its_lease_recover_an_export_within_two_minutes():
    entry = django_settings.CELERY_BEAT_SCHEDULE["data-exports-sweep"]
    assert entry["schedule"] + django_settings.DATA_EXPORT_REENQUEUE_SECONDS <= 120
    assert django_settings.CELERY_TASK_ROUTES["members.data_exports_sweep"] == {"queue": "sweeps"}


def test_a_lost_build_is_asked_again_after_the_lease_and_built_once(
    seeded, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(data_export_build_task, "delay", _message_lost)
    with django_capture_on_commit_callbacks(execute=True):
        export = data_export_request(user=UserFactory()).export
    export.refresh_from_db()
    assert export.status == DataExportStatus.PREPARING
    assert export.enqueued_at is not None
    monkeypatch.undo()

    lease = dt.timedelta(seconds=django_settings.DATA_EXPORT_REENQUEUE_SECONDS)
    assert data_exports_sweep(now=export.enqueued_at + lease - dt.timedelta(seconds=5)).reenqueued == 0
    call_command("integrity_check")  # within the lease: not stuck
    DataExport.objects.filter(pk=export.pk).update(enqueued_at=export.enqueued_at - lease)
    with pytest.raises(CommandError):
        call_command("integrity_check")
    DataExport.objects.filter(pk=export.pk).update(enqueued_at=export.enqueued_at)
    later = export.enqueued_at + lease + dt.timedelta(seconds=1)
    assert data_exports_sweep(now=later).reenqueued == 1  # tasks run inline here: built now
    export.refresh_from_db()
    assert export.status == DataExportStatus.READY
    assert data_exports_sweep(now=later).reenqueued == 0  # twice: nothing more
    call_command("integrity_check")
    assert DataExport.objects.filter(user=export.user).count() == 1


def test_a_build_the_broker_refused_is_asked_again_by_the_next_sweep(
    seeded, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(data_export_build_task, "delay", _broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        export = data_export_request(user=UserFactory()).export
    export.refresh_from_db()
    assert export.enqueued_at is None  # not handed over: owed at once
    assert data_exports_sweep().reenqueued == 0  # still down: still waiting, nothing lost
    monkeypatch.undo()
    assert data_exports_sweep(now=timezone.now()).reenqueued == 1
    export.refresh_from_db()
    assert export.status == DataExportStatus.READY
