"""A trainee hands in a file and text; the trainer asks for a resubmission, then passes it;
the gradebook shows the pass."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from members.permissions import Role
from tests.e2e.conftest import PHONE, assert_accessible, field
from tests.factories import (
    PDF,
    AssignmentFactory,
    CohortFactory,
    EnrolmentFactory,
    ModuleFactory,
    UserFactory,
    rubric_add,
)
from training.models import CohortStatus, MarkKind, Outcome, Submission, SubmissionStatus

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _choose(page, criterion: str, level: str) -> None:
    """Pick a level in the criterion's radio group (a fieldset named by its legend)."""
    page.get_by_role("group", name=criterion).get_by_role("radio", name=re.compile(rf"^{level}\b")).check()


def _mark(page, cohort_name: str, choices: dict[str, str], feedback: str) -> None:
    page.goto("/manage/marking/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Marking")
    assert_accessible(page)
    page.get_by_role("link", name=re.compile(r"^Mark\s*:")).first.click()
    expect(page.get_by_text(cohort_name).first).to_be_visible()
    assert_accessible(page)
    for criterion, level in choices.items():
        _choose(page, criterion, level)
    field(page, "Feedback to the trainee").fill(feedback)
    if page.get_by_label(re.compile(r"Why are you changing the mark")).count():
        raise AssertionError("A first mark on a new attempt must not ask for a reason.")
    page.get_by_role("button", name="Save mark", exact=True).click()
    page.wait_for_url("**/manage/marking/**")


def test_resubmit_then_pass_reaches_the_gradebook(sign_in, live_server, tmp_path):
    call_command("load_seeds", verbosity=0)
    trainer = UserFactory(role=Role.TRAINER, first_name="Tomasz", last_name="Trainer")
    trainee = UserFactory(role=Role.TRAINEE, first_name="Amira", last_name="Khan")
    cohort = CohortFactory(name="Leeds, marking journey", trainers=[trainer], status=CohortStatus.RUNNING)
    EnrolmentFactory(cohort=cohort, member=trainee)
    module = ModuleFactory(version=cohort.version, title="Power analysis")
    assignment = AssignmentFactory(
        module=module, title="Power map of a local issue", accepted_file_types="pdf", max_attempts=3
    )
    listening, reflection = rubric_add(assignment, criteria=2)
    listening.title, reflection.title = "Who holds power", "What you will do with it"
    listening.save()
    reflection.save()
    upload = tmp_path / "power-map.pdf"
    upload.write_bytes(PDF)

    # The trainee finds the assignment from the module and hands in text and a file.
    learner = sign_in(trainee)
    learner.goto(f"/modules/{module.pk}/")
    learner.get_by_role("link", name=re.compile(r"Work on it and hand it in")).click()
    expect(learner.get_by_role("heading", level=1)).to_have_text("Power map of a local issue")
    assert_accessible(learner)
    field(learner, "Your answer").fill(
        "The council's transport committee decides; the chair listens to tenants."
    )
    field(learner, "Add files").set_input_files(str(upload))
    learner.get_by_role("button", name="Hand in").click()
    expect(learner.get_by_text("Waiting for your trainer to mark it.")).to_be_visible()
    expect(learner.get_by_role("link", name="power-map.pdf")).to_be_visible()
    assert_accessible(learner)

    # The trainer asks for a resubmission with feedback.
    marker = sign_in(trainer)
    _mark(
        marker,
        cohort.name,
        {"Who holds power": "Meets the standard", "What you will do with it": "Not yet"},
        "A sharp map. Now say what action you will take and with whom.",
    )
    expect(marker.get_by_text(re.compile(r"Mark saved for Amira Khan.*Resubmit"))).to_be_visible()

    # The trainee reads the feedback and hands in a second attempt.
    learner.reload()
    expect(learner.get_by_text("Now say what action you will take and with whom.")).to_be_visible()
    expect(learner.get_by_role("heading", name="Attempt 2")).to_be_visible()
    assert_accessible(learner)
    field(learner, "Your answer").fill(
        "We will ask the chair to meet twenty tenants before the vote in March."
    )
    learner.get_by_role("button", name="Hand in").click()
    expect(learner.get_by_text("Waiting for your trainer to mark it.")).to_be_visible()

    # The trainer passes it.
    _mark(
        marker,
        cohort.name,
        {"Who holds power": "Meets the standard", "What you will do with it": "Meets the standard"},
        "Clear and specific: a real plan. Well done.",
    )
    expect(marker.get_by_text(re.compile(r"Mark saved for Amira Khan.*Pass"))).to_be_visible()

    # The gradebook shows the pass, on a desktop and on a phone.
    marker.goto(f"/manage/cohorts/{cohort.pk}/")
    marker.get_by_role("link", name="Gradebook").click()
    row = marker.get_by_role("row", name=re.compile("Amira Khan"))
    expect(row.get_by_text("Pass")).to_be_visible()
    expect(row.get_by_text("attempt 2")).to_be_visible()
    assert_accessible(marker)
    marker.set_viewport_size(PHONE)
    marker.reload()
    assert_accessible(marker)

    attempts = list(Submission.objects.filter(assignment=assignment).order_by("attempt"))
    assert [(s.attempt, s.status, s.outcome) for s in attempts] == [
        (1, SubmissionStatus.SUBMITTED, Outcome.RESUBMIT),
        (2, SubmissionStatus.SUBMITTED, Outcome.PASS),
    ]
    assert [m.kind for s in attempts for m in s.marks.all()] == [MarkKind.FIRST, MarkKind.FIRST]
    assert attempts[0].files.get().original_name == "power-map.pdf"
