"""Submissions, marks and moderation, called directly through the services."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from members.permissions import Role
from tests.factories import (
    PDF,
    PNG,
    AssignmentFactory,
    EnrolmentFactory,
    SubmissionFactory,
    UserFactory,
    levels_chosen,
    rubric_add,
)
from training.models import (
    AssignmentDueDate,
    CohortStatus,
    Mark,
    MarkKind,
    Outcome,
    Submission,
    SubmissionStatus,
)
from training.rubric import outcome_from_levels
from training.services.marking import (
    FEEDBACK_MAX,
    MarkConflict,
    mark_save,
    moderation_mark,
    moderation_request,
    moderation_sample,
    moderation_settle,
)
from training.services.submissions import submission_draft_save, submission_submit, submission_withdraw
from training.signals import standing_changed

pytestmark = pytest.mark.django_db

PASS, RESUBMIT, FAIL = Outcome.PASS, Outcome.RESUBMIT, Outcome.FAIL


@pytest.fixture
def enrolment(seeded):
    return EnrolmentFactory()


@pytest.fixture
def assignment(enrolment):
    assignment = AssignmentFactory(module__version=enrolment.cohort.version, max_attempts=2)
    rubric_add(assignment, criteria=2)
    return assignment


@pytest.fixture
def trainer(enrolment):
    trainer = UserFactory(role=Role.TRAINER)
    enrolment.cohort.trainers.add(trainer)
    return trainer


def hand_in(enrolment, assignment, text="My reflection.", **kwargs):
    draft = submission_draft_save(enrolment=enrolment, assignment=assignment, text=text, **kwargs)
    return submission_submit(submission=draft)


def mark(submission, trainer, outcomes, feedback="Clear and specific.", **kwargs):
    submission.refresh_from_db()
    return mark_save(
        submission=submission,
        marker=trainer,
        levels=levels_chosen(submission.assignment, outcomes),
        feedback=feedback,
        seen_version=submission.mark_version,
        **kwargs,
    )


# --- The rule ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("levels", "outcome"),
    [
        ([PASS, PASS, PASS], PASS),
        ([PASS, RESUBMIT, PASS], RESUBMIT),
        ([RESUBMIT, FAIL, PASS], FAIL),
        ([FAIL], FAIL),
    ],
)
def test_the_weakest_level_decides_the_outcome(levels, outcome):
    """Work passes only when every criterion reaches a passing level."""
    assert outcome_from_levels(levels) == outcome


def test_the_rule_needs_a_level():
    with pytest.raises(ValueError, match="at least one level"):
        outcome_from_levels([])


# --- Submitting ----------------------------------------------------------------------


def test_a_draft_is_kept_then_handed_in(enrolment, assignment):
    """A draft can be saved twice (one attempt), then handed in; on time it is not late."""
    draft = submission_draft_save(enrolment=enrolment, assignment=assignment, text="First thoughts")
    again = submission_draft_save(enrolment=enrolment, assignment=assignment, text="Better thoughts")
    assert again.pk == draft.pk
    handed_in = submission_submit(submission=again)
    assert handed_in.status == SubmissionStatus.SUBMITTED
    assert handed_in.text == "Better thoughts"
    assert handed_in.attempt == 1
    assert handed_in.is_late is False


def test_files_are_checked_by_content_and_kept(enrolment, assignment):
    """A real PDF is kept with its type; a PNG named .pdf is refused and nothing is saved."""
    assignment.accepted_file_types = "pdf,png"
    assignment.save()
    good = SimpleUploadedFile("plan.pdf", PDF)
    draft = submission_draft_save(enrolment=enrolment, assignment=assignment, text="", uploads=[good])
    assert [(f.original_name, f.content_type) for f in draft.files.all()] == [("plan.pdf", "application/pdf")]

    disguised = SimpleUploadedFile("map.pdf", PNG)
    with pytest.raises(ValidationError) as refusal:
        submission_draft_save(enrolment=enrolment, assignment=assignment, text="", uploads=[disguised])
    assert "should end in .png" in str(refusal.value)
    assert draft.files.count() == 1


def test_a_type_the_assignment_does_not_accept_is_refused(enrolment, assignment):
    """A genuine PNG is refused when the assignment takes only PDF and Word files."""
    assignment.accepted_file_types = "pdf,docx"
    assignment.save()
    with pytest.raises(ValidationError, match="not a kind of file accepted here. Upload one of: PDF, Word"):
        submission_draft_save(
            enrolment=enrolment, assignment=assignment, text="", uploads=[SimpleUploadedFile("a.png", PNG)]
        )
    assert not Submission.objects.exists()


def test_an_empty_submission_cannot_be_handed_in(enrolment, assignment):
    draft = submission_draft_save(enrolment=enrolment, assignment=assignment, text="   ")
    with pytest.raises(ValidationError, match="empty"):
        submission_submit(submission=draft)
    draft.refresh_from_db()
    assert draft.status == SubmissionStatus.DRAFT


def test_work_after_the_due_date_is_accepted_and_marked_late(enrolment, assignment):
    """Handed in the day after the cohort's own due date: accepted, flagged late."""
    due = timezone.localdate()
    AssignmentDueDate.objects.create(cohort=enrolment.cohort, assignment=assignment, due_on=due)
    draft = submission_draft_save(enrolment=enrolment, assignment=assignment, text="Sorry it is late")
    handed_in = submission_submit(submission=draft, now=timezone.now() + dt.timedelta(days=1))
    assert handed_in.status == SubmissionStatus.SUBMITTED
    assert handed_in.is_late is True


