"""The email pages, through HTTP: a member's choices, the links inside emails (stop a kind,
answer a reminder), the staff list of emails, and what they feed: the trainer's register,
a programme's reminder settings and what trainees are asked to prepare."""

import datetime as dt
import html
import re

import pytest
from django.core import signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from members.permissions import Role
from tests.factories import CohortFactory, EnrolmentFactory, ProgrammeFactory, SessionFactory, UserFactory
from training.models import (
    Apology,
    Attendance,
    AttendanceStatus,
    EnrolmentStatus,
    Notice,
    NoticeKind,
    NoticeMute,
    NoticeStatus,
    SessionConfirmation,
    SessionStatus,
)
from training.services.notices import (
    UNSUBSCRIBE_SALT,
    notices_create,
    reply_token,
    unsubscribe_token,
)

pytestmark = pytest.mark.django_db

PREFERENCES = reverse("training:notice-preferences")
NOTICE_LIST = reverse("training:notice-list")


@pytest.fixture
def trainee(seeded):
    return UserFactory(role=Role.TRAINEE)


@pytest.fixture
def trainer(seeded):
    return UserFactory(role=Role.TRAINER)


@pytest.fixture
def staff(seeded):
    return UserFactory(role=Role.NATIONAL_STAFF)


@pytest.fixture
def cohort(trainer):
    return CohortFactory(trainers=[trainer], name="Leeds spring", status="running")


def html_of(response) -> str:
    return response.content.decode()


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def coming_session(cohort, *, hours: int = 48, **kwargs):
    starts = timezone.now() + dt.timedelta(hours=hours)
    return SessionFactory(cohort=cohort, starts_at=starts, ends_at=starts + dt.timedelta(hours=2), **kwargs)


def reminder_for(member, session, *, hours_before: int = 48) -> Notice:
    (notice_id,) = notices_create(
        kind=NoticeKind.SESSION_REMINDER,
        subject=f"session:{session.pk}",
        recipient_ids=[member.pk],
        scheduled_for=session.starts_at - dt.timedelta(hours=hours_before),
    )
    return Notice.objects.get(pk=notice_id)


def sent_notice(member, *, kind=NoticeKind.SESSION_REMINDER, subject="session:0", **fields) -> Notice:
    now = timezone.now()
    defaults = {"status": NoticeStatus.SENT, "sent_at": now, "next_attempt_at": now, "created_at": now}
    return Notice.objects.create(
        recipient=member,
        kind=kind,
        subject=subject,
        scheduled_for=fields.pop("scheduled_for", now),
        **{**defaults, **fields},
    )


def failed_notice(member, **fields) -> Notice:
    fields = {"status": NoticeStatus.FAILED, "sent_at": None, "attempts": 5, "outcome": "SMTP down", **fields}
    return sent_notice(member, **fields)


# --- A member's choices --------------------------------------------------------------------------


def test_preferences_ask_anonymous_visitors_to_sign_in(client):
    """Anonymous visitors are sent to sign in, and come back to the page after."""
    response = client.get(PREFERENCES)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert "next=/account/emails/" in response.url


def test_preferences_show_each_kind_on_unless_muted(client, trainee):
    """Kinds are ticked unless the member turned them off; trainers' kinds are not offered to trainees."""
    NoticeMute.objects.create(member=trainee, kind=NoticeKind.ASSIGNMENT_DUE, created_at=timezone.now())
    client.force_login(trainee)
    page = html_of(client.get(PREFERENCES))
    assert re.search(r'value="session_reminder" id="[^"]+" checked', page)
    assert re.search(r'value="assignment_due" id="[^"]+"(?! checked)', page)
    assert 'value="marking_backlog"' not in page
    assert "Session cancellations" in page  # always sent, listed as such
    assert f"Emails go to {trainee.email}." in page


