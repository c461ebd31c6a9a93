"""Re-encrypt every stored secret under the current SECRET_KEY (after a key rotation).

Rotation: set the new SECRET_KEY with the old one first in SECRET_KEY_FALLBACKS, deploy, run
this command; the old key may leave the fallbacks once signed-in sessions and emailed links
made with it no longer matter (README: "Changing SECRET_KEY").
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from config import crypto


class Command(BaseCommand):
    help = "Re-encrypt stored authenticator and webhook secrets under the current SECRET_KEY."

    def handle(self, *args, **options):
        stores = crypto.stores()
        unreadable = {store.name: store.unreadable_count() for store in stores}
        if any(unreadable.values()):
            lost = ", ".join(f"{count} {name}" for name, count in unreadable.items() if count)
            raise CommandError(
                f"Nothing was changed: {lost} cannot be decrypted with SECRET_KEY or SECRET_KEY_FALLBACKS. "
                "Put the previous key back into SECRET_KEY_FALLBACKS and run this again."
            )
        with transaction.atomic():
            for store in stores:
                changed = store.reencrypt()
                self.stdout.write(f"{store.name}: {changed} re-encrypted under the current key.")
