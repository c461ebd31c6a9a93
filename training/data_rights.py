"""What training holds about a member, for their data export and for erasing their account
(registered with members.data_rights from TrainingConfig.ready).

Erasure keeps the rows that national staff count (enrolments with their statuses and
milestones, attendance, submissions with their outcomes, marks) and blanks or deletes what
says anything about the person: their answers and files, what they wrote to trainers and what
trainers wrote about them, their calendar feed and email settings; waiting emails are cancelled
and the errors of failed ones lose the address; the bounce records of every address they had
go; their full name, address or phone goes from free text about anyone else.
"""

from django.db.models import Case, Prefetch, Q, Value, When
from django.utils.text import get_valid_filename

from members.data_rights import (
    DataSection,
    ErasurePart,
    ExportPart,
    data_section_register,
    iso,
    member_traces,
)
from training.models import (
    Apology,
    Attendance,
    CalendarFeed,
    CohortMessage,
    EmailAddressProblem,
    Enrolment,
    EnrolmentEvent,
    FileRemoval,
    Mark,
    MarkKind,
    MessageRecipient,
    MessageReply,
    Notice,
    NoticeMute,
    NoticeStatus,
    Session,
    SessionConfirmation,
    Submission,
    SubmissionFile,
)

ERASED_TEXT = "[erased]"  # where the database requires some text (a correction's reason)
ERASED_OUTCOME = "The account was erased."


def _file_path(upload: SubmissionFile) -> str:
    name = get_valid_filename(upload.original_name) or "file"
    return f"files/submissions/{upload.submission_id}/{upload.pk}-{name}"


def training_export(user) -> ExportPart:
    """The member's training record. A fixed number of queries, however much there is."""
    enrolments = (
        Enrolment.objects.filter(member=user)
        .select_related("cohort__version__programme")
        .prefetch_related(Prefetch("events", queryset=EnrolmentEvent.objects.order_by("at", "pk")))
        .order_by("applied_at", "pk")
    )
    attendance = (
        Attendance.objects.filter(enrolment__member=user)
        .select_related("session__cohort")
        .order_by("session__starts_at", "pk")
    )
    apologies = Apology.objects.filter(enrolment__member=user).select_related("session").order_by("pk")
    confirmations = (
        SessionConfirmation.objects.filter(enrolment__member=user).select_related("session").order_by("pk")
    )
    submissions = (
        Submission.objects.filter(enrolment__member=user)
        .select_related("assignment", "enrolment__cohort")
        .prefetch_related(
            Prefetch("files", queryset=SubmissionFile.objects.order_by("pk")),
            Prefetch(
                "marks",
                queryset=Mark.objects.order_by("created_at", "pk").prefetch_related(
                    "levels__criterion", "levels__level"
                ),
            ),
        )
        .order_by("pk")
    )
    files = {}
    submission_rows = []
    for submission in submissions:
        file_rows = []
        for upload in submission.files.all():
            row = {
                "name": upload.original_name,
                "content_type": upload.content_type,
                "size": upload.size,
                "removed_at": iso(upload.removed_at),
                "removed_because": upload.get_removed_reason_display() if upload.removed_reason else "",
                "path_in_this_zip": None,
            }
            if upload.file and not upload.is_removed:
                row["path_in_this_zip"] = _file_path(upload)
                files[row["path_in_this_zip"]] = upload.file
            file_rows.append(row)
        submission_rows.append(
            {
                "assignment": submission.assignment.title,
                "cohort": submission.enrolment.cohort.name,
                "attempt": submission.attempt,
                "status": submission.status,
                "text": submission.text,
                "created_at": iso(submission.created_at),
                "submitted_at": iso(submission.submitted_at),
                "late": submission.is_late,
                "withdrawn_at": iso(submission.withdrawn_at),
                "outcome": submission.outcome,
                "files": file_rows,
                # Who marked is the marker's personal data, so it is left out; what they judged is yours.
                "marks": [
                    {
                        "kind": mark.kind,
                        "outcome": mark.outcome,
                        "feedback": mark.feedback,
                        "reason": mark.reason,
                        "at": iso(mark.created_at),
                        "rubric": [
                            {"criterion": level.criterion.title, "level": level.level.title}
                            for level in mark.levels.all()
                        ],
                    }
                    for mark in submission.marks.all()
                ],
            }
        )
    feed = CalendarFeed.objects.filter(member=user).first()
    data = {
        "enrolments": [
            {
                "programme": enrolment.cohort.version.programme.title,
                "cohort": enrolment.cohort.name,
                "status": enrolment.status,
                "applied_at": iso(enrolment.applied_at),
                "status_changed_at": iso(enrolment.status_changed_at),
                "why_you_wanted_to_take_part": enrolment.motivation,
                "message_from_the_trainer": enrolment.decision_message,
                "why_not_completed": enrolment.completion_note,
                "history": [
                    {
                        "from": event.from_status,
                        "to": event.to_status,
                        "at": iso(event.at),
                        "note": event.note,
                    }
                    for event in enrolment.events.all()
                ],
            }
            for enrolment in enrolments
        ],
        "attendance": [
            {
                "cohort": row.session.cohort.name,
                "session": row.session.title,
                "session_starts_at": iso(row.session.starts_at),
                "status": row.status,
                "recorded_by": row.source,
                "recorded_at": iso(row.recorded_at),
            }
            for row in attendance
        ],
        "apologies": [
            {"session": row.session.title, "note": row.note, "at": iso(row.created_at)} for row in apologies
        ],
        "session_confirmations": [
            {"session": row.session.title, "at": iso(row.created_at)} for row in confirmations
        ],
        "submissions": submission_rows,
        "emails_to_you": [
            {
                "kind": notice.kind,
                "about": notice.subject,
                "due_at": iso(notice.scheduled_for),
                "status": notice.status,
                "sent_at": iso(notice.sent_at),
            }
            for notice in Notice.objects.filter(recipient=user).order_by("scheduled_for", "pk")
        ],
        "emails_turned_off": sorted(NoticeMute.objects.filter(member=user).values_list("kind", flat=True)),
        "calendar_feed_created_at": iso(feed.created_at) if feed else None,
        "cohorts_you_train": sorted(user.trained_cohorts.values_list("name", flat=True)),
    }
    return ExportPart(data=data, files=files)


