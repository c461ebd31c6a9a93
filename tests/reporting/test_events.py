"""The events keep the read model right: what a service announces reaches the leader tally,
the enrolments' copies and the kept figures in the same transaction, and the bulk paths
(seeds, registers, QuerySet.update) are what the rebuild is for."""

import io

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse

from certification.services.certificates import certificate_issue_manually, certificate_revoke
from members.erasure import account_erase
from members.permissions import Role
from members.services import profile_save
from members.signals import member_name_changed_announce, places_changed_announce
from reporting.models import LeaderTally
from reporting.services.figures import GENERATION_KEY
from tests.factories import CohortFactory, ConstituencyFactory, EnrolmentFactory, RegionFactory, UserFactory
from training.models import CohortStatus, Enrolment, EnrolmentStatus
from training.services.enrolment import enrolment_apply
from training.signals import training_offer_changed_announce

pytestmark = pytest.mark.django_db


class Undo(Exception):
    pass


def rebuild_check() -> None:
    call_command("dashboard_rebuild", "--check", stdout=io.StringIO())


def move(member, region, constituency=None):
    profile_save(
        user=member,
        first_name=member.first_name,
        last_name=member.last_name,
        region=region,
        constituency=constituency,
    )


def completed(member):
    return EnrolmentFactory(
        member=member, cohort=CohortFactory(status=CohortStatus.FINISHED), status=EnrolmentStatus.COMPLETED
    )


@pytest.fixture
def staff():
    return UserFactory(role=Role.NATIONAL_STAFF)


@pytest.fixture
def north():
    region = RegionFactory(name="North")
    return region, ConstituencyFactory(region=region)


def test_an_application_starts_in_the_members_place(north):
    """enrolment_apply announces the new enrolment; reporting copies the profile's place onto it."""
    region, seat = north
    member = UserFactory()
    move(member, region, seat)
    enrolment = enrolment_apply(cohort=CohortFactory(), member=member)
    enrolment.refresh_from_db()
    assert (enrolment.member_region_id, enrolment.member_constituency_id) == (region.pk, seat.pk)
    rebuild_check()


def test_erasure_takes_the_leader_out_of_their_place_but_keeps_them_counted(north, staff):
    """Erasure removes the profile and announces it: the tally row and the enrolments lose the
    place in the same transaction; the leader still counts, under "place not recorded"."""
    region, seat = north
    member = UserFactory()
    move(member, region, seat)
    enrolment = completed(member)
    certificate_issue_manually(enrolment=enrolment, actor=staff, reason="Evidence on paper.")
    assert LeaderTally.objects.get(user=member).region_id == region.pk

    account_erase(user=member, actor=staff, reason="Asked to be forgotten.")

    tally = LeaderTally.objects.get(user=member)
    assert (tally.has_profile, tally.region_id, tally.constituency_id) == (False, None, None)
    enrolment.refresh_from_db()
    assert enrolment.member_region_id is None
    assert enrolment.certified_at is not None
    rebuild_check()


def test_a_change_rolled_back_leaves_the_read_model_as_it_was(north, staff):
    """The read model is written in the transaction of the change: no commit, no copy."""
    region, seat = north
    elsewhere = RegionFactory(name="Elsewhere")
    member = UserFactory()
    move(member, region, seat)
    enrolment = completed(member)
    certificate = certificate_issue_manually(enrolment=enrolment, actor=staff, reason="Evidence on paper.")

    def change_then_undo():
        with transaction.atomic():
            move(member, elsewhere)
            certificate_revoke(certificate=certificate, actor=staff, public_reason="Issued in error.")
            assert not LeaderTally.objects.filter(user=member).exists()  # seen inside the transaction
            raise Undo

    with pytest.raises(Undo):
        change_then_undo()

    assert LeaderTally.objects.get(user=member).region_id == region.pk
    enrolment.refresh_from_db()
    assert (enrolment.member_region_id, enrolment.certified_at) == (region.pk, certificate.issued_at)
    rebuild_check()


@pytest.mark.parametrize(
    "announce",
    [
        pytest.param(lambda member: member_name_changed_announce(user_ids=[member.pk]), id="name"),
        pytest.param(lambda member: places_changed_announce(), id="places"),
        pytest.param(lambda member: training_offer_changed_announce(), id="offer"),
        pytest.param(lambda member: move(member, RegionFactory(name="Moved")), id="place"),
        pytest.param(lambda member: enrolment_apply(cohort=CohortFactory(), member=member), id="enrolment"),
    ],
)
def test_every_event_makes_the_kept_figures_out_of_date(announce):
    member = UserFactory()
    cache.set(GENERATION_KEY, "before", None)
    announce(member)
    assert cache.get(GENERATION_KEY) != "before"


def test_the_seeds_written_partly_in_bulk_leave_nothing_for_the_rebuild_to_correct(settings):
    """The demo's registers and cohort statuses are written in bulk (nothing announced):
    reporting's seeds run the rebuild after the other apps', so the check finds no drift."""
    settings.DEMO_MODE = True
    call_command("load_seeds", "--demo", verbosity=0, stdout=io.StringIO())
    assert LeaderTally.objects.exists()
    assert Enrolment.objects.filter(member_region__isnull=False).exists()
    rebuild_check()


def test_a_bulk_update_is_drift_the_check_finds_and_the_rebuild_corrects(north):
    region, seat = north
    member = UserFactory()
    move(member, region, seat)
    EnrolmentFactory(member=member)
    Enrolment.objects.filter(member=member).update(member_region=None)  # announces nothing
    with pytest.raises(CommandError):
        rebuild_check()
    call_command("dashboard_rebuild", stdout=io.StringIO())
    rebuild_check()
    assert Enrolment.objects.get(member=member).member_region_id == region.pk


def test_a_profile_moved_in_the_admin_moves_the_leader_and_their_enrolments(client, north, staff):
    """The admin writes the profile itself (not through profile_save) and announces it too."""
    region, seat = north
    elsewhere = RegionFactory(name="Elsewhere")
    member = UserFactory()
    move(member, region, seat)
    enrolment = completed(member)
    certificate_issue_manually(enrolment=enrolment, actor=staff, reason="Evidence on paper.")
    client.force_login(UserFactory(role=Role.NATIONAL_STAFF, is_staff=True, is_superuser=True))
    response = client.post(
        reverse("admin:members_profile_change", args=[member.profile.pk]),
        {"user": member.pk, "region": elsewhere.pk, "constituency": "", "phone": "", "membership_number": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert LeaderTally.objects.get(user=member).region_id == elsewhere.pk
    enrolment.refresh_from_db()
    assert (enrolment.member_region_id, enrolment.member_constituency_id) == (elsewhere.pk, None)
    rebuild_check()


def test_target_seats_flagged_in_the_admin_make_the_kept_figures_out_of_date(client, north):
    _region, seat = north
    client.force_login(UserFactory(role=Role.NATIONAL_STAFF, is_staff=True, is_superuser=True))
    cache.set(GENERATION_KEY, "before", None)
    response = client.post(
        reverse("admin:members_constituency_changelist"),
        {"action": "flag_as_target_seat", "_selected_action": [seat.pk]},
    )
    assert response.status_code == 302
    assert cache.get(GENERATION_KEY) != "before"
