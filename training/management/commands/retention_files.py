"""Delete the files handed in with submissions of cohorts that ended more than
SUBMISSION_FILE_RETENTION_DAYS ago (the submissions and marks stay).

python manage.py retention_files --dry-run   # report what would go, by cohort; delete nothing
python manage.py retention_files             # delete it (the daily beat task does the same)
"""

from django.core.management.base import BaseCommand
from django.template.defaultfilters import filesizeformat

from training.services.retention import retention_files_remove, retention_report


class Command(BaseCommand):
    help = "Remove submission files past the retention period; --dry-run reports first."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Report what would go; delete nothing.")

    def handle(self, *args, dry_run: bool, **options):
        report = retention_report()
        self.stdout.write(f"Cohorts that ended before {report.cutoff:%Y-%m-%d} are past retention.")
        for row in report.cohorts:
            self.stdout.write(
                f"  {row['cohort_name']} (cohort {row['cohort_id']}, ended {row['ended_on']:%Y-%m-%d}): "
                f"{row['files']} files, {filesizeformat(row['bytes'] or 0)}"
            )
        summary = f"{report.files} files, {filesizeformat(report.bytes)} ({report.bytes} bytes)"
        if dry_run:
            self.stdout.write(f"Would remove {summary}. Nothing was deleted (dry run).")
            return
        removed = retention_files_remove()
        self.stdout.write(
            self.style.SUCCESS(
                f"Removed {removed.files} files, {filesizeformat(removed.bytes)} ({removed.bytes} bytes)."
            )
        )
