"""Hostile input, tried on purpose, against the forms and uploads.

Each attempt gets a clear 4xx or a form error, never a 500, and nothing is stored unsafely:
markup is shown escaped wherever it lands (pages, the certificate's HTML, emails), CSV cells
never run as formulas, calendar files take no injected lines, uploaded files are checked by
their content and stored under names of our own.
"""

import base64
import contextlib
import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from icalendar import Calendar

from certification.forms import LocalActionForm
from certification.models import LocalAction, TrainerAccreditation
from certification.pdf import certificate_html
from certification.services.certificates import certificate_issue_manually
from members.forms import ProfileForm
from members.models import Constituency
from tests.factories import PDF, PNG, EnrolmentFactory
from training.forms.manage import SessionForm
from training.models import Apology, NoticeKind, Session, Submission, SubmissionFile
from training.services.notices import notices_create, notices_send
from training.uploads import SUBMISSION_MAX_BYTES

pytestmark = pytest.mark.django_db

PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>'
ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
RAW = ("<script>alert(", "<img src=x")


def signed_in(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def assert_escaped(response, *, where: str) -> None:
    """The payload is on the page, and only as text."""
    assert response.status_code == 200, where
    html = response.content.decode()
    assert not any(raw in html for raw in RAW), f"markup runs on {where}"
    assert ESCAPED in html, f"the payload is not shown (escaped) on {where}"


def session_changed_notice(world) -> list[int]:
    """The email telling the trainee their session changed (it carries the calendar file)."""
    return notices_create(
        kind=NoticeKind.SESSION_CHANGED,
        subject=f"session:{world.session.pk}:v1",
        recipient_ids=[world.users["trainee"].pk],
    )


def profile_data(world, **changes) -> dict:
    region = world.region
    data = {
        "first_name": "Ada",
        "last_name": "Trainee",
        "region": region.pk,
        "constituency": Constituency.objects.filter(region=region).first().pk,
        "phone": "",
    }
    return {**data, **changes}


def session_data(session: Session, **changes) -> dict:
    local = timezone.localtime(session.starts_at)
    data = {
        "title": session.title,
        "date": local.date().isoformat(),
        "start_time": "18:30",
        "end_time": "20:30",
        "mode": session.mode,
        "venue": session.venue,
        "address": session.address,
        "online_link": "",
        "preparation": "",
    }
    return {**data, **changes}


def action_data(**changes) -> dict:
    data = {
        "issue": "Bus routes",
        "organised_with": "Tenants",
        "what_happened": "A petition.",
        "outcome": "",
        "started_on": (timezone.localdate() - dt.timedelta(days=5)).isoformat(),
        "ended_on": "",
    }
    return {**data, **changes}


# --- Markup in text fields: escaped wherever it appears -------------------------------------------


def test_a_name_with_markup_is_escaped_on_pages_in_the_certificate_and_in_emails(world):
    trainee, trainer, national = world.users["trainee"], world.users["trainer"], world.users["national"]
    response = signed_in(trainee).post(
        reverse("members:profile-edit"), profile_data(world, first_name=PAYLOAD, last_name="Trainee")
    )
    assert response.status_code == 302

    as_trainer = signed_in(trainer)
    for name, pk in [
        ("training:cohort-manage", world.cohort.pk),
        ("training:session-register", world.session.pk),
        ("training:submission-mark", world.submission.pk),
        ("training:cohort-gradebook", world.cohort.pk),
    ]:
        assert_escaped(as_trainer.get(reverse(name, args=[pk])), where=name)

    # A certificate issued now copies the name: its HTML (the PDF's source) escapes it.
    certificate = certificate_issue_manually(enrolment=world.enrolment, actor=national, reason="Evidence.")
    html = certificate_html(certificate)
    assert not any(raw in html for raw in RAW)
    assert "&lt;script&gt;" in html
    assert_escaped(
        signed_in(national).get(reverse("certification:staff-certificate", args=[certificate.pk])),
        where="staff page",
    )

    # The email greets the member by name: its HTML part escapes it; its subject is one line.
    mail.outbox.clear()
    report = notices_send(session_changed_notice(world))
    assert report.sent, report
    (message,) = mail.outbox
    (html_part, _type) = message.alternatives[0]
    assert not any(raw in html_part for raw in RAW)
    assert "\n" not in message.subject


def test_session_details_with_markup_are_escaped_and_cannot_inject_calendar_lines(world):
    trainer, trainee = world.users["trainer"], world.users["trainee"]
    injected = PAYLOAD + "\r\nATTENDEE:mailto:evil@example.org\r\nEND:VEVENT"
    response = signed_in(trainer).post(
        reverse("training:session-edit", args=[world.session.pk]),
        session_data(world.session, title=PAYLOAD, venue=PAYLOAD, address=injected, preparation=PAYLOAD),
    )
    assert response.status_code == 302, response.content.decode()[:2000]

    as_trainee = signed_in(trainee)
    assert_escaped(as_trainee.get(reverse("training:my-training")), where="my training")
    assert_escaped(
        signed_in(trainer).get(reverse("training:cohort-manage", args=[world.cohort.pk])), where="cohort"
    )

    ics = as_trainee.get(reverse("training:session-ics", args=[world.session.pk]))
    assert ics.status_code == 200
    calendar = Calendar.from_ical(ics.content)
    events = [component for component in calendar.walk("VEVENT")]
    assert len(events) == 1
    assert "ATTENDEE" not in events[0]
    assert str(events[0]["SUMMARY"]).endswith(PAYLOAD)  # text, as typed: a calendar is not HTML
    assert all(not line.startswith(b"ATTENDEE") for line in ics.content.splitlines())

    mail.outbox.clear()
    report = notices_send(session_changed_notice(world))
    assert report.sent, report
    (message,) = mail.outbox
    assert not any(raw in message.alternatives[0][0] for raw in RAW)
    assert "\n" not in message.subject
    for attachment in message.attachments:
        content = attachment[1] if isinstance(attachment, tuple) else attachment.get_payload(decode=True)
        content = content.encode() if isinstance(content, str) else content
        assert all(not line.startswith(b"ATTENDEE") for line in content.splitlines())


def test_local_actions_and_bio_with_markup_are_escaped(world):
    trainee, national = world.users["trainee"], world.users["national"]
    as_trainee = signed_in(trainee)
    response = as_trainee.post(
        reverse("certification:registry-action-create"),
        action_data(issue=PAYLOAD, organised_with=PAYLOAD, what_happened=PAYLOAD, outcome=PAYLOAD),
    )
    assert response.status_code == 302
    response = as_trainee.post(reverse("certification:registry-me"), {"visibility": "public", "bio": PAYLOAD})
    assert response.status_code == 302

    assert_escaped(as_trainee.get(reverse("certification:registry-me")), where="my entry")
    assert_escaped(
        Client().get(reverse("certification:registry-entry", args=[world.entry.pk])), where="entry"
    )
    as_national = signed_in(national)
    assert_escaped(as_national.get(reverse("certification:registry-actions")), where="actions overview")


def test_submitted_work_and_feedback_with_markup_are_escaped(world):
    trainee, trainer = world.users["trainee"], world.users["trainer"]
    assignment = world.open_assignment
    response = signed_in(trainee).post(
        reverse("training:assignment-detail", args=[assignment.pk]), {"text": PAYLOAD, "hand_in": "1"}
    )
    assert response.status_code == 302
    submission = Submission.objects.get(enrolment=world.enrolment, assignment=assignment)
    as_trainer = signed_in(trainer)
    assert_escaped(as_trainer.get(reverse("training:submission-mark", args=[submission.pk])), where="marking")

    levels = {
        f"criterion_{criterion.pk}": criterion.levels.order_by("-position").first().pk
        for criterion in world.assignment.criteria.all()
    }
    response = as_trainer.post(
        reverse("training:submission-mark", args=[world.submission.pk]),
        {**levels, "feedback": PAYLOAD, "seen_version": world.submission.mark_version},
    )
    assert response.status_code == 302
    assert_escaped(
        signed_in(trainee).get(reverse("training:assignment-detail", args=[world.assignment.pk])),
        where="the trainee's feedback",
    )


def test_an_apology_with_markup_is_escaped_on_the_register(world):
    response = signed_in(world.users["trainee"]).post(
        reverse("training:session-apology", args=[world.session.pk]), {"note": PAYLOAD}
    )
    assert response.status_code == 302
    assert Apology.objects.filter(session=world.session).exists()
    assert_escaped(
        signed_in(world.users["trainer"]).get(reverse("training:session-register", args=[world.session.pk])),
        where="register",
    )


# --- CSV exports: no cell runs as a formula ------------------------------------------------------


@pytest.mark.parametrize("formula", ['=HYPERLINK("http://evil","x")', "+1+1", "-1+1", "@SUM(A1)", "\t=1"])
def test_gradebook_csv_cells_never_run_as_formulas(world, formula):
    response = signed_in(world.users["trainee"]).post(
        reverse("members:profile-edit"), profile_data(world, first_name="Ada", last_name=formula.strip())
    )
    assert response.status_code == 302
    export = signed_in(world.users["trainer"]).get(
        reverse("training:cohort-gradebook-csv", args=[world.cohort.pk])
    )
    assert export.status_code == 200
    cells = [cell for row in csv.reader(io.StringIO(export.content.decode("utf-8-sig"))) for cell in row]
    assert any(formula.strip() in cell for cell in cells), "the name is in the export"
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]


