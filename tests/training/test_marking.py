"""Trainers mark work and read the gradebook: the queue, the marking page and the gradebook,
through HTTP, with the marking race called directly on PostgreSQL."""

import csv
import datetime as dt
import io
import re
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from config.spreadsheets import csv_safe
from members.models import Region
from members.permissions import Role
from members.services import user_assign_role
from tests.factories import (
    AssignmentFactory,
    CohortFactory,
    EnrolmentFactory,
    SessionFactory,
    SubmissionFactory,
    UserFactory,
    levels_chosen,
    rubric_add,
)
from tests.listing import listing_check
from training.models import (
    Attendance,
    AttendanceSource,
    AttendanceStatus,
    EnrolmentStatus,
    Mark,
    MarkKind,
    Outcome,
    SessionStatus,
    Submission,
    SubmissionFile,
    SubmissionStatus,
)
from training.rubric import RULE_EXPLAINED
from training.services.marking import (
    FEEDBACK_MAX,
    MarkConflict,
    mark_save,
    moderation_mark,
    moderation_request,
)

pytestmark = pytest.mark.django_db

PASS, RESUBMIT, FAIL = Outcome.PASS, Outcome.RESUBMIT, Outcome.FAIL


@pytest.fixture
def staff(seeded):
    return UserFactory(role=Role.NATIONAL_STAFF)


@pytest.fixture
def trainer(seeded):
    return UserFactory(role=Role.TRAINER, first_name="Tess", last_name="Trainer")


@pytest.fixture
def cohort(trainer):
    return CohortFactory(trainers=[trainer], name="Leeds spring")


@pytest.fixture
def assignment(cohort):
    assignment = AssignmentFactory(module__version=cohort.version, title="Power map")
    rubric_add(assignment, 2)
    return assignment


@pytest.fixture
def submission(cohort, assignment):
    member = UserFactory(first_name="Ada", last_name="Lovelace")
    return SubmissionFactory(enrolment=EnrolmentFactory(cohort=cohort, member=member), assignment=assignment)


def html_of(response) -> str:
    return response.content.decode()


def mark_url(submission) -> str:
    return reverse("training:submission-mark", args=[submission.pk])


def mark_data(submission, outcomes, *, feedback="Clear and well argued.", seen_version=0, **extra) -> dict:
    data = {
        f"criterion_{criterion}": level
        for criterion, level in levels_chosen(submission.assignment, outcomes).items()
    }
    data.update(feedback=feedback, seen_version=seen_version, **extra)
    return data


def first_mark(submission, marker, outcomes=(PASS, PASS)) -> Mark:
    return mark_save(
        submission=submission,
        marker=marker,
        levels=levels_chosen(submission.assignment, outcomes),
        feedback="Good work.",
        seen_version=0,
    )


# --- Marking ------------------------------------------------------------------------


def test_trainer_marks_work_and_the_rubric_decides_the_outcome(client, trainer, submission):
    """A first mark takes its outcome from the rubric (the weakest level) and becomes the
    submission's outcome; the trainer lands back on the queue with a message."""
    client.force_login(trainer)
    page = html_of(client.get(mark_url(submission)))
    assert "I held ten one-to-ones" in page
    assert RULE_EXPLAINED in page
    assert page.count("<fieldset") == 2
    assert '<legend class="h6 fw-bold mb-1">Criterion' in page
    assert 'name="reason"' not in page
    assert 'name="seen_version" value="0"' in page

    response = client.post(mark_url(submission), mark_data(submission, [PASS, RESUBMIT], then="queue"))

    assert response.status_code == 302
    assert response.url == reverse("training:marking-queue")
    mark = Mark.objects.get(submission=submission)
    assert (mark.kind, mark.outcome, mark.marker) == (MarkKind.FIRST, RESUBMIT, trainer)
    assert mark.feedback == "Clear and well argued."
    assert mark.levels.count() == 2
    submission.refresh_from_db()
    assert submission.outcome == RESUBMIT
    assert submission.mark_version == 1
    queue = html_of(client.get(response.url))
    assert "Mark saved for Ada Lovelace, “Power map”: Resubmit." in queue


