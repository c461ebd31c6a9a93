"""The region a regional staff member oversees is their access scope, given by national staff
and audited; the region in their own profile is their place and changes nothing they see
(issue 17, escalation 1; decision 0020)."""

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditAction, AuditEntry
from members.models import Profile, Region, User
from members.permissions import Role, staff_region_scope
from members.services import staff_region_set
from tests.factories import CohortFactory, EnrolmentFactory, UserFactory
from training.models import CohortStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def regions(seeded):
    return {
        "north_east": Region.objects.get(ons_code="E12000001"),
        "wales": Region.objects.get(ons_code="W92000004"),
    }


@pytest.fixture
def cohorts(regions):
    """A running cohort in each region, each with one member enrolled."""
    made = {}
    for name, region in regions.items():
        cohort = CohortFactory(name=f"{name} cohort", region=region, status=CohortStatus.RUNNING)
        EnrolmentFactory(cohort=cohort)
        made[name] = cohort
    return made


@pytest.fixture
def regional(regions):
    """Regional staff overseeing the North East, where they also live."""
    user = UserFactory(role=Role.REGIONAL_STAFF, staff_region=regions["north_east"])
    Profile.objects.filter(user=user).update(region=regions["north_east"])
    return user


@pytest.fixture
def national(seeded):
    return UserFactory(role=Role.NATIONAL_STAFF)


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _move_house(client, user, region) -> None:
    """The member edits their own profile's region (and tries to smuggle in a scope)."""
    response = client.post(
        reverse("members:profile-edit"),
        {
            "first_name": user.first_name,
            "last_name": user.last_name,
            "region": region.pk,
            "constituency": "",
            "phone": "",
            "staff_region": region.pk,
        },
    )
    assert response.status_code == 302
    assert Profile.objects.get(user=user).region == region


def _ids(response) -> set[int]:
    assert response.status_code == 200
    return {row["id"] for row in response.json()["results"]}


def _sees_only(client, cohorts, *, mine: str, other: str) -> None:
    """Every door regional staff read through shows `mine` and never `other`."""
    manage = "training:cohort-manage"
    assert client.get(reverse(manage, args=[cohorts[mine].pk])).status_code == 200
    assert client.get(reverse(manage, args=[cohorts[other].pk])).status_code == 404
    assert _ids(client.get(reverse("api:cohort-list"))) == {cohorts[mine].pk}
    enrolments = _ids(client.get(reverse("api:enrolment-list")))
    assert enrolments == set(cohorts[mine].enrolments.values_list("pk", flat=True))
    mine_region, other_region = cohorts[mine].region, cohorts[other].region
    assert client.get(reverse("api:dashboard")).json()["region"] == mine_region.pk
    dashboard = client.get(reverse("reporting:dashboard"))
    assert dashboard.status_code == 200
    assert mine_region.name in dashboard.content.decode()
    people = reverse("reporting:dashboard-people")
    assert client.get(people, {"figure": "leaders", "region": other_region.pk}).status_code == 404
    assert client.get(people, {"figure": "leaders", "region": mine_region.pk}).status_code == 200
    table = reverse("reporting:dashboard-table", kwargs={"slug": "places"})
    assert client.get(table, {"format": "csv", "region": other_region.pk}).status_code == 404
    csv = client.get(table, {"format": "csv"})
    assert csv.status_code == 200
    body = b"".join(csv.streaming_content) if csv.streaming else csv.content
    assert other_region.name not in body.decode()


def test_editing_their_profile_region_does_not_move_what_regional_staff_see(regional, regions, cohorts):
    """Regional staff who move their profile to Wales still see only the North East: the
    cohort list and page (Wales's is a 404), the API's cohorts, enrolments and dashboard,
    the dashboard's lists and its CSV export."""
    client = _signed_in(regional)
    _sees_only(client, cohorts, mine="north_east", other="wales")

    _move_house(client, regional, regions["wales"])

    regional.refresh_from_db()
    assert regional.staff_region == regions["north_east"]
    assert staff_region_scope(regional) == regions["north_east"].pk
    _sees_only(client, cohorts, mine="north_east", other="wales")


def test_national_staff_set_the_region_and_the_trail_records_it(regional, national, regions, cohorts):
    """National staff move a regional staff member to Wales on the page for it: the audit
    trail has the change (before and after, by whom, about whom), and the next request of
    the regional staff member sees Wales and no longer the North East."""
    regional_client = _signed_in(regional)
    client = _signed_in(national)
    page = reverse("members:staff-region-edit", args=[regional.pk])
    listed = client.get(reverse("members:staff-region-list"))
    assert listed.status_code == 200
    assert page in listed.content.decode()
    assert client.get(page).status_code == 200

    response = client.post(page, {"region": regions["wales"].pk})

    assert response.status_code == 302
    regional.refresh_from_db()
    assert regional.staff_region == regions["wales"]
    assert Profile.objects.get(user=regional).region == regions["north_east"]  # their place stays
    entry = AuditEntry.objects.filter(action=AuditAction.ROLE_CHANGED, subject=regional).latest("at")
    assert entry.actor == national
    assert entry.changes == {
        "staff_region": {"before": regions["north_east"].pk, "after": regions["wales"].pk}
    }
    _sees_only(regional_client, cohorts, mine="wales", other="north_east")