# --- Uploads --------------------------------------------------------------------------------------


def upload(name: str, content: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def hand_in(world, *files, text="My answer."):
    return signed_in(world.users["trainee"]).post(
        reverse("training:assignment-detail", args=[world.open_assignment.pk]),
        {"text": text, "files": list(files)},
    )


def stored_files(world):
    return SubmissionFile.objects.filter(submission__assignment=world.open_assignment)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        (
            "essay.pdf",
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64,
        ),  # a Windows program
        ("essay.pdf", b"<html><script>alert(1)</script></html>"),
        ("essay.pdf", PNG),  # a picture whose name says PDF
        ("essay.exe", PDF),  # a PDF whose name says program
        ("essay.pdf.html", PDF),
        ("essay", PDF),
        ("invoice\u202efdp.exe", PDF),  # right-to-left override: shows as "invoiceexe.pdf"
        ("essay.pdf", b""),
    ],
)
def test_files_of_the_wrong_kind_are_refused_with_a_message(world, name, content):
    response = hand_in(world, upload(name, content))
    assert response.status_code == 400
    assert "is-invalid" in response.content.decode() or "alert-danger" in response.content.decode()
    assert not stored_files(world).exists()


def test_a_file_over_the_size_limit_is_refused_with_a_message(world):
    big = PDF + b"0" * (SUBMISSION_MAX_BYTES + 1 - len(PDF))
    response = hand_in(world, upload("big.pdf", big))
    assert response.status_code == 400
    assert "the most we accept is" in response.content.decode()
    assert not stored_files(world).exists()


