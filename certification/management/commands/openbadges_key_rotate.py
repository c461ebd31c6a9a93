"""Rotate an Open Badges signing key: a new key signs new credentials, the old ones stay published.

With the keys in the environment (production), or with --print, the command prints the new key
for you to add to OPENBADGES_SIGNING_KEYS and changes nothing; in development it writes the key
into the key directory.
"""

from django.core.management.base import BaseCommand

from certification import signing_keys


class Command(BaseCommand):
    help = (
        "Make a new Open Badges signing key. New credentials are signed with it; credentials signed "
        "before keep verifying while the older keys stay configured."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--curve",
            choices=signing_keys.CURVES,
            action="append",
            help="The curve of the new key (Ed25519: Data Integrity proofs; P-256: VC-JWT). "
            "Repeat for both; default: both.",
        )
        parser.add_argument(
            "--print",
            action="store_true",
            dest="print_only",
            help="Print the new keys for OPENBADGES_SIGNING_KEYS (first set-up of production) "
            "instead of writing them to the key directory.",
        )

    def handle(self, *args, curve=None, print_only=False, **options):
        curves = curve or list(signing_keys.CURVES)
        if print_only or signing_keys.keys_configured():
            # Production: the environment is the record, and this command cannot write it.
            texts = [signing_keys.key_new(curve=name).private_pem() for name in curves]
            self.stdout.write(
                "Add these keys to OPENBADGES_SIGNING_KEYS beside the keys already there (keep "
                "those, so that credentials they signed keep verifying; the Created lines say which "
                "is newest), then restart every web process and worker. Keep the keys secret and "
                "backed up.\n"
            )
            self.stdout.write("".join(texts))
            return
        for name in curves:
            key = signing_keys.key_create_in_directory(curve=name)
            self.stdout.write(
                f"Made a new {name} key in {signing_keys.key_directory()}: {key.verification_method_id}"
            )
