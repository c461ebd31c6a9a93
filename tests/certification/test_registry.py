"""The registry shows each leader only as widely as they chose; the leader decides."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from certification.models import (
    Certificate,
    CertificateEventKind,
    LocalAction,
    RegistryEntry,
    TrainerAccreditation,
    Visibility,
    VisibilityChange,
)
from certification.selectors.registry import lineage_tree
from certification.services.certificates import certificate_issue_manually, certificate_revoke
from certification.services.registry import (
    certificate_renew,
    local_action_create,
    local_action_delete,
    local_action_update,
    trainer_accredit,
    visibility_set,
)
from members.models import Constituency, Profile
from members.permissions import Role
from tests.factories import CohortFactory, EnrolmentFactory, UserFactory
from training.models import CohortStatus, EnrolmentStatus
from training.selectors.manage import trainer_candidate_list

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


@pytest.fixture
def staff(seeded):
    return UserFactory(role=Role.NATIONAL_STAFF)


def leader(staff, visibility=Visibility.STAFF, *, cohort=None, **names):
    """A certified member; their entry set straight to `visibility` (setup, not the service)."""
    member = UserFactory(role=Role.TRAINEE, **names)
    enrolment = EnrolmentFactory(member=member, **({"cohort": cohort} if cohort else {}))
    certificate_issue_manually(enrolment=enrolment, actor=staff, reason="Evidence.")
    entry = RegistryEntry.objects.get(member=member)
    RegistryEntry.objects.filter(pk=entry.pk).update(visibility=visibility)
    entry.visibility = visibility
    return entry


def action_data(**changes):
    data = {
        "issue": "Bus route 38 cut",
        "organised_with": "Carers and students on the estate",
        "what_happened": "Forty people met the transport committee chair.",
        "outcome": "The route was restored on weekdays.",
        "started_on": (TODAY() - dt.timedelta(days=60)).isoformat(),
        "ended_on": (TODAY() - dt.timedelta(days=10)).isoformat(),
    }
    data.update(changes)
    return data


def action_add(entry, **changes):
    return LocalAction.objects.create(
        entry=entry,
        issue=changes.get("issue", "Street lights off at night"),
        organised_with="Neighbours",
        what_happened="A public meeting with the council.",
        started_on=TODAY() - dt.timedelta(days=30),
    )


def queries(client, url, **params) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params).status_code == 200
    return len(captured)


# --- Visibility --------------------------------------------------------------------------


def test_certification_lists_a_leader_visible_to_staff_only(staff):
    """A new Future Leader is visible to national staff only, until they opt in."""
    entry = leader(staff)
    assert RegistryEntry.objects.get(pk=entry.pk).visibility == Visibility.STAFF
    assert not entry.visibility_changes.exists()


@pytest.mark.parametrize(
    ("viewer", "visible"),
    [
        ("anonymous", {"public"}),
        ("signed_up", {"public"}),
        ("withdrawn", {"public"}),
        ("member", {"public", "members"}),
        ("trainer", {"public", "members"}),
        ("staff", {"public", "members", "staff"}),
    ],
)
def test_each_viewer_sees_exactly_what_each_leader_allowed(client, staff, viewer, visible):
    """List, search and leader page: anonymous see public; members taking part (on a course)
    and trainers also members-only; staff all. Someone who has only made an account (or left
    their course) is not a member taking part. A hidden entry's page is a 404."""
    entries = {
        "public": leader(staff, Visibility.PUBLIC, first_name="Pat", last_name="Quillpublic"),
        "members": leader(staff, Visibility.MEMBERS, first_name="Mo", last_name="Zephyrmembers"),
        "staff": leader(staff, Visibility.STAFF, first_name="Sid", last_name="Xanstaffonly"),
    }
    if viewer == "signed_up":
        client.force_login(UserFactory(role=Role.TRAINEE))
    elif viewer == "withdrawn":
        client.force_login(EnrolmentFactory(status=EnrolmentStatus.WITHDRAWN).member)
    elif viewer == "member":
        client.force_login(EnrolmentFactory().member)
    elif viewer == "trainer":
        client.force_login(UserFactory(role=Role.TRAINER))
    elif viewer == "staff":
        client.force_login(staff)
    url = reverse("certification:registry")
    page = client.get(url).content.decode()
    for kind, entry in entries.items():
        shown = kind in visible
        assert (escape(entry.member.last_name) in page) is shown  # O'Brien shows escaped
        searched = client.get(url, {"name": entry.member.last_name}).context["page_obj"]
        assert (entry in searched.object_list) is shown
        status = client.get(reverse("certification:registry-entry", args=[entry.pk])).status_code
        assert status == (200 if shown else 404)