@pytest.mark.parametrize(
    "name",
    [
        "../../../../etc/passwd.pdf",
        "..\\..\\..\\windows\\win.ini.pdf",
        "/etc/cron.d/evil.pdf",
        "%2e%2e%2f%2e%2e%2fevil.pdf",
        "essay\x00.exe.pdf",
        "<img src=x onerror=alert(1)>.pdf",
        "essay\u202egnp.pdf",
        "a" * 300 + ".pdf",
    ],
)
def test_uploaded_names_never_leave_the_media_folder_and_are_shown_as_text(world, settings, name):
    response = hand_in(world, upload(name, PDF))
    assert response.status_code in (302, 400)
    media = Path(settings.MEDIA_ROOT).resolve()
    for stored in stored_files(world):
        path = Path(stored.file.path).resolve()
        assert media in path.parents
        assert ".." not in stored.file.name
        assert "\x00" not in stored.original_name
        assert "\u202e" not in stored.original_name  # bidi controls would disguise the extension
        page = signed_in(world.users["trainer"]).get(
            reverse("training:submission-mark", args=[stored.submission_id])
        )
        assert page.status_code in (200, 404)  # a draft is not for marking yet
        draft = signed_in(world.users["trainee"]).get(
            reverse("training:assignment-detail", args=[world.open_assignment.pk])
        )
        assert not any(raw in draft.content.decode() for raw in RAW)
        download = signed_in(world.users["trainee"]).get(
            reverse("training:submission-file", args=[stored.pk])
        )
        assert download.status_code == 200
        disposition = download["Content-Disposition"]
        assert "\n" not in disposition
        assert "\r" not in disposition
        assert "/" not in disposition.split("filename", 1)[1]


