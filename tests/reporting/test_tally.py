"""The dashboard's kept summaries (the leader tally, enrolments' certified_at and member's
place) follow every change the services announce, and `dashboard_rebuild` proves them."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from certification.models import Certificate
from certification.services.certificates import certificate_issue_manually, certificate_revoke
from certification.signals import certificate_standing_changed_announce
from members.models import Profile
from members.permissions import Role
from members.services import profile_save
from members.signals import member_place_changed_announce
from reporting.models import LeaderTally
from reporting.selectors.dashboard import (
    Scope,
    lapsed_leaders_count,
    leader_list,
    leaders_by_month,
    leaders_by_place,
    leaders_count,
)
from tests.factories import (
    CohortFactory,
    ConstituencyFactory,
    EnrolmentFactory,
    RegionFactory,
    UserFactory,
    VersionFactory,
)
from training.models import CohortStatus, Enrolment, EnrolmentStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def places():
    north, south = RegionFactory(name="North"), RegionFactory(name="South")
    return {
        "north": north,
        "south": south,
        "north_seat": ConstituencyFactory(region=north),
        "south_seat": ConstituencyFactory(region=south),
    }


@pytest.fixture
def staff():
    return UserFactory(role=Role.NATIONAL_STAFF)


def member_at(region, constituency=None):
    member = UserFactory(role=Role.TRAINEE)
    profile_save(
        user=member,
        first_name=member.first_name,
        last_name=member.last_name,
        region=region,
        constituency=constituency,
    )
    return member


def certify(member, *, actor):
    cohort = CohortFactory(status=CohortStatus.FINISHED, version=VersionFactory())
    enrolment = EnrolmentFactory(cohort=cohort, member=member, status=EnrolmentStatus.COMPLETED)
    return certificate_issue_manually(enrolment=enrolment, actor=actor, reason="Evidence on paper.")


def tally_of(member) -> LeaderTally | None:
    return LeaderTally.objects.filter(user=member).first()


def expiry_announce(certificate) -> None:
    """What certificate_renew announces after moving an expiry date."""
    certificate_standing_changed_announce(
        holder_ids=[certificate.holder_id], enrolment_ids=[certificate.enrolment_id]
    )


def rebuild_check() -> None:
    call_command("dashboard_rebuild", "--check", stdout=io.StringIO())


def test_a_certificate_makes_a_leader_in_their_place_and_revoking_it_unmakes_them(places, staff):
    member = member_at(places["north"], places["north_seat"])
    certificate = certify(member, actor=staff)
    tally = tally_of(member)
    assert (tally.region_id, tally.constituency_id, tally.has_profile) == (
        places["north"].pk,
        places["north_seat"].pk,
        True,
    )
    assert tally.first_certified_at == certificate.issued_at
    assert tally.first_certified_month == timezone.localtime(certificate.issued_at).date().replace(day=1)
    assert Enrolment.objects.get(pk=certificate.enrolment_id).certified_at == certificate.issued_at
    rebuild_check()

    certificate_revoke(certificate=certificate, actor=staff, public_reason="Issued in error.")
    assert tally_of(member) is None
    assert Enrolment.objects.get(pk=certificate.enrolment_id).certified_at is None
    rebuild_check()


def test_a_second_certificate_keeps_the_first_date_and_one_row(places, staff):
    member = member_at(places["south"])
    first = certify(member, actor=staff)
    certify(member, actor=staff)
    assert LeaderTally.objects.filter(user=member).count() == 1
    assert tally_of(member).first_certified_at == first.issued_at
    # Revoking the first leaves them a leader, from the second's date.
    certificate_revoke(certificate=first, actor=staff, public_reason="Issued in error.")
    second = Certificate.objects.get(holder=member, status="valid")
    assert tally_of(member).first_certified_at == second.issued_at
    rebuild_check()


def test_moving_and_losing_a_profile_moves_the_leader_and_their_enrolments(places, staff):
    member = member_at(places["north"], places["north_seat"])
    certificate = certify(member, actor=staff)
    open_cohort = CohortFactory(status=CohortStatus.OPEN)
    in_training = EnrolmentFactory(cohort=open_cohort, member=member)
    assert in_training.member_region_id == places["north"].pk  # copied when it was made

    profile_save(
        user=member,
        first_name=member.first_name,
        last_name=member.last_name,
        region=places["south"],
        constituency=places["south_seat"],
    )
    assert (tally_of(member).region_id, tally_of(member).constituency_id) == (
        places["south"].pk,
        places["south_seat"].pk,
    )
    assert set(
        Enrolment.objects.filter(member=member).values_list("member_region_id", "member_constituency_id")
    ) == {(places["south"].pk, places["south_seat"].pk)}
    rebuild_check()

    Profile.objects.get(user=member).delete()
    member_place_changed_announce(user_ids=[member.pk])  # as erasure does, having removed it
    tally = tally_of(member)
    assert (tally.has_profile, tally.region_id, tally.constituency_id) == (False, None, None)
    assert Enrolment.objects.get(pk=certificate.enrolment_id).member_region_id is None
    # Still a leader, counted nationally under "place not recorded".
    assert leaders_count(leaders_by_place(), scope=Scope()) == 1
    assert leader_list(scope=Scope()).count() == 1
    rebuild_check()


def test_lapsing_and_renewing_follow_the_expiry_date(places, staff):
    member = member_at(places["north"])
    certificate = certify(member, actor=staff)
    certificate.expires_on = timezone.localdate() - dt.timedelta(days=1)
    certificate.save(update_fields=["expires_on"])
    expiry_announce(certificate)
    assert lapsed_leaders_count() == 1
    certificate.expires_on = timezone.localdate() + dt.timedelta(days=365)
    certificate.save(update_fields=["expires_on"])
    expiry_announce(certificate)
    assert lapsed_leaders_count() == 0
    assert tally_of(member).in_date_until == certificate.expires_on


def test_the_burn_up_counts_each_leader_in_the_month_they_first_qualified(places, staff):
    for _ in range(3):
        certify(member_at(places["north"]), actor=staff)
    assert leaders_by_month(scope=Scope())[-1][1] == 3
    assert leaders_by_month(scope=Scope(region_id=places["south"].pk)) == []


def test_rebuild_finds_and_corrects_what_was_changed_behind_the_services_back(places, staff):
    member = member_at(places["north"], places["north_seat"])
    certificate = certify(member, actor=staff)
    # Changes made by QuerySet.update() announce nothing.
    Certificate.objects.filter(pk=certificate.pk).update(status="revoked", revoked_at=timezone.now())
    Profile.objects.filter(user=member).update(region=places["south"], constituency=None)
    with pytest.raises(CommandError):
        rebuild_check()
    call_command("dashboard_rebuild", stdout=io.StringIO())
    rebuild_check()
    assert tally_of(member) is None
    enrolment = Enrolment.objects.get(pk=certificate.enrolment_id)
    assert (enrolment.certified_at, enrolment.member_region_id) == (None, places["south"].pk)
