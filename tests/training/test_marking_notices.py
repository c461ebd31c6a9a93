"""Marking's hand-offs through the notice ledger: the trainee hears that their work was
marked, a second marker that work waits for them, a first marker what moderation found.

Each is written once on its event, sent once (not again when the request is repeated or the
task re-run), to the right person, with a link that opens for them; a notice that stopped
being true before it went is skipped. Pages through the test client; sending inline (tasks
run eagerly) once the transaction commits.
"""

import datetime as dt
import re

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from members.permissions import Role
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

# The worker and its helpers, shared with the ledger's own worker tests.
from tests.training.test_notices_worker import (  # noqa: F401 (fixtures)
    all_sent,
    assert_once_each,
    celery_worker,
    mail_dir,
    sweep_through_broker,
    wait_until,
    worker_database_url,
)
from training.models import (
    AssignmentDueDate,
    EnrolmentStatus,
    Notice,
    NoticeKind,
    NoticeStatus,
    Outcome,
    SubmissionStatus,
)
from training.notices_marking import (
    moderation_outcome_write_letters,
    second_marking_write_letters,
    work_marked_write_letters,
)
from training.services.attendance import register_save
from training.services.marking import mark_save, moderation_mark, moderation_request, moderation_settle
from training.services.notices import notices_send
from training.tasks import notices_sweep

pytestmark = pytest.mark.django_db

PASS, RESUBMIT, FAIL = Outcome.PASS, Outcome.RESUBMIT, Outcome.FAIL


@pytest.fixture
def staff(seeded):
    return UserFactory(role=Role.NATIONAL_STAFF, first_name="Sam")


@pytest.fixture
def trainer(seeded):
    return UserFactory(role=Role.TRAINER, first_name="Tess")


@pytest.fixture
def second(seeded):
    return UserFactory(role=Role.TRAINER, first_name="Ben")


@pytest.fixture
def cohort(trainer):
    return CohortFactory(trainers=[trainer], name="Leeds spring")


@pytest.fixture
def assignment(cohort):
    assignment = AssignmentFactory(module__version=cohort.version, title="Power map", max_attempts=3)
    rubric_add(assignment, 2)
    return assignment


def handed_in(cohort, assignment, *, attempt=1, member=None):
    enrolment = EnrolmentFactory(cohort=cohort, **({"member": member} if member else {}))
    return SubmissionFactory(enrolment=enrolment, assignment=assignment, attempt=attempt)


@pytest.fixture
def submission(cohort, assignment):
    return handed_in(cohort, assignment, member=UserFactory(first_name="Ada"))


def mark(submission, marker, outcomes=(PASS, PASS), *, seen_version=0, reason="", feedback="Good work."):
    return mark_save(
        submission=submission,
        marker=marker,
        levels=levels_chosen(submission.assignment, outcomes),
        feedback=feedback,
        seen_version=seen_version,
        reason=reason,
    )


def form_data(submission, outcomes, **extra) -> dict:
    data = {
        f"criterion_{criterion}": level
        for criterion, level in levels_chosen(submission.assignment, outcomes).items()
    }
    return {**data, **extra}


def outbox_to(member) -> list:
    return [message for message in mail.outbox if message.to == [member.email]]


