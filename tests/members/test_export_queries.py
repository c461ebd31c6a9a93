"""A member's data export runs the same SQL queries however much there is about them.

`rows_add` is also what bench/export.py uses to make its members (one definition of "a
member with N rows of each kind").
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditAction, AuditEntry
from certification.models import CertificateEvent, CertificateEventKind, LocalAction, Verification
from members.export import export_contents
from members.permissions import Role
from tests.factories import AssignmentFactory, UserFactory
from tests.members.test_data_rights import member_with_everything
from training.models import (
    Apology,
    Attendance,
    AttendanceSource,
    AttendanceStatus,
    EnrolmentEvent,
    EnrolmentStatus,
    Mark,
    MarkKind,
    MarkLevel,
    Notice,
    NoticeKind,
    NoticeStatus,
    Outcome,
    RubricCriterion,
    RubricLevel,
    Session,
    SessionConfirmation,
    Submission,
    SubmissionFile,
    SubmissionStatus,
)

pytestmark = pytest.mark.django_db


def rows_add(everything: dict, count: int) -> None:
    """Give the member of member_with_everything `count` more rows of each kind the export
    lists: attendance, apologies, confirmations, enrolment history, submissions (each with a
    file, a mark and its rubric levels), emails, certificate history and checks, local
    actions and audit entries. Bulk inserts: a thousand of each takes seconds."""
    member, cohort, trainer = everything["member"], everything["cohort"], everything["trainer"]
    enrolment = everything["submission"].enrolment
    certificate = everything["certificate"]
    entry = member.registry_entry
    now = timezone.now()
    start = cohort.sessions.order_by("-starts_at").values_list("starts_at", flat=True).first()
    sessions = Session.objects.bulk_create(
        Session(
            cohort=cohort,
            title=f"Session {i}",
            starts_at=start + dt.timedelta(hours=i + 1),
            ends_at=start + dt.timedelta(hours=i + 2),
            mode="online",
            online_link="https://meet.example.org/x",
            checkin_code=f"X{member.pk % 1000:03d}{i:04d}"[:8],
        )
        for i in range(count)
    )
    Attendance.objects.bulk_create(
        Attendance(
            session=session,
            enrolment=enrolment,
            status=AttendanceStatus.PRESENT,
            source=AttendanceSource.REGISTER,
            recorded_by=trainer,
            recorded_at=now,
        )
        for session in sessions
    )
    Apology.objects.bulk_create(
        Apology(session=session, enrolment=enrolment, note="Late train.", created_at=now)
        for session in sessions
    )
    SessionConfirmation.objects.bulk_create(
        SessionConfirmation(session=session, enrolment=enrolment, created_at=now) for session in sessions
    )
    EnrolmentEvent.objects.bulk_create(
        EnrolmentEvent(
            enrolment=enrolment,
            from_status=EnrolmentStatus.ENROLLED,
            to_status=EnrolmentStatus.ENROLLED,
            actor=trainer,
            note="Moved sessions.",
            at=now,
        )
        for _ in range(count)
    )

    assignment = AssignmentFactory(module__version=cohort.version)
    criterion = RubricCriterion.objects.create(assignment=assignment, position=0, title="Listening")
    level = RubricLevel.objects.create(
        criterion=criterion, position=0, title="Good", description="Listens.", outcome=Outcome.PASS
    )
    submissions = Submission.objects.bulk_create(
        Submission(
            enrolment=enrolment,
            assignment=assignment,
            attempt=attempt,
            status=SubmissionStatus.SUBMITTED,
            text="Another power map.",
            submitted_at=now,
            outcome=Outcome.PASS,
        )
        for attempt in range(1, count + 1)
    )
    SubmissionFile.objects.bulk_create(
        SubmissionFile(
            submission=submission,
            original_name="map.pdf",
            content_type="application/pdf",
            size=10,
            removed_at=now,
            removed_reason="retention",
        )
        for submission in submissions
    )
    marks = Mark.objects.bulk_create(
        Mark(
            submission=submission, marker=trainer, kind=MarkKind.FIRST, outcome=Outcome.PASS, feedback="Good."
        )
        for submission in submissions
    )
    MarkLevel.objects.bulk_create(MarkLevel(mark=mark, criterion=criterion, level=level) for mark in marks)

    Notice.objects.bulk_create(
        Notice(
            kind=NoticeKind.SESSION_REMINDER,
            subject=f"session:{session.pk}",
            recipient=member,
            scheduled_for=now - dt.timedelta(days=1),
            next_attempt_at=now - dt.timedelta(days=1),
            status=NoticeStatus.SENT,
            sent_at=now,
            created_at=now,
        )
        for session in sessions
    )
    CertificateEvent.objects.bulk_create(
        CertificateEvent(
            certificate=certificate, kind=CertificateEventKind.REVIEWED, actor=trainer, reason="Ok."
        )
        for _ in range(count)
    )
    Verification.objects.bulk_create(
        Verification(certificate=certificate, channel="page") for _ in range(count)
    )
    LocalAction.objects.bulk_create(
        LocalAction(
            entry=entry,
            issue=f"Bus route {i}",
            organised_with="Neighbours",
            what_happened="A meeting.",
            started_on=timezone.localdate() - dt.timedelta(days=i % 300),
        )
        for i in range(count)
    )
    AuditEntry.objects.bulk_create(
        AuditEntry(
            actor=trainer,
            actor_label=trainer.email,
            action=AuditAction.MARK_ADDED,
            subject=member,
            subject_label=member.email,
            object_label=f"Session {i}",
        )
        for i in range(count)
    )


def export_queries(member) -> tuple[int, dict]:
    """The SQL queries of building the member's data.json, and the data."""
    with CaptureQueriesContext(connection) as captured:
        data, _files = export_contents(user=member)
    return len(captured), data


@pytest.fixture
def staff(seeded):
    return UserFactory(role=Role.NATIONAL_STAFF)


def test_the_export_runs_the_same_queries_for_10_rows_as_for_1000(staff):
    """A member with ten rows of each kind and one with a thousand: the same SQL queries."""
    few = member_with_everything(staff=staff, first_name="Ada", last_name="Few")
    rows_add(few, 10)
    many = member_with_everything(staff=staff, first_name="Ben", last_name="Many")
    rows_add(many, 1000)
    few_queries, few_data = export_queries(few["member"])
    many_queries, many_data = export_queries(many["member"])
    # Every added row is there.
    for section, kind in [
        ("training", "attendance"),
        ("training", "apologies"),
        ("training", "session_confirmations"),
        ("training", "submissions"),
        ("training", "emails_to_you"),
        ("certification", "local_actions"),
        ("membership", "audit_entries_about_you"),
    ]:
        assert len(many_data[section][kind]) - len(few_data[section][kind]) == 990, kind
    assert few_queries == many_queries
