"""Regional staff read the cohort pages of their own region, and change nothing: another
region's cohort is a 404, every action is a 403."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from members.models import Region
from members.permissions import Role
from tests.factories import CohortFactory, EnrolmentFactory, SessionFactory, UserFactory
from training.models import Enrolment, EnrolmentStatus, Session, SessionStatus

pytestmark = pytest.mark.django_db


def staff_of(region, *, role=Role.REGIONAL_STAFF):
    user = UserFactory(role=role, staff_region=region)
    user.profile.region = region
    user.profile.save()
    return user


@pytest.fixture
def regions(seeded):
    return {
        "north_east": Region.objects.get(ons_code="E12000001"),
        "wales": Region.objects.get(ons_code="W92000004"),
    }


@pytest.fixture
def regional(regions):
    return staff_of(regions["north_east"])


@pytest.fixture
def cohort(regions):
    """A North East cohort with a session, one trainee enrolled and one applying."""
    cohort = CohortFactory(name="Gateshead, winter", region=regions["north_east"])
    SessionFactory(cohort=cohort, title="Power mapping")
    EnrolmentFactory(cohort=cohort, member=UserFactory(first_name="Aisha", last_name="Begum"))
    EnrolmentFactory(
        cohort=cohort,
        member=UserFactory(first_name="Callum", last_name="Reid"),
        status=EnrolmentStatus.APPLIED,
    )
    return cohort


def page_url(cohort) -> str:
    return reverse("training:cohort-manage", args=[cohort.pk])


def write_urls(cohort) -> list[str]:
    """Every page of the cohort that changes something (or leads to a change)."""
    session = cohort.sessions.get()
    applicant = cohort.enrolments.get(status=EnrolmentStatus.APPLIED)
    return [
        reverse("training:cohort-edit", args=[cohort.pk]),
        reverse("training:cohort-due-dates", args=[cohort.pk]),
        reverse("training:cohort-gradebook", args=[cohort.pk]),
        reverse("training:session-create", args=[cohort.pk]),
        reverse("training:session-edit", args=[session.pk]),
        reverse("training:session-cancel", args=[session.pk]),
        reverse("training:session-register", args=[session.pk]),
        reverse("training:session-checkin-code", args=[session.pk]),
        reverse("training:enrolment-decide", args=[applicant.pk]),
    ]


def test_regional_staff_read_their_regions_cohort_page(client, regional, cohort):
    """Regional staff see the cohort's facts, sessions and people, told the page is read-only."""
    client.force_login(regional)
    response = client.get(page_url(cohort))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Gateshead, winter" in page
    assert "Power mapping" in page
    assert "Aisha Begum" in page
    assert "Callum Reid" in page
    assert 'id="read-only-note"' in page
    assert response.context["may_change"] is False


def test_regional_staff_are_offered_no_action(client, regional, cohort):
    """No link to a page that changes the cohort, and no link to a list they cannot open."""
    client.force_login(regional)
    page = client.get(page_url(cohort)).content.decode()
    for url in write_urls(cohort):
        assert f'href="{url}"' not in page, url
    assert f'href="{reverse("training:manage-cohort-list")}"' not in page
    assert f'href="{reverse("members:home")}"' in page  # the breadcrumbs start at their home


def test_the_cohorts_trainer_is_still_offered_every_action(client, regions, cohort):
    trainer = UserFactory(role=Role.TRAINER)
    cohort.trainers.add(trainer)
    client.force_login(trainer)
    response = client.get(page_url(cohort))
    assert response.context["may_change"] is True
    page = response.content.decode()
    assert 'id="read-only-note"' not in page
    for url in write_urls(cohort):
        if "/edit/" in url and "sessions" not in url:
            continue  # editing a cohort is for national staff
        assert f'href="{url}"' in page, url


def test_regional_staff_of_another_region_get_404(client, regions, cohort):
    """Another region's staff learn nothing, not even that the cohort exists."""
    client.force_login(staff_of(regions["wales"]))
    response = client.get(page_url(cohort))
    assert response.status_code == 404
    assert "Gateshead" not in response.content.decode()


def test_a_missing_cohort_is_a_404(client, regional):
    client.force_login(regional)
    assert client.get(reverse("training:cohort-manage", args=[999999])).status_code == 404


def test_regional_staff_cannot_open_any_action(client, regional, cohort):
    client.force_login(regional)
    for url in write_urls(cohort):
        assert client.get(url).status_code == 403, url
    assert client.get(reverse("training:manage-cohort-list")).status_code == 403


def test_regional_staff_posts_are_refused_and_change_nothing(client, regional, cohort):
    """Whatever they post, to the page itself or an action, is a 403 and leaves the cohort as it was."""
    client.force_login(regional)
    session = cohort.sessions.get()
    applicant = cohort.enrolments.get(status=EnrolmentStatus.APPLIED)
    posts = {
        page_url(cohort): {},
        reverse("training:cohort-edit", args=[cohort.pk]): {"name": "Renamed", "capacity": 99},
        reverse("training:session-create", args=[cohort.pk]): {"title": "Extra"},
        reverse("training:session-cancel", args=[session.pk]): {"reason": "No."},
        reverse("training:enrolment-decide", args=[applicant.pk]): {"decision": "enrol"},
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 403, url
    cohort.refresh_from_db()
    assert cohort.name == "Gateshead, winter"
    assert Session.objects.filter(cohort=cohort).count() == 1
    assert Session.objects.get(pk=session.pk).status == SessionStatus.SCHEDULED
    assert Enrolment.objects.get(pk=applicant.pk).status == EnrolmentStatus.APPLIED


def test_a_trainee_still_gets_403(client, regions, cohort):
    client.force_login(cohort.enrolments.first().member)
    assert client.get(page_url(cohort)).status_code == 403


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_read_only_page_runs_a_fixed_number_of_queries(client, regional, cohort):
    client.force_login(regional)
    url = page_url(cohort)
    client.get(url)
    small = _count(client, url)
    SessionFactory.create_batch(5, cohort=cohort)
    EnrolmentFactory.create_batch(8, cohort=cohort)
    EnrolmentFactory.create_batch(3, cohort=cohort, status=EnrolmentStatus.APPLIED)
    assert _count(client, url) == small
    assert small <= 12
