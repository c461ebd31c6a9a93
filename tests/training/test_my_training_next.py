"""My training always says what is next: work due with its date, feedback on marked work,
the next session with one action (check in once check-in opens, nothing more once checked
in), one attendance fact read twice, and at the end whether the cohort was completed."""

import datetime as dt
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from members.permissions import Role
from tests.factories import (
    AssignmentFactory,
    CohortFactory,
    EnrolmentFactory,
    ModuleFactory,
    SessionFactory,
    SubmissionFactory,
    UserFactory,
    VersionFactory,
)
from training.models import (
    AssignmentDueDate,
    CohortStatus,
    EnrolmentStatus,
    Outcome,
    SessionConfirmation,
    SubmissionStatus,
)
from training.services.attendance import checkin

pytestmark = pytest.mark.django_db


@pytest.fixture
def trainee(seeded):
    return UserFactory(role=Role.TRAINEE, first_name="Rosa")


@pytest.fixture
def signed_in(client, trainee):
    client.force_login(trainee)
    return client


@pytest.fixture
def cohort():
    """A running cohort that began a fortnight ago and ends in two months."""
    today = timezone.localdate()
    return CohortFactory(
        name="Tyneside",
        status=CohortStatus.RUNNING,
        enrolment_opens_on=today - dt.timedelta(days=40),
        enrolment_closes_on=today - dt.timedelta(days=15),
        starts_on=today - dt.timedelta(days=14),
        ends_on=today + dt.timedelta(days=60),
    )


@pytest.fixture
def enrolment(cohort, trainee):
    return EnrolmentFactory(cohort=cohort, member=trainee)


def _session_in(cohort, starts_in: dt.timedelta, **kwargs):
    starts_at = timezone.now().replace(microsecond=0) + starts_in
    return SessionFactory(
        cohort=cohort, starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=2), **kwargs
    )


def _page(client) -> str:
    return html.unescape(client.get(reverse("training:my-training")).content.decode())


def _next_session_actions(page: str, cohort) -> str:
    match = re.search(rf'<ul[^>]*id="next-session-{cohort.pk}">(.*?)</ul>', page, re.S)
    assert match, "the next session's actions are listed"
    return match.group(1)


# --- The next session: one action ----------------------------------------------------------


def test_before_check_in_opens_the_trainee_says_whether_they_will_come(signed_in, cohort, enrolment):
    """Forty minutes before: "I'll be there" or apologies, and when check-in opens; no Check in."""
    session = _session_in(cohort, dt.timedelta(minutes=40), title="Listening")
    page = _page(signed_in)
    actions = _next_session_actions(page, cohort)
    assert "I’ll be there" in actions
    assert reverse("training:session-apology", args=[session.pk]) in actions
    assert "Check in" not in actions
    opens = timezone.localtime(session.starts_at - dt.timedelta(minutes=30))
    assert f"Check-in opens at {opens:%H:%M}." in page


def test_check_in_appears_when_check_in_opens_before_the_start(signed_in, cohort, enrolment):
    """Twenty minutes before the start, check-in is open: Check in is the action."""
    _session_in(cohort, dt.timedelta(minutes=20))
    actions = _next_session_actions(_page(signed_in), cohort)
    assert re.search(rf'<a class="btn btn-primary" href="{reverse("training:checkin")}">Check in', actions)
    assert "I’ll be there" not in actions
    assert "Send apologies" not in actions


def test_after_check_in_nothing_more_is_asked_for_that_session(signed_in, cohort, enrolment, trainee):
    """Checked in (having said they would come): no "I'll be there", no apologies, no Check in."""
    session = _session_in(cohort, dt.timedelta(minutes=20))
    SessionConfirmation.objects.create(session=session, enrolment=enrolment, created_at=timezone.now())
    checkin(member=trainee, code=session.checkin_code)
    actions = _next_session_actions(_page(signed_in), cohort)
    assert "You’re checked in" in actions
    assert "I’ll be there" not in actions
    assert "You said you’ll be there" not in actions
    assert "Send apologies" not in actions
    assert "Check in<" not in actions
    assert reverse("training:session-ics", args=[session.pk]) in actions