def test_the_leader_opts_in_and_withdraws_and_it_is_recorded(client, staff):
    """Each change of visibility is kept with who made it; withdrawal takes effect at once."""
    entry = leader(staff, first_name="Aisha", last_name="Khanqwerty")
    client.force_login(entry.member)
    url = reverse("certification:registry-me")
    page = client.get(url).content.decode()
    assert "Being listed reveals your political affiliation." in page
    assert client.post(url, {"visibility": "public", "bio": "Bus routes in Elswick."}).status_code == 302
    client.logout()
    assert "Khanqwerty" in client.get(reverse("certification:registry")).content.decode()
    client.force_login(entry.member)
    assert client.post(url, {"visibility": "staff", "bio": "Bus routes in Elswick."}).status_code == 302
    # Saving again without a change records nothing more.
    assert client.post(url, {"visibility": "staff", "bio": "Bus routes."}).status_code == 302
    client.logout()
    assert "Khanqwerty" not in client.get(reverse("certification:registry")).content.decode()
    changes = list(VisibilityChange.objects.filter(entry=entry).values_list("visibility", "actor"))
    assert changes == [("public", entry.member.pk), ("staff", entry.member.pk)]
    entry.refresh_from_db()
    assert entry.bio == "Bus routes."


def test_nobody_but_the_leader_changes_their_visibility(staff):
    """Not another member, not national staff: the service refuses, and nothing is recorded."""
    entry = leader(staff)
    for someone in (UserFactory(role=Role.TRAINEE), staff):
        with pytest.raises(PermissionDenied):
            visibility_set(entry=entry, visibility=Visibility.PUBLIC, actor=someone)
    entry.refresh_from_db()
    assert entry.visibility == Visibility.STAFF
    assert not entry.visibility_changes.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"visibility": "everyone", "bio": ""}, "Select a valid choice"),
        ({"visibility": "public", "bio": "x" * 601}, "at most 600 characters"),
    ],
)
def test_bad_choices_are_refused(client, staff, data, message):
    """A 400 with the reason, and nothing saved."""
    entry = leader(staff)
    client.force_login(entry.member)
    response = client.post(reverse("certification:registry-me"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    entry.refresh_from_db()
    assert entry.visibility == Visibility.STAFF
    assert entry.bio == ""


def test_members_without_an_entry_get_404_on_their_settings(client, seeded):
    client.force_login(UserFactory(role=Role.TRAINEE))
    assert client.get(reverse("certification:registry-me")).status_code == 404
    assert client.post(reverse("certification:registry-action-create"), action_data()).status_code == 404


def test_the_menu_links_to_the_registry_and_to_a_leaders_own_entry(client, staff):
    """Everyone sees "Registry"; only a member with an entry sees "Your registry entry", and
    the menu costs no query to know it."""
    entry = leader(staff)
    registry, mine = reverse("certification:registry"), reverse("certification:registry-me")
    page = client.get(registry).content.decode()
    assert registry in page
    assert mine not in page
    client.force_login(UserFactory(role=Role.TRAINEE))
    assert mine not in client.get(registry).content.decode()
    client.force_login(entry.member)
    assert mine in client.get(registry).content.decode()


def test_a_member_certified_while_signed_in_gets_the_menu_link_from_their_entry(client, staff):
    member = UserFactory(role=Role.TRAINEE)
    client.force_login(member)
    registry, mine = reverse("certification:registry"), reverse("certification:registry-me")
    assert mine not in client.get(registry).content.decode()
    certificate_issue_manually(enrolment=EnrolmentFactory(member=member), actor=staff, reason="E.")
    assert client.get(mine).status_code == 200
    assert mine in client.get(registry).content.decode()


# --- The list: filters, search, pagination, counts, queries ------------------------------


def test_filters_take_only_known_keys_and_good_values(client, staff):
    """Unknown keys are ignored, and so are bad values; good values filter."""
    entry = leader(staff, Visibility.PUBLIC, first_name="Pat", last_name="Quillpublic")
    url = reverse("certification:registry")
    for junk in (
        {"region": "not-a-number", "programme": 999999, "constituency": "x", "target_seats": "maybe"},
        {"order_by": "member__password", "visibility": "staff", "member__email": "x"},
        {"name": "x" * 500},
    ):
        assert "Quillpublic" in client.get(url, junk).content.decode()
    assert "Quillpublic" not in client.get(url, {"name": "nobody-like-this"}).content.decode()
    region = entry.member.profile.region
    assert "Quillpublic" in client.get(url, {"region": region.pk}).content.decode()
    programme = entry.member.certificates.get().version.programme
    assert "Quillpublic" in client.get(url, {"programme": programme.pk}).content.decode()
    other_programme = EnrolmentFactory().cohort.version.programme
    assert "Quillpublic" not in client.get(url, {"programme": other_programme.pk}).content.decode()


def test_search_by_first_last_or_full_name(client, staff):
    leader(staff, Visibility.PUBLIC, first_name="Aisha", last_name="Quarshie")
    url = reverse("certification:registry")
    for name in ("aish", "QUARSH", "Aisha Quarshie", "  quarshie   aisha "):
        assert "Quarshie" in client.get(url, {"name": name}).content.decode()
    assert "Quarshie" not in client.get(url, {"name": "Aisha Nobody"}).content.decode()


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


def test_the_list_is_paginated_and_counts_what_the_viewer_may_see(client, staff):
    """24 a page; the totals count only visible entries, and staff see them by visibility."""
    cohort = CohortFactory()
    for n in range(26):
        leader(staff, Visibility.PUBLIC, cohort=cohort, first_name="Pub", last_name=f"Zz{n:02d}")
    leader(staff, Visibility.MEMBERS, cohort=cohort)
    hidden = leader(staff, Visibility.STAFF, cohort=cohort)
    Certificate.objects.filter(holder=hidden.member).update(expires_on=dt.date(2020, 1, 1))
    url = reverse("certification:registry")
    first = client.get(url)
    assert len(first.context["page_obj"]) == 24
    assert "26 leaders, 0 lapsed" in first.content.decode()
    second = client.get(url, {"page": 2})
    assert len(second.context["page_obj"]) == 2
    assert "Page 2 of 2" in second.content.decode()
    assert client.get(url, {"page": 99}).context["page_obj"].number == 2
    client.force_login(staff)
    page = client.get(url).content.decode()
    assert "28 leaders, 1 lapsed" in page
    assert "Visible to anyone: 26 · to members: 1 · to staff only: 1" in page
    assert "Lapsed" in client.get(url, {"name": hidden.member.last_name}).content.decode()


@pytest.mark.parametrize("viewer", ["anonymous", "staff"])
def test_the_list_runs_a_fixed_number_of_queries(client, staff, viewer):
    """The same queries for 3 leaders as for 30 (more than a page)."""
    if viewer == "staff":
        client.force_login(staff)
    cohort = CohortFactory()
    for _ in range(3):
        leader(staff, Visibility.PUBLIC, cohort=cohort)
    url = reverse("certification:registry")
    few = queries(client, url)
    if viewer == "anonymous":
        # The counts, the page of rows, and the regions, seats and programmes to filter by.
        assert few == 5
    filtered = queries(client, url, target_seats="on", name="a")
    for _ in range(27):
        leader(staff, Visibility.PUBLIC, cohort=cohort)
    assert queries(client, url) == few
    assert queries(client, url, target_seats="on", name="a") == filtered


# --- The leader page ----------------------------------------------------------------------


def test_the_leader_page_shows_bio_place_and_actions(client, staff):
    seat = Constituency.objects.order_by("pk").first()
    entry = leader(staff, Visibility.PUBLIC, first_name="Bea", last_name="Quennell")
    Profile.objects.filter(user=entry.member).update(region=seat.region, constituency=seat)
    RegistryEntry.objects.filter(pk=entry.pk).update(bio="Organises on damp and repairs.")
    action_add(entry, issue="Damp in the flats")
    page = client.get(reverse("certification:registry-entry", args=[entry.pk])).content.decode()
    for text in (
        "Bea Quennell",
        "Organises on damp and repairs.",
        seat.name,
        seat.region.name,
        "Damp in the flats",
    ):
        assert text in page
    assert "Accredit as a trainer" not in page


def test_the_leader_page_runs_a_fixed_number_of_queries(client, staff):
    """The same for a leader with 3 actions and 1 cohort trained as with 30 and 3."""
    entry = leader(staff, Visibility.PUBLIC)
    for _ in range(3):
        action_add(entry)
    trained = CohortFactory(trainers=[entry.member])
    certificate_issue_manually(enrolment=EnrolmentFactory(cohort=trained), actor=staff, reason="E.")
    url = reverse("certification:registry-entry", args=[entry.pk])
    # The entry, the place, certificates, actions, trained by, cohorts trained, accredited.
    assert queries(client, url) == 7
    client.force_login(staff)
    few = queries(client, url)
    for _ in range(27):
        action_add(entry)
    for _ in range(2):
        cohort = CohortFactory(trainers=[entry.member])
        for _ in range(2):
            certificate_issue_manually(enrolment=EnrolmentFactory(cohort=cohort), actor=staff, reason="E.")
    assert queries(client, url) == few


# --- Local actions ------------------------------------------------------------------------


def test_leader_records_local_actions_shown_at_their_visibility(client, staff):
    entry = leader(staff, Visibility.MEMBERS, first_name="Aisha", last_name="Quarshie")
    client.force_login(entry.member)
    assert client.post(reverse("certification:registry-action-create"), action_data()).status_code == 302
    entry_url = reverse("certification:registry-entry", args=[entry.pk])
    assert "Bus route 38 cut" in client.get(entry_url).content.decode()
    client.force_login(EnrolmentFactory().member)  # a member taking part
    assert "Bus route 38 cut" in client.get(entry_url).content.decode()
    client.logout()
    assert client.get(entry_url).status_code == 404


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"ended_on": (TODAY() - dt.timedelta(days=90)).isoformat()},
            "ended_on",
            "cannot end before it started",
        ),
        (
            {"started_on": (TODAY() + dt.timedelta(days=3)).isoformat(), "ended_on": ""},
            "started_on",
            "once it has started",
        ),
        (
            {"ended_on": (TODAY() + dt.timedelta(days=3)).isoformat()},
            "ended_on",
            "empty while the action goes on",
        ),
        ({"started_on": "31/31/2026"}, "started_on", "Enter a valid date"),
        ({"issue": ""}, "issue", "This field is required"),
        ({"issue": "   "}, "issue", "This field is required"),
        ({"what_happened": "x" * 2001}, "what_happened", "at most 2000 characters"),
        ({"outcome": "x" * 1001}, "outcome", "at most 1000 characters"),
    ],
)
def test_local_actions_are_validated(client, staff, changes, field, message):
    """A 400 with the message beside the field, and nothing saved; the same when editing."""
    entry = leader(staff)
    client.force_login(entry.member)
    response = client.post(reverse("certification:registry-action-create"), action_data(**changes))
    assert response.status_code == 400
    assert message in str(response.context["action_form"].errors[field])
    assert not entry.actions.exists()
    action = action_add(entry, issue="Before the edit")
    response = client.post(
        reverse("certification:registry-action-update", args=[action.pk]), action_data(**changes)
    )
    assert response.status_code == 400
    assert message in str(response.context["form"].errors[field])
    action.refresh_from_db()
    assert action.issue == "Before the edit"


