"""Enrolments end by themselves: completed when the rule holds at the cohort's end (or a
certificate stands), not completed with what was lacking otherwise; a late pass completes
one that ended short, and issues its certificate."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certification.models import Certificate
from certification.selectors.staff import enrolment_list_one_step_away
from certification.services.certificates import (
    certificate_issue_if_complete,
    certificate_issue_manually,
    certificates_owed_issue,
)
from members.permissions import Role
from tests.factories import (
    CohortFactory,
    EnrolmentFactory,
    SubmissionFactory,
    UserFactory,
    levels_chosen,
)
from tests.training.april_course import ENDS, LONDON, STARTS, april_cohort, clock_mover, power_map
from training.models import CohortStatus, Enrolment, EnrolmentEvent, EnrolmentStatus, Outcome
from training.selectors.manage import cohort_enrolments_grouped, session_register_rows
from training.selectors.standing import enrolment_standing_list
from training.selectors.trainee import my_training_get
from training.services.attendance import register_save
from training.services.cohort_lifecycle import cohorts_move_by_dates
from training.services.completion import cohort_enrolments_settle, completion_note_for
from training.services.marking import mark_save
from training.services.milestones import milestones_refresh

pytestmark = pytest.mark.django_db
AFTER_THE_END = dt.datetime(2027, 5, 1, 0, 30, tzinfo=LONDON)


@pytest.fixture
def clock(time_machine):
    move = clock_mover(time_machine)
    move(dt.datetime(2027, 4, 25, 12, tzinfo=LONDON))  # the sessions are held; the end is near
    return move


@pytest.fixture
def course(seeded, clock):
    """A running cohort: three sessions held, one required assignment ("Power map"), a trainer
    and one enrolled trainee whose work waits to be marked. The rule asks 75%: all three."""
    trainer = UserFactory(role=Role.TRAINER)
    cohort, sessions = april_cohort(trainer=trainer)
    assignment = power_map(cohort, criteria=1)
    enrolment = EnrolmentFactory(cohort=cohort)
    submission = SubmissionFactory(enrolment=enrolment, assignment=assignment)
    return {
        "trainer": trainer,
        "cohort": cohort,
        "sessions": sessions,
        "enrolment": enrolment,
        "submission": submission,
    }


def attend(course, count, enrolment=None):
    enrolment = enrolment or course["enrolment"]
    for session in course["sessions"][:count]:
        register_save(session=session, marks={enrolment.pk: "present"}, actor=course["trainer"])


def mark(course, outcome, *, seen=0):
    submission = course["submission"]
    return mark_save(
        submission=submission,
        marker=course["trainer"],
        levels=levels_chosen(submission.assignment, [outcome]),
        feedback="Feedback.",
        seen_version=seen,
    )


def events_of(enrolment) -> list[tuple[str, str]]:
    return list(EnrolmentEvent.objects.filter(enrolment=enrolment).values_list("from_status", "to_status"))


def test_short_at_the_end_ends_not_completed_saying_what_was_lacking(course, clock):
    """2 of 3 sessions and the work not passed: not completed, with both reasons, one event."""
    attend(course, 2)
    clock(AFTER_THE_END)
    report = cohorts_move_by_dates()
    assert report.finished == [course["cohort"].pk]
    enrolment = course["enrolment"]
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.INCOMPLETE
    assert enrolment.get_status_display() == "Not completed"
    assert (
        enrolment.completion_note == "Attended 2 of 3 sessions (3 needed); 1 assignment not passed: Power map"
    )
    assert events_of(enrolment) == [(EnrolmentStatus.ENROLLED, EnrolmentStatus.INCOMPLETE)]
    event = EnrolmentEvent.objects.get(enrolment=enrolment)
    assert event.actor is None
    assert enrolment.completion_note in event.note


def test_the_rule_met_at_the_end_completes_it(course, clock, django_capture_on_commit_callbacks):
    """Certified while the cohort runs, the trainee stays enrolled (still taking part); the
    end completes them."""
    attend(course, 3)
    with django_capture_on_commit_callbacks(execute=True):
        mark(course, Outcome.PASS)
    assert Certificate.objects.filter(enrolment=course["enrolment"]).exists()
    course["enrolment"].refresh_from_db()
    assert course["enrolment"].status == EnrolmentStatus.ENROLLED

    clock(AFTER_THE_END)
    report = cohorts_move_by_dates()
    assert (report.completed, report.incomplete) == (1, 0)
    course["enrolment"].refresh_from_db()
    assert (course["enrolment"].status, course["enrolment"].completion_note) == (
        EnrolmentStatus.COMPLETED,
        "",
    )


def test_a_certificate_on_outside_evidence_completes_it_at_the_end(course, clock):
    """Staff issued by hand (the rule not met on the platform): the end completes it."""
    staff = UserFactory(role=Role.NATIONAL_STAFF)
    certificate_issue_manually(enrolment=course["enrolment"], actor=staff, reason="Attended elsewhere.")
    clock(AFTER_THE_END)
    cohorts_move_by_dates()
    course["enrolment"].refresh_from_db()
    assert course["enrolment"].status == EnrolmentStatus.COMPLETED


def test_settling_twice_changes_nothing(course, clock):
    attend(course, 1)
    clock(AFTER_THE_END)
    cohorts_move_by_dates()
    cohort = course["cohort"]
    cohort.refresh_from_db()
    again = cohort_enrolments_settle(cohort=cohort)
    assert (again.completed, again.incomplete) == ([], [])
    assert len(events_of(course["enrolment"])) == 1


def test_a_late_pass_completes_it_and_issues_the_certificate(
    course, clock, django_capture_on_commit_callbacks
):
    """Handed in before the end, passed after it: the certificate is issued as ever (the mark
    announces the standing change) and the enrolment, not completed at the end, completes."""
    attend(course, 3)
    clock(AFTER_THE_END)
    cohorts_move_by_dates()
    enrolment = course["enrolment"]
    enrolment.refresh_from_db()
    assert enrolment.completion_note == "1 assignment not passed: Power map"

    clock(AFTER_THE_END + dt.timedelta(days=3))
    with django_capture_on_commit_callbacks(execute=True):
        mark(course, Outcome.PASS)
    assert Certificate.objects.filter(enrolment=enrolment).exists()
    enrolment.refresh_from_db()
    assert (enrolment.status, enrolment.completion_note) == (EnrolmentStatus.COMPLETED, "")
    assert events_of(enrolment) == [
        (EnrolmentStatus.ENROLLED, EnrolmentStatus.INCOMPLETE),
        (EnrolmentStatus.INCOMPLETE, EnrolmentStatus.COMPLETED),
    ]
    # Issuing again completes nothing twice.
    certificate_issue_if_complete(enrolment_id=enrolment.pk)
    assert len(events_of(enrolment)) == 2


def test_a_late_pass_whose_receiver_failed_is_completed_by_the_owed_sweep(course, clock):
    """The pass committed but no certificate followed (the receiver never ran): the sweep
    issues the owed certificate, and issuing completes the enrolment."""
    attend(course, 3)
    clock(AFTER_THE_END)
    cohorts_move_by_dates()
    mark(course, Outcome.PASS)  # on-commit receivers do not run here
    assert not Certificate.objects.exists()
    assert certificates_owed_issue() == 1
    course["enrolment"].refresh_from_db()
    assert course["enrolment"].status == EnrolmentStatus.COMPLETED


def test_a_certificate_issued_by_hand_after_the_end_completes_it(course, clock):
    clock(AFTER_THE_END)
    cohorts_move_by_dates()
    staff = UserFactory(role=Role.NATIONAL_STAFF)
    certificate_issue_manually(enrolment=course["enrolment"], actor=staff, reason="Evidence from the region.")
    course["enrolment"].refresh_from_db()
    assert course["enrolment"].status == EnrolmentStatus.COMPLETED
    assert EnrolmentEvent.objects.filter(to_status=EnrolmentStatus.COMPLETED).get().actor == staff


def test_only_enrolled_trainees_are_settled(course, clock):
    """Withdrawn or waitlisted people are not completed or not completed by the end."""
    cohort = course["cohort"]
    withdrawn = EnrolmentFactory(cohort=cohort, status=EnrolmentStatus.WITHDRAWN)
    waitlisted = EnrolmentFactory(cohort=cohort, status=EnrolmentStatus.WAITLISTED)
    clock(AFTER_THE_END)
    cohorts_move_by_dates()
    withdrawn.refresh_from_db()
    waitlisted.refresh_from_db()
    assert (withdrawn.status, waitlisted.status) == (EnrolmentStatus.WITHDRAWN, EnrolmentStatus.WAITLISTED)


def test_the_note_counts_and_names_what_is_missing(course):
    standing = enrolment_standing_list([course["enrolment"].pk])[course["enrolment"].pk]
    assert completion_note_for(standing) == (
        "Attended 0 of 3 sessions (3 needed); 1 assignment not passed: Power map"
    )
    standing.sessions_present, standing.passed = 3, {course["submission"].assignment_id}
    assert completion_note_for(standing) == ""
    standing.sessions_total = 0
    assert completion_note_for(standing) == "The cohort held no sessions"


def test_settling_runs_fixed_reads_and_three_writes_per_trainee(course, clock):
    """The reads do not grow with the cohort (the cohort, its enrolments, the rule's five, and
    the webhook subscriptions); each trainee not completed costs its note, its status and its
    event."""

    def settle_queries(trainees: int) -> int:
        cohort = CohortFactory(
            starts_on=STARTS,
            ends_on=ENDS,
            enrolment_opens_on=dt.date(2027, 3, 1),
            enrolment_closes_on=dt.date(2027, 3, 25),
            status=CohortStatus.FINISHED,
        )
        for _ in range(trainees):
            EnrolmentFactory(cohort=cohort)
        with CaptureQueriesContext(connection) as queries:
            cohort_enrolments_settle(cohort=cohort)
        return len(queries)

    clock(AFTER_THE_END)
    settle_queries(1)  # the webhook subscriptions are read once, then kept for a while
    small, large = settle_queries(2), settle_queries(6)
    assert large - small == 4 * 3
    assert small - 2 * 3 == 9  # 7 reads, and the savepoint around them


# --- What reads the statuses --------------------------------------------------------------------


def test_not_completed_trainees_keep_their_pages_and_their_note_reaches_my_training(course, clock):
    attend(course, 2)
    clock(AFTER_THE_END)
    cohorts_move_by_dates()
    member = course["enrolment"].member
    page = my_training_get(user=member)
    assert [e.pk for e in page.completed] == [course["enrolment"].pk]  # ended: completed or not
    assert page.completed[0].status == EnrolmentStatus.INCOMPLETE
    assert page.completed[0].completion_note.startswith("Attended 2 of 3 sessions")
    assert not page.is_empty


def test_the_cohort_page_lists_who_did_not_complete_and_why(client, course, clock):
    attend(course, 2)
    clock(AFTER_THE_END)
    cohorts_move_by_dates()
    groups = cohort_enrolments_grouped(cohort=course["cohort"])
    assert [e.pk for e in groups.incomplete] == [course["enrolment"].pk]
    client.force_login(course["trainer"])
    page = client.get(reverse("training:cohort-manage", args=[course["cohort"].pk])).content.decode()
    assert "Not completed" in page
    assert "Attended 2 of 3 sessions (3 needed)" in page


def test_the_register_can_still_be_corrected_after_the_end(course, clock, django_capture_on_commit_callbacks):
    """A trainee not completed is still on the register; the missing session recorded after
    the end, with the work passed, completes them."""
    attend(course, 2)
    with django_capture_on_commit_callbacks(execute=True):
        mark(course, Outcome.PASS)
    clock(AFTER_THE_END)
    cohorts_move_by_dates()
    enrolment = course["enrolment"]
    last = course["sessions"][2]
    assert [row.enrolment.pk for row in session_register_rows(session=last)] == [enrolment.pk]
    with django_capture_on_commit_callbacks(execute=True):
        register_save(session=last, marks={enrolment.pk: "present"}, actor=course["trainer"])
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.COMPLETED


def test_staff_see_those_the_end_left_one_step_short(course, clock):
    attend(course, 2)
    mark(course, Outcome.PASS)
    clock(AFTER_THE_END)
    cohorts_move_by_dates()
    assert [s.enrolment.pk for s in enrolment_list_one_step_away()] == [course["enrolment"].pk]


def test_milestones_stay_right_for_an_enrolment_that_ended(course, clock):
    """Ending writes no milestone, and recomputing them from the rows finds nothing to change."""
    enrolment = course["enrolment"]
    enrolled_at = dt.datetime(2027, 3, 10, 9, tzinfo=LONDON)
    EnrolmentEvent.objects.create(enrolment=enrolment, to_status=EnrolmentStatus.ENROLLED, at=enrolled_at)
    Enrolment.objects.filter(pk=enrolment.pk).update(first_enrolled_at=enrolled_at)
    attend(course, 1)
    clock(AFTER_THE_END)
    cohorts_move_by_dates()
    assert milestones_refresh(enrolment_ids=[enrolment.pk]) == 0
    enrolment.refresh_from_db()
    assert enrolment.first_enrolled_at == enrolled_at
    assert enrolment.first_attended_at is not None
