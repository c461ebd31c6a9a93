"""Issue 18: the email telling staff an endpoint was paused is owed state in the database
(`Endpoint.paused_notified_at` empty), so a task lost with the broker is re-done by the sweep."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from webhooks.models import Endpoint
from webhooks.services import PAUSED_NOTICE_GRACE, delivery_send, endpoint_resume
from webhooks.tasks import deliveries_sweep, endpoint_paused_notify_task

from .test_delivery import _event

pytestmark = pytest.mark.django_db


def _message_lost(*args, **kwargs):
    """Handed to the broker, and then lost (a Redis restarted empty, or down at the pause)."""


def _pause_with_the_task_lost(receiver, endpoint_for, settings, monkeypatch, capture):
    settings.WEBHOOKS_PAUSE_AFTER_FAILURES = 1
    endpoint = endpoint_for(receiver)
    receiver.answer(500)
    monkeypatch.setattr(endpoint_paused_notify_task, "delay", _message_lost)
    with capture(execute=True):
        assert delivery_send(delivery_id=_event()[0].pk).result == "failed"
    endpoint.refresh_from_db()
    assert endpoint.paused_at is not None
    assert endpoint.paused_notified_at is None
    return endpoint


def _grace_passes(endpoint) -> None:
    Endpoint.objects.filter(pk=endpoint.pk).update(
        paused_at=timezone.now() - PAUSED_NOTICE_GRACE - timedelta(seconds=1)
    )


def test_a_pause_whose_email_task_was_lost_is_told_by_the_next_sweep_once(
    receiver, endpoint_for, national, settings, monkeypatch, mailoutbox, django_capture_on_commit_callbacks
):
    endpoint = _pause_with_the_task_lost(
        receiver, endpoint_for, settings, monkeypatch, django_capture_on_commit_callbacks
    )
    assert mailoutbox == []
    assert deliveries_sweep()["pauses_told"] == 0  # within the grace: the task may be in flight
    call_command("integrity_check")
    _grace_passes(endpoint)
    with pytest.raises(CommandError):
        call_command("integrity_check")  # untold past the grace: reported
    assert deliveries_sweep()["pauses_told"] == 1
    call_command("integrity_check")
    assert [message.to for message in mailoutbox] == [[national.email]]
    assert deliveries_sweep()["pauses_told"] == 0  # running it again sends nothing more
    assert len(mailoutbox) == 1
    endpoint.refresh_from_db()
    assert endpoint.paused_notified_at is not None


def test_the_task_and_the_sweep_together_tell_once(
    receiver, endpoint_for, national, settings, monkeypatch, mailoutbox, django_capture_on_commit_callbacks
):
    endpoint = _pause_with_the_task_lost(
        receiver, endpoint_for, settings, monkeypatch, django_capture_on_commit_callbacks
    )
    assert endpoint_paused_notify_task(endpoint.pk) == 1  # the task, late
    _grace_passes(endpoint)
    assert deliveries_sweep()["pauses_told"] == 0
    assert endpoint_paused_notify_task(endpoint.pk) == 0
    assert len(mailoutbox) == 1


def test_a_second_pause_after_a_resume_is_told_again(
    receiver, endpoint_for, national, settings, monkeypatch, mailoutbox, django_capture_on_commit_callbacks
):
    endpoint = _pause_with_the_task_lost(
        receiver, endpoint_for, settings, monkeypatch, django_capture_on_commit_callbacks
    )
    _grace_passes(endpoint)
    assert deliveries_sweep()["pauses_told"] == 1
    endpoint.refresh_from_db()
    endpoint_resume(endpoint=endpoint)
    receiver.answer(500)
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery_send(delivery_id=_event()[0].pk).result == "failed"
    endpoint.refresh_from_db()
    assert endpoint.paused_at is not None
    assert endpoint.paused_notified_at is None
    _grace_passes(endpoint)
    assert deliveries_sweep()["pauses_told"] == 1
    assert len(mailoutbox) == 2


def test_a_resumed_endpoint_is_not_told_by_the_sweep(
    receiver, endpoint_for, national, settings, monkeypatch, mailoutbox, django_capture_on_commit_callbacks
):
    endpoint = _pause_with_the_task_lost(
        receiver, endpoint_for, settings, monkeypatch, django_capture_on_commit_callbacks
    )
    endpoint_resume(endpoint=endpoint)
    _grace_passes(endpoint)
    assert deliveries_sweep()["pauses_told"] == 0
    assert mailoutbox == []
