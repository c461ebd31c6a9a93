"""Smoke: the sweep writes a reminder once and sends it once."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from tests.factories import CohortFactory, EnrolmentFactory, SessionFactory, UserFactory
from training.models import Notice, NoticeStatus
from training.tasks import notices_sweep

pytestmark = pytest.mark.django_db


def test_sweep_sends_one_reminder_per_person_once():
    trainer = UserFactory()
    cohort = CohortFactory(trainers=[trainer], status="running")
    enrolment = EnrolmentFactory(cohort=cohort)
    start = timezone.now() + dt.timedelta(hours=1)
    SessionFactory(cohort=cohort, starts_at=start, ends_at=start + dt.timedelta(hours=2), preparation="Read <b>")
    notices_sweep()
    assert Notice.objects.filter(status=NoticeStatus.SENT).count() == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([trainer.email, enrolment.member.email])
    message = mail.outbox[0]
    assert message.alternatives and message.attachments
    print(message.subject, message.body, message.alternatives[0][0][:3000])
    notices_sweep()
    assert len(mail.outbox) == 2
