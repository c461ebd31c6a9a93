"""A resubmission has its own due date: the marker sets it (or takes the default), and it is
what the trainee sees everywhere, what lateness is judged against, what the reminder names,
and how long a resubmission may still be handed in once the cohort has finished."""

import datetime as dt
import re

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certification.models import Certificate
from members.permissions import Role
from tests.factories import (
    AssignmentFactory,
    EnrolmentFactory,
    SubmissionFactory,
    UserFactory,
    levels_chosen,
)
from tests.training.april_course import LONDON, april_cohort, clock_mover, power_map
from training.models import (
    AssignmentDueDate,
    CohortStatus,
    EnrolmentStatus,
    Mark,
    Notice,
    NoticeKind,
    NoticeStatus,
    Outcome,
    Submission,
)
from training.notices_marking import resubmission_reminder_subject
from training.services.attendance import register_save
from training.services.cohort_lifecycle import cohorts_move_by_dates
from training.services.marking import RESUBMIT_DUE_MAX_DAYS, mark_save
from training.services.notices import notices_send
from training.services.submissions import submission_draft_save, submission_submit

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2027, 4, 20, 12, tzinfo=LONDON)
TODAY = NOW.date()
COHORT_DUE = dt.date(2027, 4, 15)  # passed before the work was marked
PASS, RESUBMIT, FAIL = Outcome.PASS, Outcome.RESUBMIT, Outcome.FAIL


@pytest.fixture
def clock(time_machine):
    move = clock_mover(time_machine)
    move(NOW)
    return move


@pytest.fixture
def course(seeded, clock):
    """A running cohort, three sessions held, one required assignment ("Power map", due 15
    April, three attempts), and Ada's first attempt waiting to be marked."""
    trainer = UserFactory(role=Role.TRAINER, first_name="Tess")
    cohort, sessions = april_cohort(trainer=trainer)
    assignment = power_map(cohort, criteria=2, max_attempts=3)
    AssignmentDueDate.objects.create(cohort=cohort, assignment=assignment, due_on=COHORT_DUE)
    member = UserFactory(first_name="Ada", last_name="Lovelace")
    enrolment = EnrolmentFactory(cohort=cohort, member=member)
    submission = SubmissionFactory(
        enrolment=enrolment, assignment=assignment, submitted_at=dt.datetime(2027, 4, 14, 9, tzinfo=LONDON)
    )
    return {
        "trainer": trainer,
        "cohort": cohort,
        "sessions": sessions,
        "assignment": assignment,
        "member": member,
        "enrolment": enrolment,
        "submission": submission,
    }


def mark(course, outcomes=(PASS, RESUBMIT), *, submission=None, due=None, seen=0, reason=""):
    submission = submission or course["submission"]
    return mark_save(
        submission=submission,
        marker=course["trainer"],
        levels=levels_chosen(submission.assignment, outcomes),
        feedback="Name the decision makers.",
        seen_version=seen,
        reason=reason,
        resubmit_due_on=due,
    )


def hand_in(course, text="Second go.") -> Submission:
    draft = submission_draft_save(enrolment=course["enrolment"], assignment=course["assignment"], text=text)
    return submission_submit(submission=draft)


def html_of(response) -> str:
    return response.content.decode()


def signed_in_as(client, user):
    client.force_login(user)
    return client


# --- The marker sets it -------------------------------------------------------------------


def test_a_resubmit_gets_the_default_due_date_on_the_mark_and_the_submission(course):
    """Without a date from the marker: RESUBMIT_DAYS from today, the cohort's date being past."""
    saved = mark(course)
    expected = TODAY + dt.timedelta(days=settings.RESUBMIT_DAYS)
    course["submission"].refresh_from_db()
    assert (saved.outcome, saved.resubmit_due_on) == (RESUBMIT, expected)
    assert course["submission"].resubmit_due_on == expected


def test_the_default_is_the_cohorts_date_when_that_is_later(course):
    later = TODAY + dt.timedelta(days=30)
    AssignmentDueDate.objects.filter(assignment=course["assignment"]).update(due_on=later)
    assert mark(course).resubmit_due_on == later


def test_the_markers_date_is_kept(course):
    chosen = TODAY + dt.timedelta(days=5)
    assert mark(course, due=chosen).resubmit_due_on == chosen


@pytest.mark.parametrize(
    ("days", "message"),
    [
        (-1, "Choose today or a later day."),
        (RESUBMIT_DUE_MAX_DAYS + 1, f"Choose a day at most {RESUBMIT_DUE_MAX_DAYS} days from today"),
    ],
)
def test_a_date_in_the_past_or_too_far_ahead_is_refused_at_the_field(course, days, message):
    with pytest.raises(ValidationError) as refused:
        mark(course, due=TODAY + dt.timedelta(days=days))
    [error] = refused.value.message_dict["resubmit_due_on"]
    assert error.startswith(message)
    assert not Mark.objects.exists()


