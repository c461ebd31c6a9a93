"""A trainee's work on assignments: the assignment page, drafts, handing in, withdrawing,
their files, and their progress on the module page. Through the HTTP client."""

import datetime as dt
import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from members.permissions import Role
from tests.factories import (
    PDF,
    PNG,
    AssignmentFactory,
    CohortFactory,
    EnrolmentFactory,
    SubmissionFactory,
    UserFactory,
    levels_chosen,
    rubric_add,
)
from training.models import (
    AssignmentDueDate,
    CohortStatus,
    EnrolmentStatus,
    Outcome,
    Submission,
    SubmissionFile,
    SubmissionStatus,
)
from training.rubric import RULE_EXPLAINED
from training.services.marking import mark_save, moderation_mark, moderation_request
from training.services.submissions import submission_draft_save, submission_submit

pytestmark = pytest.mark.django_db

PASS, RESUBMIT, FAIL = Outcome.PASS, Outcome.RESUBMIT, Outcome.FAIL


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
        enrolment_opens_on=today - dt.timedelta(days=30),
        enrolment_closes_on=today - dt.timedelta(days=8),
        starts_on=today - dt.timedelta(days=7),
        ends_on=today + dt.timedelta(days=60),
    )


@pytest.fixture
def enrolment(cohort, trainee):
    return EnrolmentFactory(cohort=cohort, member=trainee)


@pytest.fixture
def assignment(cohort):
    """Takes PDF and Word files, two attempts, due a week from today; two criteria."""
    assignment = AssignmentFactory(
        module__version=cohort.version,
        module__title="Power mapping",
        title="Map your street",
        brief="Draw a **power map** of your street.",
        due_offset_days=14,
        accepted_file_types="pdf,docx",
        max_attempts=2,
    )
    rubric_add(assignment, criteria=2)
    return assignment


@pytest.fixture
def trainer(cohort):
    trainer = UserFactory(role=Role.TRAINER)
    cohort.trainers.add(trainer)
    return trainer


@pytest.fixture
def signed_in(client, trainee, enrolment):
    client.force_login(trainee)
    return client


def html_of(response) -> str:
    return html.unescape(response.content.decode())


def url_of(assignment) -> str:
    return reverse("training:assignment-detail", args=[assignment.pk])


def hand_in(enrolment, assignment, text="My power map.", **kwargs) -> Submission:
    draft = submission_draft_save(enrolment=enrolment, assignment=assignment, text=text, **kwargs)
    return submission_submit(submission=draft)


def mark(submission, marker, outcomes, feedback="Clear and specific.", **kwargs):
    submission.refresh_from_db()
    return mark_save(
        submission=submission,
        marker=marker,
        levels=levels_chosen(submission.assignment, outcomes),
        feedback=feedback,
        seen_version=submission.mark_version,
        **kwargs,
    )


