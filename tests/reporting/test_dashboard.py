"""The dashboard: figures and the lists behind them agree, people are counted once and
consistently, regional staff see their region only, tables sort, filter and export safely,
targets keep their history, and every page runs a fixed number of queries."""

import csv
import datetime as dt
import html
import io

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from certification.models import Certificate, Target, TargetChange, TargetScope
from certification.permissions import DashboardViewer, dashboard_viewer_get
from certification.seeding import demo_targets_load, regional_shares
from certification.services.certificates import certificate_issue_manually, certificate_revoke
from certification.services.targets import target_change, target_create
from certification.signals import certificate_standing_changed_announce
from config.spreadsheets import csv_safe
from members.models import Constituency, Profile, Region
from members.permissions import Role
from members.signals import member_place_changed_announce
from reporting.forecast import forecast, rates_from_counts
from reporting.selectors.dashboard import (
    Scope,
    conversion_rates,
    leaders_by_month,
    target_list,
    targets_progress,
)
from reporting.selectors.dashboard_cohorts import cohorts_at_risk, trainer_rows
from reporting.services.figures import dashboard_figures_changed, dashboard_figures_get
from reporting.views.tables import TABLE_SLUGS
from tests.factories import (
    AssignmentFactory,
    CohortFactory,
    EnrolmentFactory,
    SessionFactory,
    SubmissionFactory,
    UserFactory,
    VersionFactory,
)
from training.models import (
    Attendance,
    AttendanceSource,
    AttendanceStatus,
    CohortStatus,
    EnrolmentStatus,
    Mark,
    MarkKind,
    Outcome,
    Submission,
)
from training.services.attendance import register_save
from training.services.enrolment import enrolment_apply

pytestmark = pytest.mark.django_db

DASHBOARD = "reporting:dashboard"
PEOPLE = "reporting:dashboard-people"
COHORTS = "reporting:dashboard-cohorts"


def table_url(slug):
    return reverse("reporting:dashboard-table", args=[slug])


# --- Building a small movement --------------------------------------------------------------


@pytest.fixture
def places(seeded):
    north_east = Region.objects.get(ons_code="E12000001")
    wales = Region.objects.get(ons_code="W92000004")
    london = Region.objects.get(ons_code="E12000007")
    seat = Constituency.objects.filter(region=north_east).order_by("name").first()
    Constituency.objects.filter(pk=seat.pk).update(is_target_seat=True)
    seat.refresh_from_db()
    return {"north_east": north_east, "wales": wales, "london": london, "seat": seat}


@pytest.fixture
def staff(seeded):
    return UserFactory(role=Role.NATIONAL_STAFF, first_name="Nadia", last_name="Osei")


def member_in(region, *, constituency=None, role=Role.TRAINEE, **kwargs):
    user = UserFactory(role=role, staff_region=region, **kwargs)
    user.profile.region = region
    user.profile.constituency = constituency
    user.profile.save()
    member_place_changed_announce(user_ids=[user.pk])  # as profile_save does
    return user


@pytest.fixture
def regional(places):
    return member_in(places["north_east"], role=Role.REGIONAL_STAFF)


def certify(member, *, cohort=None, version=None, actor=None, **cohort_kwargs):
    """A certificate for `member` from a finished cohort (made unless given)."""
    if cohort is None:
        cohort = CohortFactory(
            status=CohortStatus.FINISHED, version=version or VersionFactory(), **cohort_kwargs
        )
    enrolment = EnrolmentFactory(cohort=cohort, member=member, status=EnrolmentStatus.COMPLETED)
    return certificate_issue_manually(enrolment=enrolment, actor=actor, reason="Evidence on paper.")


def in_training(member, *, cohort, stage="enrolled"):
    """An enrolment in an open or running cohort, at `stage` (milestones set directly)."""
    now = timezone.now()
    fields = {}
    if stage == "applied":
        fields = {"status": EnrolmentStatus.APPLIED, "first_enrolled_at": None}
    if stage in ("attending", "submitted"):
        fields["first_attended_at"] = now
    if stage == "submitted":
        fields["work_submitted_at"] = now
    return EnrolmentFactory(cohort=cohort, member=member, **fields)


@pytest.fixture
def world(places, staff):
    """A finished cohort to learn rates from, leaders across places and programmes, a revoked
    and a lapsed certificate, people in training, an open cohort, and targets."""
    ne, wales, london, seat = places["north_east"], places["wales"], places["london"], places["seat"]
    version = VersionFactory()
    other_version = VersionFactory()
    trainer = member_in(wales, role=Role.TRAINER, first_name="Gareth", last_name="Price")
    finished = CohortFactory(
        status=CohortStatus.FINISHED, version=version, region=ne, capacity=8, trainers=[trainer]
    )
    # Finished: two certified (one in a target seat), one withdrawn after attending, one who never attended.
    seat_leader = member_in(ne, constituency=seat, first_name="Ada", last_name="Seat")
    ne_leader = member_in(ne, first_name="Ben", last_name="North")
    certify(seat_leader, cohort=finished, actor=staff)
    certify(ne_leader, cohort=finished, actor=staff)
    EnrolmentFactory(
        cohort=finished,
        member=member_in(ne),
        status=EnrolmentStatus.WITHDRAWN,
        first_enrolled_at=timezone.now(),
        first_attended_at=timezone.now(),
    )
    EnrolmentFactory(cohort=finished, member=member_in(ne), status=EnrolmentStatus.ENROLLED)
    # One leader certified by two programmes: one leader.
    twice = member_in(wales, first_name="Cai", last_name="Twice")
    certify(twice, version=version, actor=staff, region=wales, trainers=[trainer])
    certify(twice, version=other_version, actor=staff, region=wales)
    # Revoked: not a leader. Lapsed: still a leader, and shown as lapsed.
    revoked = certify(member_in(london, first_name="Dee", last_name="Revoked"), version=version, actor=staff)
    certificate_revoke(certificate=revoked, actor=staff, public_reason="Issued in error.")
    lapsed = certify(member_in(london, first_name="Eve", last_name="Lapsed"), version=version, actor=staff)
    lapsed.expires_on = timezone.localdate() - dt.timedelta(days=1)
    lapsed.save(update_fields=["expires_on"])
    certificate_standing_changed_announce(holder_ids=[lapsed.holder_id], enrolment_ids=[lapsed.enrolment_id])
    # In training: a running cohort in the North East ending soon, and an open one in Wales.
    running = CohortFactory(
        status=CohortStatus.RUNNING,
        version=version,
        region=ne,
        starts_on=timezone.localdate() - dt.timedelta(days=50),
        ends_on=timezone.localdate() + dt.timedelta(days=10),
        capacity=10,
    )
    for stage in ["enrolled", "attending", "attending", "submitted"]:
        in_training(member_in(ne), cohort=running, stage=stage)
    in_training(member_in(ne, constituency=seat), cohort=running, stage="submitted")
    open_cohort = CohortFactory(status=CohortStatus.OPEN, version=version, region=wales, capacity=10)
    in_training(member_in(wales), cohort=open_cohort, stage="applied")
    in_training(member_in(wales), cohort=open_cohort, stage="enrolled")
    deadline = timezone.localdate() + dt.timedelta(days=365)
    targets = {
        "national": target_create(scope=TargetScope.NATIONAL, leaders=100, deadline=deadline, actor=staff),
        "north_east": target_create(
            scope=TargetScope.REGION, region=ne, leaders=20, deadline=deadline, actor=staff
        ),
        "seats": target_create(scope=TargetScope.TARGET_SEATS, leaders=5, deadline=deadline, actor=staff),
        "wales_other": target_create(
            scope=TargetScope.REGION,
            region=wales,
            programme=other_version.programme,
            leaders=3,
            deadline=deadline,
            actor=staff,
        ),
    }
    return {
        **places,
        "version": version,
        "trainer": trainer,
        "finished": finished,
        "running": running,
        "open": open_cohort,
        "targets": targets,
    }