def html_of(message) -> str:
    [(content, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return content


def links_in(message) -> list[str]:
    """The site's links in the text part; each also in the HTML part, absolute."""
    urls = re.findall(re.escape(settings.SITE_URL) + r"/[^\s\"]*", message.body)
    html = html_of(message)
    for url in urls:
        if "/emails/" not in url:  # preferences and unsubscribe, tested with the ledger
            assert f'href="{url}"' in html
    return [url for url in urls if "/emails/" not in url]


def follow(client, user, url: str):
    """Open a link from an email as its recipient."""
    client.force_login(user)
    path = url.removeprefix(settings.SITE_URL).split("#", 1)[0]
    return client.get(path)


def setup_sent() -> None:
    """Send what the test's setup wrote (its marks' notices), so that what follows is counted
    from an empty outbox."""
    notices_sweep()
    mail.outbox.clear()


def notices_of(kind, **filters) -> list[Notice]:
    return list(Notice.objects.filter(kind=kind, **filters).order_by("pk"))


# --- Work marked ---------------------------------------------------------------------------


def test_a_mark_tells_the_trainee_once_with_a_link_to_the_feedback(
    client, trainer, submission, django_capture_on_commit_callbacks
):
    """Saving a mark on the page writes one notice to the trainee, sent once the mark commits;
    the same form sent again changes nothing and sends nothing, nor does re-running the task."""
    trainee = submission.enrolment.member
    url = reverse("training:submission-mark", args=[submission.pk])
    data = form_data(submission, [PASS, PASS], feedback="Strong <map> & clear.", seen_version=0)
    client.force_login(trainer)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, data).status_code == 302

    [notice] = notices_of(NoticeKind.WORK_MARKED)
    assert (notice.recipient, notice.subject, notice.status) == (
        trainee,
        f"submission:{submission.pk}:v1",
        "sent",
    )
    [message] = mail.outbox
    assert message.to == [trainee.email]
    assert message.subject == "[Future Leaders] Your work is marked: Power map, Pass"
    assert 'attempt 1 of "Power map" (Leeds spring)' in message.body
    assert "You have passed this assignment" in message.body
    assert "Stop these emails" not in message.body  # always sent: no unsubscribe
    [link] = links_in(message)
    assert link.endswith(f"/assignments/{submission.assignment_id}/#attempt-{submission.pk}")
    page = follow(client, trainee, link)
    assert page.status_code == 200
    assert f'id="attempt-{submission.pk}"' in page.content.decode()
    assert "Strong &lt;map&gt; &amp; clear." in page.content.decode()

    client.force_login(trainer)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, data).status_code == 409  # someone (they) marked first
    notices_send([notice.pk])
    notices_sweep()
    assert len(mail.outbox) == 1
    assert len(notices_of(NoticeKind.WORK_MARKED)) == 1


@pytest.mark.django_db(transaction=True)
def test_the_pass_that_completes_is_told_before_the_certificate_it_brings(trainer, cohort, submission):
    """The trainee reads that their work passed, then that it earned the certificate: the
    mark's notice is asked for before the standing change that issues the certificate (a real
    commit, as the certificate's own notice goes as soon as its issuing commits)."""
    session = SessionFactory(cohort=cohort)
    register_save(
        session=session, marks={submission.enrolment_id: "present"}, actor=trainer, now=session.starts_at
    )
    mark(submission, trainer)
    assert [message.subject for message in outbox_to(submission.enrolment.member)] == [
        "[Future Leaders] Your work is marked: Power map, Pass",
        f"[Future Leaders] Your certificate: {cohort.version.programme.title}",
    ]


def test_a_resubmit_names_the_due_date_and_the_next_attempt(
    client, trainer, cohort, submission, django_capture_on_commit_callbacks
):
    """The next attempt is due on the resubmission's own date (by default RESUBMIT_DAYS from
    today, the cohort's date being sooner), named in the email."""
    cohort_due_on = timezone.localdate() + dt.timedelta(days=10)
    AssignmentDueDate.objects.create(cohort=cohort, assignment=submission.assignment, due_on=cohort_due_on)
    with django_capture_on_commit_callbacks(execute=True):
        mark(submission, trainer, (PASS, RESUBMIT), feedback="Name the decision makers.")
    due_on = timezone.localdate() + dt.timedelta(days=settings.RESUBMIT_DAYS)
    [message] = outbox_to(submission.enrolment.member)
    assert message.subject == "[Future Leaders] Your work is marked: Power map, Resubmit"
    expected = (
        f"hand in attempt 2 on the assignment page (2 attempts left). It is due by {due_on:%A} {due_on.day}"
    )
    assert expected in message.body
    assert f"{due_on:%B %Y}" in message.body
    assert "due by" in html_of(message)
    [link] = links_in(message)
    assert follow(client, submission.enrolment.member, link).status_code == 200