def training_erase(user, now) -> ErasurePart:
    part = ErasurePart()
    submissions = Submission.objects.filter(enrolment__member=user)
    uploads = SubmissionFile.objects.filter(submission__in=submissions)
    part.storage_names.extend(name for name in uploads.exclude(file="").values_list("file", flat=True))
    part.counts["files"] = uploads.filter(removed_at__isnull=True).update(
        file="", original_name="", removed_at=now, removed_reason=FileRemoval.ERASURE
    )
    # Files removed earlier (by retention) lose their name too.
    uploads.update(original_name="")
    part.counts["submission_texts"] = submissions.exclude(text="").update(text="")
    part.counts["mark_feedback"] = Mark.objects.filter(submission__in=submissions).update(
        feedback="",
        # A correction or final mark must keep some reason (a database constraint).
        reason=Case(
            When(kind__in=[MarkKind.FIRST, MarkKind.MODERATION], then=Value("")),
            default=Value(ERASED_TEXT),
        ),
    )
    enrolments = Enrolment.objects.filter(member=user)
    part.counts["enrolment_messages"] = enrolments.update(motivation="", decision_message="")
    part.counts["enrolment_notes"] = EnrolmentEvent.objects.filter(enrolment__in=enrolments).update(note="")
    part.counts["apology_notes"] = Apology.objects.filter(enrolment__in=enrolments).update(note="")
    part.counts["calendar_feed"] = CalendarFeed.objects.filter(member=user).delete()[0]
    part.counts["email_settings"] = NoticeMute.objects.filter(member=user).delete()[0]
    part.counts["emails_cancelled"] = Notice.objects.filter(
        recipient=user, status__in=[NoticeStatus.PENDING, NoticeStatus.SENDING]
    ).update(status=NoticeStatus.SKIPPED, outcome=ERASED_OUTCOME, claimed_by="", enqueued_at=None)
    traces = member_traces(user)
    # A failed email's error may quote the address ("SMTPRecipientsRefused: {'ada@...': ...}").
    part.counts["email_errors"] = traces.rows_scrub(
        Notice.objects.filter(recipient=user), ["outcome"], weak=True
    )
    address_problems = Q(pk__in=[])
    for email in traces.emails:  # every address the member had, not only the primary one
        address_problems |= Q(email__iexact=email)
    part.counts["address_problems"] = EmailAddressProblem.objects.filter(address_problems).delete()[0]
    part.counts["mentions_elsewhere"] = sum(
        traces.rows_scrub(model.objects.all(), fields, weak=False) for model, fields in FREE_TEXT
    )
    return part


