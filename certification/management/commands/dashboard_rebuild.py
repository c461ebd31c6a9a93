"""Recompute what the dashboard reads from kept summaries, and say what differed: every
enrolment's milestones (the pipeline), its copies of the member's place and of its
certificate's date, and the leader tally.

python manage.py dashboard_rebuild --check   # compare only; exit status 1 if anything differs
python manage.py dashboard_rebuild           # compare and correct

Either way the dashboard's kept figures are thrown away (certification/dashboard_cache.py):
the next page load counts afresh, from the corrected summaries.
"""

from django.core.management.base import BaseCommand, CommandError

from certification.dashboard_cache import dashboard_figures_changed
from certification.services.tally import enrolment_certified_rebuild, leader_tally_rebuild
from training.services.milestones import enrolment_places_rebuild, milestones_rebuild


class Command(BaseCommand):
    help = "Recompute the dashboard's kept summaries (milestones, leader tally) and report differences."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Only compare; fail if anything differs.")

    def handle(self, *args, check: bool, **options):
        checked, milestones_differing = milestones_rebuild(fix=not check)
        self.stdout.write(f"{checked} enrolments checked, {milestones_differing} differed.")
        _checked, places_differing = enrolment_places_rebuild(fix=not check)
        self.stdout.write(f"{places_differing} enrolments' copies of their member's place differed.")
        _checked, certified_differing = enrolment_certified_rebuild(fix=not check)
        self.stdout.write(f"{certified_differing} enrolments' certified dates differed.")
        leaders, tally_differing = leader_tally_rebuild(fix=not check)
        self.stdout.write(f"{leaders} leaders counted, {tally_differing} tally rows differed.")
        differing = milestones_differing + places_differing + certified_differing + tally_differing
        # Corrections are bulk updates no receiver sees; a check may follow an UPDATE by SQL.
        dashboard_figures_changed()
        self.stdout.write("The dashboard's kept figures were cleared.")
        if check and differing:
            raise CommandError("The stored summaries do not match: run without --check to correct them.")
        if differing:
            self.stdout.write(self.style.SUCCESS(f"{differing} corrected."))