def test_the_service_checks_what_the_form_cannot(staff):
    """Lengths of text fields and dates are checked in the service too, for other callers."""
    entry = leader(staff)
    fields = {
        "issue": "Libraries",
        "organised_with": "Parents",
        "what_happened": "x" * 2001,
        "started_on": TODAY(),
    }
    with pytest.raises(ValidationError) as error:
        local_action_create(entry=entry, actor=entry.member, **fields)
    assert "what_happened" in error.value.message_dict
    assert not entry.actions.exists()


def test_the_leader_edits_and_removes_their_own_actions(client, staff):
    entry = leader(staff)
    action = action_add(entry)
    client.force_login(entry.member)
    url = reverse("certification:registry-action-update", args=[action.pk])
    page = client.get(url).content.decode()
    assert 'value="Street lights off at night"' in page
    assert (
        reverse("certification:registry-action-update", args=[action.pk])
        in client.get(reverse("certification:registry-me")).content.decode()
    )
    assert client.post(url, action_data(issue="Street lights back on", ended_on="")).status_code == 302
    action.refresh_from_db()
    assert (action.issue, action.ended_on) == ("Street lights back on", None)
    assert client.get(reverse("certification:registry-action-delete", args=[action.pk])).status_code == 405
    assert client.post(reverse("certification:registry-action-delete", args=[action.pk])).status_code == 302
    assert not entry.actions.exists()