# Free text about other members and sessions, written by trainers, staff or other members, where
# this member may be named: only what names them for certain (full name, address, phone) goes.
FREE_TEXT = [
    (Enrolment, ["motivation", "decision_message"]),
    (EnrolmentEvent, ["note"]),
    (Apology, ["note"]),
    (Submission, ["text"]),
    (Mark, ["feedback", "reason"]),
    (Notice, ["outcome"]),
    (Session, ["venue", "address", "preparation"]),
]


# --- Cohort messages and replies -------------------------------------------------------------


def messages_export(user) -> ExportPart:
    """Messages sent to the member with their thread, and what they wrote to cohorts. Who else
    wrote in a thread is their personal data: only whether it was you or a trainer."""
    received = (
        MessageRecipient.objects.filter(member=user)
        .select_related("message__cohort")
        .prefetch_related(Prefetch("replies", queryset=MessageReply.objects.order_by("created_at", "pk")))
        .order_by("message__sent_at", "pk")
    )
    written = CohortMessage.objects.filter(author=user).select_related("cohort").order_by("sent_at", "pk")
    replies_elsewhere = (
        MessageReply.objects.filter(author=user)
        .exclude(thread__member=user)
        .select_related("thread__message__cohort")
        .order_by("created_at", "pk")
    )
    data = {
        "messages_to_you": [
            {
                "cohort": row.message.cohort.name,
                "subject": row.message.subject,
                "message": row.message.body,
                "sent_at": iso(row.message.sent_at),
                "thread": [
                    {
                        "from": "you" if reply.from_trainee else "trainer",
                        "text": reply.body,
                        "at": iso(reply.created_at),
                    }
                    for reply in row.replies.all()
                ],
            }
            for row in received
        ],
        "messages_you_sent_to_cohorts": [
            {
                "cohort": message.cohort.name,
                "audience": message.audience,
                "subject": message.subject,
                "message": message.body,
                "sent_at": iso(message.sent_at),
                "sent_to_people": message.recipient_count,
            }
            for message in written
        ],
        "your_answers_to_trainees": [
            {
                "cohort": reply.thread.message.cohort.name,
                "about": reply.thread.message.subject,
                "text": reply.body,
                "at": iso(reply.created_at),
            }
            for reply in replies_elsewhere
        ],
    }
    return ExportPart(data=data)


def messages_erase(user, now) -> ErasurePart:
    """The member's copies of messages go, with their threads (what they wrote and what
    trainers answered them); the counts of whom each message reached stay. Messages and
    answers they wrote to others stay, as marks' feedback does, without what names them."""
    part = ErasurePart()
    threads = MessageRecipient.objects.filter(member=user)
    part.counts["message_replies"] = MessageReply.objects.filter(thread__in=threads).delete()[0]
    part.counts["messages_received"] = threads.delete()[0]
    traces = member_traces(user)
    part.counts["message_mentions"] = traces.rows_scrub(
        CohortMessage.objects.all(), ["subject", "body"], weak=False
    ) + traces.rows_scrub(MessageReply.objects.all(), ["body"], weak=False)
    return part


def register() -> None:
    data_section_register(DataSection(name="training", export=training_export, erase=training_erase))
    data_section_register(DataSection(name="training_messages", export=messages_export, erase=messages_erase))
