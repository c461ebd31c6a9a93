"""Issue 18: an imported member's invitation is owed while `invited_at` is empty; a task lost
with the broker, or a worker killed mid-send, is re-done by beat's sweep within 2 minutes."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from imports import services
from imports.models import ImportedMember, MemberImport
from imports.tasks import member_invitations_send_task, member_invitations_sweep_task
from tests.imports.conftest import checked, confirm, csv_bytes, member_row

pytestmark = pytest.mark.django_db


def _message_lost(*args, **kwargs):
    """Handed to the broker, and then lost (a Redis restarted empty)."""


def _imported_with_the_task_lost(staff_client, capture, monkeypatch, n=2):
    monkeypatch.setattr(member_invitations_send_task, "delay", _message_lost)
    member_import = checked(staff_client, csv_bytes([member_row(i) for i in range(1, n + 1)]))
    confirm(staff_client, member_import, capture)
    monkeypatch.undo()
    assert ImportedMember.objects.filter(invited_at__isnull=True).count() == n
    assert mail.outbox == []


def test_the_invitation_sweep_is_beat_scheduled_within_two_minutes():
    entry = next(
        e
        for e in django_settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "imports.member_invitations_sweep"
    )
    assert entry["schedule"] + django_settings.MEMBER_INVITATION_CLAIM_LEASE_SECONDS <= 120
    assert django_settings.CELERY_TASK_ROUTES["imports.member_invitations_sweep"] == {"queue": "sweeps"}


def test_invitations_whose_task_was_lost_are_sent_by_the_sweep_once(
    staff_client, django_capture_on_commit_callbacks, monkeypatch
):
    _imported_with_the_task_lost(staff_client, django_capture_on_commit_callbacks, monkeypatch)
    call_command("integrity_check")  # just written: not late yet
    lease = timedelta(seconds=django_settings.MEMBER_INVITATION_CLAIM_LEASE_SECONDS + 1)
    MemberImport.objects.update(confirmed_at=timezone.now() - lease)
    with pytest.raises(CommandError):
        call_command("integrity_check")
    assert member_invitations_sweep_task() == 2
    call_command("integrity_check")
    assert sorted(m.to[0] for m in mail.outbox) == ["imported1@example.org", "imported2@example.org"]
    assert member_invitations_sweep_task() == 0  # twice: nothing more
    assert member_invitations_send_task(ImportedMember.objects.first().member_import_id) == 0
    assert len(mail.outbox) == 2


def test_a_killed_workers_claims_are_taken_over_only_after_the_lease(
    staff_client, django_capture_on_commit_callbacks, monkeypatch, settings
):
    """A worker claimed the invitations and was killed before sending: within the lease the
    sweep leaves them to it; past the lease the sweep sends each once."""
    _imported_with_the_task_lost(staff_client, django_capture_on_commit_callbacks, monkeypatch)
    lease = timedelta(seconds=settings.MEMBER_INVITATION_CLAIM_LEASE_SECONDS)
    ImportedMember.objects.update(invitation_claimed_at=timezone.now() - lease + timedelta(seconds=5))
    assert member_invitations_sweep_task() == 0
    ImportedMember.objects.update(invitation_claimed_at=timezone.now() - lease - timedelta(seconds=1))
    assert member_invitations_sweep_task() == 2
    assert member_invitations_sweep_task() == 0
    assert len(mail.outbox) == 2


def test_a_long_send_renews_its_claims_so_the_sweep_does_not_take_them(
    staff_client, django_capture_on_commit_callbacks, monkeypatch, settings
):
    """While a worker sends a long import, the claims of what it has not sent yet are renewed
    every third of the lease: the sweep, meanwhile, finds none to take."""
    _imported_with_the_task_lost(staff_client, django_capture_on_commit_callbacks, monkeypatch, n=3)
    seen = []
    real = services._invitation_message
    clock = {"now": timezone.now()}
    monkeypatch.setattr(services.timezone, "now", lambda: clock["now"])

    def slow_message(imported, *, connection):
        # Each message takes half the lease; the sweep looks in between.
        clock["now"] += timedelta(seconds=settings.MEMBER_INVITATION_CLAIM_LEASE_SECONDS / 2)
        seen.append(services.member_invitations_sweep())
        return real(imported, connection=connection)

    monkeypatch.setattr(services, "_invitation_message", slow_message)
    assert (
        services.member_invitations_send(member_import_id=ImportedMember.objects.first().member_import_id)
        == 3
    )
    assert seen == [0, 0, 0]
    assert len(mail.outbox) == 3