def test_the_furthest_day_allowed_is_accepted(course):
    furthest = TODAY + dt.timedelta(days=RESUBMIT_DUE_MAX_DAYS)
    assert mark(course, due=furthest).resubmit_due_on == furthest


@pytest.mark.parametrize("outcomes", [(PASS, PASS), (RESUBMIT, FAIL)])
def test_no_date_is_kept_when_the_work_is_not_sent_back(course, outcomes):
    """A pass or a fail ignores the date sent (the field was hidden), however odd it is."""
    saved = mark(course, outcomes, due=TODAY - dt.timedelta(days=400))
    assert saved.resubmit_due_on is None


def test_no_date_when_no_attempt_is_left(course):
    course["assignment"].max_attempts = 1
    course["assignment"].save(update_fields=["max_attempts"])
    assert mark(course, due=TODAY + dt.timedelta(days=5)).resubmit_due_on is None


def test_a_correction_may_keep_a_date_that_has_passed_or_move_it(course, clock):
    first = TODAY + dt.timedelta(days=3)
    mark(course, due=first)
    clock(NOW + dt.timedelta(days=5))
    kept = mark(course, due=first, seen=1, reason="Typo in the feedback.")
    assert kept.resubmit_due_on == first
    moved = mark(course, due=TODAY + dt.timedelta(days=20), seen=2, reason="More time.")
    course["submission"].refresh_from_db()
    assert course["submission"].resubmit_due_on == moved.resubmit_due_on == TODAY + dt.timedelta(days=20)


# --- The mark form ----------------------------------------------------------------------


def mark_url(submission) -> str:
    return reverse("training:submission-mark", args=[submission.pk])


def form_data(submission, outcomes, **extra) -> dict:
    data = {f"criterion_{c}": level for c, level in levels_chosen(submission.assignment, outcomes).items()}
    data.update(feedback="Name the decision makers.", seen_version=0, then="queue", **extra)
    return data


def test_the_form_offers_the_default_date_and_saves_the_markers(client, course):
    client = signed_in_as(client, course["trainer"])
    page = html_of(client.get(mark_url(course["submission"])))
    default = TODAY + dt.timedelta(days=settings.RESUBMIT_DAYS)
    assert re.search(rf'type="date" name="resubmit_due_on" value="{default:%Y-%m-%d}"', page)
    assert 'data-outcome="resubmit"' in page
    assert "Resubmission due by" in page
    chosen = TODAY + dt.timedelta(days=9)
    response = client.post(
        mark_url(course["submission"]),
        form_data(course["submission"], (PASS, RESUBMIT), resubmit_due_on=f"{chosen:%Y-%m-%d}"),
    )
    assert response.status_code == 302
    course["submission"].refresh_from_db()
    assert course["submission"].resubmit_due_on == chosen


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2027-04-19", "Choose today or a later day."),
        ("2027-12-31", f"Choose a day at most {RESUBMIT_DUE_MAX_DAYS} days from today"),
        ("next week", "Enter a date, such as 31/3/2027."),
    ],
)
def test_a_bad_date_is_shown_at_the_field_with_a_400(client, course, value, message):
    client = signed_in_as(client, course["trainer"])
    response = client.post(
        mark_url(course["submission"]),
        form_data(course["submission"], (RESUBMIT, PASS), resubmit_due_on=value),
    )
    assert response.status_code == 400
    page = html_of(response)
    assert message in page
    # Shown with its error even where the outcome would hide it.
    assert "resubmit-due border rounded p-3 mb-3 has-error" in page
    assert not Mark.objects.exists()


def test_the_form_asks_no_date_on_the_last_attempt(client, course):
    course["assignment"].max_attempts = 1
    course["assignment"].save(update_fields=["max_attempts"])
    page = html_of(signed_in_as(client, course["trainer"]).get(mark_url(course["submission"])))
    assert "resubmit_due_on" not in page


def test_the_mark_page_of_a_resubmission_shows_its_own_due_date(client, course):
    due = TODAY + dt.timedelta(days=9)
    mark(course, due=due)
    second = hand_in(course)
    page = html_of(signed_in_as(client, course["trainer"]).get(mark_url(second)))
    assert re.search(rf"Resubmission due</dt>\s*<dd[^>]*>{due:%a} {due.day} {due:%B %Y}</dd>", page)


# --- What the trainee sees ---------------------------------------------------------------