def test_a_resubmit_after_the_cohorts_date_is_not_late_from_the_start(
    trainer, cohort, submission, django_capture_on_commit_callbacks
):
    """The cohort's date has passed, but the resubmission has its own: the email names it and
    does not say the work will be late."""
    past = timezone.localdate() - dt.timedelta(days=3)
    AssignmentDueDate.objects.create(cohort=cohort, assignment=submission.assignment, due_on=past)
    with django_capture_on_commit_callbacks(execute=True):
        mark(submission, trainer, (RESUBMIT, RESUBMIT))
    [message] = mail.outbox
    due_on = timezone.localdate() + dt.timedelta(days=settings.RESUBMIT_DAYS)
    assert f"It is due by {due_on:%A} {due_on.day}" in message.body
    assert "will be marked as late" not in message.body


def test_a_resubmit_on_the_last_attempt_says_none_are_left(
    trainer, cohort, assignment, django_capture_on_commit_callbacks
):
    assignment.max_attempts = 1
    assignment.save(update_fields=["max_attempts"])
    submission = handed_in(cohort, assignment)
    with django_capture_on_commit_callbacks(execute=True):
        mark(submission, trainer, (RESUBMIT, PASS))
    [message] = mail.outbox
    assert "You have used all 1 attempts for this assignment." in message.body
    assert "hand in attempt 2" not in message.body


def test_a_fail_says_the_assignment_is_closed(trainer, submission, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        mark(submission, trainer, (FAIL, PASS))
    [message] = mail.outbox
    assert message.subject == "[Future Leaders] Your work is marked: Power map, Fail"
    assert "closed without a pass" in message.body


def test_a_mark_replaced_before_it_was_sent_is_skipped_and_the_new_one_goes(trainer, submission):
    """The broker was slow: a correction came before the first notice went. Only the
    correction's outcome reaches the trainee; the stale notice says why it was not sent."""
    mark(submission, trainer, (PASS, PASS))  # no commit in this test: nothing sent yet
    mark(submission, trainer, (RESUBMIT, PASS), seen_version=1, reason="Missed the second page.")
    stale, current = notices_of(NoticeKind.WORK_MARKED)
    notices_sweep()
    stale.refresh_from_db()
    current.refresh_from_db()
    assert stale.status == NoticeStatus.SKIPPED
    assert "A later mark replaced this one" in stale.outcome
    assert current.status == NoticeStatus.SENT
    [message] = mail.outbox
    assert message.subject == "[Future Leaders] Your mark has changed: Power map, Resubmit"
    assert "It was Pass; it is now Resubmit." in message.body


def test_no_mark_notice_reaches_a_trainee_who_left_the_cohort(trainer, submission):
    mark(submission, trainer)
    submission.enrolment.status = EnrolmentStatus.WITHDRAWN
    submission.enrolment.save(update_fields=["status"])
    notices_sweep()
    [notice] = notices_of(NoticeKind.WORK_MARKED)
    assert notice.status == NoticeStatus.SKIPPED
    assert mail.outbox == []


def test_work_marked_letters_cost_the_same_for_one_or_many(trainer, cohort, assignment):
    def written(count) -> int:
        for _ in range(count):
            mark(handed_in(cohort, assignment), trainer, (PASS, RESUBMIT))
        batch = notices_of(NoticeKind.WORK_MARKED, status=NoticeStatus.PENDING)
        with CaptureQueriesContext(connection) as queries:
            letters = work_marked_write_letters(batch)
        assert all(not isinstance(letter, str) for letter in letters.values())
        Notice.objects.filter(pk__in=[n.pk for n in batch]).update(status=NoticeStatus.SENT)
        return len(queries)

    assert written(1) == written(6) == 4


# --- Second marking waiting -----------------------------------------------------------------


def test_a_sample_tells_the_second_marker_once_in_one_email(
    client, staff, trainer, second, cohort, assignment, django_capture_on_commit_callbacks
):
    """Three marks sampled for one second marker: one email listing all three with their
    attempt, each link opening their second-marking page."""
    marked = [handed_in(cohort, assignment, attempt=attempt) for attempt in (1, 1, 2)]
    for submission in marked:
        mark(submission, trainer)
    setup_sent()
    client.force_login(staff)
    data = {"first_marker": trainer.pk, "second_marker": second.pk, "size": 3}
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("training:moderation-sample"), data).status_code == 302

    [notice] = notices_of(NoticeKind.SECOND_MARKING)
    assert notice.recipient == second
    [message] = mail.outbox
    assert message.to == [second.email]
    assert message.subject == "[Future Leaders] 3 pieces of work waiting for your second mark"
    assert message.body.count("Power map (Leeds spring, attempt") == 3
    assert "attempt 2" in message.body
    assert "Stop these emails" in message.body  # second-marking notices may be turned off
    links = links_in(message)
    assert len(links) == 4  # one per piece of work, and the list
    for link in links:
        assert follow(client, second, link).status_code == 200

    # Nothing left to sample: refused, and nothing more is written or sent.
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("training:moderation-sample"), data).status_code == 400
    notices_send([notice.pk])
    notices_sweep()
    assert len(mail.outbox) == 1
    assert len(notices_of(NoticeKind.SECOND_MARKING)) == 1