def test_save_and_mark_the_next_goes_to_the_oldest_waiting_work(client, trainer, cohort, submission):
    """ "Save and mark the next" opens the oldest work still waiting, keeping the queue's filters."""
    later = SubmissionFactory(
        enrolment=EnrolmentFactory(cohort=cohort),
        assignment=submission.assignment,
        submitted_at=timezone.now() + dt.timedelta(minutes=5),
    )
    client.force_login(trainer)
    url = f"{mark_url(submission)}?cohort={cohort.pk}"
    response = client.post(url, mark_data(submission, [PASS, PASS], then="next"))
    assert response.status_code == 302
    assert response.url == f"{mark_url(later)}?cohort={cohort.pk}"

    response = client.post(response.url, mark_data(later, [PASS, PASS], then="next"))
    assert response.url == f"{reverse('training:marking-queue')}?cohort={cohort.pk}"


def test_a_missing_criterion_is_refused_beside_it(client, trainer, submission):
    """A mark without a level for every criterion is a 400 naming the criterion; nothing is saved."""
    client.force_login(trainer)
    data = mark_data(submission, [PASS, PASS])
    criterion = submission.assignment.criteria.order_by("position").last()
    del data[f"criterion_{criterion.pk}"]
    response = client.post(mark_url(submission), data)
    assert response.status_code == 400
    page = html_of(response)
    assert f"Choose a level for “{criterion.title}”." in page
    assert f'id="id_criterion_{criterion.pk}_error"' in page
    assert not Mark.objects.exists()
    submission.refresh_from_db()
    assert submission.outcome == ""


def test_feedback_over_the_limit_is_refused(client, trainer, submission):
    """Feedback longer than FEEDBACK_MAX is a 400 with the limit; nothing is saved."""
    client.force_login(trainer)
    data = mark_data(submission, [PASS, PASS], feedback="x" * (FEEDBACK_MAX + 1))
    response = client.post(mark_url(submission), data)
    assert response.status_code == 400
    assert f"Keep feedback under {FEEDBACK_MAX:,} characters" in html_of(response)
    assert not Mark.objects.exists()


def test_empty_feedback_is_refused(client, trainer, submission):
    """Feedback is needed: the trainee learns from it."""
    client.force_login(trainer)
    response = client.post(mark_url(submission), mark_data(submission, [PASS, PASS], feedback="  "))
    assert response.status_code == 400
    assert "Write some feedback for the trainee." in html_of(response)
    assert not Mark.objects.exists()


def test_a_level_of_another_criterion_is_refused(client, trainer, submission):
    """A level id that belongs to a different criterion is a 400; nothing is saved."""
    client.force_login(trainer)
    first, second = submission.assignment.criteria.order_by("position")
    data = mark_data(submission, [PASS, PASS])
    data[f"criterion_{first.pk}"] = second.levels.get(outcome=PASS).pk
    response = client.post(mark_url(submission), data)
    assert response.status_code == 400
    assert f"Choose one of the levels listed for “{first.title}”." in html_of(response)
    assert not Mark.objects.exists()


def test_a_stale_page_gets_a_409_and_the_newer_mark(client, seeded, trainer, cohort, submission):
    """Someone marked while the page was open: 409, no second mark, their mark shown, and the
    form comes back as a correction with this marker's choices kept."""
    colleague = UserFactory(role=Role.TRAINER, first_name="Cleo", last_name="Colleague")
    cohort.trainers.add(colleague)
    first_mark(submission, colleague, [FAIL, PASS])
    client.force_login(trainer)

    response = client.post(
        mark_url(submission), mark_data(submission, [PASS, PASS], feedback="My own view.", seen_version=0)
    )

    assert response.status_code == 409
    page = html_of(response)
    assert "Someone else marked this while you had it open" in page
    alert = page[page.index('class="alert alert-warning"') : page.index('<div class="row g-4">')]
    assert "by Cleo Colleague" in alert
    assert 'text-bg-danger">Fail</span>' in alert
    assert 'name="reason"' in page
    assert 'name="seen_version" value="1"' in page
    assert "My own view." in page
    assert Mark.objects.filter(submission=submission).count() == 1