def test_checked_in_early_counts_once_on_both_attendance_lines(signed_in, cohort, enrolment, trainee):
    """Checked in 20 minutes before the first session: the tally and "Attended 1 of 3" read
    the same fact, never "No sessions have been held yet" beside "Attended 1 of 3"."""
    first = _session_in(cohort, dt.timedelta(minutes=20))
    _session_in(cohort, dt.timedelta(days=7))
    _session_in(cohort, dt.timedelta(days=14))
    checkin(member=trainee, code=first.checkin_code)
    page = _page(signed_in)
    assert "Attended 1 of 3 sessions (33%)." in page
    assert "No sessions have been held yet." not in page
    assert re.search(r"Present</dt><dd[^>]*>1<", page)
    assert "Over the 1 session held so far." in page


def test_no_session_held_and_none_attended_say_the_same(signed_in, cohort, enrolment):
    _session_in(cohort, dt.timedelta(days=2))
    page = _page(signed_in)
    assert "No sessions have been held yet." in page
    assert "Attended 0 of 1 sessions (0%)." in page


# --- Work due and feedback -----------------------------------------------------------------


def test_work_due_lists_what_is_left_soonest_first_with_dates(signed_in, cohort, enrolment):
    """Not started, drafts and resubmits, soonest first, each with its date and a link; passed
    and handed-in work is not listed; a cohort's own due date wins."""
    module = ModuleFactory(version=cohort.version, title="Power")
    later = AssignmentFactory(module=module, title="Power map", due_offset_days=30)
    sooner = AssignmentFactory(module=module, title="One-to-ones", due_offset_days=30)
    AssignmentDueDate.objects.create(
        cohort=cohort, assignment=sooner, due_on=cohort.starts_on + dt.timedelta(days=20)
    )
    handed_in = AssignmentFactory(module=module, title="Handed in", due_offset_days=10)
    passed = AssignmentFactory(module=module, title="Passed already", due_offset_days=10)
    resubmit = AssignmentFactory(module=module, title="Try again", due_offset_days=25)
    drafted = AssignmentFactory(module=module, title="Started", due_offset_days=40)
    SubmissionFactory(
        enrolment=enrolment, assignment=drafted, status=SubmissionStatus.DRAFT, submitted_at=None
    )
    SubmissionFactory(enrolment=enrolment, assignment=handed_in)
    SubmissionFactory(enrolment=enrolment, assignment=passed, outcome=Outcome.PASS, marked_at=timezone.now())
    SubmissionFactory(
        enrolment=enrolment, assignment=resubmit, outcome=Outcome.RESUBMIT, marked_at=timezone.now()
    )

    page = _page(signed_in)
    due = re.search(rf'id="work-due-{cohort.pk}">(.*?)</ul>', page, re.S).group(1)
    titles = re.findall(r'class="fw-semibold">([^<]+)</a>', due)
    # Three shown (the rest are a click away), and how many more.
    assert titles == ["One-to-ones", "Try again", "Power map"]
    assert "And 1 more: see the modules below." in page
    sooner_on = cohort.starts_on + dt.timedelta(days=20)
    assert f"Due {sooner_on:%A} {sooner_on.day} {sooner_on:%B}" in due
    assert "Resubmit: read the feedback, then hand in again" in due
    assert reverse("training:assignment-detail", args=[later.pk]) in due


