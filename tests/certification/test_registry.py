"""The registry shows each leader only as widely as they chose; the leader decides."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certification.models import (
    Certificate,
    CertificateEventKind,
    RegistryEntry,
    Visibility,
    VisibilityChange,
)
from certification.services.certificates import certificate_issue_manually, certificate_revoke
from certification.services.registry import trainer_accredit
from members.models import Constituency, Profile
from members.permissions import Role
from tests.factories import CohortFactory, EnrolmentFactory, UserFactory
from training.selectors.manage import trainer_candidate_list

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(seeded):
    return UserFactory(role=Role.NATIONAL_STAFF)


def leader(staff, visibility=Visibility.STAFF, **names):
    member = UserFactory(role=Role.TRAINEE, **names)
    certificate_issue_manually(enrolment=EnrolmentFactory(member=member), actor=staff, reason="Evidence.")
    entry = RegistryEntry.objects.get(member=member)
    RegistryEntry.objects.filter(pk=entry.pk).update(visibility=visibility)
    return entry


def test_certification_lists_a_leader_visible_to_staff_only(staff):
    entry = leader(staff)
    assert entry.visibility == Visibility.STAFF


@pytest.mark.parametrize(
    ("viewer", "visible"),
    [
        ("anonymous", {"public"}),
        ("member", {"public", "members"}),
        ("staff", {"public", "members", "staff"}),
    ],
)
def test_each_viewer_sees_exactly_what_each_leader_allowed(client, staff, viewer, visible):
    entries = {
        "public": leader(staff, Visibility.PUBLIC, first_name="Pat", last_name="Quillpublic"),
        "members": leader(staff, Visibility.MEMBERS, first_name="Mo", last_name="Zephyrmembers"),
        "staff": leader(staff, Visibility.STAFF, first_name="Sid", last_name="Xanstaffonly"),
    }
    if viewer == "member":
        client.force_login(UserFactory(role=Role.TRAINEE))
    elif viewer == "staff":
        client.force_login(staff)
    page = client.get(reverse("certification:registry")).content.decode()
    for kind, entry in entries.items():
        shown = kind in visible
        assert (entry.member.last_name in page) is shown
        status = client.get(reverse("certification:registry-entry", args=[entry.pk])).status_code
        assert status == (200 if shown else 404)


def test_the_leader_opts_in_and_withdraws_and_it_is_recorded(client, staff):
    entry = leader(staff, first_name="Aisha", last_name="Khan")
    client.force_login(entry.member)
    url = reverse("certification:registry-me")
    assert client.post(url, {"visibility": "public", "bio": "Bus routes in Elswick."}).status_code == 302
    client.logout()
    assert "Khan" in client.get(reverse("certification:registry")).content.decode()
    client.force_login(entry.member)
    assert client.post(url, {"visibility": "staff", "bio": "Bus routes in Elswick."}).status_code == 302
    client.logout()
    assert "Khan" not in client.get(reverse("certification:registry")).content.decode()
    assert list(VisibilityChange.objects.filter(entry=entry).values_list("visibility", flat=True)) == [
        "public",
        "staff",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"visibility": "everyone", "bio": ""}, "Select a valid choice"),
        ({"visibility": "public", "bio": "x" * 601}, "at most 600 characters"),
    ],
)
def test_bad_choices_are_refused(client, staff, data, message):
    entry = leader(staff)
    client.force_login(entry.member)
    response = client.post(reverse("certification:registry-me"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    entry.refresh_from_db()
    assert entry.visibility == Visibility.STAFF


def test_members_without_an_entry_get_404_on_their_settings(client, seeded):
    client.force_login(UserFactory(role=Role.TRAINEE))
    assert client.get(reverse("certification:registry-me")).status_code == 404


def test_filters_take_only_known_keys_and_good_values(client, staff):
    entry = leader(staff, Visibility.PUBLIC, first_name="Pat", last_name="Quillpublic")
    url = reverse("certification:registry")
    page = client.get(
        url, {"region": "not-a-number", "programme": 999999, "order_by": "password"}
    ).content.decode()
    assert "Quillpublic" in page
    page = client.get(url, {"name": "nobody-like-this"}).content.decode()
    assert "Quillpublic" not in page
    region = entry.member.profile.region
    assert "Quillpublic" in client.get(url, {"region": region.pk}).content.decode()


def test_registry_pages_run_a_fixed_number_of_queries(client, staff):
    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    first = leader(staff, Visibility.PUBLIC)
    list_url, entry_url = (
        reverse("certification:registry"),
        reverse("certification:registry-entry", args=[first.pk]),
    )
    few = (count(list_url), count(entry_url))
    for _ in range(8):
        leader(staff, Visibility.PUBLIC)
    assert (count(list_url), count(entry_url)) == few


def test_leader_records_local_actions_shown_at_their_visibility(client, staff):
    entry = leader(staff, Visibility.PUBLIC, first_name="Aisha", last_name="Quarshie")
    other = leader(staff)
    client.force_login(entry.member)
    url = reverse("certification:registry-action-create")
    data = {
        "issue": "Bus route 38 cut",
        "organised_with": "Carers and students on the estate",
        "what_happened": "Forty people met the transport committee chair.",
        "outcome": "The route was restored on weekdays.",
        "started_on": "2026-03-01",
        "ended_on": "2026-02-01",
    }
    response = client.post(url, data)
    assert response.status_code == 400
    assert "cannot end before it started" in response.content.decode()
    assert not entry.actions.exists()
    assert client.post(url, {**data, "ended_on": "2026-05-01"}).status_code == 302
    client.logout()
    page = client.get(reverse("certification:registry-entry", args=[entry.pk])).content.decode()
    assert "Bus route 38 cut" in page
    # Someone else's action cannot be removed by changing the id.
    action = entry.actions.get()
    client.force_login(other.member)
    assert client.post(reverse("certification:registry-action-delete", args=[action.pk])).status_code == 404
    assert entry.actions.exists()


def test_staff_accredit_a_leader_who_then_can_run_cohorts(client, staff):
    entry = leader(staff, Visibility.STAFF, first_name="Gareth", last_name="Price")
    url = reverse("certification:registry-accredit", args=[entry.pk])
    client.force_login(UserFactory(role=Role.TRAINEE))
    assert client.post(url).status_code == 403
    client.force_login(staff)
    assert client.post(url, {"note": "Ran two workshops well."}).status_code == 302
    assert entry.member in trainer_candidate_list()
    assert entry.member.trainer_accreditation.accredited_by == staff
    response = client.post(url, follow=True)
    assert "already an accredited trainer" in response.content.decode()


def test_a_member_without_a_valid_certificate_cannot_be_accredited(staff):
    entry = leader(staff)
    certificate_revoke(certificate=entry.member.certificates.get(), actor=staff, public_reason="Error.")
    with pytest.raises(ValidationError, match="valid certificate"):
        trainer_accredit(member=entry.member, actor=staff)


def test_lineage_shows_who_trained_whom_and_leaders_produced(client, staff):
    """Nadia trained Gareth; Gareth trained a cohort that produced two leaders."""
    nadia = UserFactory(role=Role.TRAINER, first_name="Nadia", last_name="Osei")
    gareth = UserFactory(role=Role.TRAINER, first_name="Gareth", last_name="Price")
    first = CohortFactory(trainers=[nadia], name="Leeds, spring")
    certificate_issue_manually(
        enrolment=EnrolmentFactory(cohort=first, member=gareth), actor=staff, reason="E."
    )
    second = CohortFactory(trainers=[gareth], name="Tyneside, autumn")
    for _ in range(2):
        certificate_issue_manually(enrolment=EnrolmentFactory(cohort=second), actor=staff, reason="E.")
    entry = RegistryEntry.objects.get(member=gareth)
    client.force_login(staff)
    page = client.get(reverse("certification:registry-entry", args=[entry.pk])).content.decode()
    assert "Nadia Osei" in page
    assert "Tyneside, autumn: 2 leaders" in page
    assert "2 Future Leaders trained in all" in page


def test_renewal_by_activity_before_the_certificate_lapses(client, staff):
    member = UserFactory(role=Role.TRAINEE)
    enrolment = EnrolmentFactory(member=member)
    version = enrolment.cohort.version
    version.certificate_valid_months = 24
    version.save()
    certificate = certificate_issue_manually(enrolment=enrolment, actor=staff, reason="E.")
    expires = certificate.expires_on
    assert expires is not None
    client.force_login(member)
    url = reverse("certification:certificate-renew", args=[certificate.pk])
    response = client.post(url, follow=True)
    assert "Record a local action, or train a cohort" in response.content.decode()
    certificate.refresh_from_db()
    assert certificate.expires_on == expires
    client.post(
        reverse("certification:registry-action-create"),
        {
            "issue": "Library hours",
            "organised_with": "Parents",
            "what_happened": "A petition and a meeting.",
            "started_on": "2026-10-01",
        },
    )
    client.post(url)
    certificate.refresh_from_db()
    assert certificate.expires_on > expires
    assert certificate.events.last().kind == CertificateEventKind.RENEWED
    client.force_login(UserFactory(role=Role.TRAINEE))
    assert client.post(url).status_code == 404
    Certificate.objects.filter(pk=certificate.pk).update(expires_on=dt.date(2020, 1, 1))
    client.force_login(member)
    assert "has lapsed" in client.post(url, follow=True).content.decode()


def test_the_trainers_programme_accredits_by_itself(staff, settings):
    enrolment = EnrolmentFactory()
    programme = enrolment.cohort.version.programme
    settings.TRAINER_PROGRAMME_SLUG = programme.slug
    certificate = certificate_issue_manually(enrolment=enrolment, actor=staff, reason="E.")
    assert enrolment.member.trainer_accreditation.via_certificate == certificate
    assert enrolment.member in trainer_candidate_list()


def test_staff_see_how_many_generations_deep_the_movement_goes(client, staff):
    """Nadia (a founding trainer) trained Gareth; Gareth trained Aisha and Bo; Aisha trained Cy."""
    nadia = UserFactory(role=Role.TRAINER, first_name="Nadia", last_name="Osei")
    people = {
        name: UserFactory(role=Role.TRAINER, first_name=name, last_name="Leader")
        for name in ["Gareth", "Aisha", "Bo", "Cy"]
    }

    def certify(member, trainer):
        cohort = CohortFactory(trainers=[trainer])
        certificate_issue_manually(
            enrolment=EnrolmentFactory(cohort=cohort, member=member), actor=staff, reason="E."
        )

    certify(people["Gareth"], nadia)
    certify(people["Aisha"], people["Gareth"])
    certify(people["Bo"], people["Gareth"])
    certify(people["Cy"], people["Aisha"])
    url = reverse("certification:registry-lineage")
    client.force_login(people["Gareth"])
    assert client.get(url).status_code == 403
    client.force_login(staff)
    response = client.get(url)
    tree = response.context["tree"]
    assert tree["generations"] == 3
    assert tree["by_generation"] == [(1, 1), (2, 2), (3, 1)]
    assert tree["founders"] == [{"name": "Nadia Osei", "descendants": 4}]
    assert "4 Future Leaders trained here, 3 generations deep." in response.content.decode()


def test_filters_by_constituency_and_target_seats(client, staff):
    seat, other_seat = Constituency.objects.order_by("pk")[:2]
    Constituency.objects.filter(pk=seat.pk).update(is_target_seat=True)
    inside = leader(staff, Visibility.PUBLIC, first_name="Ina", last_name="Quillseat")
    outside = leader(staff, Visibility.PUBLIC, first_name="Oto", last_name="Quilloutside")
    Profile.objects.filter(user=inside.member).update(region=seat.region, constituency=seat)
    Profile.objects.filter(user=outside.member).update(region=other_seat.region, constituency=other_seat)
    url = reverse("certification:registry")
    for query in ({"constituency": seat.pk}, {"target_seats": "on"}):
        page = client.get(url, query).content.decode()
        assert "Quillseat" in page
        assert "Quilloutside" not in page


def test_staff_see_local_actions_across_the_country(client, staff):
    hidden = leader(staff, Visibility.STAFF, first_name="Hal", last_name="Quietly")
    hidden.actions.create(
        issue="Damp in council flats",
        organised_with="Tenants",
        what_happened="A survey.",
        started_on="2026-06-01",
    )
    url = reverse("certification:registry-actions")
    client.force_login(hidden.member)
    assert client.get(url).status_code == 403
    client.force_login(staff)

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        return len(queries), response.content.decode()

    few, page = count()
    assert "Damp in council flats" in page
    for n in range(5):
        leader(staff).actions.create(
            issue=f"Issue {n}", organised_with="N", what_happened="W", started_on="2026-06-01"
        )
    assert count()[0] == few