def test_nothing_can_be_handed_in_once_the_cohort_has_finished(enrolment, assignment):
    draft = submission_draft_save(enrolment=enrolment, assignment=assignment, text="Nearly there")
    enrolment.cohort.status = CohortStatus.FINISHED
    enrolment.cohort.save()
    with pytest.raises(ValidationError, match="finished"):
        submission_submit(submission=draft)
    with pytest.raises(ValidationError, match="finished"):
        submission_draft_save(enrolment=enrolment, assignment=assignment, text="Changed")
    draft.refresh_from_db()
    assert (draft.status, draft.text) == (SubmissionStatus.DRAFT, "Nearly there")


def test_a_second_attempt_only_follows_a_resubmit_and_attempts_run_out(enrolment, assignment, trainer):
    """Waiting: no new attempt. Resubmit: attempt 2. After the last attempt: closed."""
    first = hand_in(enrolment, assignment)
    with pytest.raises(ValidationError, match="waiting to be marked"):
        submission_draft_save(enrolment=enrolment, assignment=assignment, text="Again")
    mark(first, trainer, [PASS, RESUBMIT])
    second = hand_in(enrolment, assignment, text="Improved")
    assert second.attempt == 2
    mark(second, trainer, [PASS, RESUBMIT])
    with pytest.raises(ValidationError, match="used all 2 attempts"):
        submission_draft_save(enrolment=enrolment, assignment=assignment, text="Third go")


def test_handed_in_work_cannot_be_edited(enrolment, assignment):
    """Saving again after handing in starts nothing and changes nothing while it waits."""
    handed_in = hand_in(enrolment, assignment, text="Final words")
    with pytest.raises(ValidationError):
        submission_draft_save(enrolment=enrolment, assignment=assignment, text="Sneaky edit")
    handed_in.refresh_from_db()
    assert handed_in.text == "Final words"


def test_withdrawal_only_before_marking(enrolment, assignment, trainer):
    """Withdrawn work frees the trainee to try again; once marked it cannot be withdrawn."""
    first = hand_in(enrolment, assignment)
    assert submission_withdraw(submission=first).status == SubmissionStatus.WITHDRAWN
    second = hand_in(enrolment, assignment, text="Try again")
    assert second.attempt == 2
    mark(second, trainer, [PASS, PASS])
    with pytest.raises(ValidationError, match="Marking has started"):
        submission_withdraw(submission=second)


def test_a_trainee_not_enrolled_cannot_hand_in(assignment, enrolment):
    enrolment.status = "withdrawn"
    enrolment.save()
    with pytest.raises(ValidationError, match="Only trainees enrolled"):
        submission_draft_save(enrolment=enrolment, assignment=assignment, text="Hello")


# --- Marking -------------------------------------------------------------------------