def test_feedback_shows_the_latest_marks_with_links(signed_in, cohort, enrolment):
    """Marked work, newest first, with the outcome and a link to read the feedback."""
    module = ModuleFactory(version=cohort.version)
    old = AssignmentFactory(module=module, title="Older")
    new = AssignmentFactory(module=module, title="Newer")
    SubmissionFactory(
        enrolment=enrolment,
        assignment=old,
        outcome=Outcome.PASS,
        marked_at=timezone.now() - dt.timedelta(days=5),
    )
    SubmissionFactory(enrolment=enrolment, assignment=new, outcome=Outcome.FAIL, marked_at=timezone.now())
    SubmissionFactory(enrolment=enrolment, assignment=AssignmentFactory(module=module, title="Waiting"))

    page = _page(signed_in)
    feedback = re.search(rf'id="feedback-{cohort.pk}">(.*?)</ul>', page, re.S).group(1)
    assert re.findall(r'<span class="fw-semibold">([^<]+)</span>', feedback) == ["Newer", "Older"]
    assert "Newer</span>: Not passed" in feedback
    assert "Older</span>: Passed" in feedback
    assert reverse("training:assignment-detail", args=[new.pk]) in feedback


def test_nothing_to_hand_in_is_said_plainly(signed_in, cohort, enrolment):
    assert "Nothing to hand in now." in _page(signed_in)


# --- After the end --------------------------------------------------------------------------


def test_completed_links_to_the_certificate(signed_in, cohort, trainee):
    EnrolmentFactory(
        cohort=cohort, member=trainee, status=EnrolmentStatus.COMPLETED, certified_at=timezone.now()
    )
    page = _page(signed_in)
    assert re.search(
        rf'<strong>Completed:</strong> <a href="{reverse("certification:my-certificates")}">your certificate',
        page,
    )


def test_completed_without_a_certificate_yet_says_it_follows(signed_in, cohort, trainee):
    EnrolmentFactory(cohort=cohort, member=trainee, status=EnrolmentStatus.COMPLETED)
    page = _page(signed_in)
    assert "Completed." in page
    assert "Your certificate is being prepared" in page


def test_not_completed_gives_the_reason(signed_in, cohort, trainee):
    EnrolmentFactory(
        cohort=cohort,
        member=trainee,
        status=EnrolmentStatus.INCOMPLETE,
        completion_note="Attended 2 of 6 sessions; 5 needed.",
    )
    page = _page(signed_in)
    assert "Not completed." in page
    assert "Attended 2 of 6 sessions; 5 needed." in page
    assert reverse("training:cohort-list") in page


def test_an_ended_cohort_not_yet_settled_says_what_happens_next(signed_in, trainee):
    today = timezone.localdate()
    ended = CohortFactory(
        status=CohortStatus.FINISHED,
        enrolment_opens_on=today - dt.timedelta(days=90),
        enrolment_closes_on=today - dt.timedelta(days=80),
        starts_on=today - dt.timedelta(days=70),
        ends_on=today - dt.timedelta(days=1),
        version=VersionFactory(),
    )
    EnrolmentFactory(cohort=ended, member=trainee)
    assert "This cohort has ended. Your trainer will confirm whether you have completed it" in _page(
        signed_in
    )


def test_a_resubmit_past_its_first_due_date_is_not_called_overdue(signed_in, cohort, enrolment):
    """The first date passed while the work waited for marking: "Resubmit", not "Overdue"."""
    late = AssignmentFactory(module=ModuleFactory(version=cohort.version), title="Story", due_offset_days=2)
    SubmissionFactory(
        enrolment=enrolment, assignment=late, outcome=Outcome.RESUBMIT, marked_at=timezone.now()
    )
    not_started = AssignmentFactory(
        module=ModuleFactory(version=cohort.version), title="Map", due_offset_days=3
    )
    page = _page(signed_in)
    due = re.search(rf'id="work-due-{cohort.pk}">(.*?)</ul>', page, re.S).group(1)
    story, _map = due.split(reverse("training:assignment-detail", args=[not_started.pk]))
    assert "Resubmit: read the feedback, then hand in again" in story
    assert "Overdue" not in story
    assert "Overdue" in _map