def test_another_member_cannot_touch_someone_elses_actions(client, staff):
    """Another leader, a member and staff get 404 on the ids; the services refuse them too."""
    entry = leader(staff, Visibility.PUBLIC)
    action = action_add(entry, issue="Mine")
    edit = reverse("certification:registry-action-update", args=[action.pk])
    delete = reverse("certification:registry-action-delete", args=[action.pk])
    for someone in (leader(staff).member, UserFactory(role=Role.TRAINEE), staff):
        client.force_login(someone)
        assert client.get(edit).status_code == 404
        assert client.post(edit, action_data(issue="Theirs")).status_code == 404
        assert client.post(delete).status_code == 404
        with pytest.raises(PermissionDenied):
            local_action_update(action=action, actor=someone, issue="Theirs")
        with pytest.raises(PermissionDenied):
            local_action_delete(action=action, actor=someone)
        with pytest.raises(PermissionDenied):
            local_action_create(entry=entry, actor=someone, **action_data())
    client.logout()
    assert client.post(delete).status_code == 302  # to sign in
    action.refresh_from_db()
    assert action.issue == "Mine"
    assert entry.actions.count() == 1


def test_staff_see_local_actions_across_the_country(client, staff):
    hidden = leader(staff, Visibility.STAFF, first_name="Hal", last_name="Quietly")
    action_add(hidden, issue="Damp in council flats")
    url = reverse("certification:registry-actions")
    client.force_login(hidden.member)
    assert client.get(url).status_code == 403
    client.force_login(staff)
    few = queries(client, url)
    assert "Damp in council flats" in client.get(url).content.decode()
    for _ in range(5):
        action_add(leader(staff))
    assert queries(client, url) == few