def test_regional_staff_cannot_set_their_own_region(regional, regions):
    """The page is national staff's (403 for regional staff, GET and POST); the profile form
    has no such field and a posted one is ignored; the service refuses them."""
    client = _signed_in(regional)
    page = reverse("members:staff-region-edit", args=[regional.pk])
    assert client.get(page).status_code == 403
    assert client.post(page, {"region": regions["wales"].pk}).status_code == 403
    assert client.get(reverse("members:staff-region-list")).status_code == 403
    assert "staff_region" not in client.get(reverse("members:profile-edit")).content.decode()

    _move_house(client, regional, regions["wales"])

    with pytest.raises(PermissionDenied):
        staff_region_set(user=regional, region=regions["wales"], actor=regional)
    regional.refresh_from_db()
    assert regional.staff_region == regions["north_east"]
    assert not AuditEntry.objects.filter(changes__has_key="staff_region").exists()


def test_only_regional_staff_have_a_region_page(national, regions):
    """National staff reach the page of members who hold the regional staff role; any other
    member's is a 404, as is an unknown id."""
    client = _signed_in(national)
    trainee = UserFactory(role=Role.TRAINEE)
    assert client.get(reverse("members:staff-region-edit", args=[trainee.pk])).status_code == 404
    assert client.get(reverse("members:staff-region-edit", args=[999999])).status_code == 404


def test_setting_the_same_region_again_records_nothing(regional, national, regions):
    before = AuditEntry.objects.count()
    staff_region_set(user=regional, region=regions["north_east"], actor=national)
    assert AuditEntry.objects.count() == before


def test_regional_staff_given_no_region_see_no_region(regions, cohorts):
    """Regional staff with a profile but no region to oversee read no region's cohorts and
    are refused the dashboard with the reason."""
    user = UserFactory(role=Role.REGIONAL_STAFF)
    User.objects.filter(pk=user.pk).update(staff_region=None)
    Profile.objects.filter(user=user).update(region=regions["north_east"])
    client = _signed_in(user)
    assert client.get(reverse("training:cohort-manage", args=[cohorts["north_east"].pk])).status_code == 404
    assert _ids(client.get(reverse("api:cohort-list"))) == set()
    refused = client.get(reverse("reporting:dashboard"))
    assert refused.status_code == 403


def test_the_admin_sets_the_region_and_the_trail_records_it(regional, regions):
    """An operator changing the region in the admin's user form leaves an audit entry."""
    operator = UserFactory(is_superuser=True, is_staff=True)
    client = _signed_in(operator)
    url = reverse("admin:members_user_change", args=[regional.pk])
    form = client.get(url).context["adminform"].form
    data = {
        "email": regional.email,
        "first_name": regional.first_name,
        "last_name": regional.last_name,
        "is_active": "on",
        "groups": [group.pk for group in form.initial["groups"]],
        "staff_region": regions["wales"].pk,
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    regional.refresh_from_db()
    assert regional.staff_region == regions["wales"]
    entry = AuditEntry.objects.filter(action=AuditAction.ROLE_CHANGED, subject=regional).latest("at")
    assert entry.actor == operator
    assert entry.changes == {
        "staff_region": {"before": regions["north_east"].pk, "after": regions["wales"].pk}
    }


def test_the_migration_gives_existing_regional_staff_their_profile_region(regional, regions):
    """Existing regional staff oversee, after the migration, the region their profile named;
    other members get none."""
    trainee = UserFactory(role=Role.TRAINEE)
    User.objects.update(staff_region=None)
    migration = importlib.import_module("members.migrations.0006_user_staff_region_access_version")

    migration.scope_from_profile_region(apps, None)

    assert User.objects.get(pk=regional.pk).staff_region == regions["north_east"]
    assert User.objects.get(pk=trainee.pk).staff_region is None


def test_the_list_of_regional_staff_costs_the_same_queries_at_two_sizes(national, regions):
    """The list page's queries do not grow with the number of regional staff listed."""
    client = _signed_in(national)
    url = reverse("members:staff-region-list")

    def counted() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    UserFactory(role=Role.REGIONAL_STAFF, staff_region=regions["wales"])
    one = counted()
    for _ in range(5):
        UserFactory(role=Role.REGIONAL_STAFF, staff_region=regions["north_east"])
    assert counted() == one
