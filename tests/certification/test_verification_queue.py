"""The verification page counts each check in the database at once, so a Redis restart or a
cache flush loses none (decision 0016, amended). Checks still queued in Redis (by the page
before that change, during a deploy) are counted by verification_checks_flush (beat, each
minute): a row per check, at the check's time, nothing lost if the write fails, nothing
counted twice."""

import datetime as dt
import json

import pytest
from django.core.cache import cache, caches
from django.db import DatabaseError
from django.urls import reverse
from django.utils import timezone

from certification.models import Verification
from certification.services.certificates import certificate_issue_manually
from certification.services.verification import (
    CHECKS_QUEUE,
    FLUSH_LOCK,
    verification_checks_flush,
)
from config.cache import shared_redis
from members.permissions import Role
from tests.factories import EnrolmentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def certificate(seeded, redis_url):
    staff = UserFactory(role=Role.NATIONAL_STAFF)
    return certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="Evidence.")


def queued() -> int:
    return shared_redis().llen(cache.make_key(CHECKS_QUEUE))


def check(client, code: str) -> int:
    return client.get(reverse("certification:verify", args=[code])).status_code


def queue(code: str) -> None:
    """A check queued in Redis, as the page did before it counted in the database."""
    entry = {"code": code, "channel": "page", "at": timezone.now().isoformat()}
    shared_redis().rpush(cache.make_key(CHECKS_QUEUE), json.dumps(entry))


def test_checks_are_counted_at_once_and_survive_a_redis_flush(client, certificate):
    """Issue 18: ten checks queued in Redis were all lost when Redis restarted empty."""
    for _ in range(10):
        assert check(client, certificate.code) == 200
    assert queued() == 0
    caches["default"].clear()  # Redis restarted empty, or the cache flushed
    assert certificate.verifications.count() == 10
    assert verification_checks_flush() == 0
    assert certificate.verifications.count() == 10


def test_checks_left_queued_are_counted_once_at_their_time(client, certificate):
    before = timezone.now()
    queue(certificate.code)
    queue(certificate.code)
    assert queued() == 2
    assert certificate.verifications.count() == 0

    assert verification_checks_flush() == 2
    assert queued() == 0
    times = list(certificate.verifications.values_list("at", flat=True))
    assert len(times) == 2
    assert all(before <= at <= timezone.now() for at in times)
    assert set(certificate.verifications.values_list("channel", flat=True)) == {"page"}
    assert verification_checks_flush() == 0
    assert certificate.verifications.count() == 2


def test_unknown_codes_and_refused_checks_are_not_counted(client, certificate, settings):
    settings.VERIFY_RATE_LIMIT = 2
    assert check(client, "AAAAAAAAAAAAAAAA") == 404  # well formed, no such certificate
    assert check(client, "not-a-code") == 404  # malformed: nothing queued
    assert check(client, certificate.code) == 429  # over the limit: refused, not counted
    assert queued() == 0
    assert verification_checks_flush() == 0
    assert Verification.objects.count() == 0


def test_a_failed_write_keeps_the_checks_queued(client, certificate, monkeypatch):
    queue(certificate.code)

    def fail(*args, **kwargs):
        raise DatabaseError("the database went away")

    monkeypatch.setattr(Verification.objects, "bulk_create", fail)
    with pytest.raises(DatabaseError):
        verification_checks_flush()
    assert queued() == 1
    assert cache.get(FLUSH_LOCK) is None  # the lock is given back
    monkeypatch.undo()
    assert verification_checks_flush() == 1


def test_one_flush_at_a_time(client, certificate):
    queue(certificate.code)
    cache.set(FLUSH_LOCK, 1, timeout=60)  # another run holds it
    assert verification_checks_flush() == 0
    assert queued() == 1
    cache.delete(FLUSH_LOCK)
    assert verification_checks_flush() == 1


def test_large_queues_are_counted_in_batches(client, certificate):
    for _ in range(7):
        queue(certificate.code)
    assert verification_checks_flush(batch=3, batches=2) == 6  # the rest waits for the next run
    assert queued() == 1
    assert verification_checks_flush(batch=3) == 1
    assert queued() == 0


def test_without_redis_the_page_counts_at_once(client, seeded, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    staff = UserFactory(role=Role.NATIONAL_STAFF)
    certificate = certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="Evidence.")
    assert check(client, certificate.code) == 200
    assert certificate.verifications.count() == 1
    assert verification_checks_flush() == 0


def test_the_time_kept_is_the_checks_not_the_flushs(client, certificate, monkeypatch):
    queue(certificate.code)
    later = timezone.now() + dt.timedelta(minutes=5)
    monkeypatch.setattr(timezone, "now", lambda: later)
    verification_checks_flush()
    monkeypatch.undo()
    assert certificate.verifications.get().at < later
