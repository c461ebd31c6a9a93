"""The dashboard: figures and the lists behind them agree, people are counted once and
consistently, regional staff see their region only, tables sort, filter and export safely,
and every page runs a fixed number of queries.

Every test here asks about one small movement (tests/reporting/movement.py), built once per
module in a transaction rolled back after the last test; each test runs in a savepoint inside
it (pytest-django's), so sees it as built. test_dashboard_own_data.py has the tests that build
their own."""

import datetime as dt
import html
import io

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from certification.models import Certificate, TargetScope
from certification.services.certificates import certificate_issue_manually, certificate_revoke
from certification.services.targets import target_create
from certification.signals import certificate_standing_changed_announce
from members.models import Constituency
from members.permissions import Role
from reporting.forecast import forecast, rates_from_counts
from reporting.selectors.dashboard import (
    Scope,
    conversion_rates,
    leaders_by_month,
    target_list,
    targets_progress,
)
from reporting.services.figures import dashboard_figures_changed
from reporting.views.tables import TABLE_SLUGS
from tests.conftest import read_again, seeds_present
from tests.factories import (
    AssignmentFactory,
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
    in_training,
    list_count,
    member_in,
    places_marked,
    table_url,
    world_build,
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


@pytest.fixture(scope="module")
def movement(django_db_setup, django_db_blocker):
    """The movement, built once for the module's tests rather than once for each of them (48)."""
    with django_db_blocker.unblock(), transaction.atomic():
        seeds_present()
        places = places_marked()
        staff = UserFactory(role=Role.NATIONAL_STAFF, first_name="Nadia", last_name="Osei")
        yield {"world": world_build(places, staff), "staff": staff}
        transaction.set_rollback(True)


@pytest.fixture
def world(movement, db):
    return read_again(movement["world"])


@pytest.fixture
def places(world):
    return {key: world[key] for key in ("north_east", "wales", "london", "seat")}


@pytest.fixture
def staff(movement, db):
    return read_again(movement["staff"])


@pytest.fixture
def regional(places):
    return member_in(places["north_east"], role=Role.REGIONAL_STAFF)


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
        rows = csv_rows(client.get(table_url(slug), {"format": "csv"}))
        assert len(rows) >= 1, slug
    places = csv_rows(client.get(table_url("places"), {"format": "csv"}))
    assert places[0] == ["Region", "Leaders", "In training", "Target", "Target deadline", "Gap to target"]
    north_east = next(row for row in places if row[0] == "North East")
    assert north_east[1:4] == ["2", "5", "20"]
    targets = csv_rows(client.get(table_url("targets"), {"format": "csv"}))
    assert targets[1][0] == "National"


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
        assert_xlsx_matches_csv(client, url, params)
    places = assert_xlsx_matches_csv(client, table_url("places"), {})
    north_east = next(row for row in places.iter_rows(values_only=True) if row[0] == "North East")
    assert north_east[1:4] == (2, 5, 20)  # numbers, not text, in the spreadsheet
    targets = assert_xlsx_matches_csv(client, table_url("targets"), {})
    deadline = targets.cell(row=2, column=2)
    assert deadline.is_date
    assert deadline.value.date() == world["targets"]["national"].deadline


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
