"""Moderation: samples, blind second marks, agreement and settling, through services and pages."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from members.permissions import Role
from tests.factories import (
    CohortFactory,
    EnrolmentFactory,
    SubmissionFactory,
    UserFactory,
    levels_chosen,
    rubric_add,
)
from tests.listing import listing_check, page_of
from training.models import Moderation, Outcome
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


# --- Pages ---------------------------------------------------------------------------


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_staff_send_a_sample_from_the_page(client, staff, trainers):
    ada, ben = trainers
    for _ in range(3):
        marked_submission(ada, [PASS, PASS])
    client.force_login(staff)
    response = client.post(
        reverse("training:moderation-sample"), {"first_marker": ada.pk, "second_marker": ben.pk, "size": 2}
    )
    assert response.status_code == 302
    assert Moderation.objects.filter(second_marker=ben, first_mark__marker=ada).count() == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"second_marker": "first"}, "Choose someone other than the trainer"),
        ({"size": 0}, "Enter at least 1."),
        ({"size": "lots"}, "Enter a whole number"),
        ({"first_marker": 999999}, "Select a valid choice"),
    ],
)
def test_a_bad_sample_is_refused_with_a_message(client, staff, trainers, change, message):
    ada, ben = trainers
    marked_submission(ada, [PASS, PASS])
    data = {"first_marker": ada.pk, "second_marker": ben.pk, "size": 2, **change}
    if data["second_marker"] == "first":
        data["second_marker"] = ada.pk
    client.force_login(staff)
    response = client.post(reverse("training:moderation-sample"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Moderation.objects.exists()


def test_a_trainer_with_no_marks_left_gets_a_message(client, staff, trainers):
    ada, ben = trainers
    client.force_login(staff)
    response = client.post(
        reverse("training:moderation-sample"), {"first_marker": ada.pk, "second_marker": ben.pk, "size": 2}
    )
    assert response.status_code == 400
    assert "no marks left to moderate" in response.content.decode()


def test_second_marker_marks_blind_and_others_cannot_reach_it(client, staff, trainers):
    """The page hides the first mark; only the chosen second marker may open it."""
    ada, ben = trainers
    submission, first = marked_submission(ada, [PASS, PASS])
    [moderation] = moderation_request(marks=[first], second_marker=ben, actor=staff)
    url = reverse("training:moderation-second-mark", args=[moderation.pk])

    client.force_login(ada)
    assert client.get(url).status_code == 404
    client.force_login(UserFactory(role=Role.TRAINEE))
    assert client.get(url).status_code == 403

    client.force_login(ben)
    page = client.get(url).content.decode()
    assert "First mark." not in page
    assert "Meets the standard" in page  # the rubric's levels, to choose from
    data = {"seen_version": 0, "feedback": "Second view."}
    response = client.post(url, data)
    assert response.status_code == 400
    assert "Choose a level for" in response.content.decode()
    for criterion_id, level_id in levels_chosen(submission.assignment, [PASS, RESUBMIT]).items():
        data[f"criterion_{criterion_id}"] = level_id
    assert client.post(url, data).status_code == 302
    moderation.refresh_from_db()
    assert moderation.second_mark.outcome == RESUBMIT
    submission.refresh_from_db()
    assert submission.outcome == PASS  # the trainee's outcome is untouched


def test_staff_settle_with_a_reason(client, staff, trainers):
    ada, ben = trainers
    submission, first = marked_submission(ada, [PASS, PASS])
    [moderation] = moderation_request(marks=[first], second_marker=ben, actor=staff)
    second_mark(moderation, ben, [RESUBMIT, PASS])
    url = reverse("training:moderation-settle", args=[moderation.pk])

    client.force_login(ada)
    assert client.get(url).status_code == 403

    client.force_login(staff)
    page = client.get(url).content.decode()
    assert "First mark." in page
    assert "Second look." in page
    data = {"seen_version": 0, "feedback": "Settled.", "reason": ""}
    for criterion_id, level_id in levels_chosen(submission.assignment, [RESUBMIT, PASS]).items():
        data[f"criterion_{criterion_id}"] = level_id
    response = client.post(url, data)
    assert response.status_code == 400
    assert "Say why the mark is being changed." in response.content.decode()
    data["reason"] = "The second marker is right about the first criterion."
    assert client.post(url, data).status_code == 302
    submission.refresh_from_db()
    assert submission.outcome == RESUBMIT
    assert client.post(url, data).status_code == 400  # settled once only


def test_moderation_list_runs_a_fixed_number_of_queries(client, staff, trainers):
    ada, ben = trainers
    client.force_login(staff)
    url = reverse("training:moderation-list")

    def add(count):
        marks = [marked_submission(ada, [PASS, PASS])[1] for _ in range(count)]
        for moderation in moderation_request(marks=marks, second_marker=ben, actor=staff):
            second_mark(moderation, ben, [PASS, RESUBMIT])

    add(1)
    few = _count_queries(client, url)
    add(6)
    assert _count_queries(client, url) == few
    assert _count_queries(client, url + "?state=nonsense&page=99") == few


def test_second_marking_list_shows_only_ones_own(client, staff, trainers):
    ada, ben = trainers
    _, first = marked_submission(ada, [PASS, PASS])
    moderation_request(marks=[first], second_marker=ben, actor=staff)
    client.force_login(ben)
    assert "Mark<span" in client.get(reverse("training:second-marking-list")).content.decode()
    client.force_login(ada)
    page = client.get(reverse("training:second-marking-list")).content.decode()
    assert "Nothing has been sent to you" in page


def test_moderation_list_sorts_and_pages_on_the_one_table_component(client, staff, trainers):
    """Newest first, 20 a page; sortable by when sent; the state filter is kept by the links;
    unknown keys and bad pages change nothing; each row's button says what it opens."""
    ada, ben = trainers
    marks = [marked_submission(ada, [PASS, PASS])[1] for _ in range(22)]
    moderations = moderation_request(marks=marks, second_marker=ben, actor=staff)
    second_mark(moderations[0], ben, [RESUBMIT, PASS])
    client.force_login(staff)
    url = reverse("training:moderation-list")
    listing_check(
        client,
        url,
        table="table-moderationtable",
        caption="22 moderated marks",
        sort="requested_at",
        per_page=20,
        total=22,
    )
    page = page_of(client, url, {"state": "to_settle"})
    assert "1 moderated mark" in page
    assert "?state=to_settle&sort=requested_at" in page
    assert ">Settle<" in page