def test_the_assignment_page_leads_with_the_feedback_and_names_the_resubmission_date(client, course):
    due = TODAY + dt.timedelta(days=9)
    mark(course, due=due)
    page = html_of(
        signed_in_as(client, course["member"]).get(
            reverse("training:assignment-detail", args=[course["assignment"].pk])
        )
    )
    assert "Resubmission due" in page
    assert f"{due:%a} {due.day} {due:%B %Y}" in page
    assert ">Late<" not in page  # the cohort's date has passed; the resubmission's has not
    # Headings in order: feedback first, then the brief, the rubric, the hand-in form.
    headings = re.findall(r'<h2 id="([a-z-]+)"', page)
    assert headings == ["feedback-heading", "brief-heading", "rubric-heading", "work-heading"]
    assert f'id="attempt-{course["submission"].pk}"' in page
    assert page.index(f'id="attempt-{course["submission"].pk}"') < page.index('id="brief-heading"')
    assert "hand in attempt 2 by" in page


def test_earlier_attempts_follow_the_hand_in_form(client, course):
    mark(course)
    second = hand_in(course)
    mark(course, (PASS, RESUBMIT), submission=second)
    page = html_of(
        signed_in_as(client, course["member"]).get(
            reverse("training:assignment-detail", args=[course["assignment"].pk])
        )
    )
    headings = re.findall(r'<h2 id="([a-z-]+)"', page)
    assert headings == [
        "feedback-heading",
        "brief-heading",
        "rubric-heading",
        "work-heading",
        "attempts-heading",
    ]
    # The newest marked attempt leads; the first follows the form.
    assert page.index(f'id="attempt-{second.pk}"') < page.index('id="brief-heading"')
    assert page.index('id="work-heading"') < page.index(f'id="attempt-{course["submission"].pk}"')


def test_my_training_lists_the_resubmission_by_its_own_date(client, course):
    due = TODAY + dt.timedelta(days=9)
    mark(course, due=due)
    page = html_of(signed_in_as(client, course["member"]).get(reverse("training:my-training")))
    work = page[page.index(f'id="work-due-{course["cohort"].pk}"') :]
    assert f"Resubmission due {due:%A} {due.day} {due:%B}" in work
    assert "Overdue" not in work.split("</ul>")[0]


# --- Handing in against it ------------------------------------------------------------------


def test_a_resubmission_is_late_only_after_its_own_date(course, clock):
    due = TODAY + dt.timedelta(days=5)
    mark(course, due=due)
    on_time = hand_in(course)
    assert on_time.is_late is False
    mark(course, (PASS, RESUBMIT), submission=on_time, due=TODAY + dt.timedelta(days=2))
    clock(NOW + dt.timedelta(days=3))
    late = hand_in(course, "Third go.")
    assert (late.attempt, late.is_late) == (3, True)


def finish(course, clock, *, attended=3):
    for session in course["sessions"][:attended]:
        register_save(session=session, marks={course["enrolment"].pk: "present"}, actor=course["trainer"])
    clock(dt.datetime(2027, 5, 1, 0, 30, tzinfo=LONDON))
    cohorts_move_by_dates()
    course["enrolment"].refresh_from_db()


def test_after_the_end_a_resubmission_is_handed_in_until_its_date_and_a_pass_completes(
    client, course, clock, django_capture_on_commit_callbacks
):
    """The cohort ends with the resubmission open: the enrolment ends not completed, the trainee
    still sees and hands in the work by the date, and its pass completes the cohort with a
    certificate."""
    due = dt.date(2027, 5, 10)
    mark(course, due=due)
    finish(course, clock)
    assert course["enrolment"].status == EnrolmentStatus.INCOMPLETE

    page = html_of(signed_in_as(client, course["member"]).get(reverse("training:my-training")))
    assert f'id="resubmissions-due-{course["enrolment"].pk}"' in page
    assert "resubmission due Monday 10 May" in page
    detail = html_of(client.get(reverse("training:assignment-detail", args=[course["assignment"].pk])))
    assert "This cohort has finished" not in detail
    assert 'id="work-heading"' in detail
    assert "Save draft" in detail

    clock(dt.datetime(2027, 5, 9, 20, tzinfo=LONDON))
    second = hand_in(course)
    assert (second.attempt, second.is_late) == (2, False)
    with django_capture_on_commit_callbacks(execute=True):
        mark(course, (PASS, PASS), submission=second)
    course["enrolment"].refresh_from_db()
    assert course["enrolment"].status == EnrolmentStatus.COMPLETED
    assert Certificate.objects.filter(enrolment=course["enrolment"]).exists()


