"""The trainee's side of assignments: the assignment page with their draft, handing in,
withdrawing an attempt, and the files handed in.

Who may use each view is stated by its mixin. Which assignment, submission or file a user may
reach is decided only in training.permissions (someone else's is a 404, never a hint that it
exists).
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from training import permissions
from training.forms.submissions import SubmissionDraftForm
from training.models import Submission, SubmissionStatus
from training.rubric import RULE_EXPLAINED
from training.selectors.submissions import assignment_page_get
from training.services.submissions import submission_draft_save, submission_submit, submission_withdraw
from training.uploads import FILE_TYPES
from training.views.base import TraineeRequiredMixin, form_errors_add, safe_filename

TEMPLATES = "training/submissions/"


def _draft_form(page, data=None, files=None) -> SubmissionDraftForm:
    draft = page.draft
    return SubmissionDraftForm(
        data,
        files,
        initial={"text": draft.text} if draft else None,
        accepted_file_types=page.accepted_file_types,
        draft_files=list(draft.files.all()) if draft else [],
    )


class AssignmentDetailView(TraineeRequiredMixin, View):
    """Trainees enrolled in (or who completed) a cohort following the assignment's programme
    version: the brief, rubric and due date, their attempts and marks, and their draft."""

    template = TEMPLATES + "assignment_detail.html"

    def get(self, request, pk):
        assignment = permissions.assignment_get_for_trainee(user=request.user, pk=pk)
        page = assignment_page_get(user=request.user, assignment=assignment)
        form = None if page.refusal else _draft_form(page)
        return self._render(request, page, form)

    def post(self, request, pk):
        assignment = permissions.assignment_get_for_trainee(user=request.user, pk=pk)
        page = assignment_page_get(user=request.user, assignment=assignment)
        form = _draft_form(page, request.POST, request.FILES)
        if page.refusal:
            # The page offered no form; the services would refuse too, but only after
            # storing the uploads.
            form.add_error(None, page.refusal)
        elif form.is_valid():
            try:
                # Handing in saves what was sent first; if handing in is refused, nothing is kept.
                with transaction.atomic():
                    submission = submission_draft_save(
                        enrolment=page.enrolment,
                        assignment=assignment,
                        text=form.cleaned_data["text"],
                        uploads=form.uploads,
                        remove_file_ids=form.remove_file_ids,
                    )
                    if form.hands_in:
                        submission = submission_submit(submission=submission)
            except ValidationError as error:
                form_errors_add(form, error)
            else:
                messages.success(request, self._saved_message(submission))
                return redirect("training:assignment-detail", pk=assignment.pk)
        return self._render(request, page, form, status=400)

    def _render(self, request, page, form, *, status: int = 200):
        context = {"page": page, "form": form, "rule_explained": RULE_EXPLAINED}
        return render(request, self.template, context, status=status)

    @staticmethod
    def _saved_message(submission: Submission) -> str:
        if submission.status == SubmissionStatus.DRAFT:
            return _("Your draft is saved. It is not handed in yet.")
        message = _(
            "Attempt %(attempt)s is handed in. Your trainer will mark it; the outcome and "
            "feedback will appear on this page."
        ) % {"attempt": submission.attempt}
        if submission.is_late:
            message += " " + _("It was handed in after the due date, so it is marked as late.")
        return message


class SubmissionWithdrawView(TraineeRequiredMixin, View):
    """Trainees: confirm, then take back an attempt of their own that nobody has marked yet."""

    template = TEMPLATES + "submission_withdraw.html"

    def get(self, request, pk):
        submission = permissions.submission_get_own(user=request.user, pk=pk)
        return render(request, self.template, {"submission": submission})

    def post(self, request, pk):
        submission = permissions.submission_get_own(user=request.user, pk=pk)
        try:
            submission_withdraw(submission=submission)
        except ValidationError as error:
            context = {"submission": submission, "error": " ".join(error.messages)}
            return render(request, self.template, context, status=400)
        messages.success(
            request,
            _(
                "Attempt %(attempt)s is withdrawn. It does not count towards your attempts, "
                "and you can start again below."
            )
            % {"attempt": submission.attempt},
        )
        return redirect("training:assignment-detail", pk=submission.assignment_id)


class SubmissionFileDownloadView(LoginRequiredMixin, View):
    """The trainee who handed the file in, whoever may mark the work, its second marker and
    staff (decided by permissions.submission_file_get): the file, as a download."""

    def get(self, request, pk):
        upload = permissions.submission_file_get(user=request.user, pk=pk)
        if upload.is_removed:
            # Deleted after the retention period or on erasure: gone for good, and said so.
            return HttpResponse(_("This file was removed and is no longer kept."), status=410)
        try:
            handle = upload.file.open("rb")
        except FileNotFoundError as error:
            raise Http404("Not found.") from error
        file_type = FILE_TYPES.get(upload.content_type)
        stem = upload.original_name.rsplit(".", 1)[0]
        response = FileResponse(
            handle,
            as_attachment=True,
            # The extension comes from the checked content, never from the uploaded name.
            filename=safe_filename(
                stem, extension=file_type.extensions[0] if file_type else "", fallback="submission"
            ),
            content_type=upload.content_type if file_type else "application/octet-stream",
        )
        response["X-Content-Type-Options"] = "nosniff"
        # Trainees' work: never kept by a shared cache or the browser.
        response["Cache-Control"] = "private, no-store"
        return response