def test_preferences_offer_trainers_their_own_kinds(client, trainer):
    client.force_login(trainer)
    page = html_of(client.get(PREFERENCES))
    assert 'value="marking_backlog"' in page
    assert 'value="absence_nudge"' in page


def test_preferences_change_only_the_members_own_choices(client, trainee):
    """Unticking mutes that kind for the member who is signed in, and for nobody else."""
    other = UserFactory()
    NoticeMute.objects.create(member=other, kind=NoticeKind.ABSENCE_WARNING, created_at=timezone.now())
    client.force_login(trainee)

    response = client.post(
        PREFERENCES, {"receive": ["absence_warning", "assignment_due"], "member": str(other.pk)}, follow=True
    )

    assert "Your email choices are saved." in html_of(response)
    assert set(NoticeMute.objects.filter(member=trainee).values_list("kind", flat=True)) == {
        "session_reminder"
    }
    assert set(NoticeMute.objects.filter(member=other).values_list("kind", flat=True)) == {"absence_warning"}

    client.post(PREFERENCES, {"receive": ["session_reminder", "absence_warning", "assignment_due"]})
    assert not NoticeMute.objects.filter(member=trainee).exists()


def test_preferences_keep_kinds_not_on_the_form(client, trainee):
    """A trainee's form has no trainers' kinds: saving it leaves their setting as it was."""
    NoticeMute.objects.create(member=trainee, kind=NoticeKind.MARKING_BACKLOG, created_at=timezone.now())
    client.force_login(trainee)
    client.post(PREFERENCES, {"receive": ["session_reminder", "absence_warning", "assignment_due"]})
    assert list(NoticeMute.objects.filter(member=trainee).values_list("kind", flat=True)) == [
        "marking_backlog"
    ]


def test_preferences_refuse_a_kind_that_cannot_be_turned_off(client, trainee):
    """Cancellations cannot be chosen; a forged choice is refused and nothing changes."""
    client.force_login(trainee)
    response = client.post(PREFERENCES, {"receive": ["session_cancelled"]})
    assert response.status_code == 400
    assert "Choose only from the emails listed." in html_of(response)
    assert not NoticeMute.objects.exists()


def test_preferences_list_recent_emails_with_what_they_were_about(client, trainee, cohort):
    session = SessionFactory(cohort=cohort, title="Power mapping")
    sent_notice(trainee, subject=f"session:{session.pk}")
    failed_notice(trainee, kind=NoticeKind.ASSIGNMENT_DUE)  # not sent: not listed
    client.force_login(trainee)
    page = html_of(client.get(PREFERENCES))
    assert "Power mapping (Leeds spring)" in page
    recent = page.split("Recently sent to you", 1)[1]
    assert "Assignments due" not in recent


def test_preferences_page_runs_a_fixed_number_of_queries(client, trainee, trainer):
    """The page costs the same with one email and a few mutes as with many of each."""
    client.force_login(trainee)

    def add(count):
        for _ in range(count):
            cohort = CohortFactory(trainers=[trainer])
            sent_notice(trainee, subject=f"session:{SessionFactory(cohort=cohort).pk}")
            sent_notice(trainee, kind=NoticeKind.MARKING_BACKLOG, subject=f"backlog:cohort:{cohort.pk}")

    add(1)
    client.get(PREFERENCES)
    small = count_queries(client, PREFERENCES)
    add(8)
    NoticeMute.objects.create(member=trainee, kind=NoticeKind.ASSIGNMENT_DUE, created_at=timezone.now())
    NoticeMute.objects.create(member=trainee, kind=NoticeKind.ABSENCE_WARNING, created_at=timezone.now())
    assert count_queries(client, PREFERENCES) == small
    assert small <= 10


# --- The unsubscribe link ------------------------------------------------------------------------


def unsubscribe_url(member, kind=NoticeKind.SESSION_REMINDER) -> str:
    return reverse("training:notice-unsubscribe", args=[unsubscribe_token(member_id=member.pk, kind=kind)])


