"""Trainers run their cohorts and staff open them: the manage pages, through HTTP."""

import datetime as dt
import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from members.permissions import Role
from tests.factories import (
    CohortFactory,
    ConstituencyFactory,
    EnrolmentFactory,
    ModuleFactory,
    RegionFactory,
    SessionFactory,
    UserFactory,
    VersionFactory,
)
from training.models import (
    Apology,
    Attendance,
    AttendanceStatus,
    Cohort,
    CohortStatus,
    Enrolment,
    EnrolmentStatus,
    Session,
    SessionStatus,
    VersionStatus,
)

pytestmark = pytest.mark.django_db

UTC = dt.UTC


@pytest.fixture
def staff(seeded):
    return UserFactory(role=Role.NATIONAL_STAFF)


@pytest.fixture
def trainer(seeded):
    return UserFactory(role=Role.TRAINER)


@pytest.fixture
def cohort(trainer):
    return CohortFactory(trainers=[trainer], name="Leeds spring")


def html_of(response) -> str:
    return response.content.decode()


def cohort_post_data(**overrides) -> dict:
    today = timezone.localdate()
    data = {
        "name": "Bristol autumn",
        "capacity": "12",
        "enrolment_opens_on": (today - dt.timedelta(days=1)).isoformat(),
        "enrolment_closes_on": (today + dt.timedelta(days=20)).isoformat(),
        "starts_on": (today + dt.timedelta(days=30)).isoformat(),
        "ends_on": (today + dt.timedelta(days=90)).isoformat(),
        "status": CohortStatus.OPEN,
        "constituency": "",
    }
    data.update(overrides)
    return data


def session_post_data(cohort: Cohort, **overrides) -> dict:
    data = {
        "title": "Power mapping",
        "date": cohort.starts_on.isoformat(),
        "start_time": "18:30",
        "end_time": "20:30",
        "mode": "in_person",
        "venue": "Quaker Meeting House",
        "address": "1 Friends Lane",
        "online_link": "",
    }
    data.update(overrides)
    return data


# --- Opening cohorts and scheduling sessions ----------------------------------------


def test_staff_open_a_cohort_and_schedule_two_sessions(client, staff, trainer):
    """Staff open a cohort with a trainer, then add two sessions shown in UK time."""
    version = VersionFactory()
    module = ModuleFactory(version=version)
    region = RegionFactory()
    client.force_login(staff)

    response = client.post(
        reverse("training:cohort-create"),
        cohort_post_data(version=version.pk, region=region.pk, trainers=[trainer.pk]),
    )
    cohort = Cohort.objects.get(name="Bristol autumn")
    assert response.status_code == 302
    assert response.url == reverse("training:cohort-manage", args=[cohort.pk])
    assert list(cohort.trainers.all()) == [trainer]
    assert cohort.status == CohortStatus.OPEN

    first = client.post(
        reverse("training:session-create", args=[cohort.pk]),
        session_post_data(cohort, modules=[module.pk]),
    )
    second = client.post(
        reverse("training:session-create", args=[cohort.pk]),
        session_post_data(
            cohort,
            title="Online follow-up",
            date=(cohort.starts_on + dt.timedelta(days=7)).isoformat(),
            mode="online",
            venue="",
            address="",
            online_link="https://meet.example.org/abc",
        ),
    )
    assert first.status_code == second.status_code == 302
    sessions = list(cohort.sessions.order_by("starts_at"))
    assert [s.title for s in sessions] == ["Power mapping", "Online follow-up"]
    assert list(sessions[0].modules.all()) == [module]
    assert timezone.localtime(sessions[0].starts_at).time() == dt.time(18, 30)

    page = html_of(client.get(response.url))
    assert "Power mapping" in page
    assert "Online follow-up" in page
    assert "18:30–20:30" in page