def test_after_the_end_and_the_date_nothing_more_is_handed_in(client, course, clock):
    mark(course, due=dt.date(2027, 5, 3))
    finish(course, clock)
    draft = submission_draft_save(
        enrolment=course["enrolment"], assignment=course["assignment"], text="Nearly"
    )
    clock(dt.datetime(2027, 5, 4, 9, tzinfo=LONDON))
    with pytest.raises(ValidationError, match="This cohort has finished"):
        submission_submit(submission=draft)
    with pytest.raises(ValidationError, match="This cohort has finished"):
        submission_draft_save(enrolment=course["enrolment"], assignment=course["assignment"], text="More")
    page = html_of(signed_in_as(client, course["member"]).get(reverse("training:my-training")))
    assert f'id="resubmissions-due-{course["enrolment"].pk}"' not in page


def test_a_cancelled_cohort_takes_no_resubmission(course):
    mark(course, due=TODAY + dt.timedelta(days=9))
    type(course["cohort"]).objects.filter(pk=course["cohort"].pk).update(status=CohortStatus.CANCELLED)
    with pytest.raises(ValidationError, match="This cohort has finished"):
        submission_draft_save(enrolment=course["enrolment"], assignment=course["assignment"], text="x")


def test_my_training_costs_the_same_with_one_or_many_resubmissions_after_the_end(client, course, clock):
    mark(course, due=dt.date(2027, 5, 10))
    finish(course, clock)
    client = signed_in_as(client, course["member"])

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("training:my-training")).status_code == 200
        return len(queries)

    small = count()
    for _ in range(4):
        assignment = AssignmentFactory(module__version=course["cohort"].version, max_attempts=3)
        Submission.objects.create(
            enrolment=course["enrolment"],
            assignment=assignment,
            attempt=1,
            status="submitted",
            submitted_at=NOW,
            outcome=RESUBMIT,
            resubmit_due_on=dt.date(2027, 5, 10),
        )
    assert count() == small
    assert html_of(client.get(reverse("training:my-training"))).count("resubmission due Monday 10 May") == 5


# --- The reminder -----------------------------------------------------------------------------


def reminder_of(course) -> Notice:
    return Notice.objects.get(kind=NoticeKind.ASSIGNMENT_DUE, recipient=course["member"])


def test_the_reminder_goes_the_reminder_days_before_and_names_the_date(course, clock):
    due = TODAY + dt.timedelta(days=9)  # reminded 3 days before: 26 April, 9 a.m.
    mark(course, due=due)
    notice = reminder_of(course)
    assert notice.subject == resubmission_reminder_subject(course["submission"])
    assert notice.scheduled_for == dt.datetime(2027, 4, 26, 9, tzinfo=LONDON)
    clock(dt.datetime(2027, 4, 26, 9, 5, tzinfo=LONDON))
    notices_send([notice.pk])
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.SENT
    [message] = mail.outbox
    assert message.subject == "[Future Leaders] Resubmission due Thursday 29 April: Power map"
    assert 'Your resubmission of "Power map"' in message.body
    assert "is due on Thursday 29 April 2027" in message.body
    assert "Your resubmission is due soon" in message.alternatives[0][0]


def test_the_reminder_is_dropped_once_the_resubmission_is_handed_in(course, clock):
    mark(course, due=TODAY + dt.timedelta(days=9))
    hand_in(course)
    clock(dt.datetime(2027, 4, 26, 9, 5, tzinfo=LONDON))
    notices_send([reminder_of(course).pk])
    assert reminder_of(course).status == NoticeStatus.SKIPPED
    assert reminder_of(course).outcome == "The work has been handed in."
    assert not mail.outbox


def test_a_moved_date_drops_the_old_reminder_and_sends_the_new(course, clock):
    mark(course, due=TODAY + dt.timedelta(days=9))
    mark(course, due=TODAY + dt.timedelta(days=12), seen=1, reason="More time.")
    old, new = Notice.objects.filter(kind=NoticeKind.ASSIGNMENT_DUE).order_by("scheduled_for")
    clock(dt.datetime(2027, 4, 29, 9, 5, tzinfo=LONDON))
    notices_send([old.pk, new.pk])
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, new.status) == (NoticeStatus.SKIPPED, NoticeStatus.SENT)
    [message] = mail.outbox
    assert "Sunday 2 May 2027" in message.body


def test_no_reminder_when_its_moment_has_passed(course):
    """Due in two days with reminders three days before: the work-marked email names the date."""
    mark(course, due=TODAY + dt.timedelta(days=2))
    assert not Notice.objects.filter(kind=NoticeKind.ASSIGNMENT_DUE).exists()


def test_the_work_marked_email_names_the_resubmission_date(course, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        mark(course, due=TODAY + dt.timedelta(days=9))
    [message] = mail.outbox
    assert "It is due by Thursday 29 April 2027." in message.body
    assert "has passed" not in message.body