@pytest.mark.parametrize("token", ["nonsense", "eyJtIjoxfQ:1abc:forged"])
def test_unsubscribe_with_a_bad_token_is_a_404(client, token):
    url = reverse("training:notice-unsubscribe", args=[token])
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 404
        assert "This link does not work" in html_of(response)
    assert not NoticeMute.objects.exists()


def test_unsubscribe_refuses_a_kind_that_cannot_be_turned_off(client, trainee):
    """Even a token we signed cannot stop cancellations."""
    token = signing.dumps({"m": trainee.pk, "k": "session_cancelled"}, salt=UNSUBSCRIBE_SALT, compress=True)
    url = reverse("training:notice-unsubscribe", args=[token])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert not NoticeMute.objects.exists()


def test_unsubscribe_for_a_deleted_member_is_a_404(client, trainee):
    url = unsubscribe_url(trainee)
    trainee.delete()
    assert client.post(url).status_code == 404
    assert not NoticeMute.objects.exists()


def test_unsubscribe_get_asks_and_changes_nothing(client, trainee):
    """Mail scanners open links: a GET only shows the button, and is never indexed."""
    response = client.get(unsubscribe_url(trainee))
    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "Stop “Session reminders”" in html_of(response)
    assert not NoticeMute.objects.exists()


def test_unsubscribe_post_mutes_the_kind_and_twice_is_fine(trainee):
    """The one-click POST from a mail client (no cookies, no CSRF token) mutes the kind, once."""
    client = Client(enforce_csrf_checks=True)
    url = unsubscribe_url(trainee, NoticeKind.ASSIGNMENT_DUE)
    for _ in range(2):
        response = client.post(url, {"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
        assert "you will no longer receive “Assignments due”" in html_of(response)
    assert list(NoticeMute.objects.values_list("member_id", "kind")) == [(trainee.pk, "assignment_due")]
    assert "You already do not receive “Assignments due”." in html_of(client.get(url))


# --- The reply link in a reminder ----------------------------------------------------------------


@pytest.fixture
def enrolment(cohort):
    return EnrolmentFactory(cohort=cohort)


@pytest.fixture
def session(cohort):
    return coming_session(cohort, title="Power mapping", preparation="Read <b>this</b>\nand that")


@pytest.fixture
def reply_url(enrolment, session):
    notice = reminder_for(enrolment.member, session)
    return reverse("training:session-reply", args=[reply_token(notice_id=notice.pk)])


def test_reply_with_a_bad_token_is_a_404(client, trainee, cohort):
    """A made-up token, and a real token for a notice that is not a session reminder."""
    other = sent_notice(trainee, kind=NoticeKind.ASSIGNMENT_DUE, subject="assignment:1:cohort:1")
    for token in ["nonsense", reply_token(notice_id=other.pk), reply_token(notice_id=999999)]:
        url = reverse("training:session-reply", args=[token])
        assert client.get(url).status_code == 404
        assert client.post(url, {"attending": "yes"}).status_code == 404
    assert not SessionConfirmation.objects.exists()


def test_reply_get_shows_the_question_and_changes_nothing(client, reply_url):
    response = client.get(reply_url)
    page = html_of(response)
    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "Power mapping" in page
    assert "Yes, I’ll be there" in page
    assert "Read &lt;b&gt;this&lt;/b&gt;<br>and that" in page
    assert not SessionConfirmation.objects.exists()
    assert not Notice.objects.filter(replied_at__isnull=False).exists()


def test_reply_yes_confirms(client, reply_url, enrolment, session):
    response = client.post(reply_url, {"attending": "yes"})
    assert response.status_code == 200
    assert "Your trainer knows you are coming." in html_of(response)
    assert list(SessionConfirmation.objects.values_list("session_id", "enrolment_id")) == [
        (session.pk, enrolment.pk)
    ]


def test_reply_no_sends_apologies_and_excuses(client, reply_url, enrolment, session):
    response = client.post(reply_url, {"attending": "no", "note": "Working late"})
    assert response.status_code == 200
    assert "Your apologies are sent to your trainer" in html_of(response)
    apology = Apology.objects.get()
    assert (apology.session_id, apology.enrolment_id, apology.note) == (
        session.pk,
        enrolment.pk,
        "Working late",
    )
    assert Attendance.objects.get(enrolment=enrolment).status == AttendanceStatus.EXCUSED
    assert not SessionConfirmation.objects.exists()


def test_reply_works_once(client, reply_url):
    """A second answer is refused with a message, and the first stands."""
    client.post(reply_url, {"attending": "yes"})
    response = client.post(reply_url, {"attending": "no", "note": "Changed my mind"})
    assert response.status_code == 400
    assert "You have already answered this reminder." in html_of(response)
    assert SessionConfirmation.objects.count() == 1
    assert not Apology.objects.exists()
    page = html_of(client.get(reply_url))
    assert "You have already answered this reminder." in page
    assert "Yes, I’ll be there" not in page


def test_reply_without_a_choice_asks_for_one(client, reply_url):
    response = client.post(reply_url, {"attending": "maybe"})
    assert response.status_code == 400
    assert "Choose whether you can come." in html_of(response)
    assert not Notice.objects.filter(replied_at__isnull=False).exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": SessionStatus.CANCELLED}, "This session was cancelled"),
        ({"starts_at": timezone.now() - dt.timedelta(minutes=5)}, "This session has started"),
    ],
)
def test_reply_to_a_cancelled_or_started_session_says_so(client, reply_url, session, change, message):
    """A clear message, no form, and nothing recorded; never a server error."""
    type(session).objects.filter(pk=session.pk).update(**change)
    response = client.get(reply_url)
    assert response.status_code == 200
    assert message in html_of(response)
    assert "Yes, I’ll be there" not in html_of(response)
    response = client.post(reply_url, {"attending": "yes"})
    assert response.status_code == 400
    assert message in html_of(response)
    assert not SessionConfirmation.objects.exists()
    assert not Notice.objects.filter(replied_at__isnull=False).exists()