def test_only_published_versions_can_be_chosen(client, staff):
    """The version list offers published versions only; posting a draft is refused."""
    published = VersionFactory()
    draft = VersionFactory(status=VersionStatus.DRAFT, published_at=None)
    client.force_login(staff)
    page = html_of(client.get(reverse("training:cohort-create")))
    versions = re.search(r'<select name="version".*?</select>', page, re.S).group(0)
    assert f'value="{published.pk}"' in versions
    assert f'value="{draft.pk}"' not in versions

    response = client.post(
        reverse("training:cohort-create"), cohort_post_data(version=draft.pk, region=RegionFactory().pk)
    )
    assert response.status_code == 400
    assert "Choose a published version from the list." in html_of(response)
    assert not Cohort.objects.exists()


def test_trainer_list_offers_only_people_who_run_cohorts(client, staff, trainer):
    """Only holders of the trainer permission are offered as trainers."""
    trainee = UserFactory(role=Role.TRAINEE)
    client.force_login(staff)
    page = html_of(client.get(reverse("training:cohort-create")))
    assert trainer.email in page
    assert trainee.email not in page


@pytest.mark.parametrize(
    ("problem", "message"),
    [
        ("constituency outside region", "That constituency is not in the region."),
        ("trainee as trainer", "Only people with the trainer role can run cohorts."),
        ("dates out of order", "The cohort must end on or after the day it starts."),
        ("applications after the end", "Applications must close before the cohort ends."),
    ],
)
def test_bad_cohort_is_refused_with_a_message(client, staff, problem, message):
    """Each bad cohort gets a clear message beside its field, a 400, and no cohort."""
    region = RegionFactory()
    overrides = {"version": VersionFactory().pk, "region": region.pk}
    today = timezone.localdate()
    if problem == "constituency outside region":
        overrides["constituency"] = ConstituencyFactory(region=RegionFactory()).pk
    elif problem == "trainee as trainer":
        overrides["trainers"] = [UserFactory(role=Role.TRAINEE).pk]
    elif problem == "dates out of order":
        overrides["ends_on"] = (today + dt.timedelta(days=29)).isoformat()
        overrides["enrolment_closes_on"] = (today + dt.timedelta(days=2)).isoformat()
    elif problem == "applications after the end":
        overrides["enrolment_closes_on"] = (today + dt.timedelta(days=100)).isoformat()
    client.force_login(staff)

    response = client.post(reverse("training:cohort-create"), cohort_post_data(**overrides))

    assert response.status_code == 400
    page = html_of(response)
    assert message in page
    assert "invalid-feedback" in page  # shown beside the field, not only at the top
    assert not Cohort.objects.exists()


def test_capacity_cannot_fall_below_places_taken(client, staff, cohort):
    """Lowering the places below the number already enrolled is refused and changes nothing."""
    EnrolmentFactory.create_batch(3, cohort=cohort)
    client.force_login(staff)
    data = cohort_post_data(
        name=cohort.name,
        region=cohort.region_id,
        capacity="2",
        enrolment_opens_on=cohort.enrolment_opens_on.isoformat(),
        enrolment_closes_on=cohort.enrolment_closes_on.isoformat(),
        starts_on=cohort.starts_on.isoformat(),
        ends_on=cohort.ends_on.isoformat(),
        trainers=[t.pk for t in cohort.trainers.all()],
    )

    response = client.post(reverse("training:cohort-edit", args=[cohort.pk]), data)

    assert response.status_code == 400
    assert "3 people already hold places; the capacity cannot be lower." in html_of(response)
    cohort.refresh_from_db()
    assert cohort.capacity == 10


def test_cohort_edit_opens_with_its_dates_filled_in(client, staff, cohort):
    """Date pickers need ISO dates, or the saved dates show as blank."""
    client.force_login(staff)
    page = html_of(client.get(reverse("training:cohort-edit", args=[cohort.pk])))
    assert f'name="starts_on" value="{cohort.starts_on.isoformat()}"' in page
    assert f'name="enrolment_closes_on" value="{cohort.enrolment_closes_on.isoformat()}"' in page


