"""Enrolment milestones follow the services, and the rebuild command proves they match."""

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.factories import (
    AssignmentFactory,
    CohortFactory,
    EnrolmentFactory,
    ModuleFactory,
    SessionFactory,
    UserFactory,
)
from training.models import AttendanceStatus, CohortStatus, Enrolment, EnrolmentStatus
from training.services.attendance import register_save
from training.services.enrolment import enrolment_apply, enrolment_decide
from training.services.submissions import submission_draft_save, submission_submit, submission_withdraw

pytestmark = pytest.mark.django_db


def _cohort_with_two_required_assignments():
    module = ModuleFactory()
    first = AssignmentFactory(module=module)
    second = AssignmentFactory(module=module)
    AssignmentFactory(module=module, required_for_completion=False)
    cohort = CohortFactory(version=module.version, status=CohortStatus.RUNNING)
    return cohort, first, second


def _hand_in(enrolment, assignment):
    draft = submission_draft_save(enrolment=enrolment, assignment=assignment, text="My answer.")
    return submission_submit(submission=draft)


def test_enrolling_through_a_decision_records_the_first_time():
    cohort = CohortFactory(reviews_applications=True)
    enrolment = enrolment_apply(cohort=cohort, member=UserFactory())
    assert enrolment.first_enrolled_at is None
    enrolment_decide(enrolment=enrolment, accept=True, actor=UserFactory())
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.ENROLLED
    assert enrolment.first_enrolled_at is not None


def test_attendance_sets_first_attended_and_a_correction_clears_it():
    cohort, _first, _second = _cohort_with_two_required_assignments()
    enrolment = EnrolmentFactory(cohort=cohort)
    session = SessionFactory(cohort=cohort)
    register_save(
        session=session,
        marks={enrolment.pk: AttendanceStatus.PRESENT},
        actor=UserFactory(),
        now=session.starts_at,
    )
    enrolment.refresh_from_db()
    assert enrolment.first_attended_at == session.starts_at
    register_save(
        session=session,
        marks={enrolment.pk: AttendanceStatus.ABSENT},
        actor=UserFactory(),
        now=session.starts_at,
    )
    enrolment.refresh_from_db()
    assert enrolment.first_attended_at is None


def test_work_submitted_only_when_every_required_assignment_is_in(settings):
    cohort, first, second = _cohort_with_two_required_assignments()
    cohort.starts_on = timezone.localdate() - dt.timedelta(days=1)
    cohort.save()
    enrolment = EnrolmentFactory(cohort=cohort)
    _hand_in(enrolment, first)
    enrolment.refresh_from_db()
    assert enrolment.work_submitted_at is None
    last = _hand_in(enrolment, second)
    enrolment.refresh_from_db()
    assert enrolment.work_submitted_at == last.submitted_at
    submission_withdraw(submission=last)
    enrolment.refresh_from_db()
    assert enrolment.work_submitted_at is None


def test_rebuild_check_fails_on_a_drifted_row_and_the_rebuild_corrects_it():
    cohort, _first, _second = _cohort_with_two_required_assignments()
    enrolment = EnrolmentFactory(cohort=cohort)
    session = SessionFactory(cohort=cohort)
    register_save(
        session=session,
        marks={enrolment.pk: AttendanceStatus.PRESENT},
        actor=UserFactory(),
        now=session.starts_at,
    )
    call_command("pipeline_rebuild", "--check")  # in step: passes
    Enrolment.objects.filter(pk=enrolment.pk).update(first_attended_at=None)
    with pytest.raises(CommandError):
        call_command("pipeline_rebuild", "--check")
    call_command("pipeline_rebuild")
    enrolment.refresh_from_db()
    assert enrolment.first_attended_at == session.starts_at
    call_command("pipeline_rebuild", "--check")
