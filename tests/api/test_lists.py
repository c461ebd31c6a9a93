"""Lists: paged (cursor), filtered by allow-listed fields only, bad values a 400 naming the
field, unknown keys ignored, never a 500; and a fixed number of queries whatever the size."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from certification.models import RegistryEntry, Visibility
from certification.services.certificates import certificate_issue_manually
from members.permissions import Role
from tests.factories import CohortFactory, EnrolmentFactory, SessionFactory, UserFactory
from training.models import CohortStatus, EnrolmentStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def national_token(make_token):
    national = UserFactory(role=Role.NATIONAL_STAFF)
    token, raw, client = make_token(national)
    client.user = national
    return client


def _grow(*, cohorts: int, national) -> None:
    """`cohorts` cohorts with two trainers and a session each, and a certified leader each."""
    for _ in range(cohorts):
        trainers = UserFactory.create_batch(2, role=Role.TRAINER)
        cohort = CohortFactory(trainers=trainers)
        SessionFactory(cohort=cohort)
        finished = CohortFactory(
            status=CohortStatus.FINISHED,
            starts_on=timezone.localdate() - dt.timedelta(days=100),
            ends_on=timezone.localdate() - dt.timedelta(days=10),
        )
        enrolment = EnrolmentFactory(cohort=finished, status=EnrolmentStatus.COMPLETED)
        certificate_issue_manually(enrolment=enrolment, actor=national, reason="Evidence.")
    RegistryEntry.objects.update(visibility=Visibility.PUBLIC)


LISTS = [
    "/api/v1/cohorts/",
    "/api/v1/sessions/",
    "/api/v1/certificates/",
    "/api/v1/registry/",
    "/api/v1/programmes/",
    "/api/v1/targets/",
]


def _queries(client, url) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.content[:200])
    return len(captured.captured_queries), len(response.json()["results"])


@pytest.mark.parametrize("url", LISTS)
def test_each_list_costs_the_same_queries_at_two_sizes(national_token, url):
    """With a token: the token and its holder (1), the holder's permissions (2), the page (1,
    plus 1 per prefetched relation; the dashboard's base read for targets), and the audit
    entry (1). The same at 2 and at 6 rows of each kind."""
    _grow(cohorts=2, national=national_token.user)
    # Per-process caches filled first (the audit entry's content type; the dashboard's
    # conversion rates), as on a running server.
    national_token.get(url)
    small, rows_small = _queries(national_token, url)
    _grow(cohorts=4, national=national_token.user)
    large, rows_large = _queries(national_token, url)
    assert small == large
    assert small == BUDGET[url]
    if url not in ("/api/v1/targets/",):
        assert rows_large > rows_small


BUDGET = {
    "/api/v1/cohorts/": 6,
    "/api/v1/sessions/": 6,  # the modules, prefetched
    "/api/v1/certificates/": 5,
    "/api/v1/registry/": 5,
    "/api/v1/programmes/": 6,
    "/api/v1/targets/": 8,
}


def test_a_cursor_walks_every_row_once(national_token):
    _grow(cohorts=3, national=national_token.user)
    seen, url = [], "/api/v1/sessions/?page_size=2"
    while url:
        body = national_token.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == 3
    assert seen == sorted(seen, reverse=True)


def test_an_oversized_page_is_capped_and_a_bad_cursor_is_404(national_token):
    _grow(cohorts=1, national=national_token.user)
    assert national_token.get("/api/v1/cohorts/?page_size=100000").status_code == 200
    assert national_token.get("/api/v1/cohorts/?cursor=not-a-cursor").status_code == 404
    assert national_token.get("/api/v1/cohorts/?page_size=-5").status_code == 200


def test_filters_narrow_by_allow_listed_fields(national_token):
    _grow(cohorts=2, national=national_token.user)
    body = national_token.get("/api/v1/cohorts/?status=finished").json()
    assert body["results"]
    assert {row["status"] for row in body["results"]} == {"finished"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=exploded", "status"),
        ("region=abc", "region"),
        ("version=999999", "version"),
    ],
)
def test_a_bad_filter_value_is_a_400_naming_the_field(national_token, query, field):
    response = national_token.get(f"/api/v1/cohorts/?{query}")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert field in response.json()["detail"]


def test_registry_filters_say_which_value_was_wrong(national_token):
    response = national_token.get("/api/v1/registry/?region=north&target_seats=perhaps")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"region", "target_seats"}


@pytest.mark.parametrize("key", ["region", "constituency", "programme"])
def test_an_id_beyond_any_row_is_a_400_not_an_overflow(national_token, key):
    """Found by schemathesis: a 22-digit id reached the database (SQLite cannot bind it)."""
    response = national_token.get(f"/api/v1/registry/?target_seats=true&{key}=6448864171204054876160")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {key}
    assert national_token.get(f"/api/v1/registry/?target_seats=true&{key}={2**63 - 1}").status_code == 200


def test_unknown_filters_and_sorts_are_ignored(national_token):
    _grow(cohorts=2, national=national_token.user)
    plain = national_token.get("/api/v1/certificates/").json()
    hostile = national_token.get(
        "/api/v1/certificates/?holder__password__startswith=p&ordering=-holder__email&status__regex=.*"
    ).json()
    assert hostile == plain


def test_anonymous_registry_calls_list_public_entries_only(national_token):
    _grow(cohorts=2, national=national_token.user)
    entry = RegistryEntry.objects.first()
    entry.visibility = Visibility.MEMBERS
    entry.save(update_fields=["visibility"])
    anonymous = {row["id"] for row in APIClient().get("/api/v1/registry/").json()["results"]}
    assert entry.pk not in anonymous
    assert len(anonymous) == RegistryEntry.objects.filter(visibility=Visibility.PUBLIC).count()
