"""Retention: files handed in to cohorts that ended long ago are deleted, after a dry run
that says what would go; the submissions, outcomes and marks stay."""

import datetime as dt
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from members.permissions import Role
from tests.factories import PDF, CohortFactory, EnrolmentFactory, SubmissionFactory, UserFactory
from training.models import CohortStatus, FileRemoval, Mark, MarkKind, Outcome, Submission, SubmissionFile
from training.services.retention import retention_files_remove, retention_report

pytestmark = pytest.mark.django_db

RETENTION_DAYS = 730


@pytest.fixture(autouse=True)
def _retention(settings):
    settings.SUBMISSION_FILE_RETENTION_DAYS = RETENTION_DAYS


def cohort_ended(days_ago: int, *, status=CohortStatus.FINISHED, name=None):
    ends_on = timezone.localdate() - dt.timedelta(days=days_ago)
    return CohortFactory(
        status=status,
        name=name or f"Ended {days_ago} days ago",
        enrolment_opens_on=ends_on - dt.timedelta(days=120),
        enrolment_closes_on=ends_on - dt.timedelta(days=100),
        starts_on=ends_on - dt.timedelta(days=90),
        ends_on=ends_on,
    )


def work_with_files(cohort, count: int = 1, size: int = len(PDF)) -> Submission:
    submission = SubmissionFactory(enrolment=EnrolmentFactory(cohort=cohort), outcome=Outcome.PASS)
    Mark.objects.create(
        submission=submission,
        marker=UserFactory(role=Role.TRAINER),
        kind=MarkKind.FIRST,
        outcome=Outcome.PASS,
        feedback="Good.",
    )
    for n in range(count):
        content = PDF + b"%" * (size - len(PDF))
        upload = SubmissionFile(
            submission=submission,
            original_name=f"work-{n}.pdf",
            content_type="application/pdf",
            size=len(content),
        )
        upload.file.save(f"work-{n}.pdf", ContentFile(content), save=False)
        upload.save()
    return submission


@pytest.fixture
def cohorts(db):
    old = cohort_ended(RETENTION_DAYS + 10, name="Old cohort")
    old_cancelled = cohort_ended(
        RETENTION_DAYS + 400, status=CohortStatus.CANCELLED, name="Cancelled long ago"
    )
    recent = cohort_ended(RETENTION_DAYS - 10, name="Recent cohort")
    running_but_dated = cohort_ended(RETENTION_DAYS + 50, status=CohortStatus.RUNNING, name="Still running")
    return {
        "old": work_with_files(old, count=2, size=1000),
        "old_cancelled": work_with_files(old_cancelled, count=1, size=500),
        "recent": work_with_files(recent, count=1),
        "running": work_with_files(running_but_dated, count=1),
    }


def test_the_dry_run_reports_what_would_go_by_cohort_and_deletes_nothing(cohorts):
    out = StringIO()
    call_command("retention_files", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "Old cohort" in text
    assert "Cancelled long ago" in text
    assert "Recent cohort" not in text
    assert "Still running" not in text
    assert "Would remove 3 files" in text
    assert "(2500 bytes)" in text
    assert "Nothing was deleted" in text
    assert not SubmissionFile.objects.filter(removed_at__isnull=False).exists()
    assert all(default_storage.exists(upload.file.name) for upload in SubmissionFile.objects.all())
    report = retention_report()
    assert [(row["cohort_name"], row["files"], row["bytes"]) for row in report.cohorts] == [
        ("Cancelled long ago", 1, 500),
        ("Old cohort", 2, 2000),
    ]


def test_the_real_run_removes_only_old_files_and_keeps_work_and_marks(
    cohorts, django_capture_on_commit_callbacks
):
    old_files = list(SubmissionFile.objects.filter(submission__in=[cohorts["old"], cohorts["old_cancelled"]]))
    kept_files = list(SubmissionFile.objects.exclude(pk__in=[f.pk for f in old_files]))
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("retention_files", stdout=out)
    assert "Removed 3 files" in out.getvalue()
    for upload in old_files:
        stored = upload.file.name
        upload.refresh_from_db()
        assert upload.is_removed
        assert upload.removed_reason == FileRemoval.RETENTION
        assert not upload.file
        assert upload.original_name  # the record of what was handed in stays
        assert not default_storage.exists(stored)
    for upload in kept_files:
        upload.refresh_from_db()
        assert not upload.is_removed
        assert default_storage.exists(upload.file.name)
    old = Submission.objects.get(pk=cohorts["old"].pk)
    assert old.outcome == Outcome.PASS
    assert old.text
    assert Mark.objects.filter(submission=old).count() == 1


def test_running_twice_and_in_small_batches_is_harmless(cohorts, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = retention_files_remove(batch_size=1)
    assert first.files == 3
    assert first.bytes == 2500
    with django_capture_on_commit_callbacks(execute=True):
        second = retention_files_remove(batch_size=1)
    assert second.files == 0
    assert retention_report().files == 0


def test_the_beat_task_runs_the_same_removal(cohorts, settings):
    from training.tasks import retention_files_task

    assert "retention-files" in settings.CELERY_BEAT_SCHEDULE
    assert settings.CELERY_BEAT_SCHEDULE["retention-files"]["task"] == "training.retention_files"
    assert retention_files_task.delay().get() == {"files": 3, "bytes": 2500}


def test_a_shorter_setting_takes_more(cohorts, settings):
    settings.SUBMISSION_FILE_RETENTION_DAYS = RETENTION_DAYS - 20
    assert retention_report().files == 4  # the recent cohort's file too (the running one never)


def test_a_removed_file_is_shown_as_removed_and_its_download_is_gone(
    client, cohorts, django_capture_on_commit_callbacks
):
    submission = cohorts["old"]
    upload = SubmissionFile.objects.filter(submission=submission).first()
    with django_capture_on_commit_callbacks(execute=True):
        retention_files_remove()
    client.force_login(submission.enrolment.member)
    response = client.get(reverse("training:submission-file", args=[upload.pk]))
    assert response.status_code == 410
    page = client.get(reverse("training:assignment-detail", args=[submission.assignment_id])).content.decode()
    assert "removed after the retention period" in page
    assert reverse("training:submission-file", args=[upload.pk]) not in page