def test_a_material_of_the_wrong_kind_or_with_a_traversal_name_is_safe(world, settings):
    as_national = signed_in(world.users["national"])
    url = reverse("training:material-create", args=[world.draft_module.pk])
    response = as_national.post(
        url, {"kind": "file", "title": "Notes", "file": upload("notes.pdf", b"MZ\x90\x00" * 20)}
    )
    assert response.status_code == 400
    response = as_national.post(
        url, {"kind": "file", "title": "Notes", "file": upload("../../../notes.pdf", PDF)}
    )
    assert response.status_code in (302, 400)
    media = Path(settings.MEDIA_ROOT).resolve()
    for material in world.draft_module.attachments.exclude(file=""):
        assert media in Path(material.file.path).resolve().parents


# --- Oversized and malformed requests ------------------------------------------------------------


def test_an_oversized_body_is_a_400(world, settings):
    client = signed_in(world.users["trainee"])
    huge = "a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = client.post(reverse("members:profile-edit"), profile_data(world, first_name=huge))
    assert response.status_code == 400
    fields = {f"field{i}": "x" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = client.post(reverse("members:profile-edit"), fields)
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("date", "2026-02-30"),
        ("date", "2026-13-01"),
        ("date", "0000-00-00"),
        ("date", "99999-01-01"),
        ("date", "0001-01-01"),
        ("date", "9999-12-31"),
        ("date", "2026-01-01'; DROP TABLE training_session;--"),
        ("start_time", "25:61"),
        ("start_time", "\x00"),
        ("end_time", "-1:00"),
        ("title", "\x00"),
        ("title", "x" * 201),
        ("mode", "teleport"),
        ("online_link", "javascript:alert(1)"),
    ],
)
def test_malformed_session_fields_are_form_errors(world, field, value):
    before = list(Session.objects.values_list("pk", "title", "starts_at"))
    response = signed_in(world.users["trainer"]).post(
        reverse("training:session-edit", args=[world.session.pk]),
        session_data(world.session, **{field: value}),
    )
    assert response.status_code == 400
    assert list(Session.objects.values_list("pk", "title", "starts_at")) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("started_on", "2026-02-30"),
        ("started_on", "9999-12-31"),
        ("ended_on", "yesterday"),
        ("issue", "\x00"),
        ("issue", "x" * 201),
        ("what_happened", "x" * 2001),
    ],
)
def test_malformed_local_actions_are_form_errors(world, field, value):
    count = LocalAction.objects.count()
    response = signed_in(world.users["trainee"]).post(
        reverse("certification:registry-action-create"), action_data(**{field: value})
    )
    assert response.status_code == 400
    assert LocalAction.objects.count() == count


@pytest.mark.parametrize(
    ("url_name", "data"),
    [
        (
            "reporting:target-create",
            {"scope": "region", "region": "1", "leaders": "10", "deadline": "2026-02-30"},
        ),
        (
            "reporting:target-create",
            {"scope": "region", "region": "x", "leaders": "1e99", "deadline": "9999-99-99"},
        ),
        ("reporting:target-create", {"scope": "<script>", "leaders": "-1", "deadline": "0001-01-01"}),
        (
            "training:cohort-create",
            {"name": "\x00", "starts_on": "2026-02-30", "capacity": "99999999999999999999"},
        ),
    ],
)
def test_malformed_staff_forms_are_form_errors(world, url_name, data):
    response = signed_in(world.users["national"]).post(reverse(url_name), data)
    assert response.status_code == 400


def test_malformed_due_dates_are_form_errors(world):
    data = {
        f"due_{assignment.pk}": "2026-02-30" for assignment in world.version.modules.first().assignments.all()
    }
    response = signed_in(world.users["trainer"]).post(
        reverse("training:cohort-due-dates", args=[world.cohort.pk]), data
    )
    assert response.status_code in (302, 400)


