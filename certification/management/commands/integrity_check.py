"""Report work that is owed and not done: what the sweeps finish, left over.

python manage.py integrity_check   # exit status 1 if anything is owed or stuck

- certificates owed: enrolments whose completion rule holds (training.selectors.standing)
  but that have no certificate; certification.certificates_owed_sweep issues them;
- member imports stuck: confirming, with no worker on them for longer than
  MEMBER_IMPORT_WRITE_LEASE_SECONDS; imports.member_imports_confirming_sweep hands them over.
- invitations owed: imported members not invited a lease after their import was written,
  unclaimed or claimed past MEMBER_INVITATION_CLAIM_LEASE_SECONDS;
  imports.member_invitations_sweep sends them;
- endpoint pauses untold: paused automatically, the staff not told a minute later;
  webhooks.deliveries_sweep tells them;
- data exports stuck: preparing, never handed over or handed over past
  DATA_EXPORT_REENQUEUE_SECONDS (a long build counts while it runs); members.data_exports_sweep.

A count above zero for a few minutes after Redis or a worker was down is the sweeps' work
in progress; one that stays says a sweep is not running (is beat up?). It only reads.
`dashboard_rebuild --check` compares the dashboard's kept summaries; this, what is owed.
See docs/decisions/0022-owed-work-is-swept.md.
"""

from django.core.management.base import BaseCommand, CommandError

from certification.selectors.owed import enrolments_owed_certificate
from imports.services import member_imports_stuck, member_invitations_stuck
from members.export import data_exports_stuck
from webhooks.services import endpoints_paused_untold


class Command(BaseCommand):
    help = "Report work owed after a commit and not done (decision 0022); exit status 1 if any."

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
        others = {
            "Invitations owed": member_invitations_stuck(),
            "Endpoint pauses untold": endpoints_paused_untold(),
            "Data exports stuck preparing": data_exports_stuck(),
        }
        late = 0
        for label, queryset in others.items():
            count = queryset.count()
            late += count
            self.stdout.write(f"{label}: {count}.")
        if owed or stuck or late:
            raise CommandError("Work is owed: the sweeps should finish it within minutes (is beat running?).")
