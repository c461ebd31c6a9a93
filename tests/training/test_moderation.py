"""Moderation: samples, blind second marks, agreement and settling, through services and pages."""

import pytest

from members.permissions import Role
from tests.factories import (
    CohortFactory,
    EnrolmentFactory,
    SubmissionFactory,
    UserFactory,
    levels_chosen,
    rubric_add,
)
from training.models import Outcome
from training.selectors.moderation import (
    agreement_by_criterion,
    agreement_by_trainer,
    moderation_list_for_staff,
)
from training.services.marking import mark_save, moderation_mark, moderation_request

pytestmark = pytest.mark.django_db

PASS, RESUBMIT = Outcome.PASS, Outcome.RESUBMIT


@pytest.fixture
def staff(seeded):
    return UserFactory(role=Role.NATIONAL_STAFF, first_name="Sam", last_name="Staff")


def marked_submission(trainer, outcomes):
    """A submission in one of `trainer`'s cohorts, with a two-criterion rubric, marked by them."""
    cohort = trainer.trained_cohorts.first()
    submission = SubmissionFactory(enrolment=EnrolmentFactory(cohort=cohort))
    rubric_add(submission.assignment, criteria=2)
    mark = mark_save(
        submission=submission,
        marker=trainer,
        levels=levels_chosen(submission.assignment, outcomes),
        feedback="First mark.",
        seen_version=0,
    )
    return submission, mark


def second_mark(moderation, marker, outcomes):
    assignment = moderation.first_mark.submission.assignment
    return moderation_mark(
        moderation=moderation,
        marker=marker,
        levels=levels_chosen(assignment, outcomes),
        feedback="Second look.",
    )


@pytest.fixture
def trainers(seeded):
    ada = UserFactory(role=Role.TRAINER, first_name="Ada", last_name="Adams")
    ben = UserFactory(role=Role.TRAINER, first_name="Ben", last_name="Brown")
    for trainer in (ada, ben):
        CohortFactory(trainers=[trainer])
    return ada, ben


def test_agreement_is_counted_per_trainer_and_per_criterion(staff, trainers):
    """Hand-computed: Ada 2 moderated, 1 same outcome; Ben 1 moderated, 1 same outcome.

    Criteria (each submission has its own rubric): Ada's first submission agrees on both
    criteria; her second agrees on the first criterion only; Ben's agrees on both.
    """
    ada, ben = trainers
    second = UserFactory(role=Role.TRAINER)
    _, ada_one = marked_submission(ada, [PASS, PASS])
    _, ada_two = marked_submission(ada, [PASS, PASS])
    _, ben_one = marked_submission(ben, [PASS, RESUBMIT])
    moderations = moderation_request(marks=[ada_one, ada_two, ben_one], second_marker=second, actor=staff)
    second_mark(moderations[0], second, [PASS, PASS])
    second_mark(moderations[1], second, [PASS, RESUBMIT])
    second_mark(moderations[2], second, [PASS, RESUBMIT])

    by_trainer = {row.label: (row.moderated, row.agreed, row.percent) for row in agreement_by_trainer()}
    assert by_trainer == {"Ada Adams": (2, 1, 50), "Ben Brown": (1, 1, 100)}

    by_criterion = [(row.moderated, row.agreed) for row in agreement_by_criterion()]
    assert sorted(by_criterion) == sorted([(1, 1), (1, 1), (1, 1), (1, 0), (1, 1), (1, 1)])


def test_staff_list_filters_by_state(staff, trainers):
    ada, _ben = trainers
    second = UserFactory(role=Role.TRAINER)
    marks = [marked_submission(ada, [PASS, PASS])[1] for _ in range(3)]
    waiting, agreed, disputed = moderation_request(marks=marks, second_marker=second, actor=staff)
    second_mark(agreed, second, [PASS, PASS])
    second_mark(disputed, second, [RESUBMIT, PASS])
    assert [m.pk for m in moderation_list_for_staff(state="waiting")] == [waiting.pk]
    assert [m.pk for m in moderation_list_for_staff(state="agreed")] == [agreed.pk]
    assert [m.pk for m in moderation_list_for_staff(state="to_settle")] == [disputed.pk]
    assert moderation_list_for_staff(state="nonsense").count() == 3