def pdf(name="plan.pdf", content=PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


# --- The assignment page -------------------------------------------------------------------


def test_page_shows_brief_due_date_rubric_and_what_to_hand_in(signed_in, cohort, assignment):
    """An enrolled trainee reads the brief (Markdown), the due date for their cohort, the
    rubric with what each level means and the rule, the files accepted and their attempts."""
    response = signed_in.get(url_of(assignment))
    assert response.status_code == 200
    page = html_of(response)
    assert re.search(r"<h1[^>]*>Map your street</h1>", page)
    assert "Draw a <strong>power map</strong> of your street." in page
    due = cohort.starts_on + dt.timedelta(days=14)
    assert f"{due:%a} {due.day} {due:%B %Y}" in page
    assert "Late" not in page
    for criterion in assignment.criteria.all():
        assert criterion.title in page
    assert "Meets the standard" in page
    assert "(means resubmit)" in page
    assert RULE_EXPLAINED in page
    assert "Files: PDF, Word; at most 10.0\xa0MB each and 5 in all." in page
    assert "0 used of 2" in page
    assert "Not started" in page
    assert reverse("training:module-detail", args=[assignment.module_id]) in page


def test_page_uses_the_cohorts_own_due_date(signed_in, cohort, assignment):
    """A due date set for the cohort replaces the default one."""
    own = cohort.starts_on + dt.timedelta(days=30)
    AssignmentDueDate.objects.create(cohort=cohort, assignment=assignment, due_on=own)
    page = html_of(signed_in.get(url_of(assignment)))
    assert f"{own:%a} {own.day} {own:%B %Y}" in page


def test_draft_form_is_labelled_and_takes_several_files(signed_in, assignment):
    """The answer and the files have labels; the file input takes several files and hints at
    the accepted types; the two buttons save or hand in; CSRF is in the form."""
    page = html_of(signed_in.get(url_of(assignment)))
    assert re.search(r'<label\s+for="id_text"[^>]*>\s*Your answer', page)
    assert re.search(r'<label\s+for="id_files"[^>]*>\s*Add files', page)
    file_input = re.search(r"<input[^>]*type=\"file\"[^>]*>", page).group(0)
    assert "multiple" in file_input
    assert 'accept=".pdf,.docx"' in file_input
    assert 'enctype="multipart/form-data"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert re.search(r'<input type="submit"\s+name="save"\s+value="Save draft"', page)
    assert re.search(r'<input type="submit"\s+name="hand_in"\s+value="Hand in"', page)


def test_text_only_assignment_has_no_file_input(signed_in, assignment):
    assignment.accepted_file_types = ""
    assignment.save()
    page = html_of(signed_in.get(url_of(assignment)))
    assert "A written answer only (no files)." in page
    assert 'type="file"' not in page


# --- Drafts and handing in --------------------------------------------------------------------


def test_draft_then_hand_in_then_the_page_shows_it_waiting(signed_in, enrolment, assignment):
    """A trainee saves a draft with a file, comes back to it, hands it in, is told so, and then
    sees it waiting for marking, with no form."""
    response = signed_in.post(
        url_of(assignment), {"text": " First thoughts ", "files": [pdf()], "save": "Save draft"}, follow=True
    )
    assert response.redirect_chain[-1][0] == url_of(assignment)
    page = html_of(response)
    assert "Your draft is saved. It is not handed in yet." in page
    assert "Attempt 1: your draft" in page
    assert "First thoughts</textarea>" in page
    draft = Submission.objects.get()
    assert (draft.status, draft.text, draft.attempt) == (SubmissionStatus.DRAFT, "First thoughts", 1)
    upload = draft.files.get()
    assert reverse("training:submission-file", args=[upload.pk]) in page
    assert re.search(rf'<input type="checkbox"[^>]*name="remove_files" value="{upload.pk}"', page)

    response = signed_in.post(
        url_of(assignment), {"text": "Final thoughts", "hand_in": "Hand in"}, follow=True
    )
    page = html_of(response)
    assert "Attempt 1 is handed in. Your trainer will mark it" in page
    draft.refresh_from_db()
    assert (draft.status, draft.text, draft.is_late) == (SubmissionStatus.SUBMITTED, "Final thoughts", False)
    assert draft.files.count() == 1
    assert "Your last attempt is waiting to be marked." in page
    assert "Waiting for your trainer to mark it." in page
    assert "Handed in, waiting for marking" in page
    assert "1 used of 2" in page
    assert 'name="hand_in"' not in page
    assert reverse("training:submission-withdraw", args=[draft.pk]) in page


def test_a_file_can_be_removed_from_the_draft(signed_in, enrolment, assignment):
    draft = submission_draft_save(
        enrolment=enrolment, assignment=assignment, text="", uploads=[pdf("a.pdf"), pdf("b.pdf")]
    )
    first, second = draft.files.order_by("pk")
    response = signed_in.post(
        url_of(assignment), {"text": "Notes", "remove_files": [first.pk], "save": "Save draft"}
    )
    assert response.status_code == 302
    assert list(draft.files.values_list("original_name", flat=True)) == ["b.pdf"]
    assert not SubmissionFile.objects.filter(pk=first.pk).exists()
    assert second.file.storage.exists(second.file.name)
    assert not first.file.storage.exists(first.file.name)


def test_an_empty_submission_is_refused_and_nothing_changes(signed_in, assignment):
    """Handing in no answer and no file is refused with a message; no attempt is started."""
    response = signed_in.post(url_of(assignment), {"text": "   ", "hand_in": "Hand in"})
    assert response.status_code == 400
    page = html_of(response)
    assert page.count("Your submission is empty. Write an answer or add a file first.") == 2
    summary = re.search(r'<div class="alert alert-danger" role="alert"(.*?)</div>', page, re.S).group(1)
    assert '<a href="#work-heading">Your submission is empty.' in summary
    assert "<title>Error: Map your street" in page
    assert not Submission.objects.exists()


def test_an_empty_hand_in_keeps_the_saved_draft_as_it_was(signed_in, enrolment, assignment):
    draft = submission_draft_save(enrolment=enrolment, assignment=assignment, text="Kept")
    response = signed_in.post(url_of(assignment), {"text": "", "hand_in": "Hand in"})
    assert response.status_code == 400
    draft.refresh_from_db()
    assert (draft.status, draft.text) == (SubmissionStatus.DRAFT, "Kept")


def _files_error(page: str) -> str:
    """The error shown beside the file input, which the input points to."""
    file_input = re.search(r'<input[^>]*type="file"[^>]*>', page).group(0)
    assert "is-invalid" in file_input
    described = re.search(r'aria-describedby="([^"]+)"', file_input).group(1).split()
    error_id = next(i for i in described if "error" in i)
    error = re.search(rf'id="{error_id}"[^>]*>(.*?)</div>', page, re.S).group(1)
    # The summary at the top of the page links to the input.
    summary = re.search(r'<div class="alert alert-danger" role="alert"(.*?)</div>', page, re.S).group(1)
    assert '<a href="#id_files">' in summary
    return error


def test_a_png_renamed_pdf_is_refused(signed_in, assignment):
    """A PNG whose name says .pdf is refused beside the file input; nothing is saved."""
    assignment.accepted_file_types = "pdf,png"
    assignment.save()
    response = signed_in.post(
        url_of(assignment), {"text": "See map", "files": [pdf("map.pdf", PNG)], "save": "Save draft"}
    )
    assert response.status_code == 400
    page = html_of(response)
    assert "“map.pdf” is a PNG file, so its name should end in .png." in _files_error(page)
    assert "See map</textarea>" in page
    assert not Submission.objects.exists()


def test_a_type_the_assignment_does_not_accept_is_refused(signed_in, assignment):
    """A genuine PNG is refused when the assignment takes only PDF and Word files."""
    response = signed_in.post(
        url_of(assignment),
        {"text": "", "files": [SimpleUploadedFile("map.png", PNG)], "hand_in": "Hand in"},
    )
    assert response.status_code == 400
    error = _files_error(html_of(response))
    assert "“map.png” is not a kind of file accepted here. Upload one of: PDF, Word." in error
    assert not Submission.objects.exists()


def test_an_oversize_file_is_refused(signed_in, assignment):
    """A real PDF over the 10 MB limit is refused beside the file input."""
    big = PDF + b"\0" * (10 * 1024 * 1024 + 512 * 1024)
    response = signed_in.post(url_of(assignment), {"files": [pdf("big.pdf", big)], "save": "Save draft"})
    assert response.status_code == 400
    assert "“big.pdf” is 10.5\xa0MB; the most we accept is 10.0\xa0MB." in _files_error(html_of(response))
    assert not Submission.objects.exists()


def test_work_after_the_cohort_has_finished_is_refused(signed_in, enrolment, cohort, assignment):
    """Once the cohort has finished the form is replaced by an explanation, and a POST (even
    to an existing draft) is refused and changes nothing."""
    draft = submission_draft_save(enrolment=enrolment, assignment=assignment, text="Nearly there")
    cohort.status = CohortStatus.FINISHED
    cohort.save()
    page = html_of(signed_in.get(url_of(assignment)))
    assert "This cohort has finished, so work can no longer be handed in." in page
    assert 'name="hand_in"' not in page
    response = signed_in.post(url_of(assignment), {"text": "Too late", "hand_in": "Hand in"})
    assert response.status_code == 400
    assert "This cohort has finished, so work can no longer be handed in." in html_of(response)
    draft.refresh_from_db()
    assert (draft.status, draft.text) == (SubmissionStatus.DRAFT, "Nearly there")


def test_a_completed_trainee_reads_the_page_but_cannot_hand_in(client, cohort, assignment):
    completed = EnrolmentFactory(cohort=cohort, status=EnrolmentStatus.COMPLETED)
    client.force_login(completed.member)
    response = client.get(url_of(assignment))
    assert response.status_code == 200
    assert "Only trainees enrolled in the cohort can hand in work." in html_of(response)
    assert client.post(url_of(assignment), {"text": "Hi", "hand_in": "Hand in"}).status_code == 400
    assert not Submission.objects.exists()


def test_late_work_is_flagged(signed_in, cohort, assignment):
    """Past the cohort's due date the page warns that work will be late; handed in, it is
    flagged late in the message and on the attempt."""
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    AssignmentDueDate.objects.create(cohort=cohort, assignment=assignment, due_on=yesterday)
    page = html_of(signed_in.get(url_of(assignment)))
    assert "The due date has passed. You can still hand in; your work will be marked as late." in page
    response = signed_in.post(url_of(assignment), {"text": "Sorry", "hand_in": "Hand in"}, follow=True)
    page = html_of(response)
    assert "It was handed in after the due date, so it is marked as late." in page
    assert re.search(r'<span class="badge text-bg-warning ms-1">Late</span>', page)
    assert Submission.objects.get().is_late is True


# --- Marks and the next attempt --------------------------------------------------------------


def test_resubmit_outcome_opens_attempt_two(signed_in, enrolment, assignment, trainer):
    """After a resubmit outcome the trainee sees the outcome, the feedback and the level per
    criterion, and can hand in attempt 2."""
    first = hand_in(enrolment, assignment)
    mark(first, trainer, [PASS, RESUBMIT], feedback="Add who holds power at the council.")
    page = html_of(signed_in.get(url_of(assignment)))
    assert "Outcome:" in page
    assert re.search(r"<strong[^>]*>Resubmit</strong>", page)
    assert "Add who holds power at the council." in page
    first_criterion, second_criterion = assignment.criteria.order_by("position")
    assert re.search(rf"{first_criterion.title}</dt>\s*<dd[^>]*><strong>Meets the standard</strong>", page)
    assert re.search(rf"{second_criterion.title}</dt>\s*<dd[^>]*><strong>Not yet</strong>", page)
    assert "Attempt 2</h2>" in page
    assert reverse("training:submission-withdraw", args=[first.pk]) not in page

    response = signed_in.post(url_of(assignment), {"text": "Better map", "hand_in": "Hand in"}, follow=True)
    assert "Attempt 2 is handed in." in html_of(response)
    second = Submission.objects.get(attempt=2)
    assert (second.status, second.text) == (SubmissionStatus.SUBMITTED, "Better map")


def test_the_trainee_sees_the_current_mark_never_the_second_markers(
    signed_in, enrolment, assignment, trainer
):
    """A correction replaces the first mark on the page; a moderator's blind mark is never shown."""
    submission = hand_in(enrolment, assignment)
    first = mark(submission, trainer, [PASS, RESUBMIT], feedback="First feedback.")
    mark(submission, trainer, [PASS, PASS], feedback="Corrected feedback.", reason="Misread the map.")
    second_marker = UserFactory(role=Role.TRAINER)
    staff = UserFactory(role=Role.NATIONAL_STAFF)
    (moderation,) = moderation_request(marks=[first], second_marker=second_marker, actor=staff)
    moderation_mark(
        moderation=moderation,
        marker=second_marker,
        levels=levels_chosen(assignment, [FAIL, FAIL]),
        feedback="Second marker's private view.",
    )
    page = html_of(signed_in.get(url_of(assignment)))
    assert "Corrected feedback." in page
    assert "First feedback." not in page
    assert "Second marker's private view." not in page
    assert re.search(r"<strong[^>]*>Pass</strong>", page)
    assert "You have passed this assignment." in page
    assert 'name="hand_in"' not in page


@pytest.mark.parametrize(
    ("outcomes", "explanation"),
    [
        ([PASS, PASS], "You have passed this assignment."),
        ([FAIL, PASS], "This assignment was marked as not passed, so it is closed."),
    ],
)
def test_pass_or_fail_replaces_the_form(signed_in, enrolment, assignment, trainer, outcomes, explanation):
    mark(hand_in(enrolment, assignment), trainer, outcomes)
    page = html_of(signed_in.get(url_of(assignment)))
    assert explanation in page
    assert 'name="hand_in"' not in page
    response = signed_in.post(url_of(assignment), {"text": "Again", "hand_in": "Hand in"})
    assert response.status_code == 400
    assert Submission.objects.count() == 1


def test_no_form_once_the_attempts_are_used(signed_in, enrolment, assignment, trainer):
    for _attempt in range(2):
        mark(hand_in(enrolment, assignment), trainer, [RESUBMIT, PASS])
    page = html_of(signed_in.get(url_of(assignment)))
    assert "You have used all 2 attempts for this assignment." in page
    assert "Not passed: no attempts left" in page
    assert "2 used of 2" in page
    assert 'name="hand_in"' not in page


# --- Withdrawing --------------------------------------------------------------------------


def test_withdraw_before_marking(signed_in, enrolment, assignment):
    """The trainee confirms, withdraws, and may start again; the attempt is not counted."""
    submission = hand_in(enrolment, assignment)
    url = reverse("training:submission-withdraw", args=[submission.pk])
    confirm = signed_in.get(url)
    assert confirm.status_code == 200
    assert "Withdraw attempt 1 of “Map your street”?" in html_of(confirm)
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.SUBMITTED  # a GET changes nothing
    response = signed_in.post(url, follow=True)
    assert response.redirect_chain[-1][0] == url_of(assignment)
    page = html_of(response)
    assert "Attempt 1 is withdrawn. It does not count towards your attempts" in page
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.WITHDRAWN
    assert "0 used of 2" in page
    assert "Attempt 2</h2>" in page
    assert 'name="hand_in"' in page


def test_withdraw_after_marking_is_refused(signed_in, enrolment, assignment, trainer):
    submission = hand_in(enrolment, assignment)
    mark(submission, trainer, [RESUBMIT, PASS])
    url = reverse("training:submission-withdraw", args=[submission.pk])
    page = html_of(signed_in.get(url))
    assert "Marking has started, so this attempt can no longer be withdrawn." in page
    assert "<button" not in page.split("<main", 1)[1]
    response = signed_in.post(url)
    assert response.status_code == 400
    assert "Marking has started, so this attempt can no longer be withdrawn." in html_of(response)
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.SUBMITTED


# --- Files ----------------------------------------------------------------------------------


def test_file_downloads_as_an_attachment_with_a_safe_name(signed_in, enrolment, assignment):
    submission = hand_in(enrolment, assignment, uploads=[pdf('My plan (v2) "final".pdf')])
    upload = submission.files.get()
    response = signed_in.get(reverse("training:submission-file", args=[upload.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="my-plan-v2-final.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content) == PDF


def test_the_cohorts_trainer_downloads_handed_in_files(client, enrolment, assignment, trainer):
    upload = hand_in(enrolment, assignment, uploads=[pdf()]).files.get()
    client.force_login(trainer)
    assert client.get(reverse("training:submission-file", args=[upload.pk])).status_code == 200


# --- Someone else's -------------------------------------------------------------------------


def test_another_trainee_gets_404_for_assignment_submission_and_file(client, enrolment, assignment):
    """A trainee of another programme's cohort, or only waitlisted for this one, finds neither
    the assignment nor the work; a trainee of another cohort of the same programme reads the
    assignment but not the work. Nothing changes."""
    submission = hand_in(enrolment, assignment, uploads=[pdf()])
    upload = submission.files.get()
    withdraw_url = reverse("training:submission-withdraw", args=[submission.pk])
    file_url = reverse("training:submission-file", args=[upload.pk])
    outsider = EnrolmentFactory().member  # enrolled in a cohort of another programme
    waitlisted = EnrolmentFactory(cohort=enrolment.cohort, status=EnrolmentStatus.WAITLISTED).member
    for user in (outsider, waitlisted):
        client.force_login(user)
        assert client.get(url_of(assignment)).status_code == 404
        assert client.post(url_of(assignment), {"text": "Mine", "hand_in": "Hand in"}).status_code == 404
    classmate = EnrolmentFactory(cohort=CohortFactory(version=enrolment.cohort.version)).member
    for user in (outsider, waitlisted, classmate):
        client.force_login(user)
        assert client.get(withdraw_url).status_code == 404
        assert client.post(withdraw_url).status_code == 404
        assert client.get(file_url).status_code == 404
    client.force_login(classmate)
    page = html_of(client.get(url_of(assignment)))
    assert "Not started" in page
    assert reverse("training:submission-file", args=[upload.pk]) not in page
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.SUBMITTED
    assert Submission.objects.count() == 1


@pytest.mark.parametrize("name", ["training:assignment-detail", "training:submission-withdraw"])
def test_trainee_pages_refuse_trainers(client, enrolment, assignment, trainer, name):
    """The cohort's own trainer gets a 403 on the trainee's pages."""
    objects = {
        "training:assignment-detail": assignment.pk,
        "training:submission-withdraw": hand_in(enrolment, assignment).pk,
    }
    client.force_login(trainer)
    assert client.get(reverse(name, args=[objects[name]])).status_code == 403


@pytest.mark.parametrize(
    "name", ["training:assignment-detail", "training:submission-withdraw", "training:submission-file"]
)
def test_pages_send_anonymous_visitors_to_sign_in(client, db, name):
    response = client.get(reverse(name, args=[1]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


# --- The module page -----------------------------------------------------------------------


def test_module_page_links_each_assignment_with_the_trainees_progress(
    signed_in, enrolment, cohort, assignment
):
    """Each assignment links to its page with where the trainee is with it, and its due date
    for their cohort."""
    module = assignment.module
    assignment.title = "Not started one"
    assignment.save()
    states = {
        "Draft one": {"status": SubmissionStatus.DRAFT, "submitted_at": None},
        "Handed in one": {},
        "Resubmit one": {"outcome": RESUBMIT},
        "Passed one": {"outcome": PASS},
        "Failed one": {"outcome": FAIL},
    }
    for title, fields in states.items():
        SubmissionFactory(
            enrolment=enrolment, assignment=AssignmentFactory(module=module, title=title), **fields
        )
    own = cohort.starts_on + dt.timedelta(days=40)
    AssignmentDueDate.objects.create(cohort=cohort, assignment=assignment, due_on=own)

    page = html_of(signed_in.get(reverse("training:module-detail", args=[module.pk])))
    for title, label in [
        ("Not started one", "Not started"),
        ("Draft one", "Draft saved"),
        ("Handed in one", "Handed in, waiting for marking"),
        ("Resubmit one", "Resubmit"),
        ("Passed one", "Passed"),
        ("Failed one", "Not passed"),
    ]:
        card = re.search(rf">{title}</h3>(.*?)</article>", page, re.S).group(1)
        assert re.search(rf'<span class="badge [^"]*">{label}</span>', card), title
        pk = module.assignments.get(title=title).pk
        assert reverse("training:assignment-detail", args=[pk]) in card
    assert f"Due {own:%a} {own.day} {own:%B %Y}" in page


def test_module_page_has_no_progress_for_the_trainer(client, assignment, trainer):
    client.force_login(trainer)
    page = html_of(client.get(reverse("training:module-detail", args=[assignment.module_id])))
    assert "Map your street" in page
    assert reverse("training:assignment-detail", args=[assignment.pk]) not in page


# --- Query budgets ---------------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_assignment_page_runs_a_fixed_number_of_queries(signed_in, enrolment, assignment, trainer):
    """The page costs the same with one marked attempt as with six, each with files, and
    more criteria."""
    assignment.max_attempts = 10
    assignment.save()
    mark(hand_in(enrolment, assignment, uploads=[pdf()]), trainer, [RESUBMIT, PASS])
    url = url_of(assignment)
    signed_in.get(url)  # warm per-process caches
    small = _queries(signed_in, url)
    for _attempt in range(5):
        submission = hand_in(enrolment, assignment, uploads=[pdf("a.pdf"), pdf("b.pdf")])
        first = mark(submission, trainer, [PASS, PASS])
        mark(submission, trainer, [RESUBMIT, PASS], reason="On reflection.")
    assert Submission.objects.count() == 6
    submission_draft_save(enrolment=enrolment, assignment=assignment, text="Seventh", uploads=[pdf()])
    moderation_request(marks=[first], second_marker=UserFactory(role=Role.TRAINER), actor=trainer)
    assert _queries(signed_in, url) == small


def test_module_page_runs_a_fixed_number_of_queries(signed_in, enrolment, cohort, assignment):
    """The module page costs the same with two assignments as with eight, whatever their state."""
    module = assignment.module
    SubmissionFactory(enrolment=enrolment, assignment=AssignmentFactory(module=module), outcome=PASS)
    url = reverse("training:module-detail", args=[module.pk])
    signed_in.get(url)
    small = _queries(signed_in, url)
    for outcome in [PASS, RESUBMIT, FAIL, ""]:
        extra = AssignmentFactory(module=module)
        SubmissionFactory(enrolment=enrolment, assignment=extra, outcome=outcome)
        AssignmentDueDate.objects.create(cohort=cohort, assignment=extra, due_on=cohort.ends_on)
    AssignmentFactory.create_batch(2, module=module)
    assert module.assignments.count() == 8
    assert _queries(signed_in, url) == small
