"""A trainee's sessions and course content: apologies, check-in, calendar files and feed,
modules and their files. Through the HTTP client."""

import datetime as dt
import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from members.permissions import Role
from tests.factories import (
    PDF,
    AssignmentFactory,
    CohortFactory,
    EnrolmentFactory,
    ModuleFactory,
    SessionFactory,
    UserFactory,
)
from training.models import (
    Apology,
    Attendance,
    AttendanceStatus,
    CalendarFeed,
    CohortStatus,
    EnrolmentStatus,
    Material,
    MaterialKind,
    SessionConfirmation,
    SessionMode,
    SessionStatus,
)
from training.services.calendar import session_uid

pytestmark = pytest.mark.django_db


@pytest.fixture
def trainee(seeded):
    return UserFactory(role=Role.TRAINEE)


@pytest.fixture
def cohort():
    """A running cohort that began a week ago."""
    today = timezone.localdate()
    return CohortFactory(
        name="Tyneside",
        status=CohortStatus.RUNNING,
        starts_on=today - dt.timedelta(days=7),
        ends_on=today + dt.timedelta(days=60),
    )


@pytest.fixture
def enrolment(cohort, trainee):
    return EnrolmentFactory(cohort=cohort, member=trainee)


@pytest.fixture
def signed_in(client, trainee, enrolment):
    client.force_login(trainee)
    return client


def html_of(response) -> str:
    return html.unescape(response.content.decode())


def session_starting_in(cohort, delta: dt.timedelta, **kwargs):
    starts_at = timezone.now().replace(microsecond=0) + delta
    return SessionFactory(
        cohort=cohort, starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=2), **kwargs
    )


# --- Apologies -----------------------------------------------------------------------


def test_apology_marks_the_trainee_excused(signed_in, cohort, enrolment):
    """An apology before the session records the trainee as excused and shows as sent."""
    session = session_starting_in(cohort, dt.timedelta(days=2), title="Power mapping")
    url = reverse("training:session-apology", args=[session.pk])
    page = html_of(signed_in.get(url))
    assert "Power mapping" in page
    assert re.search(r'<label\s+for="id_note"', page)
    assert not Apology.objects.exists()  # a GET changes nothing

    response = signed_in.post(url, {"note": "Working late"}, follow=True)
    assert "Your apologies for “Power mapping” are sent to your trainer." in html_of(response)
    assert Apology.objects.get().note == "Working late"
    attendance = Attendance.objects.get(session=session, enrolment=enrolment)
    assert attendance.status == AttendanceStatus.EXCUSED
    home = html_of(signed_in.get(reverse("training:my-training")))
    assert "Apologies sent" in home


def test_confirming_from_my_training_replaces_an_apology(signed_in, cohort, enrolment):
    """ "I'll be there" is a POST; it records a confirmation and takes back an earlier apology."""
    session = session_starting_in(cohort, dt.timedelta(days=2), title="Power mapping")
    url = reverse("training:session-confirm", args=[session.pk])
    assert signed_in.get(url).status_code == 405  # a GET changes nothing
    signed_in.post(reverse("training:session-apology", args=[session.pk]), {"note": "Working late"})
    response = signed_in.post(url, follow=True)
    assert "Your trainer knows you are coming to “Power mapping”." in html_of(response)
    assert SessionConfirmation.objects.filter(session=session, enrolment=enrolment).exists()
    assert not Apology.objects.exists()
    assert not Attendance.objects.exists()
    assert "You said you’ll be there" in html_of(signed_in.get(reverse("training:my-training")))


def test_confirming_another_cohorts_session_is_404(signed_in):
    other = session_starting_in(CohortFactory(), dt.timedelta(days=2))
    assert signed_in.post(reverse("training:session-confirm", args=[other.pk])).status_code == 404
    assert not SessionConfirmation.objects.exists()


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("started", "The session has started; tell your trainer directly."),
        ("cancelled", "This session was cancelled; no apology is needed."),
        ("not_enrolled", "You are not enrolled in the cohort this session belongs to."),
    ],
)
def test_apology_refusals_are_plain_messages(signed_in, cohort, enrolment, case, message):
    """After the start, for a cancelled session, or once no longer enrolled (completed),
    an apology is refused with a plain message and a 400; nothing is written."""
    if case == "started":
        session = session_starting_in(cohort, -dt.timedelta(minutes=5))
    elif case == "cancelled":
        session = session_starting_in(cohort, dt.timedelta(days=2), status=SessionStatus.CANCELLED)
    else:
        session = session_starting_in(cohort, dt.timedelta(days=2))
        enrolment.status = EnrolmentStatus.COMPLETED
        enrolment.save()
    response = signed_in.post(reverse("training:session-apology", args=[session.pk]), {"note": ""})
    assert response.status_code == 400
    assert message in html_of(response)
    assert not Apology.objects.exists()
    assert not Attendance.objects.exists()