# --- Renewal by activity -----------------------------------------------------------------


def lapsing_certificate(staff, member=None, months=24):
    enrolment = EnrolmentFactory(**({"member": member} if member else {}))
    version = enrolment.cohort.version
    version.certificate_valid_months = months
    version.save()
    return certificate_issue_manually(enrolment=enrolment, actor=staff, reason="E.")


def test_renewal_needs_a_local_action_since_issue(client, staff):
    member = UserFactory(role=Role.TRAINEE)
    certificate = lapsing_certificate(staff, member)
    expires = certificate.expires_on
    client.force_login(member)
    url = reverse("certification:certificate-renew", args=[certificate.pk])
    response = client.post(url, follow=True)
    assert "Record a local action, or train a cohort" in response.content.decode()
    certificate.refresh_from_db()
    assert certificate.expires_on == expires
    assert client.post(reverse("certification:registry-action-create"), action_data()).status_code == 302
    client.post(url)
    certificate.refresh_from_db()
    assert certificate.expires_on == dt.date(expires.year + 2, expires.month, expires.day)
    event = certificate.events.last()
    assert (event.kind, event.actor) == (CertificateEventKind.RENEWED, member)
    client.force_login(UserFactory(role=Role.TRAINEE))
    assert client.post(url).status_code == 404


