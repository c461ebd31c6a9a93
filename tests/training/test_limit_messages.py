"""Limits are said in plain words ("Enter at most 20."), never Django's raw "Ensure this value
is less than or equal to 20.", wherever a form with a limit reaches a person."""

import datetime as dt

import pytest
from django import forms
from django.urls import reverse

from config.forms import PlainLimitsMixin, limits_in_plain_words
from members.permissions import Role
from reporting.forms import TargetChangeForm
from tests.factories import CohortFactory, UserFactory
from training.forms.manage import CohortForm, SessionForm
from training.forms.marking import ModerationSampleForm

pytestmark = pytest.mark.django_db

RAW = ("Ensure this value", "less than or equal", "greater than or equal")


class Sample(PlainLimitsMixin, forms.Form):
    count = forms.IntegerField(min_value=1, max_value=20)
    big = forms.IntegerField(max_value=1_000_000, required=False)
    own = forms.IntegerField(max_value=5, required=False, error_messages={"max_value": "Five is plenty."})
    name = forms.CharField(max_length=3, min_length=2, required=False)
    letter = forms.CharField(max_length=1, required=False)


def errors_of(form) -> dict:
    assert not form.is_valid()
    return {name: " ".join(messages) for name, messages in form.errors.items()}


def test_number_limits_say_at_most_and_at_least():
    assert errors_of(Sample({"count": 21}))["count"] == "Enter at most 20."
    assert errors_of(Sample({"count": 0}))["count"] == "Enter at least 1."


def test_large_limits_are_grouped_in_thousands():
    assert errors_of(Sample({"count": 1, "big": 2_000_000}))["big"] == "Enter at most 1,000,000."


def test_a_forms_own_message_wins():
    assert errors_of(Sample({"count": 1, "own": 6}))["own"] == "Five is plenty."


def test_length_limits_say_at_most_and_at_least_with_the_count():
    errors = errors_of(Sample({"count": 1, "name": "Abcd", "letter": "ab"}))
    assert errors["name"] == "Use at most 3 characters (this has 4)."
    assert errors["letter"] == "Use at most 1 character (this has 2)."
    assert errors_of(Sample({"count": 1, "name": "A"}))["name"] == "Use at least 2 characters (this has 1)."


def test_the_helper_works_on_a_single_field():
    field = forms.IntegerField(max_value=9)
    limits_in_plain_words(field)
    with pytest.raises(forms.ValidationError) as refused:
        field.clean("10")
    assert refused.value.messages == ["Enter at most 9."]


def test_the_moderation_sample_says_at_most_20(seeded):
    staff_trainers = UserFactory.create_batch(2, role=Role.TRAINER)
    queryset = type(staff_trainers[0]).objects.filter(pk__in=[u.pk for u in staff_trainers])
    form = ModerationSampleForm(
        {"first_marker": staff_trainers[0].pk, "second_marker": staff_trainers[1].pk, "size": 21},
        trainers=queryset,
    )
    assert errors_of(form)["size"] == "Enter at most 20."


def test_cohort_places_say_at_most_1000_and_keep_their_own_minimum(seeded):
    too_many = errors_of(CohortForm({"capacity": 1001}))
    assert too_many["capacity"] == "Enter at most 1,000."
    assert errors_of(CohortForm({"capacity": 0}))["capacity"] == "A cohort needs at least one place."
    assert not any(raw in message for message in too_many.values() for raw in RAW)


def test_a_session_title_too_long_says_at_most(seeded):
    form = SessionForm({"title": "x" * 201}, cohort=CohortFactory())
    assert errors_of(form)["title"] == "Use at most 200 characters (this has 201)."


def test_a_target_over_the_ceiling_says_at_most():
    form = TargetChangeForm({"leaders": 2_000_000, "deadline": dt.date(2030, 1, 1), "note": "Board."})
    assert errors_of(form)["leaders"] == "Enter at most 1,000,000."


def test_the_message_reaches_the_page(client, seeded):
    """Through the moderation sample page: a 400 with the plain words at the field."""
    staff = UserFactory(role=Role.NATIONAL_STAFF)
    ada, ben = UserFactory.create_batch(2, role=Role.TRAINER)
    client.force_login(staff)
    response = client.post(
        reverse("training:moderation-sample"), {"first_marker": ada.pk, "second_marker": ben.pk, "size": 21}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter at most 20." in page
    assert not any(raw in page for raw in RAW)