def test_editing_a_cohort_keeps_its_version(client, staff, cohort):
    """The edit form has no version field, and a posted version is ignored."""
    original_version = cohort.version_id
    client.force_login(staff)
    url = reverse("training:cohort-edit", args=[cohort.pk])
    assert 'name="version"' not in html_of(client.get(url))

    data = cohort_post_data(
        name="Leeds spring (renamed)",
        region=cohort.region_id,
        capacity="15",
        version=VersionFactory().pk,
        enrolment_opens_on=cohort.enrolment_opens_on.isoformat(),
        enrolment_closes_on=cohort.enrolment_closes_on.isoformat(),
        starts_on=cohort.starts_on.isoformat(),
        ends_on=cohort.ends_on.isoformat(),
    )
    response = client.post(url, data)

    assert response.status_code == 302
    cohort.refresh_from_db()
    assert cohort.name == "Leeds spring (renamed)"
    assert cohort.capacity == 15
    assert cohort.version_id == original_version
    assert not cohort.trainers.exists()  # the trainer was unticked


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"start_time": "20:30", "end_time": "18:30"}, "end_time", "A session must end after it starts."),
        ("before the cohort", "date", "Sessions must fall within the cohort"),
        ({"venue": ""}, "venue", "An in-person session needs a venue."),
        ({"mode": "online", "venue": ""}, "online_link", "An online session needs its link."),
    ],
)
def test_bad_session_is_refused_beside_its_field(client, trainer, cohort, overrides, field, message):
    """Each bad session gets a clear message beside the field to fix, a 400, and no session."""
    if overrides == "before the cohort":
        overrides = {"date": (cohort.starts_on - dt.timedelta(days=1)).isoformat()}
    client.force_login(trainer)

    response = client.post(
        reverse("training:session-create", args=[cohort.pk]), session_post_data(cohort, **overrides)
    )

    assert response.status_code == 400
    page = html_of(response)
    assert message in page
    assert re.search(rf'id="error_\d+_id_{field}"', page), "the message sits beside its field"
    assert not Session.objects.exists()


def test_session_edit_refuses_an_end_before_the_start(client, trainer, cohort):
    """Rescheduling a session to end before it starts is refused; the session is unchanged."""
    session = SessionFactory(cohort=cohort)
    client.force_login(trainer)
    response = client.post(
        reverse("training:session-edit", args=[session.pk]),
        session_post_data(cohort, start_time="19:00", end_time="18:00"),
    )
    assert response.status_code == 400
    assert "A session must end after it starts." in html_of(response)
    assert Session.objects.get(pk=session.pk).starts_at == session.starts_at


def test_session_edit_opens_filled_in_and_saves(client, trainer, cohort):
    """The edit form shows the session's UK times; saving moves it and bumps its sequence."""
    session = SessionFactory(cohort=cohort)
    client.force_login(trainer)
    url = reverse("training:session-edit", args=[session.pk])
    page = html_of(client.get(url))
    assert 'value="18:30"' in page
    assert 'value="20:30"' in page

    response = client.post(
        url, session_post_data(cohort, title="Moved", start_time="19:00", end_time="21:00")
    )

    assert response.status_code == 302
    session.refresh_from_db()
    assert session.title == "Moved"
    assert timezone.localtime(session.starts_at).time() == dt.time(19, 0)
    assert session.sequence == 1