def test_an_action_recorded_before_issue_does_not_renew(staff):
    member = UserFactory(role=Role.TRAINEE)
    certificate = lapsing_certificate(staff, member)
    action = action_add(member.registry_entry)
    LocalAction.objects.filter(pk=action.pk).update(created_at=certificate.issued_at - dt.timedelta(days=1))
    with pytest.raises(ValidationError, match="Record a local action"):
        certificate_renew(certificate=certificate, actor=member)


def test_renewal_by_training_a_cohort_that_has_finished(staff):
    member = UserFactory(role=Role.TRAINER)
    certificate = lapsing_certificate(staff, member, months=12)
    expires = certificate.expires_on
    cohort = CohortFactory(trainers=[member], status=CohortStatus.RUNNING)
    with pytest.raises(ValidationError, match="Record a local action"):
        certificate_renew(certificate=certificate, actor=member)
    cohort.status = CohortStatus.FINISHED
    cohort.save()
    renewed = certificate_renew(certificate=certificate, actor=member)
    assert renewed.expires_on == dt.date(expires.year + 1, expires.month, expires.day)


def test_no_renewal_once_lapsed_or_revoked_or_for_others(client, staff):
    member = UserFactory(role=Role.TRAINEE)
    certificate = lapsing_certificate(staff, member)
    action_add(member.registry_entry)
    with pytest.raises(PermissionDenied):
        certificate_renew(certificate=certificate, actor=staff)
    Certificate.objects.filter(pk=certificate.pk).update(expires_on=TODAY() - dt.timedelta(days=1))
    client.force_login(member)
    url = reverse("certification:certificate-renew", args=[certificate.pk])
    assert "has lapsed" in client.post(url, follow=True).content.decode()
    Certificate.objects.filter(pk=certificate.pk).update(expires_on=TODAY())
    assert certificate_renew(certificate=certificate, actor=member).expires_on > TODAY()
    certificate_revoke(certificate=certificate, actor=staff, public_reason="Error.")
    with pytest.raises(ValidationError, match="revoked"):
        certificate_renew(certificate=certificate, actor=member)


def test_a_certificate_that_never_lapses_has_nothing_to_renew(staff):
    entry = leader(staff)
    action_add(entry)
    with pytest.raises(ValidationError, match="nothing to renew"):
        certificate_renew(certificate=entry.member.certificates.get(), actor=entry.member)


# --- Trainer accreditation ----------------------------------------------------------------


def test_staff_accredit_a_leader_who_then_can_run_cohorts(client, staff):
    entry = leader(staff, Visibility.STAFF, first_name="Gareth", last_name="Price")
    assert entry.member not in trainer_candidate_list()
    url = reverse("certification:registry-accredit", args=[entry.pk])
    client.force_login(UserFactory(role=Role.TRAINEE))
    assert client.post(url).status_code == 403
    client.force_login(staff)
    assert (
        "Accredit as a trainer"
        in client.get(reverse("certification:registry-entry", args=[entry.pk])).content.decode()
    )
    assert client.get(url).status_code == 405
    assert client.post(url, {"note": "Ran two workshops well."}).status_code == 302
    assert entry.member in trainer_candidate_list()
    accreditation = TrainerAccreditation.objects.get(member=entry.member)
    assert (accreditation.accredited_by, accreditation.note) == (staff, "Ran two workshops well.")
    response = client.post(url, follow=True)
    assert "already an accredited trainer" in response.content.decode()


def test_a_member_without_a_valid_certificate_cannot_be_accredited(staff):
    """Revoked, or lapsed: refused, and no trainer role given."""
    revoked, lapsed = leader(staff), leader(staff)
    certificate_revoke(certificate=revoked.member.certificates.get(), actor=staff, public_reason="Error.")
    Certificate.objects.filter(holder=lapsed.member).update(expires_on=TODAY() - dt.timedelta(days=1))
    for entry in (revoked, lapsed):
        with pytest.raises(ValidationError, match="valid certificate"):
            trainer_accredit(member=entry.member, actor=staff)
        assert entry.member not in trainer_candidate_list()
    with pytest.raises(ValidationError, match="valid certificate"):
        trainer_accredit(member=UserFactory(role=Role.TRAINEE), actor=staff)


def test_only_staff_accredit(staff):
    entry = leader(staff)
    with pytest.raises(PermissionDenied):
        trainer_accredit(member=entry.member, actor=entry.member)
    assert not TrainerAccreditation.objects.exists()


