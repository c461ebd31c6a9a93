"""Enrolment rules, called directly: places, the waiting list, history, and races."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from members.permissions import Role
from tests.factories import CohortFactory, EnrolmentFactory, UserFactory
from training.models import CohortStatus, Enrolment, EnrolmentEvent, EnrolmentStatus
from training.services.cohorts import cohort_update
from training.services.enrolment import (
    enrolment_apply,
    enrolment_decide,
    enrolment_offer_respond,
    enrolment_withdraw,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def trainees(seeded):
    return UserFactory.create_batch(5, role=Role.TRAINEE)


def test_auto_accept_enrols_until_full_then_waitlists_in_order(trainees):
    """Applicants take places while they last; the rest queue in the order they applied."""
    cohort = CohortFactory(capacity=2)
    statuses = [enrolment_apply(cohort=cohort, member=member).status for member in trainees]
    assert statuses == ["enrolled", "enrolled", "waitlisted", "waitlisted", "waitlisted"]


def test_reviewed_cohort_waits_for_a_decision(trainees):
    """In a reviewed cohort an application waits; accepting enrols, declining needs a reason."""
    cohort = CohortFactory(reviews_applications=True, capacity=1)
    first, second = (enrolment_apply(cohort=cohort, member=m) for m in trainees[:2])
    assert first.status == second.status == EnrolmentStatus.APPLIED
    staff = UserFactory(role=Role.NATIONAL_STAFF)
    with pytest.raises(ValidationError, match="reason"):
        enrolment_decide(enrolment=second, accept=False, message=" ", actor=staff)
    assert enrolment_decide(enrolment=first, accept=True, actor=staff).status == "enrolled"
    # Accepted when full: on the waiting list, not over capacity.
    assert enrolment_decide(enrolment=second, accept=True, actor=staff).status == "waitlisted"
    with pytest.raises(ValidationError, match="already been decided"):
        enrolment_decide(enrolment=first, accept=False, message="No", actor=staff)


@pytest.mark.parametrize("status", [CohortStatus.DRAFT, CohortStatus.CANCELLED, CohortStatus.FINISHED])
def test_closed_cohorts_refuse_applications(trainees, status):
    """A cohort not open for applications refuses them and writes nothing."""
    cohort = CohortFactory(status=status)
    with pytest.raises(ValidationError, match="not taking applications"):
        enrolment_apply(cohort=cohort, member=trainees[0])
    assert not Enrolment.objects.exists()


def test_one_active_enrolment_per_programme(trainees):
    """A member cannot hold two active places in one programme, even in two cohorts."""
    first = CohortFactory()
    second = CohortFactory(version=first.version)
    enrolment_apply(cohort=first, member=trainees[0])
    with pytest.raises(ValidationError, match="already have a place"):
        enrolment_apply(cohort=second, member=trainees[0])


def test_withdrawal_offers_the_place_to_the_first_in_line(trainees):
    """When an enrolled member withdraws, the first on the waiting list is offered the place."""
    cohort = CohortFactory(capacity=1)
    holder, first_waiting, second_waiting = (enrolment_apply(cohort=cohort, member=m) for m in trainees[:3])
    enrolment_withdraw(enrolment=holder, actor=holder.member)
    first_waiting.refresh_from_db()
    second_waiting.refresh_from_db()
    assert first_waiting.status == EnrolmentStatus.OFFERED
    assert second_waiting.status == EnrolmentStatus.WAITLISTED
    # Declining the offer passes it on.
    enrolment_offer_respond(enrolment=first_waiting, accept=False, actor=first_waiting.member)
    second_waiting.refresh_from_db()
    assert second_waiting.status == EnrolmentStatus.OFFERED
    enrolment_offer_respond(enrolment=second_waiting, accept=True, actor=second_waiting.member)
    second_waiting.refresh_from_db()
    assert second_waiting.status == EnrolmentStatus.ENROLLED


def test_raising_capacity_offers_new_places(trainees):
    """More places go to the waiting list in order."""
    cohort = CohortFactory(capacity=1)
    enrolments = [enrolment_apply(cohort=cohort, member=m) for m in trainees[:4]]
    staff = UserFactory(role=Role.NATIONAL_STAFF)
    cohort_update(cohort=cohort, actor=staff, capacity=3)
    statuses = [Enrolment.objects.get(pk=e.pk).status for e in enrolments]
    assert statuses == ["enrolled", "offered", "offered", "waitlisted"]


def test_capacity_cannot_fall_below_places_taken(trainees):
    """Lowering capacity below the people holding places is refused and changes nothing."""
    cohort = CohortFactory(capacity=3)
    for member in trainees[:3]:
        enrolment_apply(cohort=cohort, member=member)
    with pytest.raises(ValidationError, match="3 people already hold places"):
        cohort_update(cohort=cohort, actor=UserFactory(role=Role.NATIONAL_STAFF), capacity=2)
    cohort.refresh_from_db()
    assert cohort.capacity == 3


def test_every_status_change_is_kept(trainees):
    """The history records each change with who made it."""
    cohort = CohortFactory(capacity=1)
    enrolment = enrolment_apply(cohort=cohort, member=trainees[0])
    enrolment_withdraw(enrolment=enrolment, actor=trainees[0], note="Moving away")
    events = list(
        EnrolmentEvent.objects.filter(enrolment=enrolment).values_list("from_status", "to_status", "actor")
    )
    assert events == [("", "enrolled", trainees[0].pk), ("enrolled", "withdrawn", trainees[0].pk)]


def test_withdrawing_twice_is_refused(trainees):
    """A withdrawn enrolment cannot be withdrawn again."""
    enrolment = EnrolmentFactory(member=trainees[0])
    enrolment_withdraw(enrolment=enrolment, actor=trainees[0])
    with pytest.raises(ValidationError, match="no longer active"):
        enrolment_withdraw(enrolment=enrolment, actor=trainees[0])


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_applications_never_double_book(seeded):
    """50 simultaneous applications for 10 places: exactly 10 enrolled, 40 queued in order."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks (make test uses it under CI=true)")
    cohort = CohortFactory(capacity=10)
    members = UserFactory.create_batch(50, role=Role.TRAINEE)
    start = threading.Barrier(len(members))
    errors: list[Exception] = []

    def apply(member):
        try:
            start.wait()
            enrolment_apply(cohort=cohort, member=member)
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=apply, args=(member,)) for member in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    enrolments = list(Enrolment.objects.filter(cohort=cohort).order_by("pk"))
    assert len(enrolments) == 50
    enrolled = [e for e in enrolments if e.status == EnrolmentStatus.ENROLLED]
    waiting = [e for e in enrolments if e.status == EnrolmentStatus.WAITLISTED]
    assert len(enrolled) == 10
    assert len(waiting) == 40
    # Places went to the first ten served, and the queue keeps the order they were served in.
    assert max(e.pk for e in enrolled) < min(e.pk for e in waiting)
    queue = sorted(waiting, key=lambda e: (e.waitlisted_at, e.pk))
    assert [e.pk for e in queue] == [e.pk for e in waiting]
