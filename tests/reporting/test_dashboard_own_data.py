"""The dashboard's tests that build their own data (test_dashboard.py shares one movement,
built once per module): cohorts at risk, trainers, who reaches the dashboard, downloads that
never run formulas, and targets."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from certification.models import Target, TargetChange, TargetScope
from certification.permissions import DashboardViewer, dashboard_viewer_get
from certification.seeding import demo_targets_load, regional_shares
from certification.services.targets import target_change, target_create
from members.models import Profile
from members.permissions import Role
from reporting.selectors.dashboard_cohorts import cohorts_at_risk, trainer_rows
from reporting.services.figures import dashboard_figures_changed, dashboard_figures_get
from tests.factories import (
    CohortFactory,
    EnrolmentFactory,
    SessionFactory,
    SubmissionFactory,
    UserFactory,
)
from tests.reporting.movement import (
    COHORTS,
    DASHBOARD,
    PEOPLE,
    assert_xlsx_matches_csv,
    certify,
    csv_rows,
    list_count,
    member_in,
    places_marked,
    table_url,
)
from training.models import (
    Attendance,
    AttendanceSource,
    AttendanceStatus,
    CohortStatus,
    Mark,
    MarkKind,
    Outcome,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def places(seeded):
    return places_marked()


@pytest.fixture
def staff(seeded):
    return UserFactory(role=Role.NATIONAL_STAFF, first_name="Nadia", last_name="Osei")


@pytest.fixture
def regional(places):
    return member_in(places["north_east"], role=Role.REGIONAL_STAFF)


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
    risks = csv_rows(client.get(table_url("cohorts-at-risk"), {"format": "csv"}))
    assert risks[1][0] == '\'=HYPERLINK("http://evil.example")'
    people = csv_rows(client.get(reverse(PEOPLE), {"figure": "leaders", "format": "csv"}))
    assert people[1][0] == "'+Bob @Cell"
    for row in risks + people:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell


def test_xlsx_cells_never_run_as_formulas(client, staff, formula_like):
    """Formula-like text is stored as text, typed with a leading apostrophe: never a formula."""
    client.force_login(staff)
    risks = assert_xlsx_matches_csv(client, table_url("cohorts-at-risk"), {})
    cell = risks.cell(row=2, column=1)
    assert (cell.value, cell.data_type, cell.quotePrefix) == ('=HYPERLINK("http://evil.example")', "s", True)
    people = assert_xlsx_matches_csv(client, reverse(PEOPLE), {"figure": "leaders"})
    cell = people.cell(row=2, column=1)
    assert (cell.value, cell.data_type, cell.quotePrefix) == ("+Bob @Cell", "s", True)
    for sheet in (risks, people):
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", cell.value


def test_a_lists_csv_has_every_row_not_just_the_page(client, staff, places):
    for index in range(55):
        certify(member_in(places["wales"], last_name=f"Leader {index:02d}"), actor=staff)
    client.force_login(staff)
    assert list_count(client, PEOPLE, figure="leaders") == 55
    rows = csv_rows(client.get(reverse(PEOPLE), {"figure": "leaders", "format": "csv"}))
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

    settings.DEMO_MODE = True
    call_command("load_seeds", "--demo", verbosity=0)
    national = Target.objects.get(scope=TargetScope.NATIONAL)
    regional = Target.objects.filter(scope=TargetScope.REGION)
    assert national.leaders == 1000
    assert sum(target.leaders for target in regional) == 1000
    assert regional.count() == 12
    assert demo_targets_load() == 0
    assert regional_shares(total=10, weights={1: 1, 2: 1, 3: 1}) == {1: 4, 2: 3, 3: 3}


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