def test_the_trainers_programme_accredits_by_itself(staff, settings):
    enrolment = EnrolmentFactory()
    programme = enrolment.cohort.version.programme
    settings.TRAINER_PROGRAMME_SLUG = programme.slug
    certificate = certificate_issue_manually(enrolment=enrolment, actor=staff, reason="E.")
    accreditation = enrolment.member.trainer_accreditation
    assert (accreditation.via_certificate, accreditation.accredited_by) == (certificate, None)
    assert enrolment.member in trainer_candidate_list()


def test_other_programmes_do_not_accredit(staff, settings):
    assert settings.TRAINER_PROGRAMME_SLUG == "training-the-trainers"
    entry = leader(staff)
    assert not TrainerAccreditation.objects.filter(member=entry.member).exists()
    assert entry.member not in trainer_candidate_list()


# --- Lineage ------------------------------------------------------------------------------


def certify(staff, member, *trainers):
    cohort = CohortFactory(trainers=list(trainers))
    return certificate_issue_manually(
        enrolment=EnrolmentFactory(cohort=cohort, member=member), actor=staff, reason="E."
    )


def test_lineage_shows_who_trained_whom_and_leaders_produced(client, staff):
    """Nadia trained Gareth; Gareth trained a cohort that produced two leaders (one revoked)."""
    nadia = UserFactory(role=Role.TRAINER, first_name="Nadia", last_name="Osei")
    gareth = UserFactory(role=Role.TRAINER, first_name="Gareth", last_name="Price")
    first = CohortFactory(trainers=[nadia], name="Leeds, spring")
    certificate_issue_manually(
        enrolment=EnrolmentFactory(cohort=first, member=gareth), actor=staff, reason="E."
    )
    second = CohortFactory(trainers=[gareth], name="Tyneside, autumn")
    for _ in range(3):
        certificate_issue_manually(enrolment=EnrolmentFactory(cohort=second), actor=staff, reason="E.")
    certificate_revoke(
        certificate=Certificate.objects.filter(enrolment__cohort=second).first(),
        actor=staff,
        public_reason="E.",
    )
    entry = RegistryEntry.objects.get(member=gareth)
    client.force_login(staff)
    page = client.get(reverse("certification:registry-entry", args=[entry.pk])).content.decode()
    assert "Nadia Osei" in page
    assert "Tyneside, autumn: 2 leaders" in page
    assert "2 Future Leaders trained in all" in page


def test_a_trainer_is_named_only_to_those_who_may_see_their_entry(client, staff):
    """Naming a trainer reveals their affiliation: Gareth's public page names Nadia (staff
    only) to staff alone, and names Ola (public) to anyone, with a link."""
    nadia = UserFactory(role=Role.TRAINER, first_name="Nadia", last_name="Qosei")
    ola = leader(staff, Visibility.PUBLIC, first_name="Ola", last_name="Qadeyemi")
    gareth = UserFactory(role=Role.TRAINEE, first_name="Gareth", last_name="Qprice")
    certify(staff, gareth, nadia, ola.member)
    entry = gareth.registry_entry
    RegistryEntry.objects.filter(pk=entry.pk).update(visibility=Visibility.PUBLIC)
    url = reverse("certification:registry-entry", args=[entry.pk])
    page = client.get(url).content.decode()
    assert "Nadia Qosei" not in page
    assert "1 trainer not listed for you" in page
    assert reverse("certification:registry-entry", args=[ola.pk]) in page
    client.force_login(staff)
    page = client.get(url).content.decode()
    assert "Nadia Qosei" in page
    assert "not listed for you" not in page