def test_reply_from_a_trainee_who_left_says_so(client, reply_url, enrolment):
    """A trainee who withdrew since the reminder gets the service's message, and the link stays unused."""
    type(enrolment).objects.filter(pk=enrolment.pk).update(status=EnrolmentStatus.WITHDRAWN)
    response = client.post(reply_url, {"attending": "yes"})
    assert response.status_code == 400
    assert "You are not enrolled" in html_of(response)
    assert not Notice.objects.filter(replied_at__isnull=False).exists()


def test_reply_is_protected_against_cross_site_posts(enrolment, reply_url):
    """Unlike one-click unsubscribe, the reply form carries a CSRF token."""
    client = Client(enforce_csrf_checks=True)
    assert client.post(reply_url, {"attending": "yes"}).status_code == 403
    page = html_of(client.get(reply_url))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert client.post(reply_url, {"attending": "yes", "csrfmiddlewaretoken": token}).status_code == 200
    assert SessionConfirmation.objects.count() == 1


# --- Staff: the emails sent ----------------------------------------------------------------------


def test_notice_list_needs_the_permission(client, trainee, trainer, staff):
    """Anonymous visitors sign in; trainees and trainers get a 403, for reading and retrying."""
    response = client.get(NOTICE_LIST)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    notice = failed_notice(trainee)
    for user in (trainee, trainer):
        client.force_login(user)
        assert client.get(NOTICE_LIST).status_code == 403
        assert client.post(NOTICE_LIST, {"notice": [notice.pk]}).status_code == 403
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.FAILED
    client.force_login(staff)
    assert client.get(NOTICE_LIST).status_code == 200


