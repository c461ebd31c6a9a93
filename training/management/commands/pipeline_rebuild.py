"""Recompute every enrolment's milestones from the source rows, and say what differed.

python manage.py pipeline_rebuild --check   # compare only; exit status 1 if anything differs
python manage.py pipeline_rebuild           # compare and correct
"""

from django.core.management.base import BaseCommand, CommandError

from training.services.milestones import milestones_rebuild


class Command(BaseCommand):
    help = "Recompute enrolment milestones (the dashboard's pipeline) and report differences."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Only compare; fail if anything differs.")

    def handle(self, *args, check: bool, **options):
        checked, differing = milestones_rebuild(fix=not check)
        self.stdout.write(f"{checked} enrolments checked, {differing} differed from their source rows.")
        if check and differing:
            raise CommandError("The stored milestones do not match: run without --check to correct them.")
        if differing:
            self.stdout.write(self.style.SUCCESS(f"{differing} corrected."))