def list_count(client, url_name, **params) -> int:
    response = client.get(reverse(url_name), params)
    assert response.status_code == 200, (params, response.status_code)
    return response.context["page_obj"].paginator.count


# --- Definitions: who is a leader ------------------------------------------------------------------


def test_leaders_are_counted_once_revoked_are_not_and_lapsed_are_shown(client, staff, world):
    """Ada, Ben (North East), Cai (two programmes) and Eve (lapsed): 4 leaders, 1 lapsed; Dee's
    revoked certificate does not count."""
    client.force_login(staff)
    response = client.get(reverse(DASHBOARD))
    assert response.status_code == 200
    assert response.context["leaders_total"] == 4
    assert response.context["lapsed"] == 1
    leaders = client.get(reverse(PEOPLE), {"figure": "leaders"})
    names = [row["name"] for row in leaders.context["rows"]]
    assert names == ["Eve Lapsed", "Ben North", "Ada Seat", "Cai Twice"]  # by last name
    assert "Dee Revoked" not in leaders.content.decode()
    lapsed = client.get(reverse(PEOPLE), {"figure": "lapsed"})
    assert [row["name"] for row in lapsed.context["rows"]] == ["Eve Lapsed"]


def test_a_programme_target_counts_that_programmes_leaders(world):
    """Wales' target for the second programme counts Cai once; the national one counts 4."""
    progress = {item.target.pk: item for item in targets_progress(targets=target_list())}
    assert progress[world["targets"]["national"].pk].certified == 4
    assert progress[world["targets"]["wales_other"].pk].certified == 1
    assert progress[world["targets"]["north_east"].pk].certified == 2
    assert progress[world["targets"]["seats"].pk].certified == 1


def test_revoking_a_certificate_lowers_the_count(client, staff, world):
    client.force_login(staff)
    before = client.get(reverse(DASHBOARD)).context["leaders_total"]
    certificate = Certificate.objects.get(holder__last_name="North")
    certificate_revoke(certificate=certificate, actor=staff, public_reason="Issued in error.")
    assert client.get(reverse(DASHBOARD)).context["leaders_total"] == before - 1


# --- The forecast from the database ----------------------------------------------------------------


def test_conversion_rates_and_forecast_from_the_data(world):
    """Finished cohorts hold: the first cohort (Ada, Ben certified; one withdrawn after attending;
    one enrolled who never came) and the one-person cohorts of Cai (x2), Dee (revoked) and Eve.
    Stages are cumulative: a certified leader has reached every stage before.

    reached: applied 8; enrolled 8 (all held a place); attending 6 (the withdrawn one and the
    5 valid certificates); submitted 5 (the certificates: staff issued them on paper evidence).
    certified after each: 5 (Ada, Ben, Cai x2, Eve; Dee's is revoked).
    Places: 8 + 4 x 10 = 48; filled 8.
    """
    rates = conversion_rates()
    assert rates.to_certified == pytest.approx(
        {"applied": 5 / 8, "enrolled": 5 / 8, "attending": 5 / 6, "submitted": 1.0}
    )
    assert rates.place_fill == pytest.approx(8 / 48)
    national = next(
        item for item in targets_progress(targets=target_list()) if item.target.scope == TargetScope.NATIONAL
    )
    # Pipeline in cohorts ending within a year: the running cohort (1 enrolled, 2 attending,
    # 2 submitted) and the open one in Wales (1 applied, 1 enrolled; 10 places).
    assert national.pipeline == {"applied": 1, "enrolled": 2, "attending": 2, "submitted": 2}
    # Each person once: the applicant is in the pipeline at "applied", so the place they seek
    # is not counted again among the open places (10 places, 1 held, 1 sought: 8).
    assert national.open_places == 8
    expected = forecast(
        certified_now=4,
        pipeline={"applied": 1, "enrolled": 2, "attending": 2, "submitted": 2},
        open_places=8,
        rates=rates_from_counts(
            reached={"applied": 8, "enrolled": 8, "attending": 6, "submitted": 5},
            certified_after={"applied": 5, "enrolled": 5, "attending": 5, "submitted": 5},
            places=48,
            filled=8,
        ),
    )
    assert national.forecast == expected
    # By hand: 4 certified
    #   + 1 applied x 5/8 + 2 enrolled x 5/8 + 2 attending x 5/6 + 2 submitted x 1
    #   = 4 + 0.625 + 1.25 + 1.6667 + 2 = 9.5417
    #   + 8 open places x (fill 8/48 x enrolled's 5/8 = 0.10417) = 0.8333  ->  10.375
    assert national.forecast.expected == pytest.approx(4 + 0.625 + 1.25 + 5 / 3 + 2 + 8 * 5 / 48)


def test_cohorts_ending_after_the_deadline_are_not_in_its_forecast(world, staff):
    soon = target_create(
        scope=TargetScope.NATIONAL,
        leaders=10,
        deadline=timezone.localdate() + dt.timedelta(days=5),
        actor=staff,
    )
    progress = next(item for item in targets_progress(targets=[soon]))
    assert progress.pipeline == {"applied": 0, "enrolled": 0, "attending": 0, "submitted": 0}
    assert progress.open_places == 0
    assert progress.forecast.expected == 4


# --- Figures and the lists behind them agree -------------------------------------------------------