def test_notice_list_shows_failed_first_and_filters_by_allowed_statuses(client, staff, trainee, cohort):
    session = SessionFactory(cohort=cohort, title="Power mapping")
    failed_notice(trainee, subject=f"session:{session.pk}", outcome="550 No such user")
    sent_notice(trainee, kind=NoticeKind.ASSIGNMENT_DUE, subject="assignment:1:cohort:999")
    client.force_login(staff)

    page = html_of(client.get(NOTICE_LIST))
    assert "550 No such user" in page
    assert "Power mapping (Leeds spring)" in page
    assert "assignment:1:cohort:999" not in page

    page = html_of(client.get(NOTICE_LIST, {"status": "sent"}))
    assert "assignment:1:cohort:999" in page  # what it was about is gone: the key is shown
    assert "550 No such user" not in page

    for unknown in ["bogus", "failed' OR 1=1", ""]:
        response = client.get(NOTICE_LIST, {"status": unknown})
        assert response.status_code == 200
        assert "550 No such user" in html_of(response)  # the failed tab, nothing else
        assert unknown not in re.findall(r'aria-current="page">([^<]+)', html_of(response))


def test_staff_retry_makes_failed_notices_pending(staff, trainee):
    """The POST needs its CSRF token; only failed notices are sent again, from a fresh count."""
    failed, other_failed = failed_notice(trainee), failed_notice(trainee, subject="session:1")
    sent = sent_notice(trainee, subject="session:2")
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    assert client.post(NOTICE_LIST, {"notice": [failed.pk, sent.pk]}).status_code == 403
    failed.refresh_from_db()
    assert failed.status == NoticeStatus.FAILED

    page = html_of(client.get(NOTICE_LIST))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(
        NOTICE_LIST, {"notice": [failed.pk, sent.pk, "x"], "csrfmiddlewaretoken": token}, follow=True
    )

    assert "1 email will be sent again" in html_of(response)
    failed.refresh_from_db()
    sent.refresh_from_db()
    other_failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (NoticeStatus.PENDING, 0)
    assert sent.status == NoticeStatus.SENT
    assert other_failed.status == NoticeStatus.FAILED


def test_staff_retry_all_failed(client, staff, trainee):
    notices = [failed_notice(trainee, subject=f"session:{n}") for n in range(3)]
    client.force_login(staff)
    response = client.post(NOTICE_LIST, {"scope": "all"}, follow=True)
    assert "3 emails will be sent again" in html_of(response)
    assert set(Notice.objects.filter(pk__in=[n.pk for n in notices]).values_list("status", flat=True)) == {
        NoticeStatus.PENDING
    }


def test_staff_retry_with_nothing_ticked_says_so(client, staff):
    client.force_login(staff)
    response = client.post(NOTICE_LIST, {}, follow=True)
    assert "Tick the failed emails to send again." in html_of(response)


def test_notice_list_runs_a_fixed_number_of_queries(client, staff, trainer):
    """The list costs the same at a few emails as at a page full, about sessions and cohorts."""
    client.force_login(staff)

    def add(count):
        for _ in range(count):
            cohort = CohortFactory(trainers=[trainer])
            member = trainer  # select_related loads every row's recipient: one is enough to see it
            failed_notice(member, subject=f"session:{SessionFactory(cohort=cohort).pk}")
            failed_notice(member, kind=NoticeKind.MARKING_BACKLOG, subject=f"backlog:cohort:{cohort.pk}")
            failed_notice(member, kind=NoticeKind.CERTIFICATE_ISSUED, subject="certificate:1")

    add(1)
    client.get(NOTICE_LIST)
    small = count_queries(client, NOTICE_LIST)
    add(20)  # 63 failed: more than a page
    assert count_queries(client, NOTICE_LIST) == small
    assert small <= 12
    assert "page 1 of 2" in html_of(client.get(NOTICE_LIST))


