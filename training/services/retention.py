"""Retention: files handed in with submissions are deleted once their cohort ended more than
SUBMISSION_FILE_RETENTION_DAYS ago. The submissions, their outcomes and marks stay; each file's
row stays too, marked as removed by retention, so the record shows a file was handed in.

`manage.py retention_files --dry-run` reports what would go; the daily beat task removes it.
"""

import datetime as dt
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, F, QuerySet, Sum
from django.utils import timezone

from training.models import CohortStatus, FileRemoval, SubmissionFile

RETENTION_BATCH_SIZE = 500
ENDED_STATUSES = [CohortStatus.FINISHED, CohortStatus.CANCELLED]


def retention_cutoff(*, today: dt.date | None = None) -> dt.date:
    """Cohorts that ended before this date are past retention."""
    today = today or timezone.localdate()
    return today - dt.timedelta(days=settings.SUBMISSION_FILE_RETENTION_DAYS)


def retention_files_due(*, today: dt.date | None = None) -> QuerySet[SubmissionFile]:
    """Files still held whose cohort has ended (finished or cancelled) before the cut-off."""
    return SubmissionFile.objects.filter(
        removed_at__isnull=True,
        submission__enrolment__cohort__status__in=ENDED_STATUSES,
        submission__enrolment__cohort__ends_on__lt=retention_cutoff(today=today),
    )


@dataclass
class RetentionReport:
    cutoff: dt.date
    files: int = 0
    bytes: int = 0
    # One row per cohort: id, name, ended on, files, bytes.
    cohorts: list[dict] = field(default_factory=list)


def retention_report(*, today: dt.date | None = None) -> RetentionReport:
    """What retention would remove now, by cohort. One query."""
    report = RetentionReport(cutoff=retention_cutoff(today=today))
    rows = (
        retention_files_due(today=today)
        .values(
            cohort_id=F("submission__enrolment__cohort_id"),
            cohort_name=F("submission__enrolment__cohort__name"),
            ended_on=F("submission__enrolment__cohort__ends_on"),
        )
        .annotate(files=Count("pk"), bytes=Sum("size"))
        .order_by("ended_on", "cohort_id")
    )
    for row in rows:
        report.cohorts.append(row)
        report.files += row["files"]
        report.bytes += row["bytes"] or 0
    return report


def _storage_delete(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def retention_files_remove(
    *, today: dt.date | None = None, batch_size: int = RETENTION_BATCH_SIZE, now=None
) -> RetentionReport:
    """Remove every file past retention, a batch per transaction. Safe to run twice or in
    two workers at once: rows are locked (skipping those another worker holds) and only files
    not yet removed are taken. Storage is cleared after each batch commits."""
    now = now or timezone.now()
    report = RetentionReport(cutoff=retention_cutoff(today=today))
    while True:
        with transaction.atomic():
            batch = list(
                retention_files_due(today=today)
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")
                .values_list("pk", "file", "size")[:batch_size]
            )
            if not batch:
                break
            SubmissionFile.objects.filter(pk__in=[pk for pk, _name, _size in batch]).update(
                file="", removed_at=now, removed_reason=FileRemoval.RETENTION
            )
            names = [name for _pk, name, _size in batch if name]
            transaction.on_commit(partial(_storage_delete, names))
        report.files += len(batch)
        report.bytes += sum(size for _pk, _name, size in batch)
    return report