def test_another_cohorts_session_is_404(signed_in):
    """A trainee changing the id to a session of a cohort they are not in finds nothing."""
    other = SessionFactory()
    for name in ("training:session-apology", "training:session-ics"):
        assert signed_in.get(reverse(name, args=[other.pk])).status_code == 404
    assert signed_in.post(reverse("training:session-apology", args=[other.pk])).status_code == 404
    assert not Apology.objects.exists()


# --- Check-in ------------------------------------------------------------------------


def test_checkin_with_the_right_code_in_the_window_marks_present(signed_in, cohort, enrolment):
    """The right code between 30 minutes before the start and the end checks the trainee in;
    the code from the QR link is prefilled, and only the POST records anything."""
    session = session_starting_in(cohort, dt.timedelta(minutes=20), title="Power mapping")
    page = html_of(signed_in.get(reverse("training:checkin"), {"code": session.checkin_code}))
    assert f'value="{session.checkin_code}"' in page
    assert not Attendance.objects.exists()

    response = signed_in.post(
        reverse("training:checkin"), {"code": session.checkin_code.lower()}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("training:my-training")
    assert "You’re checked in to Power mapping (Tyneside)." in html_of(response)
    assert Attendance.objects.get(session=session, enrolment=enrolment).status == AttendanceStatus.PRESENT


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("wrong_code", "That code does not match any session. Check it and try again."),
        ("before", "Check-in opens 30 minutes before the session starts. Try again then."),
        ("after", "This session has ended, so check-in is closed. Ask your trainer."),
        ("not_enrolled", "You are not enrolled in the cohort this session belongs to."),
        ("empty", "Enter the check-in code your trainer shows."),
    ],
)
def test_checkin_refusals_are_plain_messages_beside_the_field(signed_in, cohort, case, message):
    """A wrong code, too early, too late, or someone else's cohort: the reason beside the
    code field, a 400, and nothing recorded."""
    code = {
        "wrong_code": lambda: "ZZZZ9999",
        "before": lambda: session_starting_in(cohort, dt.timedelta(hours=2)).checkin_code,
        "after": lambda: session_starting_in(cohort, -dt.timedelta(hours=3)).checkin_code,
        "not_enrolled": lambda: session_starting_in(CohortFactory(), dt.timedelta(minutes=5)).checkin_code,
        "empty": lambda: "",
    }[case]()
    response = signed_in.post(reverse("training:checkin"), {"code": code})
    assert response.status_code == 400
    page = html_of(response)
    assert re.search(rf'id="error_1_id_code"[^>]*>\s*<strong>{re.escape(message)}</strong>', page)
    assert not Attendance.objects.exists()


# --- Calendar files and the feed ---------------------------------------------------------------