# --- Unicode edge cases -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "\x00",
        "Ada\x00Lovelace",
        "\u202eecalevoL",  # right-to-left override alone
        "\u200b",  # zero-width space only: looks empty
        "\ufeff",
        "a" * 151,
    ],
)
def test_names_that_are_empty_invisible_or_unstorable_are_refused(world, name):
    trainee = world.users["trainee"]
    response = signed_in(trainee).post(reverse("members:profile-edit"), profile_data(world, first_name=name))
    assert response.status_code == 400
    trainee.refresh_from_db()
    assert trainee.first_name == "Ada"


def test_a_name_in_another_script_with_combining_marks_is_kept(world):
    trainee = world.users["trainee"]
    name = "Zoë Ōkami-Ñúñez 李 محمد"
    response = signed_in(trainee).post(reverse("members:profile-edit"), profile_data(world, first_name=name))
    assert response.status_code == 302
    trainee.refresh_from_db()
    assert trainee.first_name == name


# --- Other people's objects in form fields --------------------------------------------------------


def test_a_register_mark_for_someone_outside_the_cohort_is_ignored(world):
    other = EnrolmentFactory(cohort=world.cohort_other)
    response = signed_in(world.users["trainer"]).post(
        reverse("training:session-register", args=[world.session.pk]), {f"mark_{other.pk}": "present"}
    )
    assert response.status_code in (302, 400)
    assert not other.attendance.exists()


def test_removing_someone_elses_file_from_a_draft_is_refused(world):
    response = hand_in(world, upload("mine.pdf", PDF))
    assert response.status_code == 302
    others_file = world.submission_file
    response = signed_in(world.users["trainee_other"]).post(
        reverse("training:assignment-detail", args=[world.open_assignment.pk]),
        {"text": "x", "remove_files": [others_file.pk]},
    )
    assert response.status_code in (400, 404)
    assert SubmissionFile.objects.filter(pk=others_file.pk).exists()


def test_a_mark_with_a_level_from_another_rubric_is_a_form_error(world):
    foreign = world.open_assignment.criteria.first() or None
    other_level = world.draft_criterion.levels.first()
    data = {f"criterion_{criterion.pk}": other_level.pk for criterion in world.assignment.criteria.all()}
    response = signed_in(world.users["trainer"]).post(
        reverse("training:submission-mark", args=[world.submission.pk]),
        {**data, "feedback": "Good.", "seen_version": world.submission.mark_version},
    )
    assert response.status_code == 400
    assert foreign is None or foreign.pk
    assert not world.submission.marks.exists()


def test_a_constituency_outside_the_chosen_region_is_a_form_error(world):
    elsewhere = Constituency.objects.exclude(region=world.region).first()
    response = signed_in(world.users["trainee"]).post(
        reverse("members:profile-edit"), profile_data(world, constituency=elsewhere.pk)
    )
    assert response.status_code == 400


def test_notice_ids_that_are_not_plain_numbers_never_fail(world):
    client = signed_in(world.users["national"])
    for value in ["²", "١", "9" * 5000, "-1", "1e3", "\x00"]:
        response = client.post(reverse("training:notice-list"), {"notice": value})
        assert response.status_code in (302, 400), value


def test_a_trainer_accreditation_note_with_a_nul_byte_is_refused(world):
    response = signed_in(world.users["national"]).post(
        reverse("certification:registry-accredit", args=[world.entry.pk]), {"note": "Good\x00work"}
    )
    assert response.status_code == 302
    assert not TrainerAccreditation.objects.filter(member=world.entry.member).exists()


# --- Property-based: any text in the form fields is a form error or stored as given --------------

TEXT = st.text(max_size=300)
EXAMPLES = hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _no_control_characters(value: str) -> bool:
    return "\x00" not in value


@EXAMPLES
@given(first_name=TEXT, last_name=TEXT, phone=st.text(max_size=40))
def test_the_profile_form_never_fails_on_any_text(world, first_name, last_name, phone):
    constituency = Constituency.objects.filter(region=world.region).first()
    form = ProfileForm(
        {
            "first_name": first_name,
            "last_name": last_name,
            "phone": phone,
            "region": world.region.pk,
            "constituency": constituency.pk,
        }
    )
    if form.is_valid():
        for name in ("first_name", "last_name", "phone"):
            assert _no_control_characters(form.cleaned_data[name])
            assert len(form.cleaned_data[name]) <= 150
    else:
        assert form.errors