@pytest.mark.parametrize(
    ("day", "utc_hour"),
    [
        (dt.date(2026, 3, 28), 18),  # Saturday before the clocks go forward: GMT
        (dt.date(2026, 3, 29), 17),  # the day they go forward: BST from 01:00 GMT
        (dt.date(2026, 10, 24), 17),  # Saturday before they go back: BST
        (dt.date(2026, 10, 25), 18),  # the day they go back: GMT from 02:00 BST
    ],
)
def test_session_times_follow_the_uk_clock_change(client, trainer, day, utc_hour):
    """18:30 typed around a clock change is stored in the right UTC hour and shown as 18:30."""
    cohort = CohortFactory(
        trainers=[trainer],
        enrolment_opens_on=dt.date(2026, 1, 1),
        enrolment_closes_on=dt.date(2026, 2, 1),
        starts_on=dt.date(2026, 3, 1),
        ends_on=dt.date(2026, 11, 30),
    )
    client.force_login(trainer)

    response = client.post(
        reverse("training:session-create", args=[cohort.pk]), session_post_data(cohort, date=day.isoformat())
    )

    assert response.status_code == 302
    session = Session.objects.get()
    assert session.starts_at.astimezone(UTC) == dt.datetime(
        day.year, day.month, day.day, utc_hour, 30, tzinfo=UTC
    )
    page = html_of(client.get(reverse("training:cohort-manage", args=[cohort.pk])))
    assert f"{day.strftime('%a')} {day.day} {day.strftime('%B %Y')}, 18:30–20:30" in page


def test_cancel_asks_first_then_cancels(client, trainer, cohort):
    """Cancelling shows a confirmation page; the POST cancels and the cohort page marks it."""
    session = SessionFactory(cohort=cohort, title="Door knocking")
    client.force_login(trainer)
    url = reverse("training:session-cancel", args=[session.pk])

    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "Cancel this session" in html_of(confirm)
    session.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED

    response = client.post(url)
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED
    page = html_of(client.get(response.url, follow=True))
    assert "<del>Door knocking</del>" in page
    assert "is cancelled" in page


# --- The register -------------------------------------------------------------------


def test_register_saves_in_one_post_and_reopens_filled_in(client, trainer, cohort):
    """One POST records everyone marked; blanks stay unrecorded; the page reopens filled in."""
    session = SessionFactory(cohort=cohort, starts_at=timezone.now() - dt.timedelta(hours=1))
    present, absent, excused, blank = EnrolmentFactory.create_batch(4, cohort=cohort)
    EnrolmentFactory(cohort=cohort, status=EnrolmentStatus.WAITLISTED)  # not on the register
    client.force_login(trainer)
    url = reverse("training:session-register", args=[session.pk])

    page = html_of(client.get(url))
    assert page.count("<fieldset") == 4
    assert f'<legend class="h6 fw-bold mb-1">{html.escape(str(present.member))}</legend>' in page

    response = client.post(
        url,
        {
            f"mark_{present.pk}": "present",
            f"mark_{absent.pk}": "absent",
            f"mark_{excused.pk}": "excused",
        },
    )

    assert response.status_code == 302
    recorded = dict(Attendance.objects.filter(session=session).values_list("enrolment_id", "status"))
    assert recorded == {present.pk: "present", absent.pk: "absent", excused.pk: "excused"}
    page = html_of(client.get(url))
    assert re.search(rf'id="id_mark_{present.pk}_0" value="present" checked', page)
    assert re.search(rf'id="id_mark_{absent.pk}_1" value="absent" checked', page)
    assert not re.search(rf'name="mark_{blank.pk}"[^>]*checked', page)
    assert "Register saved: 1 present, 1 absent, 1 excused." in page


def test_register_changes_a_mark(client, trainer, cohort):
    """Saving again changes an existing mark rather than adding a second one."""
    session = SessionFactory(cohort=cohort, starts_at=timezone.now() - dt.timedelta(hours=1))
    enrolment = EnrolmentFactory(cohort=cohort)
    client.force_login(trainer)
    url = reverse("training:session-register", args=[session.pk])
    client.post(url, {f"mark_{enrolment.pk}": "absent"})
    client.post(url, {f"mark_{enrolment.pk}": "present"})
    assert list(Attendance.objects.values_list("status", flat=True)) == ["present"]