def test_every_figure_equals_the_count_of_its_list(client, staff, world):
    """The headline, the targets, places, funnels, trainers and cohorts at risk: each number's
    list has exactly that many rows."""
    client.force_login(staff)
    context = client.get(reverse(DASHBOARD)).context
    assert list_count(client, PEOPLE, figure="leaders") == context["leaders_total"] == 4
    assert list_count(client, PEOPLE, figure="lapsed") == context["lapsed"] == 1
    assert list_count(client, PEOPLE, figure="training") == context["training_total"] == 7
    assert list_count(client, COHORTS, figure="at_risk") == context["risk_count"]
    for row in client.get(table_url("targets")).context["table"].rows:
        target = row["id"]
        assert list_count(client, PEOPLE, figure="leaders", target=target) == row["certified"], row
        assert list_count(client, PEOPLE, figure="training", target=target) == row["pipeline"], row
    for row in context["places_table"].rows:
        region = "none" if row["id"] == 0 else row["id"]
        assert list_count(client, PEOPLE, figure="leaders", region=region) == row["leaders"], row
        assert list_count(client, PEOPLE, figure="training", region=region) == row["training"], row
    ne = world["north_east"].pk
    for row in client.get(table_url("places"), {"region": ne}).context["table"].rows:
        constituency = "none" if row["id"] == 0 else row["id"]
        assert (
            list_count(client, PEOPLE, figure="leaders", region=ne, constituency=constituency)
            == row["leaders"]
        )
        assert (
            list_count(client, PEOPLE, figure="training", region=ne, constituency=constituency)
            == row["training"]
        )
    stages = ["applied", "enrolled", "attending", "submitted", "certified"]
    for table, group in [(context["funnel_programme"], "programme"), (context["funnel_place"], "region")]:
        for row in table.rows:
            for stage in stages:
                href = row[f"{stage}_href"]
                response = client.get(href)
                assert response.context["page_obj"].paginator.count == row[stage], (
                    group,
                    row["group"],
                    stage,
                )
    for row in client.get(table_url("trainers")).context["table"].rows:
        assert list_count(client, PEOPLE, figure="trainer_leaders", trainer=row["id"]) == row["leaders"]
        assert list_count(client, COHORTS, figure="trainer_cohorts", trainer=row["id"]) == row["cohorts_run"]
    for row in context["forecast_rows"]:
        if row["href"]:
            assert client.get(row["href"]).context["page_obj"].paginator.count == row["people"]


def test_the_dashboard_shows_the_headline_chart_and_footnote(client, staff, world):
    client.force_login(staff)
    page = client.get(reverse(DASHBOARD)).content.decode()
    assert "National target: 100 leaders by" in page
    assert 'role="img"' in page
    assert "<svg" in page
    assert "burnup-leaders" in page
    assert "How the forecast works" in page
    assert "Revoked certificates do not count" in page
    assert "Place not recorded" in page  # the footnote says how people with no place count


# --- Cohorts at risk and trainers ----------------------------------------------------------------------


def test_each_kind_of_risk_is_found_and_links_to_the_cohort(client, staff, places):
    ne = places["north_east"]
    now = timezone.now()
    today = timezone.localdate()
    # Low attendance: 2 sessions held, 2 enrolled, 1 present mark of 4 (25% < 75%).
    low = CohortFactory(
        name="Low attendance",
        status=CohortStatus.RUNNING,
        region=ne,
        starts_on=today - dt.timedelta(days=30),
        ends_on=today + dt.timedelta(days=60),
    )
    people = [EnrolmentFactory(cohort=low) for _ in range(2)]
    for days in (20, 10):
        session = SessionFactory(
            cohort=low,
            starts_at=now - dt.timedelta(days=days),
            ends_at=now - dt.timedelta(days=days) + dt.timedelta(hours=2),
        )
        Attendance.objects.create(
            session=session,
            enrolment=people[0],
            status=AttendanceStatus.PRESENT if days == 20 else AttendanceStatus.ABSENT,
            source=AttendanceSource.REGISTER,
            recorded_at=now,
        )
    # Marking: work waiting 9 days against a 7-day turnaround.
    marking = CohortFactory(
        name="Marking late",
        status=CohortStatus.RUNNING,
        region=ne,
        starts_on=today - dt.timedelta(days=30),
        ends_on=today + dt.timedelta(days=60),
    )
    SubmissionFactory(enrolment=EnrolmentFactory(cohort=marking), submitted_at=now - dt.timedelta(days=9))
    # Few submissions: ends in 5 days, 1 of 3 handed in all their work.
    ending = CohortFactory(
        name="Ending",
        status=CohortStatus.RUNNING,
        region=ne,
        starts_on=today - dt.timedelta(days=60),
        ends_on=today + dt.timedelta(days=5),
    )
    EnrolmentFactory(cohort=ending, work_submitted_at=now)
    EnrolmentFactory.create_batch(2, cohort=ending)
    # Numbers: starts in 7 days with 2 of 10 places taken. Healthy: 6 of 10; nothing wrong.
    for name, taken in [("Starting", 2), ("Healthy", 6)]:
        cohort = CohortFactory(
            name=name,
            status=CohortStatus.OPEN,
            region=ne,
            capacity=10,
            starts_on=today + dt.timedelta(days=7),
            ends_on=today + dt.timedelta(days=70),
        )
        EnrolmentFactory.create_batch(taken, cohort=cohort)
    risks = {risk.name: set(risk.reasons) for risk in cohorts_at_risk()}
    assert risks == {
        "Low attendance": {"attendance"},
        "Marking late": {"marking"},
        "Ending": {"submissions"},
        "Starting": {"numbers"},
    }
    client.force_login(staff)
    page = client.get(reverse(DASHBOARD)).content.decode()
    assert reverse("training:cohort-manage", args=[low.pk]) in page
    assert "25% attendance over 2 sessions held (the rule asks 75%)" in page
    assert list_count(client, COHORTS, figure="at_risk", reason="numbers") == 1
    filtered = client.get(table_url("cohorts-at-risk"), {"reason": "marking"}).context["table"].rows
    assert [row["name"] for row in filtered] == ["Marking late"]


def test_regional_staff_follow_a_cohort_at_risk_to_its_page(client, regional, places):
    """The at-risk rows link to the cohort page, which regional staff may read for their region;
    a member of theirs training in another region's cohort is listed without a link."""
    today = timezone.localdate()
    at_risk = CohortFactory(
        name="Hexham, spring",
        status=CohortStatus.OPEN,
        region=places["north_east"],
        capacity=10,
        starts_on=today + dt.timedelta(days=5),
        ends_on=today + dt.timedelta(days=60),
    )
    EnrolmentFactory(cohort=at_risk, member=member_in(places["north_east"]))
    elsewhere = CohortFactory(name="Cardiff, spring", region=places["wales"])
    EnrolmentFactory(cohort=elsewhere, member=member_in(places["north_east"]))
    href = f'href="{reverse("training:cohort-manage", args=[at_risk.pk])}"'
    client.force_login(regional)
    for url in (reverse(DASHBOARD), table_url("cohorts-at-risk"), reverse(COHORTS) + "?figure=at_risk"):
        assert href in client.get(url).content.decode(), url
    assert client.get(reverse("training:cohort-manage", args=[at_risk.pk])).status_code == 200
    people = client.get(reverse(PEOPLE), {"figure": "training"})
    rows = {row["cohort"]: row["cohort_href"] for row in people.context["rows"]}
    assert rows == {
        "Hexham, spring": reverse("training:cohort-manage", args=[at_risk.pk]),
        "Cardiff, spring": None,
    }
    assert client.get(reverse("training:cohort-manage", args=[elsewhere.pk])).status_code == 404