def test_a_correction_needs_a_reason_and_keeps_the_history(client, seeded, trainer, submission):
    """Correcting a mark needs a reason; it adds a mark, so both stay in the history."""
    first_mark(submission, trainer, [RESUBMIT, PASS])
    client.force_login(trainer)
    page = html_of(client.get(mark_url(submission)))
    assert 'name="reason"' in page
    assert "Save correction" in page
    # The form starts from the mark it corrects.
    assert "Good work.</textarea>" in page
    assert page.count(" checked>") == 2

    refused = client.post(mark_url(submission), mark_data(submission, [PASS, PASS], seen_version=1))
    assert refused.status_code == 400
    assert "Say why the mark is being changed." in html_of(refused)
    assert Mark.objects.count() == 1

    saved = client.post(
        mark_url(submission),
        mark_data(submission, [PASS, PASS], seen_version=1, reason="Missed the second page."),
    )
    assert saved.status_code == 302
    marks = list(Mark.objects.filter(submission=submission).order_by("pk"))
    assert [(m.kind, m.outcome) for m in marks] == [(MarkKind.FIRST, RESUBMIT), (MarkKind.CORRECTION, PASS)]
    assert marks[1].reason == "Missed the second page."
    submission.refresh_from_db()
    assert (submission.outcome, submission.mark_version) == (PASS, 2)
    history = html_of(client.get(mark_url(submission)))
    assert "Missed the second page." in history
    assert history.count('<li class="list-group-item') == 2


def test_submission_text_is_plain_text(client, trainer, submission):
    """The trainee's text is escaped and keeps its line breaks; Markdown is not rendered."""
    submission.text = "<script>alert(1)</script>\n\n**not bold**"
    submission.save(update_fields=["text"])
    client.force_login(trainer)
    page = html_of(client.get(mark_url(submission)))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<p>**not bold**</p>" in page


def test_an_assignment_without_a_rubric_cannot_be_marked(client, trainer, cohort):
    """Without a rubric the page says so and offers no form; a post is refused."""
    bare = SubmissionFactory(
        enrolment=EnrolmentFactory(cohort=cohort),
        assignment=AssignmentFactory(module__version=cohort.version),
    )
    client.force_login(trainer)
    page = html_of(client.get(mark_url(bare)))
    assert "This assignment has no rubric yet" in page
    assert 'name="feedback"' not in page
    assert client.post(mark_url(bare), {"feedback": "x", "seen_version": 0}).status_code == 400
    assert not Mark.objects.exists()


def test_second_markings_are_hidden_from_the_first_marker(client, seeded, staff, trainer, cohort, submission):
    """Moderation is blind: the first marker never sees a second marking; staff who moderate do.
    A second marker who has not marked yet sees no marks at all."""
    second = UserFactory(role=Role.TRAINER)
    cohort.trainers.add(second)
    mark = first_mark(submission, trainer)
    [moderation] = moderation_request(marks=[mark], second_marker=second, actor=staff)

    client.force_login(second)
    blind = html_of(client.get(mark_url(submission)))
    assert "Good work." not in blind
    assert "second-mark this work" in blind
    assert (
        client.post(mark_url(submission), mark_data(submission, [PASS, PASS], seen_version=1)).status_code
        == 400
    )

    moderation_mark(
        moderation=moderation,
        marker=second,
        levels=levels_chosen(submission.assignment, [FAIL, PASS]),
        feedback="A second opinion.",
    )
    client.force_login(trainer)
    page = html_of(client.get(mark_url(submission)))
    assert "Good work." in page
    assert "A second opinion." not in page
    client.force_login(staff)
    assert "A second opinion." in html_of(client.get(mark_url(submission)))


def test_marking_page_runs_a_fixed_number_of_queries(client, seeded, trainer, cohort, submission):
    """The marking page costs the same with one mark and one file as with five of each."""
    client.force_login(trainer)
    url = mark_url(submission)

    def add(marks: int, files: int):
        for _ in range(marks):
            mark_save(
                submission=submission,
                marker=trainer,
                levels=levels_chosen(submission.assignment, [PASS, RESUBMIT]),
                feedback="Again.",
                seen_version=Submission.objects.get(pk=submission.pk).mark_version,
                reason="Looked again.",
            )
        for i in range(files):
            SubmissionFile.objects.create(
                submission=submission,
                file=f"submissions/x/{i}.pdf",
                original_name=f"{i}.pdf",
                content_type="application/pdf",
                size=10,
            )

    add(1, 1)
    client.get(url)
    small = count_queries(client, url)
    add(4, 4)
    assert count_queries(client, url) == small
    assert small <= 15