def test_register_refuses_an_unknown_mark(client, trainer, cohort):
    """A mark that is not present, absent or excused is refused and nothing is saved."""
    session = SessionFactory(cohort=cohort)
    enrolment = EnrolmentFactory(cohort=cohort)
    client.force_login(trainer)
    response = client.post(
        reverse("training:session-register", args=[session.pk]), {f"mark_{enrolment.pk}": "asleep"}
    )
    assert response.status_code == 400
    assert "Choose present, absent or excused." in html_of(response)
    assert not Attendance.objects.exists()


def test_apology_shows_its_note_and_defaults_to_excused(client, trainer, cohort):
    """A trainee who sent an apology shows its note, with Excused chosen until the trainer changes it."""
    session = SessionFactory(cohort=cohort)
    enrolment = EnrolmentFactory(cohort=cohort)
    Apology.objects.create(
        session=session, enrolment=enrolment, note="Hospital appointment", created_at=timezone.now()
    )
    client.force_login(trainer)
    page = html_of(client.get(reverse("training:session-register", args=[session.pk])))
    assert "Hospital appointment" in page
    assert re.search(rf'id="id_mark_{enrolment.pk}_2" value="excused" checked', page)


def test_register_of_a_cancelled_session_says_so(client, trainer, cohort):
    """A cancelled session has no register: a message, no form, and a POST is refused."""
    session = SessionFactory(cohort=cohort, status=SessionStatus.CANCELLED)
    enrolment = EnrolmentFactory(cohort=cohort)
    client.force_login(trainer)
    url = reverse("training:session-register", args=[session.pk])
    page = html_of(client.get(url))
    assert "This session was cancelled" in page
    assert "Save register" not in page
    assert client.post(url, {f"mark_{enrolment.pk}": "present"}).status_code == 400
    assert not Attendance.objects.exists()


def test_checkin_code_page_shows_code_and_qr(client, trainer, cohort):
    """The check-in page shows the code, a QR code of the check-in address, and when it works."""
    session = SessionFactory(cohort=cohort)
    client.force_login(trainer)
    page = html_of(client.get(reverse("training:session-checkin-code", args=[session.pk])))
    assert session.checkin_code in page
    assert f"http://testserver{reverse('training:checkin')}?code={session.checkin_code}" in page
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    assert "style=" not in svg
    assert "from 18:00 until the session ends at 20:30" in page


# --- Decisions ----------------------------------------------------------------------


@pytest.fixture
def application(cohort):
    cohort.reviews_applications = True
    cohort.save()
    return EnrolmentFactory(cohort=cohort, status=EnrolmentStatus.APPLIED, motivation="I run a food bank.")


def test_trainer_accepts_an_application(client, trainer, application):
    """Accepting enrols the applicant and returns to the cohort page."""
    client.force_login(trainer)
    url = reverse("training:enrolment-decide", args=[application.pk])
    page = html_of(client.get(url))
    assert "I run a food bank." in page
    assert application.member.profile.region.name in page

    response = client.post(url, {"decision": "accept", "message": "Welcome!"})

    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == EnrolmentStatus.ENROLLED
    assert application.decision_message == "Welcome!"


def test_declining_needs_a_reason(client, trainer, application):
    """Declining without a reason is refused; with one, the application is declined."""
    client.force_login(trainer)
    url = reverse("training:enrolment-decide", args=[application.pk])

    refused = client.post(url, {"decision": "decline", "message": "  "})
    assert refused.status_code == 400
    assert "Give the applicant a reason when you decline." in html_of(refused)
    application.refresh_from_db()
    assert application.status == EnrolmentStatus.APPLIED

    response = client.post(url, {"decision": "decline", "message": "This cohort is for Leeds residents."})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == EnrolmentStatus.DECLINED