def test_a_mark_takes_its_outcome_from_the_rubric_and_tells_certification(
    enrolment, assignment, trainer, django_capture_on_commit_callbacks
):
    """The submission shows the outcome; standing_changed is sent once the mark is committed."""
    heard = []

    def listener(**kwargs):
        heard.append((kwargs["enrolment_ids"], kwargs["cause"]))

    standing_changed.connect(listener)
    try:
        submission = hand_in(enrolment, assignment)
        with django_capture_on_commit_callbacks(execute=True):
            saved = mark(submission, trainer, [PASS, RESUBMIT])
    finally:
        standing_changed.disconnect(listener)
    assert saved.outcome == RESUBMIT
    assert saved.kind == MarkKind.FIRST
    assert saved.levels.count() == 2
    submission.refresh_from_db()
    assert (submission.outcome, submission.mark_version) == (RESUBMIT, 1)
    assert heard == [([enrolment.pk], "mark")]


def test_a_mark_must_choose_a_level_for_every_criterion(enrolment, assignment, trainer):
    submission = hand_in(enrolment, assignment)
    first_criterion = assignment.criteria.order_by("position").first()
    levels = {first_criterion.pk: first_criterion.levels.get(outcome=PASS).pk}
    with pytest.raises(ValidationError) as refusal:
        mark_save(submission=submission, marker=trainer, levels=levels, feedback="Good", seen_version=0)
    assert "Choose a level for" in str(refusal.value)
    assert not Mark.objects.exists()


def test_a_level_from_another_criterion_is_refused(enrolment, assignment, trainer):
    submission = hand_in(enrolment, assignment)
    first, second = assignment.criteria.order_by("position")
    levels = {first.pk: second.levels.first().pk, second.pk: second.levels.first().pk}
    with pytest.raises(ValidationError, match="Choose a level for"):
        mark_save(submission=submission, marker=trainer, levels=levels, feedback="Good", seen_version=0)
    assert not Mark.objects.exists()


@pytest.mark.parametrize(
    ("feedback", "message"),
    [("", "Write some feedback"), ("x" * (FEEDBACK_MAX + 1), "Keep feedback under")],
)
def test_feedback_is_required_and_limited(enrolment, assignment, trainer, feedback, message):
    submission = hand_in(enrolment, assignment)
    with pytest.raises(ValidationError, match=message):
        mark(submission, trainer, [PASS, PASS], feedback=feedback)
    assert not Mark.objects.exists()


def test_nobody_marks_their_own_work(enrolment, assignment):
    """A trainer enrolled as a trainee is refused on their own submission."""
    submission = hand_in(enrolment, assignment)
    own = enrolment.member
    with pytest.raises(ValidationError, match="your own work"):
        mark(submission, own, [PASS, PASS])


def test_a_stale_mark_is_refused_not_saved_over_another(enrolment, assignment, trainer):
    """Two markers open version 0; the second to save is told, and nothing of theirs is saved."""
    submission = hand_in(enrolment, assignment)
    other = UserFactory(role=Role.TRAINER)
    levels = levels_chosen(assignment, [PASS, PASS])
    mark_save(submission=submission, marker=trainer, levels=levels, feedback="Pass", seen_version=0)
    with pytest.raises(MarkConflict, match="Someone else marked this"):
        mark_save(submission=submission, marker=other, levels=levels, feedback="Also pass", seen_version=0)
    assert Mark.objects.count() == 1


def test_a_correction_is_a_new_mark_with_a_reason(enrolment, assignment, trainer):
    """The first mark stays; the correction needs a reason and becomes the current outcome."""
    submission = hand_in(enrolment, assignment)
    mark(submission, trainer, [PASS, RESUBMIT])
    with pytest.raises(ValidationError, match="Say why"):
        mark(submission, trainer, [PASS, PASS])
    correction = mark(submission, trainer, [PASS, PASS], reason="Misread the second criterion.")
    assert correction.kind == MarkKind.CORRECTION
    assert list(submission.marks.values_list("kind", "outcome")) == [
        (MarkKind.FIRST, RESUBMIT),
        (MarkKind.CORRECTION, PASS),
    ]
    submission.refresh_from_db()
    assert submission.outcome == PASS


def test_withdrawn_work_cannot_be_marked(enrolment, assignment, trainer):
    submission = hand_in(enrolment, assignment)
    submission_withdraw(submission=submission)
    with pytest.raises(ValidationError, match="withdrew"):
        mark(submission, trainer, [PASS, PASS])


# --- Moderation ----------------------------------------------------------------------


@pytest.fixture
def staff(seeded):
    return UserFactory(role=Role.NATIONAL_STAFF)