def test_files_link_to_their_download(client, trainer, submission):
    """Each handed-in file is listed with a link to its protected download."""
    upload = SubmissionFile.objects.create(
        submission=submission,
        file="submissions/x/plan.pdf",
        original_name="plan.pdf",
        content_type="application/pdf",
        size=2048,
    )
    client.force_login(trainer)
    page = html_of(client.get(mark_url(submission)))
    assert f'<a href="{reverse("training:submission-file", args=[upload.pk])}">plan.pdf</a>' in page


# --- Who may mark what ----------------------------------------------------------------


def test_trainer_of_another_cohort_gets_404(client, seeded, submission):
    """Another cohort's trainer gets a 404 on the marking page and the gradebook, never data."""
    client.force_login(UserFactory(role=Role.TRAINER))
    cohort = submission.enrolment.cohort
    for url in (
        mark_url(submission),
        reverse("training:cohort-gradebook", args=[cohort.pk]),
        reverse("training:cohort-gradebook-csv", args=[cohort.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 404
        assert "Ada Lovelace" not in html_of(response)
    assert client.post(mark_url(submission), mark_data(submission, [PASS, PASS])).status_code == 404
    assert not Mark.objects.exists()


@pytest.mark.parametrize("role", [Role.TRAINER, Role.NATIONAL_STAFF])
def test_nobody_marks_their_own_work(client, seeded, role):
    """A trainer or staff member who is also a trainee gets a 404 on their own work, even in a
    cohort they run, and never finds it on the queue."""
    user = UserFactory(role=role)
    user_assign_role(user=user, role=Role.TRAINEE)
    elsewhere = CohortFactory(trainers=[user])
    assignment = AssignmentFactory(module__version=elsewhere.version)
    rubric_add(assignment)
    own = SubmissionFactory(enrolment=EnrolmentFactory(cohort=elsewhere, member=user), assignment=assignment)
    client.force_login(user)
    assert client.get(mark_url(own)).status_code == 404
    assert client.post(mark_url(own), mark_data(own, [PASS, PASS])).status_code == 404
    assert mark_url(own) not in html_of(client.get(reverse("training:marking-queue")))
    gradebook = html_of(client.get(reverse("training:cohort-gradebook", args=[elsewhere.pk])))
    assert mark_url(own) not in gradebook
    assert not Mark.objects.exists()


def all_urls(submission) -> list[str]:
    cohort = submission.enrolment.cohort
    return [
        reverse("training:marking-queue"),
        mark_url(submission),
        reverse("training:cohort-gradebook", args=[cohort.pk]),
        reverse("training:cohort-gradebook-csv", args=[cohort.pk]),
    ]


def test_trainees_get_403(client, submission):
    """A trainee (even the one whose work it is) is refused every marking page."""
    client.force_login(submission.enrolment.member)
    for url in all_urls(submission):
        assert client.get(url).status_code == 403
    assert client.post(mark_url(submission), mark_data(submission, [PASS, PASS])).status_code == 403
    assert not Mark.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, submission):
    """An anonymous visitor to any marking page is sent to sign in."""
    for url in all_urls(submission):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login") + "?next=")


def test_trainers_and_staff_find_marking_in_the_menu_and_the_gradebook_on_the_cohort(
    client, staff, trainer, cohort
):
    """The menu links to the queue for trainers and staff (not trainees); the cohort page to its gradebook."""
    for user in (trainer, staff):
        client.force_login(user)
        page = html_of(client.get(reverse("training:cohort-manage", args=[cohort.pk])))
        assert f'href="{reverse("training:marking-queue")}"' in page
        assert f'href="{reverse("training:cohort-gradebook", args=[cohort.pk])}"' in page
    client.force_login(UserFactory())
    assert reverse("training:marking-queue") not in html_of(client.get(reverse("training:my-training")))


# --- The queue ----------------------------------------------------------------------


def queue_names(page: str) -> list[str]:
    return re.findall(r'<th scope="row"[^>]*>\s*([^<]+?)\s*</th>', page)


def waiting(cohort, assignment, name: str, **kwargs) -> Submission:
    member = UserFactory(first_name=name, last_name="Trainee")
    return SubmissionFactory(
        enrolment=EnrolmentFactory(cohort=cohort, member=member), assignment=assignment, **kwargs
    )


def test_queue_lists_waiting_work_oldest_first(client, seeded, trainer, cohort, assignment):
    """Only handed-in, unmarked work of the trainer's cohorts, oldest first, with late and overdue flags."""
    now = timezone.now()
    waiting(cohort, assignment, "Newer", submitted_at=now - dt.timedelta(days=1))
    waiting(cohort, assignment, "Oldest", submitted_at=now - dt.timedelta(days=10), is_late=True)
    marked = waiting(cohort, assignment, "Marked")
    first_mark(marked, UserFactory(role=Role.NATIONAL_STAFF))
    waiting(cohort, assignment, "Drafting", status=SubmissionStatus.DRAFT, submitted_at=None)
    other = CohortFactory(name="Someone else's")
    waiting(other, AssignmentFactory(module__version=other.version), "Elsewhere")
    client.force_login(trainer)

    page = html_of(client.get(reverse("training:marking-queue")))

    assert queue_names(page) == ["Oldest Trainee", "Newer Trainee"]
    oldest = re.search(r"Oldest Trainee.*?</tr>", page, re.S).group(0)
    assert "Late" in oldest
    assert "Overdue" in oldest
    assert "10 days" in oldest
    newer = re.search(r"Newer Trainee.*?</tr>", page, re.S).group(0)
    assert "Late" not in newer
    assert "Overdue" not in newer
    assert "Someone else" not in page


def test_queue_filters_by_cohort_and_assignment_and_ignores_the_rest(
    client, seeded, trainer, cohort, assignment
):
    """Cohort and assignment filter the queue; unknown keys, malformed values and other
    trainers' cohorts are ignored, and only the trainer's cohorts are offered."""
    second_cohort = CohortFactory(trainers=[trainer], name="York autumn", version=cohort.version)
    essay = AssignmentFactory(module__version=cohort.version, title="Reflective essay")
    waiting(cohort, assignment, "Leeds")
    waiting(second_cohort, essay, "York")
    foreign = CohortFactory(name="Not yours")
    client.force_login(trainer)
    url = reverse("training:marking-queue")

    page = html_of(client.get(url))
    assert queue_names(page) == ["Leeds Trainee", "York Trainee"]
    assert "York autumn" in page
    assert "Not yours" not in page
    assert queue_names(html_of(client.get(url, {"cohort": second_cohort.pk}))) == ["York Trainee"]
    assert queue_names(html_of(client.get(url, {"assignment": assignment.pk}))) == ["Leeds Trainee"]
    page = html_of(client.get(url, {"cohort": cohort.pk, "status": "draft", "enrolment__member": 1}))
    assert queue_names(page) == ["Leeds Trainee"]
    for bad in ({"cohort": "abc"}, {"cohort": foreign.pk}, {"assignment": "1 OR 1=1"}, {"page": "x"}):
        assert queue_names(html_of(client.get(url, bad))) == ["Leeds Trainee", "York Trainee"]


def test_queue_is_paginated(client, seeded, trainer, cohort, assignment):
    """Twenty to a page; the next page keeps the filters."""
    start = timezone.now() - dt.timedelta(days=3)
    for i in range(23):
        waiting(cohort, assignment, f"T{i:02d}", submitted_at=start + dt.timedelta(minutes=i))
    client.force_login(trainer)
    url = reverse("training:marking-queue")
    page = html_of(client.get(url, {"cohort": cohort.pk}))
    assert len(queue_names(page)) == 20
    assert f"?cohort={cohort.pk}&amp;page=2" in page
    second = html_of(client.get(url, {"cohort": cohort.pk, "page": 2}))
    assert queue_names(second) == ["T20 Trainee", "T21 Trainee", "T22 Trainee"]


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_queue_runs_a_fixed_number_of_queries(client, seeded, trainer, cohort, assignment):
    """The queue's cost does not grow with the work waiting or the cohorts it comes from."""
    client.force_login(trainer)
    url = f"{reverse('training:marking-queue')}?cohort={cohort.pk}&assignment={assignment.pk}"
    for i in range(3):
        waiting(cohort, assignment, f"Small{i}")
    client.get(url)
    small = count_queries(client, url)
    for i in range(25):
        waiting(cohort, assignment, f"Large{i}", is_late=True)
    for other in CohortFactory.create_batch(3, trainers=[trainer]):
        waiting(other, AssignmentFactory(module__version=other.version), "Elsewhere")
    assert count_queries(client, url) == small
    assert small <= 12


# --- The gradebook ------------------------------------------------------------------


def held_session(cohort, days_ago: int, **kwargs):
    starts = timezone.now() - dt.timedelta(days=days_ago)
    return SessionFactory(cohort=cohort, starts_at=starts, ends_at=starts + dt.timedelta(hours=2), **kwargs)


def attended(session, enrolment, status=AttendanceStatus.PRESENT):
    Attendance.objects.create(
        session=session,
        enrolment=enrolment,
        status=status,
        source=AttendanceSource.REGISTER,
        recorded_at=timezone.now(),
    )


@pytest.fixture
def gradebook_cohort(trainer, cohort):
    """Two trainees (Zara enrolled, Adam completed) and two assignments in two modules, with work
    in every state, three held sessions, one cancelled and one to come."""
    version = cohort.version
    later = AssignmentFactory(module__version=version, module__position=2, title="Campaign plan")
    earlier = AssignmentFactory(module__version=version, module__position=1, title="Power map")
    zara = EnrolmentFactory(cohort=cohort, member=UserFactory(first_name="Zara", last_name="Zed"))
    adam = EnrolmentFactory(
        cohort=cohort,
        member=UserFactory(first_name="Adam", last_name="Ant"),
        status=EnrolmentStatus.COMPLETED,
    )
    EnrolmentFactory(cohort=cohort, status=EnrolmentStatus.WITHDRAWN, member__first_name="Gone")
    # Adam: resubmitted the power map (attempt 2, late, passed); the plan is waiting.
    SubmissionFactory(enrolment=adam, assignment=earlier, attempt=1, outcome=RESUBMIT)
    SubmissionFactory(enrolment=adam, assignment=earlier, attempt=2, outcome=PASS, is_late=True)
    SubmissionFactory(enrolment=adam, assignment=later)
    # Zara: a draft of the power map; nothing for the plan.
    SubmissionFactory(enrolment=zara, assignment=earlier, status=SubmissionStatus.DRAFT, submitted_at=None)
    sessions = [held_session(cohort, days) for days in (20, 13, 6)]
    held_session(cohort, 3, status=SessionStatus.CANCELLED)
    SessionFactory(cohort=cohort)  # still to come
    for session in sessions:
        attended(session, adam)
    attended(sessions[0], zara)
    attended(sessions[1], zara, AttendanceStatus.ABSENT)
    return cohort


def test_gradebook_shows_each_trainee_against_each_assignment(client, trainer, gradebook_cohort):
    """Rows by name, columns in module order; each cell the latest handed-in attempt's outcome
    (or waiting, draft, nothing), late flagged and linked; attendance over sessions held so far."""
    client.force_login(trainer)
    page = html_of(client.get(reverse("training:cohort-gradebook", args=[gradebook_cohort.pk])))

    assert "<caption>" in page
    assert "table-responsive" in page
    rows = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</tr>", page, re.S)
    assert [re.sub(r"<.*", "", row, flags=re.S).strip() for row in rows] == ["Adam Ant", "Zara Zed"]
    headers = re.findall(r'<th scope="col"[^>]*>([^<]+)', page)
    assert headers == ["Trainee", "Attendance", "Power map", "Campaign plan"]
    adam, zara = rows
    attendance, power_map, plan = re.findall(r"<td.*?</td>", adam, re.S)
    assert "3/3" in attendance
    assert "(100%)" in attendance
    assert ">Pass<" in power_map
    assert "attempt 2" in power_map
    assert "late" in power_map
    assert mark_url(Submission.objects.get(attempt=2)) in power_map
    assert ">Waiting<" in plan
    attendance, power_map, plan = re.findall(r"<td.*?</td>", zara, re.S)
    assert "1/3" in attendance
    assert "(33%)" in attendance
    assert "Draft" in power_map
    assert "/mark/" not in power_map
    assert "Nothing yet" in plan
    assert "Gone" not in page


def test_gradebook_csv_has_the_same_numbers(client, trainer, gradebook_cohort):
    """The CSV is an attachment with the page's cells and attendance numbers."""
    client.force_login(trainer)
    response = client.get(reverse("training:cohort-gradebook-csv", args=[gradebook_cohort.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="gradebook-leeds-spring-')
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [
        ["Trainee", "Present", "Sessions held", "Attendance %", "Power map", "Campaign plan"],
        ["Adam Ant", "3", "3", "100", "Pass (late)", "Waiting"],
        ["Zara Zed", "1", "3", "33", "Draft", ""],
    ]


def test_gradebook_csv_cannot_smuggle_formulas(client, trainer, cohort):
    """Names and titles that a spreadsheet would run as formulas are written as text."""
    AssignmentFactory(module__version=cohort.version, title="+SUM(A1:A9)")
    EnrolmentFactory(cohort=cohort, member=UserFactory(first_name='=HYPERLINK("http://evil")', last_name="X"))
    EnrolmentFactory(cohort=cohort, member=UserFactory(first_name="@cmd", last_name="Y"))
    client.force_login(trainer)
    response = client.get(reverse("training:cohort-gradebook-csv", args=[cohort.pk]))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][4] == "'+SUM(A1:A9)"
    assert sorted(row[0] for row in rows[1:]) == ['\'=HYPERLINK("http://evil") X', "'@cmd Y"]


@pytest.mark.parametrize(
    ("value", "written"),
    [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"), ("Ada", "Ada"), (3, 3), ("", "")],
)
def test_csv_safe(value, written):
    """Only text starting like a formula is changed."""
    assert csv_safe(value) == written


def test_gradebook_runs_the_same_queries_at_5x2_and_60x10(client, trainer, cohort):
    """The gradebook and its CSV cost the same for 5 trainees x 2 assignments as for 60 x 10."""
    version = cohort.version

    def grow(trainees: int, assignments: int):
        for _ in range(assignments - version.modules.count()):
            AssignmentFactory(module__version=version)
        work = list(version.modules.values_list("assignments", flat=True))
        enrolments = EnrolmentFactory.create_batch(trainees - cohort.enrolments.count(), cohort=cohort)
        session = held_session(cohort, days_ago=len(enrolments))
        Submission.objects.bulk_create(
            Submission(
                enrolment=enrolment,
                assignment_id=assignment_id,
                attempt=1,
                status=SubmissionStatus.SUBMITTED,
                submitted_at=timezone.now(),
                outcome=PASS if i % 2 else "",
                is_late=i % 3 == 0,
            )
            for enrolment in enrolments
            for i, assignment_id in enumerate(work)
        )
        for enrolment in enrolments:
            attended(session, enrolment)

    client.force_login(trainer)
    urls = [
        reverse(name, args=[cohort.pk])
        for name in ("training:cohort-gradebook", "training:cohort-gradebook-csv")
    ]
    grow(5, 2)
    for url in urls:
        client.get(url)
    small = [count_queries(client, url) for url in urls]
    grow(60, 10)
    page = html_of(client.get(urls[0]))
    assert page.count('<th scope="row">') == 60
    assert [count_queries(client, url) for url in urls] == small
    assert max(small) <= 13  # 12, and the audit entry of the view or export


# --- Two markers at once ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_markers_at_once_save_one_mark(seeded):
    """Two trainers save a first mark at the same moment: one mark is saved, the other is told."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks (make test uses it under CI=true)")
    markers = UserFactory.create_batch(2, role=Role.TRAINER)
    cohort = CohortFactory(trainers=markers)
    assignment = AssignmentFactory(module__version=cohort.version)
    rubric_add(assignment)
    submission = SubmissionFactory(enrolment=EnrolmentFactory(cohort=cohort), assignment=assignment)
    levels = levels_chosen(assignment, [PASS, PASS])
    start = threading.Barrier(len(markers))
    saved: list[Mark] = []
    errors: list[Exception] = []

    def mark(marker):
        try:
            start.wait()
            saved.append(
                mark_save(
                    submission=submission, marker=marker, levels=levels, feedback="Fine.", seen_version=0
                )
            )
        except ValidationError as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=mark, args=(marker,)) for marker in markers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(saved) == 1
    assert len(errors) == 1
    assert isinstance(errors[0], MarkConflict)
    assert Mark.objects.filter(submission=submission).count() == 1
    submission.refresh_from_db()
    assert (submission.mark_version, submission.outcome) == (1, PASS)


def test_staff_filter_the_queue_by_region_then_by_its_cohorts(client, seeded, cohort, assignment):
    """Staff run every cohort: the cohort list waits for a region, then shows that region's
    cohorts with work waiting; the region filters the queue too, and the page's queries stay
    fixed whatever the number of cohorts with work waiting."""
    staff = UserFactory(role=Role.NATIONAL_STAFF)
    other_region = Region.objects.exclude(pk=cohort.region_id).first()
    elsewhere = CohortFactory(name="Elsewhere spring", region=other_region, version=cohort.version)
    waiting(cohort, assignment, "Here")
    waiting(elsewhere, assignment, "There")
    client.force_login(staff)
    url = reverse("training:marking-queue")

    def cohort_options(page: str) -> list[str]:
        select = re.search(r'<select name="cohort".*?</select>', page, re.S).group(0)
        return re.findall(r"<option[^>]*>([^<]*)</option>", select)

    page = html_of(client.get(url))
    assert queue_names(page) == ["Here Trainee", "There Trainee"]
    assert cohort_options(page) == ["All cohorts (pick a region)"]

    page = html_of(client.get(url, {"region": cohort.region_id}))
    assert queue_names(page) == ["Here Trainee"]
    assert cohort_options(page) == ["All cohorts", cohort.name]
    assert f"region={cohort.region_id}" in page  # the mark links come back to the same list

    # A cohort chosen by link (from its own page) stays chosen without a region.
    assert queue_names(html_of(client.get(url, {"cohort": elsewhere.pk}))) == ["There Trainee"]
    bad_values = [{"region": "abc"}, {"region": 10**20}, {"cohort": 10**20}, {"region": "1 OR 1=1"}]
    bad_values += [{"region": "²"}, {"cohort": "²"}, {"region": -1}]
    for bad in bad_values:
        assert queue_names(html_of(client.get(url, bad))) == ["Here Trainee", "There Trainee"]

    client.get(url, {"region": cohort.region_id})
    small = count_queries(client, f"{url}?region={cohort.region_id}")
    for other in CohortFactory.create_batch(4, region=cohort.region, version=cohort.version):
        waiting(other, assignment, f"More{other.pk}")
    assert count_queries(client, f"{url}?region={cohort.region_id}") == small


def test_trainers_are_not_offered_a_region_filter(client, seeded, trainer, cohort, assignment):
    waiting(cohort, assignment, "Leeds")
    client.force_login(trainer)
    page = html_of(client.get(reverse("training:marking-queue")))
    assert 'name="region"' not in page
    assert f'<option value="{cohort.pk}">{cohort.name}</option>' in page


def test_queue_sorts_and_pages_on_the_one_table_component(client, seeded, trainer, cohort, assignment):
    """Oldest first, 20 a page; sortable by trainee; unknown keys and bad pages change nothing;
    the sort and page links keep the filters, and the mark links still carry them."""
    start = timezone.now() - dt.timedelta(days=3)
    for i in range(23):
        waiting(cohort, assignment, f"T{i:02d}", submitted_at=start + dt.timedelta(minutes=i))
    client.force_login(trainer)
    url = reverse("training:marking-queue")
    query = {"cohort": cohort.pk}
    listing_check(
        client,
        url,
        table="table-markingqueuetable",
        query=query,
        caption="23 submissions waiting (filtered)",
        sort="-trainee",
        per_page=20,
        total=23,
    )
    # Waiting less is ascending: the newest work first.
    page = html_of(client.get(url, {**query, "sort": "waiting"}))
    assert queue_names(page)[0] == "T22 Trainee"
    assert f"?cohort={cohort.pk}&amp;sort=-waiting" in page
    assert re.search(rf'/manage/submissions/\d+/mark/\?cohort={cohort.pk}"', page)