def test_deciding_twice_is_refused(client, trainer, application):
    """An application already decided cannot be decided again."""
    client.force_login(trainer)
    url = reverse("training:enrolment-decide", args=[application.pk])
    client.post(url, {"decision": "accept"})

    response = client.post(url, {"decision": "decline", "message": "Changed my mind"})

    assert response.status_code == 400
    assert "already been decided" in html_of(response)
    application.refresh_from_db()
    assert application.status == EnrolmentStatus.ENROLLED


# --- Who may see what ---------------------------------------------------------------


@pytest.fixture
def objects(cohort):
    """One of each object a manage URL points at, all in `cohort`."""
    return {
        "cohort": cohort,
        "session": SessionFactory(cohort=cohort),
        "enrolment": EnrolmentFactory(cohort=cohort, status=EnrolmentStatus.APPLIED),
    }


OBJECT_URLS = [
    ("training:cohort-manage", "cohort"),
    ("training:session-create", "cohort"),
    ("training:session-edit", "session"),
    ("training:session-cancel", "session"),
    ("training:session-register", "session"),
    ("training:session-checkin-code", "session"),
    ("training:enrolment-decide", "enrolment"),
]
# The pages that change something when posted to.
POST_URL_NAMES = {
    "training:session-create",
    "training:session-edit",
    "training:session-cancel",
    "training:session-register",
    "training:enrolment-decide",
    "training:cohort-edit",
}
STAFF_ONLY_URLS = [("training:cohort-create", None), ("training:cohort-edit", "cohort")]
ALL_URLS = [("training:manage-cohort-list", None), *STAFF_ONLY_URLS, *OBJECT_URLS]


def url_for(name: str, kind: str | None, objects: dict) -> str:
    return reverse(name, args=[objects[kind].pk]) if kind else reverse(name)


@pytest.mark.parametrize(
    ("method", "name", "kind"),
    [("get", name, kind) for name, kind in OBJECT_URLS]
    + [("post", name, kind) for name, kind in OBJECT_URLS if name in POST_URL_NAMES],
)
def test_trainer_of_another_cohort_gets_404(client, seeded, objects, method, name, kind):
    """A trainer who changes the id in the URL to another trainer's object gets a 404, never data."""
    client.force_login(UserFactory(role=Role.TRAINER))
    response = getattr(client, method)(url_for(name, kind, objects))
    assert response.status_code == 404
    assert "Leeds spring" not in html_of(response)
    assert objects["session"].status == SessionStatus.SCHEDULED
    assert Enrolment.objects.get(pk=objects["enrolment"].pk).status == EnrolmentStatus.APPLIED


@pytest.mark.parametrize(("name", "kind"), OBJECT_URLS)
def test_trainer_of_the_cohort_and_staff_may_open_it(client, staff, trainer, objects, name, kind):
    """The cohort's own trainer and national staff both reach every page of the cohort."""
    for user in (trainer, staff):
        client.force_login(user)
        assert client.get(url_for(name, kind, objects)).status_code == 200


@pytest.mark.parametrize(("name", "kind"), STAFF_ONLY_URLS)
def test_trainers_cannot_open_or_edit_cohorts(client, trainer, objects, name, kind):
    """Opening and editing cohorts is for staff: the cohort's own trainer gets a 403."""
    client.force_login(trainer)
    assert client.get(url_for(name, kind, objects)).status_code == 403


@pytest.mark.parametrize(("name", "kind"), ALL_URLS)
def test_trainee_gets_403_on_every_manage_page(client, seeded, objects, name, kind):
    """A trainee (even one enrolled in the cohort) is refused every manage page."""
    trainee = objects["enrolment"].member
    client.force_login(trainee)
    assert client.get(url_for(name, kind, objects)).status_code == 403
    assert client.post(url_for(name, kind, objects)).status_code == 403


@pytest.mark.parametrize(("name", "kind"), ALL_URLS)
def test_anonymous_visitors_are_sent_to_sign_in(client, seeded, objects, name, kind):
    """An anonymous visitor to any manage page is sent to sign in."""
    response = client.get(url_for(name, kind, objects))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login") + "?next=")


