"""Trainers and staff move assignments' due dates for one cohort."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from members.permissions import Role
from tests.factories import AssignmentFactory, CohortFactory, UserFactory
from training.models import AssignmentDueDate

pytestmark = pytest.mark.django_db


@pytest.fixture
def trainer(seeded):
    return UserFactory(role=Role.TRAINER)


@pytest.fixture
def cohort(trainer):
    return CohortFactory(trainers=[trainer])


def url_of(cohort):
    return reverse("training:cohort-due-dates", args=[cohort.pk])


def test_page_shows_each_assignment_with_its_default(client, trainer, cohort):
    essay = AssignmentFactory(module__version=cohort.version, title="Power map", due_offset_days=21)
    client.force_login(trainer)
    page = client.get(url_of(cohort)).content.decode()
    default = cohort.starts_on + dt.timedelta(days=21)
    assert "Power map" in page
    assert f"Default: {default:%a} {default.day} {default:%b %Y}" in page
    assert f'name="due_{essay.pk}"' in page


def test_setting_and_clearing_dates(client, trainer, cohort):
    """A date is kept for this cohort; a blank removes an earlier one."""
    moved = AssignmentFactory(module__version=cohort.version)
    restored = AssignmentFactory(module__version=cohort.version)
    AssignmentDueDate.objects.create(cohort=cohort, assignment=restored, due_on=cohort.starts_on)
    new_date = cohort.starts_on + dt.timedelta(days=30)
    client.force_login(trainer)
    response = client.post(
        url_of(cohort), {f"due_{moved.pk}": new_date.isoformat(), f"due_{restored.pk}": ""}
    )
    assert response.status_code == 302
    assert dict(AssignmentDueDate.objects.values_list("assignment_id", "due_on")) == {moved.pk: new_date}
    page = client.get(url_of(cohort)).content.decode()
    assert f'value="{new_date.isoformat()}"' in page


@pytest.mark.parametrize(
    ("value", "message"),
    [("not a date", "Enter a valid date"), ("START-1", "on or after the cohort starts")],
)
def test_bad_dates_are_refused_beside_the_field(client, trainer, cohort, value, message):
    assignment = AssignmentFactory(module__version=cohort.version)
    if value == "START-1":
        value = (cohort.starts_on - dt.timedelta(days=1)).isoformat()
    client.force_login(trainer)
    response = client.post(url_of(cohort), {f"due_{assignment.pk}": value})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not AssignmentDueDate.objects.exists()


def test_only_the_cohorts_trainers_and_staff(client, seeded, cohort):
    other_trainer = UserFactory(role=Role.TRAINER)
    client.force_login(other_trainer)
    assert client.get(url_of(cohort)).status_code == 404
    client.force_login(UserFactory(role=Role.TRAINEE))
    assert client.get(url_of(cohort)).status_code == 403
    client.force_login(UserFactory(role=Role.NATIONAL_STAFF))
    assert client.get(url_of(cohort)).status_code == 200
    client.logout()
    assert client.get(url_of(cohort)).status_code == 302


def test_page_runs_a_fixed_number_of_queries(client, trainer, cohort):
    client.force_login(trainer)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url_of(cohort)).status_code == 200
        return len(queries)

    AssignmentFactory.create_batch(2, module__version=cohort.version)
    few = count()
    AssignmentFactory.create_batch(8, module__version=cohort.version)
    assert count() == few