def test_session_ics_is_a_calendar_file_with_a_stable_uid(signed_in, cohort):
    """One session downloads as an .ics attachment with a stable UID and its SEQUENCE."""
    session = session_starting_in(cohort, dt.timedelta(days=3), title="Power mapping")
    response = signed_in.get(reverse("training:session-ics", args=[session.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert response["Content-Disposition"] == 'attachment; filename="tyneside-power-mapping.ics"'
    body = response.content.decode()
    assert f"UID:{session_uid(session)}" in body
    assert "SEQUENCE:0" in body
    assert "SUMMARY:Tyneside: Power mapping" in body


def test_session_ics_for_the_cohorts_trainer_and_staff(client, seeded, cohort):
    """The cohort's trainer and national staff may download a session's .ics as well."""
    trainer = UserFactory(role=Role.TRAINER)
    cohort.trainers.add(trainer)
    session = SessionFactory(cohort=cohort)
    url = reverse("training:session-ics", args=[session.pk])
    for user in (trainer, UserFactory(role=Role.NATIONAL_STAFF)):
        client.force_login(user)
        assert client.get(url).status_code == 200
    client.force_login(UserFactory(role=Role.TRAINER))
    assert client.get(url).status_code == 404


def test_calendar_feed_works_by_token_and_replacing_it_revokes_the_old(signed_in, trainee, cohort):
    """The member creates a private feed address; it works without signing in, lists their
    sessions (cancelled ones marked so), and replacing it makes the old address a 404."""
    SessionFactory(cohort=cohort, title="Kick-off")
    dropped = SessionFactory(cohort=cohort, title="Dropped", status=SessionStatus.CANCELLED)
    SessionFactory(title="Someone else's")
    page = html_of(signed_in.get(reverse("training:calendar")))
    assert "Create my calendar link" in page
    assert not CalendarFeed.objects.exists()

    response = signed_in.post(reverse("training:calendar"), follow=True)
    assert "Your calendar link is ready." in html_of(response)
    token = CalendarFeed.objects.get().token
    feed_path = reverse("training:calendar-feed", kwargs={"token": token})
    assert f'value="http://testserver{feed_path}"' in html_of(response)

    client = signed_in
    client.logout()
    feed = client.get(feed_path)
    assert feed.status_code == 200
    assert feed["Content-Type"].startswith("text/calendar")
    body = feed.content.decode()
    assert "Kick-off" in body
    assert "Someone else" not in body
    dropped_event = body.split(f"UID:{session_uid(dropped)}")[1].split("END:VEVENT")[0]
    assert "STATUS:CANCELLED" in dropped_event

    client.force_login(trainee)
    response = client.post(reverse("training:calendar"), follow=True)
    assert "The old link no longer works." in html_of(response)
    client.logout()
    assert client.get(feed_path).status_code == 404
    new_path = reverse("training:calendar-feed", kwargs={"token": CalendarFeed.objects.get().token})
    assert client.get(new_path).status_code == 200


def test_unknown_feed_token_is_404(client, db):
    """A made-up feed address finds nothing."""
    assert client.get(reverse("training:calendar-feed", kwargs={"token": "not-a-token"})).status_code == 404


# --- Modules and materials -----------------------------------------------------------------


@pytest.fixture
def module(cohort):
    module = ModuleFactory(
        version=cohort.version,
        title="Power mapping",
        materials="### Before the session\n\nRead *this* first.\n\n<script>alert(1)</script>",
    )
    AssignmentFactory(module=module, title="Map your street", due_offset_days=10)
    Material.objects.create(
        module=module,
        kind=MaterialKind.FILE,
        title="Power map: worksheet",
        file=SimpleUploadedFile("worksheet.pdf", PDF),
        content_type="application/pdf",
        size=len(PDF),
    )
    Material.objects.create(
        module=module, kind=MaterialKind.LINK, title="Further reading", url="https://example.org/read"
    )
    return module


def test_module_page_shows_outcomes_materials_files_and_due_dates(signed_in, cohort, module):
    """An enrolled trainee reads the module: outcomes, Markdown materials (sanitised), files
    through the download view, links, and assignments due on their cohort's dates."""
    response = signed_in.get(reverse("training:module-detail", args=[module.pk]))
    assert response.status_code == 200
    page = html_of(response)
    assert "Explain the idea" in page
    assert "<h3>Before the session</h3>" in page
    assert "<em>this</em>" in page
    assert "<script>alert" not in page
    file = module.attachments.get(kind=MaterialKind.FILE)
    assert reverse("training:material-download", args=[file.pk]) in page
    assert 'href="https://example.org/read"' in page
    due = cohort.starts_on + dt.timedelta(days=10)
    assert f"Due {due:%a} {due.day} {due:%B %Y}" in page


def test_material_download_serves_the_file_safely(signed_in, module):
    """A file downloads as an attachment with a safe name, its stored type, and nosniff."""
    file = module.attachments.get(kind=MaterialKind.FILE)
    response = signed_in.get(reverse("training:material-download", args=[file.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="power-map-worksheet.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF


def test_link_materials_have_no_download(signed_in, module):
    """Links are shown on the page; asking to download one is a 404."""
    link = module.attachments.get(kind=MaterialKind.LINK)
    assert signed_in.get(reverse("training:material-download", args=[link.pk])).status_code == 404


def test_modules_and_files_of_other_cohorts_are_404(client, seeded, module):
    """A trainee not enrolled in a cohort of the module's version (or only waitlisted, or
    withdrawn) gets a 404 for the module and its files."""
    file = module.attachments.get(kind=MaterialKind.FILE)
    outsider = UserFactory(role=Role.TRAINEE)
    waitlisted = EnrolmentFactory(
        cohort=module.version.cohorts.get(), status=EnrolmentStatus.WAITLISTED
    ).member
    for user in (outsider, waitlisted):
        client.force_login(user)
        assert client.get(reverse("training:module-detail", args=[module.pk])).status_code == 404
        assert client.get(reverse("training:material-download", args=[file.pk])).status_code == 404


def test_modules_open_to_the_cohorts_trainer_and_staff(client, seeded, cohort, module):
    """The trainer of a cohort using the module and national staff read it; another trainer
    gets a 404."""
    trainer = UserFactory(role=Role.TRAINER)
    cohort.trainers.add(trainer)
    url = reverse("training:module-detail", args=[module.pk])
    for user in (trainer, UserFactory(role=Role.NATIONAL_STAFF)):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        assert "Due 10 days after the cohort starts" in html_of(response)
    client.force_login(UserFactory(role=Role.TRAINER))
    assert client.get(url).status_code == 404


def test_module_pages_send_anonymous_visitors_to_sign_in(client, module):
    """Modules, files and session calendars need a signed-in member."""
    file = module.attachments.get(kind=MaterialKind.FILE)
    for url in (
        reverse("training:module-detail", args=[module.pk]),
        reverse("training:material-download", args=[file.pk]),
        reverse("training:session-ics", args=[SessionFactory().pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))


def test_online_session_link_reaches_the_ics_of_members_only(signed_in, cohort):
    """The .ics of an online session carries its link, for the members who may see it."""
    session = session_starting_in(
        cohort,
        dt.timedelta(days=1),
        mode=SessionMode.ONLINE,
        venue="",
        address="",
        online_link="https://meet.example.org/room",
    )
    body = signed_in.get(reverse("training:session-ics", args=[session.pk])).content.decode()
    assert "LOCATION:https://meet.example.org/room" in body