# --- The cohort list ----------------------------------------------------------------


def test_trainer_sees_only_their_cohorts(client, trainer, cohort):
    """A trainer's list is headed "Your cohorts", holds only their cohorts, and has no New button."""
    CohortFactory(name="Someone else's cohort")
    client.force_login(trainer)
    page = html_of(client.get(reverse("training:manage-cohort-list")))
    assert '<h1 class="h2 mb-0">Your cohorts</h1>' in page
    assert "Leeds spring" in page
    assert "Someone else&#x27;s cohort" not in page
    assert "New cohort" not in page


def test_staff_see_every_cohort_with_its_numbers(client, staff, cohort):
    """Staff see all cohorts, headed "Cohorts", with places, applications and the next session."""
    CohortFactory(name="Cardiff")
    EnrolmentFactory.create_batch(2, cohort=cohort)
    EnrolmentFactory(cohort=cohort, status=EnrolmentStatus.APPLIED)
    SessionFactory(cohort=cohort, title="First")
    client.force_login(staff)
    page = html_of(client.get(reverse("training:manage-cohort-list")))
    assert '<h1 class="h2 mb-0">Cohorts</h1>' in page
    assert "Cardiff" in page
    assert "New cohort" in page
    row = re.search(r"Leeds spring.*?</tr>", page, re.S).group(0)
    assert "2/10" in row
    assert ">1</span>" in row
    assert "18:30–20:30" in row


def test_list_filters_by_status_and_region_and_ignores_other_keys(client, staff):
    """Status and region filter the list; unknown or malformed keys are ignored."""
    north = RegionFactory(name="Northumbria (test)")
    CohortFactory(name="Open north", region=north)
    CohortFactory(name="Draft north", region=north, status=CohortStatus.DRAFT)
    CohortFactory(name="Open south")
    client.force_login(staff)
    url = reverse("training:manage-cohort-list")

    page = html_of(client.get(url, {"status": "open", "region": north.pk, "name": "Draft north"}))
    assert "Open north" in page
    assert "Draft north" not in page
    assert "Open south" not in page

    page = html_of(client.get(url, {"status": "open", "region": "not-a-number"}))
    assert "Open north" in page
    assert "Open south" in page


def test_list_is_paginated(client, staff):
    """Twenty cohorts to a page; the next page keeps the filters."""
    CohortFactory.create_batch(23)
    client.force_login(staff)
    page = html_of(client.get(reverse("training:manage-cohort-list"), {"status": "open"}))
    assert page.count('scope="row"') == 20
    assert "?status=open&amp;page=2" in page
    second = html_of(client.get(reverse("training:manage-cohort-list"), {"status": "open", "page": 2}))
    assert second.count('scope="row"') == 3


def test_list_sorts_by_a_column_and_keeps_the_filters(client, staff):
    """The one table component: ?sort= orders by an allowed column, its links keep the
    filters, and an unknown key leaves the list's own order."""
    CohortFactory(name="Beta")
    CohortFactory(name="Alpha")
    client.force_login(staff)
    url = reverse("training:manage-cohort-list")
    page = html_of(client.get(url, {"status": "open", "sort": "-name"}))
    assert page.index("Beta") < page.index("Alpha")
    assert 'aria-sort="descending"' in page
    assert "?status=open&amp;sort=name" in page
    assert client.get(url, {"sort": "capacity; drop"}).status_code == 200