def test_navigation_offers_each_member_their_emails_and_staff_the_list(client, trainee, staff):
    client.force_login(trainee)
    page = html_of(client.get(reverse("training:my-training")))
    assert f'href="{PREFERENCES}">Your emails<' in page
    assert f'href="{NOTICE_LIST}"' not in page
    client.force_login(staff)
    page = html_of(client.get(reverse("members:staff-home")))
    assert f'href="{NOTICE_LIST}">Emails sent<' in page


# --- The register shows who confirmed ------------------------------------------------------------


def test_register_shows_confirmations_and_apologies(client, trainer, cohort):
    session = coming_session(cohort)
    coming, also_coming, sorry, silent = EnrolmentFactory.create_batch(4, cohort=cohort)
    now = timezone.now()
    for enrolment in (coming, also_coming):
        SessionConfirmation.objects.create(session=session, enrolment=enrolment, created_at=now)
    Apology.objects.create(session=session, enrolment=sorry, note="Hospital", created_at=now)
    client.force_login(trainer)

    page = html_of(client.get(reverse("training:session-register", args=[session.pk])))

    assert re.search(r"2 confirmed, 1 apology\s*</p>", page)
    assert page.count(">Confirmed</span>") == 2
    fieldsets = {
        html.unescape(name): block
        for name, block in re.findall(r"<legend[^>]*>([^<]+)</legend>(.*?)</fieldset>", page, re.S)
    }
    assert ">Confirmed<" in fieldsets[str(coming.member)]
    assert ">Confirmed<" not in fieldsets[str(sorry.member)]
    assert "Hospital" in fieldsets[str(sorry.member)]
    assert "Confirmed" not in fieldsets[str(silent.member)]


def test_register_with_confirmations_runs_a_fixed_number_of_queries(client, trainer, cohort):
    """The register costs the same with 4 trainees as with 24, confirmations and apologies included."""
    session = coming_session(cohort)
    client.force_login(trainer)
    url = reverse("training:session-register", args=[session.pk])

    def add(count):
        now = timezone.now()
        for index, enrolment in enumerate(EnrolmentFactory.create_batch(count, cohort=cohort)):
            if index % 2:
                SessionConfirmation.objects.create(session=session, enrolment=enrolment, created_at=now)
            else:
                Apology.objects.create(session=session, enrolment=enrolment, created_at=now)

    add(4)
    client.get(url)
    small = count_queries(client, url)
    add(20)
    assert count_queries(client, url) == small
    assert small <= 11
    assert "12 confirmed, 12 apologies" in html_of(client.get(url))


# --- A programme's reminder settings --------------------------------------------------------------


def programme_post(programme, **reminders) -> dict:
    data = {"title": programme.title, "slug": programme.slug, "description": programme.description}
    data.update(
        {"session_reminder_hours": "48,2", "assignment_reminder_days": "3", "absence_warning_after": "2"}
    )
    data.update(reminders)
    return data


