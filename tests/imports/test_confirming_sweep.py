"""An import confirmed while the broker is down, or whose task was lost, is written later by
the sweep; the page says what is happening; writing twice writes once."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from audit.models import AuditAction, AuditEntry
from imports.models import MemberImport, MemberImportStatus
from imports.services import member_import_write, member_imports_confirming_sweep, member_imports_stuck
from imports.tasks import member_import_write_task
from tests.imports.conftest import checked, confirm, csv_bytes, member_row

pytestmark = pytest.mark.django_db


def _broker_down(*args, **kwargs):
    raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def _message_lost(*args, **kwargs):
    """Handed to the broker, and then lost (a Redis restarted empty)."""


def test_confirming_while_the_broker_is_down_waits_for_the_sweep(
    staff_client, django_capture_on_commit_callbacks, monkeypatch
):
    member_import = checked(staff_client, csv_bytes([member_row(1), member_row(2)]))
    monkeypatch.setattr(member_import_write_task, "delay", _broker_down)
    member_import = confirm(
        staff_client, member_import, django_capture_on_commit_callbacks
    )  # a 302, not a 500
    assert member_import.status == MemberImportStatus.CONFIRMING
    assert member_import.write_enqueued_at is None
    page = staff_client.get(reverse("imports:import-detail", args=[member_import.pk])).content.decode()
    assert "the task queue could not be reached" in page
    assert list(member_imports_stuck()) == [member_import]

    assert member_imports_confirming_sweep() == 0  # still down: still waiting, nothing lost
    monkeypatch.undo()
    assert member_imports_confirming_sweep() == 1  # the broker is back (in-process here: written now)
    member_import.refresh_from_db()
    assert member_import.status == MemberImportStatus.CONFIRMED
    assert get_user_model().objects.filter(email__startswith="imported").count() == 2
    assert member_imports_confirming_sweep() == 0


def test_an_import_whose_task_was_lost_is_handed_over_again_after_the_lease(
    staff_client, django_capture_on_commit_callbacks, monkeypatch, settings, capsys
):
    member_import = checked(staff_client, csv_bytes([member_row(1)]))
    monkeypatch.setattr(member_import_write_task, "delay", _message_lost)
    member_import = confirm(staff_client, member_import, django_capture_on_commit_callbacks)
    assert member_import.status == MemberImportStatus.CONFIRMING
    assert member_import.write_enqueued_at is not None
    page = staff_client.get(reverse("imports:import-detail", args=[member_import.pk])).content.decode()
    assert "handed to a worker at" in page
    monkeypatch.undo()

    assert member_imports_confirming_sweep() == 0  # within the lease: a worker may have it queued
    call_command("integrity_check")  # within the lease: not stuck
    # The lease passes with no worker on it.
    lapsed = timezone.now() - timedelta(seconds=settings.MEMBER_IMPORT_WRITE_LEASE_SECONDS + 1)
    MemberImport.objects.filter(pk=member_import.pk).update(write_enqueued_at=lapsed)
    with pytest.raises(CommandError):
        call_command("integrity_check")
    assert "1 member import stuck confirming" in capsys.readouterr().out
    assert member_imports_confirming_sweep() == 1
    member_import.refresh_from_db()
    assert member_import.status == MemberImportStatus.CONFIRMED
    assert member_imports_confirming_sweep() == 0
    call_command("integrity_check")


def test_the_write_is_safe_to_run_twice(staff_client, django_capture_on_commit_callbacks, monkeypatch):
    member_import = checked(staff_client, csv_bytes([member_row(1), member_row(2)]))
    monkeypatch.setattr(member_import_write_task, "delay", _message_lost)
    member_import = confirm(staff_client, member_import, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=False):
        first = member_import_write(member_import_id=member_import.pk)
        second = member_import_write(member_import_id=member_import.pk)
    assert first.status == MemberImportStatus.CONFIRMED
    assert second is None
    assert get_user_model().objects.filter(email__startswith="imported").count() == 2
    assert AuditEntry.objects.filter(action=AuditAction.MEMBERS_IMPORTED).count() == 1
