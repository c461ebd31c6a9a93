"""Report work that is owed and not done: what the sweeps finish, left over.

python manage.py integrity_check   # exit status 1 if anything is owed or stuck

- certificates owed: enrolments whose completion rule holds (training.selectors.standing)
  but that have no certificate; certification.certificates_owed_sweep issues them;
- member imports stuck: confirming, with no worker on them for longer than
  MEMBER_IMPORT_WRITE_LEASE_SECONDS; imports.member_imports_confirming_sweep hands them over.

A count above zero for a few minutes after Redis or a worker was down is the sweeps' work
in progress; one that stays says a sweep is not running (is beat up?). It only reads.
`dashboard_rebuild --check` compares the dashboard's kept summaries; this, what is owed.
See docs/decisions/0022-owed-work-is-swept.md.
"""

from django.core.management.base import BaseCommand, CommandError

from certification.selectors.owed import enrolments_owed_certificate
from imports.services import member_imports_stuck


class Command(BaseCommand):
    help = "Report certificates owed and member imports stuck; exit status 1 if any."

    def handle(self, *args, **options):
        owed = enrolments_owed_certificate()
        self.stdout.write(
            f"{len(owed)} certificate{'' if len(owed) == 1 else 's'} owed"
            + (
                f" (enrolments {', '.join(map(str, owed[:20]))}{', ...' if len(owed) > 20 else ''})."
                if owed
                else "."
            )
        )
        stuck = list(member_imports_stuck().order_by("pk").values_list("pk", flat=True))
        self.stdout.write(
            f"{len(stuck)} member import{'' if len(stuck) == 1 else 's'} stuck confirming"
            + (f" (imports {', '.join(map(str, stuck[:20]))})." if stuck else ".")
        )
        if owed or stuck:
            raise CommandError("Work is owed: the sweeps should finish it within minutes (is beat running?).")