def test_one_mark_waiting_links_straight_to_it(
    client, staff, trainer, second, submission, django_capture_on_commit_callbacks
):
    first = mark(submission, trainer)
    setup_sent()
    with django_capture_on_commit_callbacks(execute=True):
        [moderation] = moderation_request(marks=[first], second_marker=second, actor=staff)
    [message] = mail.outbox
    assert message.subject == "[Future Leaders] Second marking waiting: Power map"
    path = reverse("training:moderation-second-mark", args=[moderation.pk])
    assert f'href="{settings.SITE_URL}{path}" style="display:inline-block' in html_of(message)
    assert follow(client, second, settings.SITE_URL + path).status_code == 200


def test_work_second_marked_before_the_notice_went_is_not_announced(staff, trainer, second, submission):
    first = mark(submission, trainer)
    [moderation] = moderation_request(marks=[first], second_marker=second, actor=staff)
    moderation_mark(
        moderation=moderation,
        marker=second,
        levels=levels_chosen(submission.assignment, [PASS, PASS]),
        feedback="Fine.",
    )
    Notice.objects.exclude(kind=NoticeKind.SECOND_MARKING).update(status=NoticeStatus.SENT)
    notices_sweep()
    [notice] = notices_of(NoticeKind.SECOND_MARKING)
    assert notice.status == NoticeStatus.SKIPPED
    assert "Nothing of this request waits" in notice.outcome
    assert mail.outbox == []


def test_second_marking_letters_cost_the_same_for_one_or_many(staff, trainer, cohort, assignment):
    def written(count) -> int:
        marks = [mark(handed_in(cohort, assignment), trainer) for _ in range(count)]
        for _ in range(count):
            moderation_request(marks=[marks.pop()], second_marker=UserFactory(role=Role.TRAINER), actor=staff)
        batch = notices_of(NoticeKind.SECOND_MARKING, status=NoticeStatus.PENDING)
        with CaptureQueriesContext(connection) as queries:
            letters = second_marking_write_letters(batch)
        assert all(not isinstance(letter, str) for letter in letters.values())
        Notice.objects.filter(pk__in=[n.pk for n in batch]).update(status=NoticeStatus.SENT)
        return len(queries)

    assert written(1) == written(5) == 2


# --- The moderation outcome and the second marker's page ------------------------------------


def second_mark_url(moderation) -> str:
    return reverse("training:moderation-second-mark", args=[moderation.pk])


