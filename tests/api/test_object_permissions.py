"""Each API object answers each role as its page does: the same permission functions and
selectors decide both (a trainer or trainee of another cohort, regional staff of another
region: 404 where the page says 404, 403 where it says 403)."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.security.scenario import ROLES

pytestmark = pytest.mark.django_db

SIGNED_IN = [role for role in ROLES if role != "anonymous"]


def _status(client, url) -> int:
    return client.get(url).status_code


def _clients(world, role):
    client = Client()
    client.force_login(world.users[role])
    return client


@pytest.mark.parametrize("role", SIGNED_IN)
def test_a_cohort_answers_as_its_page(world, role):
    """Trainees as the trainee's cohort page; everyone else as the cohort's manage page."""
    client = _clients(world, role)
    page = "training:cohort-detail" if role.startswith("trainee") else "training:cohort-manage"
    page_status = _status(client, reverse(page, kwargs={"pk": world.cohort.pk}))
    api_status = _status(client, reverse("api:cohort-detail", kwargs={"pk": world.cohort.pk}))
    assert (api_status, page_status) in {(200, 200), (404, 404)}


@pytest.mark.parametrize("role", SIGNED_IN)
def test_a_session_answers_as_its_cohort_page(world, role):
    """A session is seen by whoever sees its cohort's page (attendees and readers alike)."""
    client = _clients(world, role)
    page = "training:cohort-detail" if role.startswith("trainee") else "training:cohort-manage"
    page_status = _status(client, reverse(page, kwargs={"pk": world.cohort.pk}))
    api_status = _status(client, reverse("api:session-detail", kwargs={"pk": world.session.pk}))
    assert (api_status, page_status) in {(200, 200), (404, 404)}


@pytest.mark.parametrize("role", SIGNED_IN)
def test_a_certificate_answers_as_its_pdf_page(world, role):
    client = _clients(world, role)
    page_status = _status(
        client, reverse("certification:certificate-pdf", kwargs={"pk": world.certificate.pk})
    )
    api_status = _status(client, reverse("api:certificate-detail", kwargs={"pk": world.certificate.pk}))
    assert api_status == page_status


@pytest.mark.parametrize("role", ROLES)
def test_a_registry_entry_answers_as_its_page(world, role):
    client = _clients(world, role) if role in world.users else Client()
    page_status = _status(client, reverse("certification:registry-entry", kwargs={"pk": world.entry.pk}))
    api_status = _status(client, reverse("api:registry-detail", kwargs={"pk": world.entry.pk}))
    assert api_status == page_status


@pytest.mark.parametrize("role", SIGNED_IN)
def test_targets_and_figures_answer_as_the_dashboard(world, role):
    client = _clients(world, role)
    page_status = _status(client, reverse("reporting:dashboard"))
    for name in ("api:target-list", "api:dashboard"):
        assert _status(client, reverse(name)) == page_status, name


def _ids(client, name) -> set[int]:
    return {row["id"] for row in client.get(reverse(name)).json()["results"]}


def test_lists_hold_only_what_each_role_may_see(world):
    """The other cohort's trainer, trainee and regional staff see nothing of cohort A."""
    cohort, session, certificate = world.cohort.pk, world.session.pk, world.certificate.pk
    for role in ("trainee_other", "trainer_other", "regional_other"):
        client = _clients(world, role)
        assert cohort not in _ids(client, "api:cohort-list"), role
        assert session not in _ids(client, "api:session-list"), role
        assert certificate not in _ids(client, "api:certificate-list"), role
    for role in ("trainee", "trainer", "regional", "national"):
        client = _clients(world, role)
        assert cohort in _ids(client, "api:cohort-list"), role
        assert session in _ids(client, "api:session-list"), role
    assert _ids(_clients(world, "trainee"), "api:certificate-list") == {certificate}


def test_the_registry_list_shows_entries_at_their_visibility(world):
    """The trainee's entry is visible to staff only (the default): nobody else lists it."""
    for role in ("trainee_other", "trainer", "regional"):
        assert world.entry.pk not in _ids(_clients(world, role), "api:registry-list")
    assert world.entry.pk not in _ids(Client(), "api:registry-list")
    assert world.entry.pk in _ids(_clients(world, "national"), "api:registry-list")


def test_regional_staff_see_their_regions_figures_only(world):
    regional = _clients(world, "regional_other").get(reverse("api:dashboard")).json()
    national = _clients(world, "national").get(reverse("api:dashboard")).json()
    assert regional["region"] == world.region_other.pk
    assert national["region"] is None
    targets = _clients(world, "regional_other").get(reverse("api:target-list")).json()["results"]
    assert world.target.pk not in [row["target"]["id"] for row in targets]  # region A's target