def test_staff_change_a_programmes_reminders(client, staff):
    """The hours are saved tidied (largest first, each once); blank and 0 turn a reminder off."""
    programme = ProgrammeFactory()
    url = reverse("training:programme-edit", args=[programme.pk])
    client.force_login(staff)
    page = html_of(client.get(url))
    assert 'name="session_reminder_hours" value="48,2"' in page
    assert "asks trainees to confirm or send apologies" in page

    response = client.post(
        url, programme_post(programme, session_reminder_hours=" 24, 72 ,24", assignment_reminder_days="5")
    )
    assert response.status_code == 302
    programme.refresh_from_db()
    assert (programme.session_reminder_hours, programme.assignment_reminder_days) == ("72,24", 5)
    page = html_of(client.get(reverse("training:programme-detail", args=[programme.pk])))
    assert "Sessions: 72, 24 hours before" in page

    client.post(
        url,
        programme_post(
            programme, session_reminder_hours="", assignment_reminder_days="0", absence_warning_after="0"
        ),
    )
    programme.refresh_from_db()
    assert (programme.session_reminder_hours, programme.assignment_reminder_days) == ("", 0)
    assert programme.absence_warning_after == 0
    assert "Sessions: no reminders" in html_of(
        client.get(reverse("training:programme-detail", args=[programme.pk]))
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("session_reminder_hours", "two days", "Give whole numbers of hours separated by commas"),
        ("session_reminder_hours", "48,0", "Each reminder must be between 1 and 336 hours before."),
        ("session_reminder_hours", "1000", "Each reminder must be between 1 and 336 hours before."),
        ("assignment_reminder_days", "-1", "Enter a whole number of days from 0 to 30"),
        ("assignment_reminder_days", "", "Enter a whole number of days from 0 to 30"),
        ("absence_warning_after", "11", "Enter a whole number of sessions from 0 to 10"),
        ("absence_warning_after", "2.5", "Enter a whole number of sessions from 0 to 10"),
    ],
)
def test_programme_reminders_refuse_what_cannot_work(client, staff, field, value, message):
    programme = ProgrammeFactory()
    client.force_login(staff)
    response = client.post(
        reverse("training:programme-edit", args=[programme.pk]), programme_post(programme, **{field: value})
    )
    assert response.status_code == 400
    assert message in html_of(response)
    programme.refresh_from_db()
    assert (programme.session_reminder_hours, programme.assignment_reminder_days) == ("48,2", 3)


def test_only_authors_change_reminders(client, trainer):
    """A trainer cannot open or post the programme's edit page."""
    programme = ProgrammeFactory()
    url = reverse("training:programme-edit", args=[programme.pk])
    client.force_login(trainer)
    assert client.get(url).status_code == 403
    assert client.post(url, programme_post(programme, session_reminder_hours="1")).status_code == 403
    programme.refresh_from_db()
    assert programme.session_reminder_hours == "48,2"


# --- What trainees are asked to prepare -------------------------------------------------------------


def test_trainees_see_what_to_prepare_escaped_with_line_breaks(client, cohort):
    enrolment = EnrolmentFactory(cohort=cohort)
    session = coming_session(cohort, preparation="Read <script>x</script>\nBring a pen")
    client.force_login(enrolment.member)
    for url in (reverse("training:my-training"), reverse("training:cohort-detail", args=[cohort.pk])):
        page = html_of(client.get(url))
        assert "What to prepare" in page
        assert "Read &lt;script&gt;x&lt;/script&gt;<br>Bring a pen" in page
        assert "<script>x" not in page
    assert session.preparation  # the page showed the session's own text


def test_visitors_not_in_the_cohort_do_not_see_what_to_prepare(client, trainee, cohort):
    coming_session(cohort, preparation="Bring a pen")
    client.force_login(trainee)
    assert "Bring a pen" not in html_of(client.get(reverse("training:cohort-detail", args=[cohort.pk])))


def test_notice_table_shows_tick_boxes_only_for_failed_and_when_sent_ones_went(client, staff, trainee):
    """The one table component: the tick box column is the failed tab's alone; the last
    column is "Why" there and "Sent" on the sent tab; tab links stay the page's own."""
    failed_notice(trainee, outcome="550 No such user")
    sent_notice(trainee, subject="session:2")
    client.force_login(staff)

    failed_page = html_of(client.get(NOTICE_LIST))
    assert 'type="checkbox" name="notice"' in failed_page
    assert ">Why</th>" in re.sub(r"\s+", "", failed_page).replace('scope="col">', ">")
    assert "Failed: 1 email</caption>" in failed_page

    sent_page = html_of(client.get(NOTICE_LIST, {"status": "sent"}))
    assert 'name="notice"' not in sent_page
    assert ">Sent</th>" in re.sub(r"\s+", "", sent_page).replace('scope="col">', ">")