def test_an_agreeing_second_mark_tells_the_first_marker_once_and_shows_both_marks(
    client, staff, trainer, second, submission, django_capture_on_commit_callbacks
):
    """The second marker saves their mark on the page: they land on it again, now showing the
    first mark beside theirs; the first marker hears (once) that the marks agreed."""
    first = mark(submission, trainer, feedback="First view of the map.")
    [moderation] = moderation_request(marks=[first], second_marker=second, actor=staff)
    setup_sent()
    url = second_mark_url(moderation)
    client.force_login(second)
    assert "First view of the map." not in client.get(url).content.decode()  # blind
    data = form_data(submission, [PASS, PASS], feedback="Second view.", seen_version=0)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    assert response.status_code == 302
    assert response.url == url
    page = client.get(url).content.decode()
    assert "The two marks side by side" in page
    assert "First view of the map." in page
    assert "Second view." in page
    assert "You reached the same outcome as the first marker: Pass." in page
    assert 'name="feedback"' not in page

    [notice] = notices_of(NoticeKind.MODERATION_OUTCOME)
    assert (notice.recipient, notice.subject) == (trainer, f"moderation:{moderation.pk}:agreed")
    [message] = mail.outbox
    assert message.to == [trainer.email]
    assert message.subject == "[Future Leaders] Second marking agreed with your mark: Power map"
    assert "The second marker reached the same outcome as you: Pass." in message.body
    [link] = links_in(message)
    assert link.endswith("#history-heading")
    assert follow(client, trainer, link).status_code == 200

    # The same form again: nothing saved, written or sent; the page still compares.
    client.force_login(second)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, data).status_code == 302
    notices_send([notice.pk])
    notices_sweep()
    assert len(mail.outbox) == 1
    assert len(notices_of(NoticeKind.MODERATION_OUTCOME)) == 1
    assert not notices_of(NoticeKind.WORK_MARKED, status=NoticeStatus.PENDING)


def test_a_disagreement_waits_for_staff_and_settling_tells_both(
    client, staff, trainer, second, submission, django_capture_on_commit_callbacks
):
    """A second mark that differs tells nobody yet; staff settle, and the first marker hears
    the final mark while the trainee hears their mark changed."""
    first = mark(submission, trainer)
    [moderation] = moderation_request(marks=[first], second_marker=second, actor=staff)
    setup_sent()
    client.force_login(second)
    url = second_mark_url(moderation)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, form_data(submission, [RESUBMIT, PASS], feedback="Thin evidence.", seen_version=0))
    assert "The outcomes differ (first mark: Pass; yours: Resubmit)" in client.get(url).content.decode()
    assert mail.outbox == []
    assert not notices_of(NoticeKind.MODERATION_OUTCOME)

    with django_capture_on_commit_callbacks(execute=True):
        moderation_settle(
            moderation=moderation,
            actor=staff,
            levels=levels_chosen(submission.assignment, [RESUBMIT, PASS]),
            feedback="Add the evidence for each name.",
            reason="The second marker is right about the evidence.",
        )
    [to_marker] = outbox_to(trainer)
    assert to_marker.subject == "[Future Leaders] Your mark was changed after moderation: Power map"
    assert "Resubmit (your mark was Pass)" in to_marker.body
    assert "The second marker is right about the evidence." in to_marker.body
    [link] = links_in(to_marker)
    assert follow(client, trainer, link).status_code == 200
    trainee = submission.enrolment.member
    [to_trainee] = outbox_to(trainee)
    assert to_trainee.subject == "[Future Leaders] Your mark has changed: Power map, Resubmit"
    [link] = links_in(to_trainee)
    assert "Add the evidence for each name." in follow(client, trainee, link).content.decode()


def test_moderation_outcome_letters_cost_the_same_for_one_or_many(staff, trainer, cohort, assignment):
    def written(count) -> int:
        for _ in range(count):
            second = UserFactory(role=Role.TRAINER)
            submission = handed_in(cohort, assignment)
            [moderation] = moderation_request(
                marks=[mark(submission, trainer)], second_marker=second, actor=staff
            )
            moderation_mark(
                moderation=moderation,
                marker=second,
                levels=levels_chosen(assignment, [PASS, PASS]),
                feedback="Agreed.",
            )
        batch = notices_of(NoticeKind.MODERATION_OUTCOME, status=NoticeStatus.PENDING)
        with CaptureQueriesContext(connection) as queries:
            letters = moderation_outcome_write_letters(batch)
        assert all(not isinstance(letter, str) for letter in letters.values())
        Notice.objects.filter(pk__in=[n.pk for n in batch]).update(status=NoticeStatus.SENT)
        return len(queries)

    assert written(1) == written(5) == 3