@EXAMPLES
@given(
    issue=TEXT,
    organised_with=TEXT,
    what_happened=st.text(max_size=2500),
    started_on=st.one_of(st.dates().map(str), st.text(max_size=20)),
    ended_on=st.one_of(st.just(""), st.dates().map(str), st.text(max_size=20)),
)
def test_the_local_action_form_never_fails_on_any_input(
    world, issue, organised_with, what_happened, started_on, ended_on
):
    form = LocalActionForm(
        action_data(
            issue=issue,
            organised_with=organised_with,
            what_happened=what_happened,
            started_on=started_on,
            ended_on=ended_on,
        )
    )
    if form.is_valid():
        assert _no_control_characters(form.cleaned_data["issue"])
        assert len(form.cleaned_data["what_happened"]) <= 2000


# Through the view too (the form's times become aware datetimes there): fewer, as each is a request.
@hypothesis_settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    title=TEXT,
    venue=TEXT,
    address=st.text(max_size=3000),
    date=st.one_of(st.dates().map(str), st.text(max_size=20)),
    start_time=st.one_of(st.times().map(lambda t: t.strftime("%H:%M")), st.text(max_size=8)),
)
def test_the_session_form_and_view_never_fail_on_any_input(world, title, venue, address, date, start_time):
    data = session_data(
        world.session, title=title, venue=venue, address=address, date=date, start_time=start_time
    )
    form = SessionForm(data, cohort=world.cohort)
    form.is_valid()  # must not raise
    response = signed_in(world.users["trainer"]).post(
        reverse("training:session-edit", args=[world.session.pk]), data
    )
    assert response.status_code in (302, 400)


def test_another_cohorts_id_in_the_marking_queue_filter_shows_none_of_its_work(world):
    page = signed_in(world.users["trainer"]).get(
        reverse("training:marking-queue"), {"cohort": world.cohort_other.pk}
    )
    assert page.status_code in (200, 400)
    assert "Ben Other" not in page.content.decode()  # the other cohort's trainee
    page = signed_in(world.users["national"]).get(reverse("training:marking-queue"))
    assert "Ben Other" in page.content.decode()  # their work is waiting: the name would show


def test_another_regions_trainer_in_the_dashboard_shows_none_of_their_cohorts(world):
    page = signed_in(world.users["regional"]).get(
        reverse("reporting:dashboard-cohorts"),
        {"figure": "trainer_cohorts", "trainer": world.users["trainer_other"].pk},
    )
    assert page.status_code in (200, 404)
    assert world.cohort_other.name not in page.content.decode()
    # The same question about their own region's trainer does list the cohort.
    page = signed_in(world.users["regional"]).get(
        reverse("reporting:dashboard-cohorts"),
        {"figure": "trainer_cohorts", "trainer": world.users["trainer"].pk},
    )
    assert world.cohort.name in page.content.decode()


def test_an_unknown_host_header_gets_a_400_page_not_a_500(client, settings):
    """A request for a host we do not serve is refused before any middleware sets the user; the
    400 page still renders (as someone signed out would see it)."""
    settings.ALLOWED_HOSTS = ["future-leaders.example"]
    settings.DEBUG = False
    response = client.get("/", HTTP_HOST="attacker.example")
    assert response.status_code == 400
    assert b"<main" in response.content


# --- Control characters in the address: refused at the edge --------------------------------------

# Query-string names the project's views and the API's filters read (a grep of request.GET and
# the filtersets), and a few they do not: each is given a NUL on its own.
QUERY_KEYS = (
    "page", "region", "cohort", "programme", "format", "state", "status", "show", "scope", "figure",
    "trainer", "member", "q", "search", "ordering", "cursor", "next", "code", "email", "slug",
    "since", "until", "kind", "event",
)  # fmt: skip