def test_blind_second_marking_then_staff_settle(enrolment, assignment, trainer, staff):
    """The second mark leaves the trainee's outcome alone; the settled mark replaces it."""
    submission = hand_in(enrolment, assignment)
    first = mark(submission, trainer, [PASS, PASS])
    second_marker = UserFactory(role=Role.TRAINER)
    [moderation] = moderation_request(marks=[first], second_marker=second_marker, actor=staff)

    moderation_mark(
        moderation=moderation,
        marker=second_marker,
        levels=levels_chosen(assignment, [PASS, RESUBMIT]),
        feedback="The plan lacks dates.",
    )
    submission.refresh_from_db()
    assert submission.outcome == PASS

    with pytest.raises(ValidationError, match="Say why"):
        moderation_settle(
            moderation=moderation,
            actor=staff,
            levels=levels_chosen(assignment, [PASS, RESUBMIT]),
            feedback="Add dates.",
            reason="",
        )
    final = moderation_settle(
        moderation=moderation,
        actor=staff,
        levels=levels_chosen(assignment, [PASS, RESUBMIT]),
        feedback="Add dates to the plan.",
        reason="Agree with the second marker.",
    )
    assert final.kind == MarkKind.FINAL
    submission.refresh_from_db()
    assert submission.outcome == RESUBMIT
    assert list(submission.marks.values_list("kind", flat=True)) == ["first", "moderation", "final"]


def test_moderation_refuses_the_wrong_second_marker(enrolment, assignment, trainer, staff):
    """The first marker, the trainee, or someone who is not a trainer cannot second-mark."""
    first = mark(hand_in(enrolment, assignment), trainer, [PASS, PASS])
    for wrong in (trainer, enrolment.member):
        with pytest.raises(ValidationError):
            moderation_request(marks=[first], second_marker=wrong, actor=staff)
    second = UserFactory(role=Role.TRAINER)
    moderation_request(marks=[first], second_marker=second, actor=staff)
    with pytest.raises(ValidationError, match="already being moderated"):
        moderation_request(marks=[first], second_marker=UserFactory(role=Role.TRAINER), actor=staff)


def test_a_sample_takes_only_unmoderated_marks_of_that_trainer(seeded, trainer, staff):
    cohort = trainer.trained_cohorts.get()
    marks = []
    for _ in range(4):
        submission = SubmissionFactory(enrolment=EnrolmentFactory(cohort=cohort))
        rubric_add(submission.assignment, criteria=1)
        marks.append(mark(submission, trainer, [PASS]))
    second_marker = UserFactory(role=Role.TRAINER)
    sample = moderation_sample(first_marker=trainer, second_marker=second_marker, size=3, actor=staff)
    assert len(sample) == 3
    rest = moderation_sample(first_marker=trainer, second_marker=second_marker, size=3, actor=staff)
    assert len(rest) == 1
    assert {m.first_mark_id for m in sample + rest} == {m.pk for m in marks}
    with pytest.raises(ValidationError, match="no marks left"):
        moderation_sample(first_marker=trainer, second_marker=second_marker, size=1, actor=staff)


def test_admin_shows_marks_read_only(client, enrolment, assignment, trainer):
    """Support can read submissions and marks in the admin but never change or add one."""
    submission = hand_in(enrolment, assignment)
    saved = mark(submission, trainer, [PASS, PASS])
    client.force_login(UserFactory(role=Role.NATIONAL_STAFF, is_staff=True, is_superuser=True))
    assert client.get(reverse("admin:training_submission_changelist")).status_code == 200
    page = client.get(reverse("admin:training_mark_change", args=[saved.pk])).content.decode()
    assert "Meets the standard" in page
    assert 'name="_save"' not in page
    assert client.get(reverse("admin:training_mark_add")).status_code == 403
    response = client.post(reverse("admin:training_mark_delete", args=[saved.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Mark.objects.filter(pk=saved.pk).exists()


def test_a_failing_listener_cannot_undo_a_saved_mark(
    enrolment, assignment, trainer, django_capture_on_commit_callbacks
):
    """certification failing after commit is logged; the trainer's mark stays saved."""

    def broken(**kwargs):
        raise RuntimeError("listener down")

    standing_changed.connect(broken)
    try:
        submission = hand_in(enrolment, assignment)
        with django_capture_on_commit_callbacks(execute=True):
            mark(submission, trainer, [PASS, PASS])
    finally:
        standing_changed.disconnect(broken)
    submission.refresh_from_db()
    assert submission.outcome == PASS