# --- The second-marking list ----------------------------------------------------------------


def test_the_second_marking_list_names_each_attempt_at_a_fixed_cost(
    client, staff, trainer, second, cohort, assignment
):
    client.force_login(second)
    url = reverse("training:second-marking-list")

    def add(count, attempt):
        marks = [mark(handed_in(cohort, assignment, attempt=attempt), trainer) for _ in range(count)]
        moderation_request(marks=marks, second_marker=second, actor=staff)

    def cost() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        return len(queries)

    add(1, attempt=2)
    page = client.get(url).content.decode()
    assert "Attempt 2; Leeds spring" in page
    few = cost()
    add(6, attempt=1)
    assert cost() == few
    page = client.get(url).content.decode()
    assert page.count("Attempt 1; Leeds spring") == 6
    assert "Attempt 2; Leeds spring" in page


def test_a_withdrawn_attempt_keeps_its_number_in_the_resubmit_notice(
    trainer, cohort, assignment, django_capture_on_commit_callbacks
):
    """Attempt 1 withdrawn, attempt 2 marked resubmit: the next is attempt 3, with two left."""
    submission = handed_in(cohort, assignment, attempt=2)
    SubmissionFactory(
        enrolment=submission.enrolment,
        assignment=assignment,
        attempt=1,
        status=SubmissionStatus.WITHDRAWN,
        withdrawn_at=timezone.now(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        mark(submission, trainer, (RESUBMIT, PASS))
    [message] = mail.outbox
    assert "hand in attempt 3 on the assignment page (2 attempts left)" in message.body


# --- Through a real worker (PostgreSQL and Redis; skipped without them, required under CI) ------


@pytest.mark.django_db(transaction=True)
def test_marking_hand_offs_go_once_each_through_a_real_worker(celery_worker, mail_dir, seeded):  # noqa: F811
    """Committed for real: the mark, the request for a second mark and the agreeing second
    mark each reach their one recipient once through Redis and a worker; a sweep after sends
    nothing more."""
    trainer = UserFactory(role=Role.TRAINER)
    second = UserFactory(role=Role.TRAINER)
    staff = UserFactory(role=Role.NATIONAL_STAFF)
    cohort = CohortFactory(trainers=[trainer])
    assignment = AssignmentFactory(module__version=cohort.version)
    rubric_add(assignment, 2)
    submission = handed_in(cohort, assignment)
    celery_worker.start()

    first = mark(submission, trainer, (PASS, PASS))
    [moderation] = moderation_request(marks=[first], second_marker=second, actor=staff)
    # The second marker marks once told (marked sooner, the request's notice is not sent at all).
    wait_until(
        all_sent(kind=NoticeKind.SECOND_MARKING), what="the second marker is told", worker=celery_worker
    )
    moderation_mark(
        moderation=moderation,
        marker=second,
        levels=levels_chosen(assignment, [PASS, PASS]),
        feedback="Agreed.",
    )
    kinds = [NoticeKind.WORK_MARKED, NoticeKind.SECOND_MARKING, NoticeKind.MODERATION_OUTCOME]
    wait_until(all_sent(kind__in=kinds), what="the three notices are sent", worker=celery_worker)
    sent = Notice.objects.filter(kind__in=kinds).select_related("recipient")
    assert {(n.kind, n.recipient_id) for n in sent} == {
        (NoticeKind.WORK_MARKED, submission.enrolment.member_id),
        (NoticeKind.SECOND_MARKING, second.pk),
        (NoticeKind.MODERATION_OUTCOME, trainer.pk),
    }
    assert_once_each(mail_dir, sent)

    assert sweep_through_broker() == {"written": 0, "waiting": 0, "enqueued": 0}
    celery_worker.drain()
    assert_once_each(mail_dir, sent)
