"""What every signed-in page pays before its own work: the floor view (bench/floor.py: the
site's middleware and base template, nothing else) runs two queries, the session and the
user, for a member whose state is settled, whatever their roles, at two sizes of the data
around them (issue 23, decision 0028)."""

import pytest
from django.test import Client, override_settings

from members.permissions import Role
from members.services import user_assign_role
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

FLOOR = "/bench/floor/"
# The session row, then the user row: what Django's own middleware reads.
SETTLED_QUERIES = 2

VIEWERS = {
    "trainee": {"role": Role.TRAINEE},
    "trainer": {"role": Role.TRAINER},
    "regional": {"role": Role.REGIONAL_STAFF},
    "national": {"role": Role.NATIONAL_STAFF},
    "national, also a trainer": {"role": Role.NATIONAL_STAFF, "also": Role.TRAINER},
}


def _others(count: int) -> None:
    """Members around the viewer, of every role, with their consents, profiles and keys."""
    roles = list(Role)
    for n in range(count):
        UserFactory(role=roles[n % len(roles)])


def _viewer(role: Role, also: Role | None = None) -> Client:
    user = UserFactory(role=role)
    if also is not None:
        user_assign_role(user=user, role=also)
    client = Client()
    client.force_login(user)
    return client


def _floor_queries(client, django_assert_num_queries) -> None:
    assert client.get(FLOOR).status_code == 200  # a first page settles the state (sign-in did)
    with django_assert_num_queries(SETTLED_QUERIES):
        assert client.get(FLOOR).status_code == 200


@override_settings(ROOT_URLCONF="bench.urls")
@pytest.mark.parametrize("others", [0, 12], ids=["alone", "among 12"])
@pytest.mark.parametrize("viewer", VIEWERS, ids=list(VIEWERS))
def test_the_floor_costs_the_session_and_the_user_only(viewer, others, django_assert_num_queries):
    _others(others)
    client = _viewer(**VIEWERS[viewer])
    _floor_queries(client, django_assert_num_queries)