def _nul_addresses(name, row, scenario, *, query_key: str) -> list[str]:
    """The row's address with a NUL in its path (in each text argument, and at the end of the
    path), as the value of `query_key`, and as a query name."""
    from django.urls import NoReverseMatch

    kwargs = row.kwargs(scenario)
    base = row.url(name, scenario)
    path, _, query = base.partition("?")
    addresses = [path.rstrip("/") + "%00" + ("/" if path.endswith("/") else "")]
    for key, value in kwargs.items():
        if isinstance(value, str):
            with contextlib.suppress(NoReverseMatch):  # a slug converter: its pattern takes no NUL
                addresses.append(reverse(name, kwargs={**kwargs, key: value + "\x00"}))
    joiner = f"{path}?{query}&" if query else f"{path}?"
    addresses += [f"{joiner}{query_key}=%00", f"{joiner}%00=1"]
    return addresses


def test_a_nul_byte_anywhere_in_the_address_is_a_400_on_every_url(world):
    """Every URL pattern, as a role it lets in: a NUL in the path or in a query value is a 400
    (the site's 400 page; JSON under /api/) before a view runs, never a 500 (PostgreSQL refuses
    NUL in a query: /calendar/feed/%00.ics was a 500). Each URL takes the NUL in one of the query
    names the views read, in turn, so every name is tried on a dozen URLs or more: the refusal
    reads the whole query string, whatever its names (every name on every URL was 8,400
    requests, 17 s)."""
    from tests.security.matrix import clients, permitted_role
    from tests.security.test_access_matrix import TABLE

    assert len(TABLE) >= 12 * len(QUERY_KEYS)  # each name on a dozen URLs
    all_clients = clients(world)
    problems = []
    for index, (name, row) in enumerate(sorted(TABLE.items())):
        client = all_clients[permitted_role(row, "get") or "anonymous"]
        query_key = QUERY_KEYS[index % len(QUERY_KEYS)]
        for address in _nul_addresses(name, row, world, query_key=query_key):
            response = client.get(address)
            if response.status_code != 400:
                problems.append(f"{name} {address[:90]}: {response.status_code}")
            elif address.startswith("/api/"):
                assert response.json()["detail"], address
    assert not problems, f"{len(problems)} addresses:\n" + "\n".join(problems[:40])


def test_the_calendar_feed_with_a_nul_token_shows_the_sites_400_page(client, settings):
    settings.DEBUG = False
    response = client.get("/calendar/feed/%00.ics")
    assert response.status_code == 400
    assert b"<main" in response.content
    assert client.get("/calendar/feed/x.ics?x=a%01b").status_code == 400
    # Tab and line breaks in a query value are text, not refused.
    assert client.get("/calendar/feed/x.ics?x=a%09b%0Ac").status_code == 404


# --- Deeply nested JSON: a 400, never a RecursionError --------------------------------------------

NESTED = [
    "[" * 5000,
    '{"a":' * 5000,
    "[" * 2000 + "]" * 2000,
    '{"credential": ' + "[" * 5000 + "]" * 5000 + "}",
]


@pytest.mark.parametrize("body", NESTED)
def test_deeply_nested_json_to_the_api_is_a_400_in_its_error_shape(world, body):
    from api.models import ApiResource, TokenAccess
    from api.services import api_token_create

    _token, raw = api_token_create(
        user=world.users["national"],
        name="Hostile",
        access=TokenAccess.READ_WRITE,
        resources=list(ApiResource.values),
        expires_in_days=1,
    )
    client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {raw}")
    for method, url in [("POST", "/api/v1/cohorts/"), ("PATCH", f"/api/v1/cohorts/{world.cohort.pk}/")]:
        response = client.generic(method, url, body.encode(), content_type="application/json")
        assert response.status_code == 400, (method, response.content[:200])
        assert "nested more than" in response.json()["detail"]
        assert response.json()["errors"] == {}


def test_a_json_body_over_the_size_limit_to_the_api_is_a_400(world, settings):
    from api.models import ApiResource, TokenAccess
    from api.services import api_token_create

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    _token, raw = api_token_create(
        user=world.users["national"],
        name="Hostile",
        access=TokenAccess.READ_WRITE,
        resources=list(ApiResource.values),
        expires_in_days=1,
    )
    client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = json.dumps({"name": "x" * 2000}).encode()
    response = client.post("/api/v1/cohorts/", body, content_type="application/json")
    assert response.status_code == 400
    assert "larger than 1000 bytes" in response.json()["detail"]