def test_cohort_page_groups_people(client, trainer, cohort):
    """The cohort page lists applications to decide, the enrolled, and the waiting list in order."""
    applicant = EnrolmentFactory(cohort=cohort, status=EnrolmentStatus.APPLIED)
    enrolled = EnrolmentFactory(cohort=cohort)
    now = timezone.now()
    second = EnrolmentFactory(
        cohort=cohort, status=EnrolmentStatus.WAITLISTED, waitlisted_at=now - dt.timedelta(hours=1)
    )
    first = EnrolmentFactory(
        cohort=cohort, status=EnrolmentStatus.WAITLISTED, waitlisted_at=now - dt.timedelta(hours=2)
    )
    gone = EnrolmentFactory(cohort=cohort, status=EnrolmentStatus.WITHDRAWN)
    client.force_login(trainer)
    page = html_of(client.get(reverse("training:cohort-manage", args=[cohort.pk])))
    assert reverse("training:enrolment-decide", args=[applicant.pk]) in page
    assert html.escape(str(enrolled.member)) in page
    waiting = re.search(r"Waiting list.*?</table>", page, re.S).group(0)

    # Names as the page shows them: escaped ("O'Brien" is O&#x27;Brien), then made literal.
    def shown(member) -> str:
        return re.escape(html.escape(str(member)))

    assert re.search(rf"<td>1</td><th scope=\"row\">{shown(first.member)}</th>", waiting)
    assert re.search(rf"<td>2</td><th scope=\"row\">{shown(second.member)}</th>", waiting)
    assert re.search(rf"<details.*{shown(gone.member)}", page, re.S)


# --- Query budgets ------------------------------------------------------------------


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_cohort_list_runs_a_fixed_number_of_queries(client, staff):
    """The list's cost does not grow with cohorts, enrolments or sessions."""
    client.force_login(staff)
    url = reverse("training:manage-cohort-list")

    def add_cohorts(count):
        for cohort in CohortFactory.create_batch(count):
            EnrolmentFactory(cohort=cohort)
            SessionFactory(cohort=cohort)

    add_cohorts(2)
    client.get(url)  # warm caches that are per-process, not per-request
    small = count_queries(client, url)
    add_cohorts(15)
    assert count_queries(client, url) == small
    assert small <= 10


def test_cohort_page_runs_a_fixed_number_of_queries(client, trainer, cohort):
    """The cohort page's cost does not grow with sessions or trainees."""
    client.force_login(trainer)
    url = reverse("training:cohort-manage", args=[cohort.pk])
    SessionFactory(cohort=cohort)
    EnrolmentFactory(cohort=cohort)
    client.get(url)
    small = count_queries(client, url)
    SessionFactory.create_batch(6, cohort=cohort)
    EnrolmentFactory.create_batch(8, cohort=cohort)
    EnrolmentFactory.create_batch(3, cohort=cohort, status=EnrolmentStatus.APPLIED)
    EnrolmentFactory.create_batch(
        3, cohort=cohort, status=EnrolmentStatus.WAITLISTED, waitlisted_at=timezone.now()
    )
    assert count_queries(client, url) == small
    assert small <= 12


def test_register_runs_the_same_queries_for_5_and_50_trainees(client, trainer, cohort):
    """Opening and saving the register cost the same at 5 trainees as at 50."""
    session = SessionFactory(cohort=cohort, starts_at=timezone.now() - dt.timedelta(hours=1))
    client.force_login(trainer)
    url = reverse("training:session-register", args=[session.pk])

    def measure() -> tuple[int, int]:
        opened = count_queries(client, url)
        marks = {f"mark_{pk}": "present" for pk in cohort.enrolments.values_list("pk", flat=True)}
        Attendance.objects.all().delete()
        with CaptureQueriesContext(connection) as saved:
            assert client.post(url, marks).status_code == 302
        return opened, len(saved)

    enrolments = EnrolmentFactory.create_batch(5, cohort=cohort)
    Apology.objects.create(session=session, enrolment=enrolments[0], created_at=timezone.now())
    client.get(url)
    small = measure()
    EnrolmentFactory.create_batch(45, cohort=cohort)
    assert measure() == small
    assert small[0] <= 11  # 10, and the audit entry of the register's view
    assert Attendance.objects.filter(session=session, status=AttendanceStatus.PRESENT).count() == 50
