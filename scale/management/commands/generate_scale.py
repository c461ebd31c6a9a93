"""Fill the database with a national movement at scale, for benchmarks and load tests.

python manage.py generate_scale --members 100000        # the issue's shape, about 3 minutes
python manage.py generate_scale --members 1000000 -v0   # a million; -v0 hides the progress lines
python manage.py generate_scale --members 1000 --flush  # empty the database first

See scale/README.md for what is made and the invariants it keeps.
"""

import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from members.models import User
from scale.generator import GenerationError, Sizes, scale_generate


class Command(BaseCommand):
    help = (
        "Make realistic, consistent data in bulk: members in every region and constituency, "
        "cohorts over several programme versions, registers, work, marks, certificates, the "
        "registry, reminders and targets. Refuses a database that has members unless --force "
        "or --flush."
    )

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, required=True, help="Members to make (trainers included).")
        parser.add_argument("--cohorts", type=int, help="Cohorts over three years (default: members / 20).")
        parser.add_argument(
            "--sessions-per-cohort", type=int, default=10, help="Weekly sessions (default 10)."
        )
        parser.add_argument(
            "--certificates", type=int, help="Certificates, where the rule is met (default: members / 5)."
        )
        parser.add_argument("--versions", type=int, default=3, help="Programme versions the cohorts follow.")
        parser.add_argument(
            "--reminder-weeks",
            type=int,
            default=8,
            help="Weeks of session reminders in the ledger (default 8).",
        )
        parser.add_argument(
            "--seed", type=int, default=7, help="Random seed: the same seed, the same movement."
        )
        given = parser.add_mutually_exclusive_group()
        given.add_argument("--force", action="store_true", help="Add to the members already there.")
        given.add_argument(
            "--flush",
            action="store_true",
            help="Empty the database first (manage.py flush), then load the seeds again.",
        )

    def handle(self, *args, **options):
        sizes = Sizes(
            members=options["members"],
            cohorts=options["cohorts"],
            sessions_per_cohort=options["sessions_per_cohort"],
            certificates=options["certificates"],
            versions=options["versions"],
            reminder_weeks=options["reminder_weeks"],
        )
        problems = sizes.check()
        if problems:
            raise CommandError(" ".join(problems))
        started = time.perf_counter()
        if options["flush"]:
            call_command("flush", interactive=False, verbosity=0)
            # Demo logins too where they are allowed, so someone can sign in and look.
            call_command("load_seeds", demo=settings.DEMO_MODE, verbosity=0)
            self.stdout.write("Emptied the database and loaded the seeds.")
        else:
            existing = User.objects.count()
            if existing and not options["force"]:
                raise CommandError(
                    f"The database already has {existing:,} members. Pass --force to add to them, "
                    "or --flush to empty the database first."
                )
        verbosity = options["verbosity"]
        try:
            counts = scale_generate(
                sizes=sizes, seed=options["seed"], log=self._progress if verbosity else None
            )
        except GenerationError as error:
            raise CommandError(str(error)) from error
        width = max(len(label) for label in counts)
        self.stdout.write("Made:")
        for label, count in counts.items():
            self.stdout.write(f"  {label:<{width}}  {count:>10,}")
        self.stdout.write(self.style.SUCCESS(f"Done in {time.perf_counter() - started:.0f}s."))

    def _progress(self, line: str) -> None:
        """A line as each step ends, shown at once (minutes apart at a million members)."""
        self.stdout.write(line)
        self.stdout.flush()