def _jwt_with(header: str, payload: str = "{}") -> str:
    def part(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(payload)}.{part('sig')}"


@pytest.mark.parametrize(
    "body",
    [
        *NESTED,
        # The Data Integrity form: nested under what the JSON reader takes, over the depth limit.
        '{"@context": ["https://www.w3.org/ns/credentials/v2"], "proof": {}, "credentialSubject": '
        + '{"a": ' * 900
        + "1"
        + "}" * 900
        + "}",
        # A VC-JWT whose header (read before any signature check) is 5,000 levels deep.
        _jwt_with("[" * 5000 + "]" * 5000),
        _jwt_with('{"alg": "EdDSA", "kid": "x"}', "[" * 5000 + "]" * 5000),
    ],
)
def test_deeply_nested_json_to_the_credential_check_is_a_400_never_a_500(body):
    """/credentials/verify/ reads a JSON body or a VC-JWT (whose header and payload are JSON):
    nesting deeper than the limit is refused before parsing (config.json_bounded)."""
    client = Client(raise_request_exception=False)
    response = client.post(reverse("certification:credential-verify"), body.encode(), "application/json")
    assert response.status_code < 500, response.content[:200]
    if body.startswith(("{", "[")):
        assert response.status_code == 400
    else:  # a JWT that is not ours: checked and answered, not valid
        assert response.json()["valid"] is False


# --- A NUL in a form body: every field kind refuses it or drops it --------------------------------

FORM_MODULES = (
    "api.forms",
    "audit.forms",
    "certification.forms",
    "imports.forms",
    "members.forms",
    "members.mfa_forms",
    "training.forms.authoring",
    "training.forms.manage",
    "training.forms.marking",
    "training.forms.submissions",
    "training.forms.trainee",
    "webhooks.forms",
    "allauth.account.forms",
    "allauth.mfa.base.forms",
    "allauth.mfa.totp.forms",
)


def _form_classes():
    import importlib
    import inspect

    from django import forms as django_forms

    for module_name in FORM_MODULES:
        module = importlib.import_module(module_name)
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, django_forms.BaseForm) and cls.__module__ == module_name:
                yield cls


def test_every_form_field_refuses_a_nul_byte_or_never_passes_it_on(world):
    """The URL's NUL is refused at the edge; a body's reaches the forms. Text fields carry
    Django's ProhibitNullCharactersValidator; every other kind (choices, ids, dates, numbers,
    JSON, files) is cleaned with a NUL here and must refuse it (a ValidationError) or give a
    value without one, never raise anything else: on PostgreSQL a NUL in a query is a 500."""
    from django import forms as django_forms
    from django.core.exceptions import ValidationError as DjangoValidationError
    from django.core.validators import ProhibitNullCharactersValidator

    problems, checked = [], 0
    for form_class in _form_classes():
        for name, field in form_class.base_fields.items():
            checked += 1
            where = f"{form_class.__module__}.{form_class.__name__}.{name}"
            if isinstance(field, django_forms.CharField):
                if not any(isinstance(v, ProhibitNullCharactersValidator) for v in field.validators):
                    problems.append(f"{where}: a text field without the NUL validator")
                continue
            if getattr(field, "queryset", True) is None:
                continue  # set per request in the form's __init__; its model's ids are numbers
            multiple = isinstance(
                field, (django_forms.MultipleChoiceField, django_forms.ModelMultipleChoiceField)
            )
            value = ["\x00"] if multiple else "\x00"
            try:
                cleaned = field.clean(value)
            except DjangoValidationError:
                continue
            except Exception as error:  # noqa: BLE001 - named in the failure
                problems.append(f"{where}: {type(error).__name__}: {error}")
                continue
            if "\x00" in repr(cleaned):
                problems.append(f"{where}: passed the NUL on ({cleaned!r})")
    assert checked > 100
    assert not problems, "\n".join(problems)