def test_trainers_median_marking_days_cohorts_and_lineage(places, staff):
    """Three first marks after 1, 2 and 10 days: the median is 2 days (on SQLite and PostgreSQL)."""
    founder = member_in(places["wales"], role=Role.TRAINER, first_name="Fay", last_name="Founder")
    cohort = CohortFactory(status=CohortStatus.FINISHED, region=places["wales"], trainers=[founder])
    leader = member_in(places["wales"], role=Role.TRAINER, first_name="Lee", last_name="Leader")
    certify(leader, cohort=cohort, actor=staff)
    second = CohortFactory(status=CohortStatus.RUNNING, region=places["wales"], trainers=[leader])
    certify(
        member_in(places["wales"]),
        cohort=CohortFactory(status=CohortStatus.FINISHED, region=places["wales"], trainers=[leader]),
        actor=staff,
    )
    now = timezone.now()
    for days in (1, 2, 10):
        submission = SubmissionFactory(
            enrolment=EnrolmentFactory(cohort=second), submitted_at=now - dt.timedelta(days=days)
        )
        mark = Mark.objects.create(
            submission=submission, marker=leader, kind=MarkKind.FIRST, outcome=Outcome.PASS, feedback="Good."
        )
        Mark.objects.filter(pk=mark.pk).update(created_at=now)
    rows = {row["name"]: row for row in trainer_rows()}
    assert rows["Lee Leader"]["median_days"] == pytest.approx(2, abs=0.01)
    assert rows["Lee Leader"]["marked"] == 3
    assert rows["Lee Leader"]["cohorts_run"] == 2
    assert rows["Lee Leader"]["leaders"] == 1
    assert (rows["Lee Leader"]["generation"], rows["Lee Leader"]["depth"]) == (1, 1)
    assert (rows["Fay Founder"]["generation"], rows["Fay Founder"]["depth"]) == (0, 2)
    assert rows["Fay Founder"]["median_days"] is None


def test_leaders_by_month_counts_each_leader_at_their_first_certificate(world):
    """Cai's two certificates count once, in the month of the first."""
    now = timezone.now()
    first, second = Certificate.objects.filter(holder__last_name="Twice").order_by("pk")
    for certificate, days_ago in ((first, 400), (second, 100)):
        certificate.issued_at = now - dt.timedelta(days=days_ago)
        certificate.save(update_fields=["issued_at"])
    certificate_standing_changed_announce(
        holder_ids=[first.holder_id], enrolment_ids=[first.enrolment_id, second.enrolment_id]
    )
    series = leaders_by_month(scope=Scope())
    assert series[-1][1] == 4
    assert [n for _month, n in series] == sorted(n for _month, n in series)
    assert len(series) == 2  # a year ago (Cai), this month (the rest)
    assert series[0][1] == 1


# --- Regional staff -----------------------------------------------------------------------------------


def test_regional_staff_see_only_their_region(client, regional, world):
    client.force_login(regional)
    response = client.get(reverse(DASHBOARD))
    assert response.status_code == 200
    context = response.context
    assert context["viewer"].region == world["north_east"]
    assert context["leaders_total"] == 2  # Ada and Ben; not Cai (Wales) or Eve (London)
    assert context["training_total"] == 5
    assert [row["id"] for row in context["targets_table"].rows] == [world["targets"]["north_east"].pk]
    assert context["main"].target == world["targets"]["north_east"]
    assert list_count(client, PEOPLE, figure="leaders") == 2
    assert list_count(client, PEOPLE, figure="training") == 5
    page = response.content.decode()
    assert "Wales" not in page
    assert "London" not in page


@pytest.mark.parametrize(
    "url",
    [
        lambda w: table_url("places") + f"?region={w['wales'].pk}",
        lambda w: reverse(PEOPLE) + f"?figure=leaders&region={w['wales'].pk}",
        lambda w: reverse(PEOPLE) + "?figure=leaders&region=none",
        lambda w: reverse(PEOPLE) + f"?figure=leaders&target={w['targets']['national'].pk}",
        lambda w: reverse(DASHBOARD) + f"?target={w['targets']['wales_other'].pk}",
        lambda w: (
            reverse(PEOPLE)
            + f"?figure=leaders&constituency={Constituency.objects.filter(region=w['wales']).first().pk}"
        ),
    ],
)
def test_regional_staff_get_404_for_another_regions_figures(client, regional, world, url):
    client.force_login(regional)
    assert client.get(url(world)).status_code == 404


def test_regional_staff_without_a_region_are_refused_with_a_reason(places):
    """Regional staff given no region to oversee are refused, whatever their profile says."""
    user = UserFactory(role=Role.REGIONAL_STAFF, onboarding=False)
    with pytest.raises(PermissionDenied, match="not been given one"):
        dashboard_viewer_get(user=user)
    Profile.objects.create(user=user, region=places["north_east"])
    with pytest.raises(PermissionDenied, match="not been given one"):
        dashboard_viewer_get(user=user)
    staff_user = UserFactory(role=Role.NATIONAL_STAFF, onboarding=False)
    assert dashboard_viewer_get(user=staff_user) == DashboardViewer(region=None)


def test_the_menu_links_the_dashboard_for_staff_only(client, staff, regional, places):
    link = f'href="{reverse(DASHBOARD)}"'
    for user, shown in [(staff, True), (regional, True), (member_in(places["wales"]), False)]:
        client.force_login(user)
        page = client.get(reverse("certification:registry")).content.decode()
        assert (link in page) is shown, user


def test_regional_staff_land_on_their_dashboard(client, regional):
    client.force_login(regional)
    response = client.get(reverse("members:home"))
    assert response.status_code == 302
    assert response.url == reverse(DASHBOARD)


# --- Who may see what ------------------------------------------------------------------------------------


def _dashboard_urls(world):
    return [
        reverse(DASHBOARD),
        table_url("places"),
        table_url("trainers") + "?format=csv",
        reverse(PEOPLE) + "?figure=leaders",
        reverse(COHORTS) + "?figure=at_risk",
    ]


@pytest.mark.parametrize("role", [Role.TRAINEE, Role.TRAINER])
def test_trainees_and_trainers_are_refused(client, world, role):
    client.force_login(member_in(world["north_east"], role=role))
    for url in [*_dashboard_urls(world), reverse("reporting:target-list")]:
        assert client.get(url).status_code == 403, url


def test_anonymous_visitors_are_asked_to_sign_in(client, world):
    for url in [*_dashboard_urls(world), reverse("reporting:target-list")]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("account_login"))