def test_lineage_generations_on_a_three_generation_tree(client, staff):
    """Nadia (founding) trained Gareth; Gareth trained Aisha and Bo; Aisha trained Cy.
    Cy also took a later course with Nadia: Cy stays in generation 3, listed once."""
    nadia = UserFactory(role=Role.TRAINER, first_name="Nadia", last_name="Osei")
    people = {
        name: UserFactory(role=Role.TRAINER, first_name=name, last_name="Leader")
        for name in ["Gareth", "Aisha", "Bo", "Cy"]
    }
    certify(staff, people["Gareth"], nadia)
    certify(staff, people["Aisha"], people["Gareth"])
    certify(staff, people["Bo"], people["Gareth"])
    certify(staff, people["Cy"], people["Aisha"])
    tree = lineage_tree()
    assert tree["generations"] == 3
    assert tree["by_generation"] == [(1, 1), (2, 2), (3, 1)]
    assert tree["leaders"] == 4
    [top] = tree["trees"]
    assert (top.name, top.generation, top.descendants, top.depth) == ("Nadia Osei", 0, 4, 3)
    [gareth] = top.children
    assert (gareth.name, gareth.generation, gareth.descendants) == ("Gareth Leader", 1, 3)
    assert [(c.name, c.generation) for c in gareth.children] == [("Aisha Leader", 2), ("Bo Leader", 2)]
    assert [(c.name, c.generation) for c in gareth.children[0].children] == [("Cy Leader", 3)]

    url = reverse("certification:registry-lineage")
    client.force_login(people["Gareth"])
    assert client.get(url).status_code == 403
    client.force_login(staff)
    page = client.get(url).content.decode()
    assert "4 Future Leaders trained here, 3 generations deep." in page
    assert "Cy Leader" in page
    assert reverse("certification:registry-entry", args=[people["Cy"].registry_entry.pk]) in page


def test_lineage_with_two_founders_and_a_circle(staff):
    """A leader trained by two generations counts in the earliest; leaders who only trained
    each other lead to no founder and are counted apart; revoked certificates do not count."""
    founder = UserFactory(role=Role.TRAINER, first_name="Fay", last_name="Founder")
    second_founder = UserFactory(role=Role.TRAINER, first_name="Sam", last_name="Founder")
    ann, ben, cat = (
        UserFactory(role=Role.TRAINER, first_name=n, last_name="Q") for n in ("Ann", "Ben", "Cat")
    )
    certify(staff, ann, founder)
    certify(staff, ben, ann)
    certify(staff, ben, founder)  # Ben again, with Fay: generation 1, not 2
    certify(staff, cat, second_founder)
    revoked = certify(staff, UserFactory(), cat)
    certificate_revoke(certificate=revoked, actor=staff, public_reason="E.")
    circle = [UserFactory(role=Role.TRAINER) for _ in range(2)]
    certify(staff, circle[0], circle[1])
    certify(staff, circle[1], circle[0])
    tree = lineage_tree()
    assert tree["by_generation"] == [(1, 3)]
    assert tree["generations"] == 1
    assert tree["untraced"] == 2
    assert [(top.name, top.descendants) for top in tree["trees"]] == [("Fay Founder", 2), ("Sam Founder", 1)]


def test_the_lineage_page_runs_a_fixed_number_of_queries(client, staff):
    founder = UserFactory(role=Role.TRAINER)
    chain = [founder]
    for _ in range(2):
        member = UserFactory(role=Role.TRAINER)
        certify(staff, member, chain[-1])
        chain.append(member)
    client.force_login(staff)
    url = reverse("certification:registry-lineage")
    few = queries(client, url)
    for _ in range(4):
        member = UserFactory(role=Role.TRAINER)
        certify(staff, member, chain[-1])
        chain.append(member)
    assert queries(client, url) == few


# --- Admin --------------------------------------------------------------------------------


def test_the_admin_shows_entries_with_their_visibility_history(client, staff):
    entry = leader(staff)
    visibility_set(entry=entry, visibility=Visibility.PUBLIC, actor=entry.member)
    action_add(entry)
    trainer_accredit(member=entry.member, actor=staff)
    client.force_login(UserFactory(role=Role.NATIONAL_STAFF, is_staff=True, is_superuser=True))
    for name in ("registryentry", "localaction", "traineraccreditation"):
        assert client.get(reverse(f"admin:certification_{name}_changelist")).status_code == 200
    page = client.get(reverse("admin:certification_registryentry_change", args=[entry.pk])).content.decode()
    assert "Anyone (public)" in page
    assert client.get(reverse("admin:certification_registryentry_add")).status_code == 403
    assert client.get(reverse("admin:certification_traineraccreditation_add")).status_code == 403
