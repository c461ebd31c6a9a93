"""Ids typed into query strings: anything that is not a plausible id finds nothing, never a 500."""

import pytest
from django.urls import reverse

from config.ids import ID_MAX, id_from_text
from members.permissions import Role
from tests.factories import UserFactory


@pytest.mark.parametrize(
    ("text", "expected"),
    [("42", 42), (str(ID_MAX), ID_MAX), (str(ID_MAX + 1), None), ("0", None), ("-1", None), ("²", None)]
    + [("4 2", None), ("", None), (None, None), ("1e3", None), ("٣", None), (" 7", None)],
)
def test_only_ascii_digits_in_the_id_range_are_ids(text, expected):
    assert id_from_text(text) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("region", ["²", str(10**20), "-3", "x"])
def test_the_dashboard_answers_a_strange_region_with_a_4xx(client, seeded, region):
    client.force_login(UserFactory(role=Role.NATIONAL_STAFF))
    assert client.get(reverse("reporting:dashboard"), {"region": region}).status_code in (400, 404)