def test_national_and_regional_staff_reach_the_dashboard_only_national_set_targets(
    client, staff, regional, world
):
    for user, targets_status in [(staff, 200), (regional, 403)]:
        client.force_login(user)
        for url in _dashboard_urls(world):
            assert client.get(url).status_code == 200, (user, url)
        assert client.get(reverse("reporting:target-list")).status_code == targets_status
        assert client.get(reverse("reporting:target-create")).status_code == targets_status


# --- Tables: sorting, filters, CSV -------------------------------------------------------------------------


def test_tables_sort_by_allow_listed_keys_and_ignore_others(client, staff, world):
    client.force_login(staff)
    rows = client.get(table_url("places"), {"sort": "-leaders"}).context["table"].rows
    assert [row["leaders"] for row in rows] == sorted((row["leaders"] for row in rows), reverse=True)
    rows = client.get(table_url("places"), {"sort": "name"}).context["table"].rows
    assert [row["name"] for row in rows] == sorted((row["name"] for row in rows), key=str.lower)
    default = [row["name"] for row in client.get(table_url("places")).context["table"].rows]
    for bad in ["__class__", "-", "pk", "name;drop", "x" * 60]:
        response = client.get(table_url("places"), {"sort": bad})
        assert response.status_code in (200, 400), bad
        if response.status_code == 200:
            assert [row["name"] for row in response.context["table"].rows] == default


def test_places_follow_a_region_to_its_constituencies_target_seats_first(client, staff, world):
    client.force_login(staff)
    dashboard = client.get(reverse(DASHBOARD)).content.decode()
    region_link = table_url("places") + f"?region={world['north_east'].pk}"
    assert region_link in dashboard
    rows = client.get(region_link).context["table"].rows
    assert rows[0]["id"] == world["seat"].pk
    assert rows[0]["target_seat"]
    seats = (
        client.get(table_url("places"), {"region": world["north_east"].pk, "seats": "1"})
        .context["table"]
        .rows
    )
    assert [row["id"] for row in seats] == [world["seat"].pk]
    assert seats[0]["leaders"] == 1
    assert seats[0]["training"] == 1
    gap = client.get(table_url("places"), {"gap": "1"}).context["table"].rows
    assert gap
    assert all(row["gap"] for row in gap)


@pytest.mark.parametrize(
    ("url", "params"),
    [
        (PEOPLE, {"figure": "bogus"}),
        (PEOPLE, {"figure": "leaders", "region": "abc"}),
        (PEOPLE, {"figure": "leaders", "target": "x"}),
        (PEOPLE, {"figure": "reached", "stage": "nowhere"}),
        (PEOPLE, {"figure": "reached"}),
        (PEOPLE, {"figure": "trainer_leaders"}),
        (PEOPLE, {"figure": "training", "by": "yesterday"}),
        (PEOPLE, {}),
        (COHORTS, {"figure": "leaders"}),
        (COHORTS, {"figure": "at_risk", "reason": "weather"}),
        (DASHBOARD, {"target": "-1"}),
    ],
)
def test_malformed_parameters_are_a_400_never_a_500(client, staff, world, url, params):
    client.force_login(staff)
    response = client.get(reverse(url), params)
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("url", "params"),
    [
        (PEOPLE, {"figure": "leaders", "region": "99999999"}),
        (PEOPLE, {"figure": "leaders", "programme": "99999999"}),
        (PEOPLE, {"figure": "leaders", "constituency": "99999999"}),
        (DASHBOARD, {"target": "99999999"}),
    ],
)
def test_unknown_places_and_targets_are_a_404(client, staff, world, url, params):
    client.force_login(staff)
    assert client.get(reverse(url), params).status_code == 404


def test_unknown_table_is_a_404_and_unknown_parameters_are_ignored(client, staff, world):
    client.force_login(staff)
    assert client.get(table_url("secrets")).status_code == 404
    assert client.get(reverse(DASHBOARD), {"colour": "red", "page": "abc"}).status_code == 200
    assert client.get(table_url("trainers"), {"page": "999"}).status_code == 200


def _csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_every_table_exports_as_csv(client, staff, world):
    client.force_login(staff)
    for slug in [
        "targets",
        "leaders-by-month",
        "funnel-programme",
        "funnel-region",
        "places",
        "cohorts-at-risk",
        "trainers",
    ]:
        rows = _csv_rows(client.get(table_url(slug), {"format": "csv"}))
        assert len(rows) >= 1, slug
    places = _csv_rows(client.get(table_url("places"), {"format": "csv"}))
    assert places[0] == ["Region", "Leaders", "In training", "Target", "Target deadline", "Gap to target"]
    north_east = next(row for row in places if row[0] == "North East")
    assert north_east[1:4] == ["2", "5", "20"]
    targets = _csv_rows(client.get(table_url("targets"), {"format": "csv"}))
    assert targets[1][0] == "National"


@pytest.fixture
def formula_like(places, staff):
    """A cohort at risk and a leader whose names a spreadsheet would run as formulas."""
    ne = places["north_east"]
    today = timezone.localdate()
    CohortFactory(
        name='=HYPERLINK("http://evil.example")',
        status=CohortStatus.OPEN,
        region=ne,
        capacity=10,
        starts_on=today + dt.timedelta(days=3),
        ends_on=today + dt.timedelta(days=60),
    )
    certify(member_in(ne, first_name="+Bob", last_name="@Cell"), actor=staff)


def test_csv_cells_never_run_as_formulas(client, staff, formula_like):
    client.force_login(staff)
    risks = _csv_rows(client.get(table_url("cohorts-at-risk"), {"format": "csv"}))
    assert risks[1][0] == '\'=HYPERLINK("http://evil.example")'
    people = _csv_rows(client.get(reverse(PEOPLE), {"figure": "leaders", "format": "csv"}))
    assert people[1][0] == "'+Bob @Cell"
    for row in risks + people:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell


