import time

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from members.seeding import DEMO_TOTP_SECRET


class Command(BaseCommand):
    help = (
        "Print the current two-factor code of the demo trainers and staff "
        "(demo mode only; README gives the secret for an authenticator app)."
    )

    def handle(self, *args, **options):
        if not settings.DEMO_MODE and not settings.DEBUG:
            raise CommandError("Demo logins are for demo mode only (DEMO_MODE=true).")
        period = 30
        now = time.time()
        code = format_hotp_value(hotp_value(DEMO_TOTP_SECRET, int(now) // period))
        left = period - int(now) % period
        self.stdout.write(f"{code}  (valid for {left} more seconds)")
