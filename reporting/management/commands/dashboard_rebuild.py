"""Recompute what the dashboard reads from kept summaries, and say what differed: every
enrolment's milestones (the pipeline), its copies of the member's place and of its
certificate's date, and the leader tally: the events' rules over every row, one SQL statement
per family (reporting/services/rebuild.py; about a minute at a million members).

python manage.py dashboard_rebuild --check   # compare only; exit status 1 if anything differs
python manage.py dashboard_rebuild           # compare and correct

Either way the dashboard's kept figures are thrown away (reporting/services/figures.py):
the next page load counts afresh, from the corrected summaries.
"""

from django.core.management.base import BaseCommand, CommandError

from reporting.services.rebuild import read_model_rebuild


class Command(BaseCommand):
    help = (
        "Recompute the dashboard's kept summaries (milestones, copies, leader tally) and report differences."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Only compare; fail if anything differs.")

    def handle(self, *args, check: bool, **options):
        report = read_model_rebuild(fix=not check)
        self.stdout.write(f"{report.enrolments} enrolments checked, {report.milestones_differing} differed.")
        self.stdout.write(f"{report.places_differing} enrolments' copies of their member's place differed.")
        self.stdout.write(f"{report.certified_differing} enrolments' certified dates differed.")
        self.stdout.write(f"{report.leaders} leaders counted, {report.tally_differing} tally rows differed.")
        self.stdout.write("The dashboard's kept figures were cleared.")
        if check and report.differing:
            raise CommandError("The stored summaries do not match: run without --check to correct them.")
        if report.differing:
            self.stdout.write(self.style.SUCCESS(f"{report.differing} corrected."))