def _xlsx_sheet(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response["Content-Disposition"].endswith('.xlsx"')
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert len(workbook.worksheets) == 1
    return workbook.worksheets[0]


def _same_cell(xlsx_cell, csv_text: str) -> bool:
    """A cell of the XLSX holds what the CSV's cell says: the same text (the CSV quotes
    formula-like text), the same number, or the same date (the CSV writes YYYY-MM-DD)."""
    value = xlsx_cell.value
    if value is None:
        return csv_text == ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() == csv_text
    if isinstance(value, int | float):
        return float(csv_text) == float(value)
    return csv_safe(value) == csv_text


def _assert_xlsx_matches_csv(client, url, params):
    csv_rows = _csv_rows(client.get(url, {**params, "format": "csv"}))
    sheet = _xlsx_sheet(client.get(url, {**params, "format": "xlsx"}))
    xlsx_rows = list(sheet.iter_rows())
    assert len(xlsx_rows) == len(csv_rows), url
    for xlsx_row, csv_row in zip(xlsx_rows, csv_rows, strict=True):
        assert len(xlsx_row) == len(csv_row), (url, csv_row)
        for xlsx_cell, csv_text in zip(xlsx_row, csv_row, strict=True):
            assert _same_cell(xlsx_cell, csv_text), (url, xlsx_cell.value, csv_text)
    return sheet


def test_every_download_has_an_xlsx_with_the_csvs_rows(client, staff, world):
    """Every table and list that downloads as CSV downloads as XLSX too, cell for cell."""
    client.force_login(staff)
    downloads = [(table_url(slug), {}) for slug in TABLE_SLUGS] + [
        (table_url("places"), {"region": world["north_east"].pk}),
        (reverse(PEOPLE), {"figure": "leaders"}),
        (reverse(PEOPLE), {"figure": "training"}),
        (reverse(COHORTS), {"figure": "at_risk"}),
    ]
    for url, params in downloads:
        _assert_xlsx_matches_csv(client, url, params)
    places = _assert_xlsx_matches_csv(client, table_url("places"), {})
    north_east = next(row for row in places.iter_rows(values_only=True) if row[0] == "North East")
    assert north_east[1:4] == (2, 5, 20)  # numbers, not text, in the spreadsheet
    targets = _assert_xlsx_matches_csv(client, table_url("targets"), {})
    deadline = targets.cell(row=2, column=2)
    assert deadline.is_date
    assert deadline.value.date() == world["targets"]["national"].deadline


def test_xlsx_cells_never_run_as_formulas(client, staff, formula_like):
    """Formula-like text is stored as text, typed with a leading apostrophe: never a formula."""
    client.force_login(staff)
    risks = _assert_xlsx_matches_csv(client, table_url("cohorts-at-risk"), {})
    cell = risks.cell(row=2, column=1)
    assert (cell.value, cell.data_type, cell.quotePrefix) == ('=HYPERLINK("http://evil.example")', "s", True)
    people = _assert_xlsx_matches_csv(client, reverse(PEOPLE), {"figure": "leaders"})
    cell = people.cell(row=2, column=1)
    assert (cell.value, cell.data_type, cell.quotePrefix) == ("+Bob @Cell", "s", True)
    for sheet in (risks, people):
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", cell.value


def test_pages_offer_both_downloads(client, staff, world):
    client.force_login(staff)
    dashboard = client.get(reverse(DASHBOARD)).content.decode()
    for slug in TABLE_SLUGS:
        for export_format in ("csv", "xlsx"):
            assert f"{table_url(slug)}?format={export_format}" in dashboard or (
                f"{table_url(slug)}?target=" in dashboard and f"format={export_format}" in dashboard
            ), (slug, export_format)
    pages = [
        (table_url("places"), {"region": world["north_east"].pk}),
        (reverse(PEOPLE), {"figure": "leaders"}),
        (reverse(COHORTS), {"figure": "at_risk"}),
    ]
    for url, params in pages:
        response = client.get(url, {**params, "page": 1})
        links = dict((str(label), href) for label, href in response.context["downloads"])
        assert set(links) == {"Download as CSV", "Download as XLSX (Excel)"}
        page = response.content.decode()
        for href in links.values():
            assert "page=" not in href  # every row, not just this page
            assert f'href="{html.escape(href)}"' in page
        assert "format=xlsx" in links["Download as XLSX (Excel)"]


def test_a_lists_csv_has_every_row_not_just_the_page(client, staff, places):
    for index in range(55):
        certify(member_in(places["wales"], last_name=f"Leader {index:02d}"), actor=staff)
    client.force_login(staff)
    assert list_count(client, PEOPLE, figure="leaders") == 55
    rows = _csv_rows(client.get(reverse(PEOPLE), {"figure": "leaders", "format": "csv"}))
    assert len(rows) == 56


# --- Targets ------------------------------------------------------------------------------------------------


def test_staff_set_a_target_and_change_it_with_a_reason(client, staff, places):
    client.force_login(staff)
    deadline = (timezone.localdate() + dt.timedelta(days=400)).isoformat()
    response = client.post(
        reverse("reporting:target-create"),
        {
            "scope": "region",
            "region": places["wales"].pk,
            "leaders": "60",
            "deadline": deadline,
            "note": "Plan A",
        },
    )
    assert response.status_code == 302
    target = Target.objects.get()
    assert (target.scope, target.region, target.leaders) == ("region", places["wales"], 60)
    url = reverse("reporting:target-change", args=[target.pk])
    response = client.post(url, {"leaders": "80", "deadline": deadline, "note": ""})
    assert response.status_code == 400
    assert "Say why the target changes" in response.content.decode()
    response = client.post(url, {"leaders": "80", "deadline": deadline, "note": "A new branch opened."})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.leaders == 80
    history = list(TargetChange.objects.filter(target=target).values_list("leaders", "note", "actor"))
    assert history == [(60, "Plan A", staff.pk), (80, "A new branch opened.", staff.pk)]
    page = client.get(reverse("reporting:target-list")).content.decode()
    assert "A new branch opened." in page
    assert "Plan A" in page


@pytest.mark.parametrize(
    "data",
    [
        {"scope": "region", "leaders": "10"},  # which region?
        {"scope": "national", "leaders": "0"},
        {"scope": "national", "leaders": "ten"},
        {"scope": "planet", "leaders": "10"},
        {"scope": "national", "leaders": "10", "deadline": "2001-01-01"},
        {"scope": "national", "leaders": "10", "region": "nope"},
    ],
)
def test_bad_targets_are_refused_with_a_message(client, staff, places, data):
    client.force_login(staff)
    data = {"deadline": (timezone.localdate() + dt.timedelta(days=30)).isoformat(), **data}
    response = client.post(reverse("reporting:target-create"), data)
    assert response.status_code == 400
    assert 'class="invalid-feedback' in response.content.decode() or "alert" in response.content.decode()
    assert not Target.objects.exists()


def test_targets_need_the_csrf_token(staff, places):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    response = client.post(
        reverse("reporting:target-create"),
        {
            "scope": "national",
            "leaders": "10",
            "deadline": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
        },
    )
    assert response.status_code == 403
    assert not Target.objects.exists()


def test_a_change_with_nothing_new_is_refused(staff, places):
    deadline = timezone.localdate() + dt.timedelta(days=30)
    target = target_create(scope=TargetScope.NATIONAL, leaders=10, deadline=deadline, actor=staff)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        target_change(target=target, leaders=10, deadline=deadline, actor=staff, note="Same again.")


def test_demo_targets_share_the_thousand_by_constituencies_once(seeded, settings):
    from django.core.management import call_command

    settings.DEMO_MODE = True
    call_command("load_seeds", "--demo", verbosity=0)
    national = Target.objects.get(scope=TargetScope.NATIONAL)
    regional = Target.objects.filter(scope=TargetScope.REGION)
    assert national.leaders == 1000
    assert sum(target.leaders for target in regional) == 1000
    assert regional.count() == 12
    assert demo_targets_load() == 0
    assert regional_shares(total=10, weights={1: 1, 2: 1, 3: 1}) == {1: 4, 2: 3, 3: 3}


# --- Speed: a fixed number of queries -----------------------------------------------------------------


def grow(places, staff, count):
    """`count` more of everything the pages count: leaders, trainers, people in training,
    cohorts at risk, marks, targets."""
    today = timezone.localdate()
    now = timezone.now()
    for index in range(count):
        region = [places["north_east"], places["wales"], places["london"]][index % 3]
        trainer = member_in(region, role=Role.TRAINER)
        finished = CohortFactory(status=CohortStatus.FINISHED, region=region, trainers=[trainer])
        certify(
            member_in(region, constituency=places["seat"] if region == places["north_east"] else None),
            cohort=finished,
            actor=staff,
        )
        running = CohortFactory(
            status=CohortStatus.RUNNING,
            region=region,
            trainers=[trainer],
            starts_on=today - dt.timedelta(days=20),
            ends_on=today + dt.timedelta(days=5),
        )
        enrolment = in_training(member_in(region), cohort=running, stage="attending")
        session = SessionFactory(
            cohort=running,
            starts_at=now - dt.timedelta(days=3),
            ends_at=now - dt.timedelta(days=3) + dt.timedelta(hours=2),
        )
        Attendance.objects.create(
            session=session,
            enrolment=enrolment,
            status=AttendanceStatus.ABSENT,
            source=AttendanceSource.REGISTER,
            recorded_at=now,
        )
        submission = SubmissionFactory(
            enrolment=enrolment,
            submitted_at=now - dt.timedelta(days=10),
            assignment=AssignmentFactory(module__version=running.version),
        )
        if index % 2:
            Mark.objects.create(
                submission=submission,
                marker=trainer,
                kind=MarkKind.FIRST,
                outcome=Outcome.RESUBMIT,
                feedback="Again.",
            )
            Submission.objects.filter(pk=submission.pk).update(outcome=Outcome.RESUBMIT, marked_at=now)
        target_create(
            scope=TargetScope.CONSTITUENCY,
            constituency=places["seat"],
            leaders=3 + index,
            deadline=today + dt.timedelta(days=100 + index),
            actor=staff,
        )


def _pages(places, world_targets):
    ne = places["north_east"].pk
    return [
        reverse(DASHBOARD),
        reverse(DASHBOARD) + f"?target={world_targets['north_east'].pk}",
        table_url("places"),
        table_url("places") + f"?region={ne}&sort=-leaders",
        table_url("targets"),
        table_url("funnel-region"),
        table_url("cohorts-at-risk") + "?format=csv",
        table_url("places") + "?format=xlsx",
        table_url("trainers"),
        reverse(PEOPLE) + "?figure=leaders",
        reverse(PEOPLE) + f"?figure=training&target={world_targets['national'].pk}",
        reverse(PEOPLE) + f"?figure=reached&stage=attending&region={ne}",
        reverse(PEOPLE) + "?figure=lapsed&format=csv",
        reverse(PEOPLE) + "?figure=leaders&format=xlsx",
        reverse(COHORTS) + "?figure=at_risk",
        reverse("reporting:target-list"),
    ]


def _counts(client, urls, *, kept: bool = False) -> list[int]:
    """Queries per page: the dashboard's figures counted afresh (the first load after a
    change), or with `kept`, the figures kept from a load just before."""
    counts = []
    for url in urls:
        if kept:
            assert client.get(url).status_code == 200, url
        else:
            dashboard_figures_changed()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200, url
        counts.append(len(queries))
    return counts


def _assert_fixed_counts(client, world, staff, urls, *, kept_urls, grown_by):
    """Each page's queries, counted with 1 more of everything and again with `grown_by` more,
    are the same; so are those of `kept_urls` when the figures are read from the cache.
    Returns the counts (all pages, kept pages)."""
    grow(world, staff, 1)
    _counts(client, urls)  # warm the caches kept per process (content types, conversion rates)
    small = _counts(client, urls)
    small_kept = _counts(client, kept_urls, kept=True)
    grow(world, staff, grown_by)
    assert _counts(client, urls) == small
    assert _counts(client, kept_urls, kept=True) == small_kept
    return small, small_kept


def test_pages_run_a_fixed_number_of_queries_whatever_the_data(client, staff, world):
    """National staff: the same queries for 1 and for 12 more of everything, whether the
    dashboard counts its figures or reads them from the cache."""
    client.force_login(staff)
    urls = _pages(world, world["targets"])
    small, small_kept = _assert_fixed_counts(client, world, staff, urls, kept_urls=urls[:2], grown_by=12)
    assert dict(zip(urls, small, strict=True))[reverse(DASHBOARD)] <= 30
    # Kept: the session, the viewer and their permissions; the target asked for, if any.
    assert small_kept[0] <= 6
    assert small_kept[1] == small_kept[0] + 1


def test_regional_pages_run_a_fixed_number_of_queries(client, regional, staff, world):
    client.force_login(regional)
    ne = world["north_east"].pk
    urls = [
        reverse(DASHBOARD),
        table_url("places"),
        table_url("places") + f"?region={ne}&seats=1",
        reverse(PEOPLE) + "?figure=training",
        reverse(COHORTS) + "?figure=at_risk",
    ]
    _small, small_kept = _assert_fixed_counts(client, world, staff, urls, kept_urls=urls[:1], grown_by=9)
    assert small_kept[0] <= 7  # and the viewer's region


def test_the_burn_up_chart_is_drawn_to_scale():
    """Leaders rise to 9 by today; the target line sits at 20; the forecast band runs from
    today's 9 to the range at the deadline; after the deadline there is no band."""
    from reporting.charts import burnup
    from reporting.forecast import Forecast

    result = Forecast(certified_now=9, from_pipeline=6, from_open_places=0, low=12, high=18)
    today = dt.date(2026, 3, 15)
    chart = burnup(
        series=[(dt.date(2026, 1, 1), 5), (dt.date(2026, 2, 1), 9)],
        today=today,
        target=20,
        deadline=dt.date(2026, 12, 31),
        result=result,
    )
    points = [tuple(map(float, point.split(","))) for point in chart.leaders_points.split()]
    assert points[0] == (chart.left, chart.bottom)  # from nothing at the start
    assert points[-1][0] == chart.today_x
    assert [tick.label for tick in chart.y_ticks][-1] == "20"  # the scale reaches the target
    assert chart.target_y == chart.top
    assert len(chart.band_points.split()) == 3
    assert chart.expected_points.split()[0] == f"{chart.today_x},{points[-1][1]}"
    assert chart.x_ticks[0].label == "Jan 2026"
    late = burnup(series=[], today=today, target=20, deadline=dt.date(2026, 1, 31), result=result)
    assert late.band_points == ""
    narrow = burnup(series=[], today=today, size="narrow", target=20, deadline=dt.date(2028, 1, 1))
    assert len(narrow.x_ticks) <= 4


# --- Kept figures: a change shows on the next load (reporting/services/figures.py) ----------------


def figures_counted(client) -> dict | None:
    """The dashboard's figures when this load counted them afresh; None when it showed the
    figures kept from an earlier load (the page is the same either way)."""
    response = client.get(reverse(DASHBOARD))
    assert response.status_code == 200
    if "leaders_total" not in response.context:
        return None
    context = response.context
    return {
        "leaders": context["leaders_total"],
        "training": context["training_total"],
        "attending": sum(row["attending"] for row in context["funnel_programme"].rows),
    }


@pytest.fixture
def viewers(staff, regional, world):
    """Clients for national staff, North East staff and Wales staff, each with the figures
    counted once and kept."""
    clients = {}
    for name, user in [
        ("national", staff),
        ("north_east", regional),
        ("wales", member_in(world["wales"], role=Role.REGIONAL_STAFF)),
    ]:
        clients[name] = Client()
        clients[name].force_login(user)
        assert figures_counted(clients[name]) is not None
    return clients


def kept_then_counted(viewers, change) -> dict[str, dict]:
    """Each viewer's figures before and after `change`: kept before it, counted after it."""
    before = {name: figures_counted_now(viewer) for name, viewer in viewers.items()}
    for viewer in viewers.values():
        figures_counted(viewer)  # kept under the current generation
    assert [figures_counted(viewer) for viewer in viewers.values()] == [None] * len(viewers)
    change()
    after = {}
    for name, viewer in viewers.items():
        counted = figures_counted(viewer)
        assert counted is not None, f"{name}: the change did not reach the kept figures"
        after[name] = counted
    return {name: {"before": before[name], "after": after[name]} for name in viewers}


def figures_counted_now(viewer) -> dict:
    """Count afresh, without anything changing, to compare with after the change."""
    dashboard_figures_changed()
    counted = figures_counted(viewer)
    assert counted is not None
    return counted


def test_the_figures_are_kept_between_loads_and_the_page_is_the_same(client, staff, world):
    client.force_login(staff)
    first = client.get(reverse(DASHBOARD))
    assert "leaders_total" in first.context  # counted
    kept = client.get(reverse(DASHBOARD))
    assert "leaders_total" not in kept.context  # read from the cache

    def figures(response) -> str:  # the page around them has its own nonce each time
        page = response.content.decode()
        return page[page.index('<section id="headline"') : page.index('<section id="counting"')]

    assert figures(kept) == figures(first)  # found: the kept HTML is not escaped


def test_an_issued_certificate_shows_on_the_next_load(viewers, staff, world):
    """A leader in the North East: national and North East counts go up at once; Wales' is
    counted again (one generation for every scope) and stays the same."""
    enrolment = EnrolmentFactory(
        cohort=world["finished"], member=member_in(world["north_east"]), status=EnrolmentStatus.COMPLETED
    )
    figures = kept_then_counted(
        viewers,
        lambda: certificate_issue_manually(enrolment=enrolment, actor=staff, reason="Evidence on paper."),
    )
    assert figures["national"]["after"]["leaders"] == figures["national"]["before"]["leaders"] + 1
    assert figures["north_east"]["after"]["leaders"] == figures["north_east"]["before"]["leaders"] + 1
    assert figures["wales"]["after"]["leaders"] == figures["wales"]["before"]["leaders"]


def test_a_revoked_certificate_shows_on_the_next_load(viewers, staff, world):
    certificate = Certificate.objects.get(holder__last_name="North")
    figures = kept_then_counted(
        viewers,
        lambda: certificate_revoke(certificate=certificate, actor=staff, public_reason="Issued in error."),
    )
    assert figures["national"]["after"]["leaders"] == figures["national"]["before"]["leaders"] - 1
    assert figures["north_east"]["after"]["leaders"] == figures["north_east"]["before"]["leaders"] - 1


def test_an_application_shows_on_the_next_load(viewers, world):
    """An application to the open cohort in Wales: one more in training, nationally and in Wales."""
    applicant = member_in(world["wales"])
    figures = kept_then_counted(viewers, lambda: enrolment_apply(cohort=world["open"], member=applicant))
    assert figures["national"]["after"]["training"] == figures["national"]["before"]["training"] + 1
    assert figures["wales"]["after"]["training"] == figures["wales"]["before"]["training"] + 1
    assert figures["north_east"]["after"]["training"] == figures["north_east"]["before"]["training"]


def test_a_register_saved_in_bulk_shows_on_the_next_load(viewers, world, django_capture_on_commit_callbacks):
    """The register is written in bulk (no row signals): training's standing_changed, sent on
    commit, makes the figures out of date. The trainee who had not attended now has."""
    running = world["running"]
    AssignmentFactory(module__version=running.version)  # work still due: no certificate follows
    session = SessionFactory(cohort=running, starts_at=timezone.now() - dt.timedelta(days=1))
    not_yet = running.enrolments.get(first_attended_at__isnull=True, status=EnrolmentStatus.ENROLLED)

    def take_register():
        with django_capture_on_commit_callbacks(execute=True):
            register_save(
                session=session, marks={not_yet.pk: AttendanceStatus.PRESENT}, actor=world["trainer"]
            )

    figures = kept_then_counted(viewers, take_register)
    assert figures["national"]["after"]["attending"] == figures["national"]["before"]["attending"] + 1
    assert figures["north_east"]["after"]["attending"] == figures["north_east"]["before"]["attending"] + 1


def test_dashboard_rebuild_clears_the_kept_figures(viewers):
    """A correction by the rebuild (a bulk update no receiver sees) shows on the next load."""
    kept_then_counted(viewers, lambda: call_command("dashboard_rebuild", stdout=io.StringIO()))


def test_the_commit_marks_the_figures_out_of_date_again(django_capture_on_commit_callbacks):
    """A reader between a change and its commit counted the rows as they were before it, and
    keeps that under the token the change set: the commit replaces the token again (once per
    transaction, however many rows changed), so the next load counts the committed rows."""
    with django_capture_on_commit_callbacks() as callbacks:
        dashboard_figures_changed()
        reader = dashboard_figures_get(key="test", build=lambda: "counted before the commit")
        assert reader.fresh
        dashboard_figures_changed()  # a second row in the same transaction
        assert dashboard_figures_get(key="test", build=lambda: "again").html == "again"
    assert len(callbacks) == 1
    assert dashboard_figures_get(key="test", build=lambda: "unused").html == "again"  # kept
    callbacks[0]()  # the commit
    after = dashboard_figures_get(key="test", build=lambda: "counted after the commit")
    assert after.fresh
    assert after.html == "counted after the commit"
