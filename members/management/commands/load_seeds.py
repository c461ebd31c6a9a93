from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from members.geography import GeographyImportError


class Command(BaseCommand):
    help = (
        "Load the seeds of every app (reference data; with --demo, demo logins and data too), "
        "in INSTALLED_APPS order, so each app builds on the ones before. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--demo", action="store_true", help="Also load demo logins and data.")

    def handle(self, *args, demo: bool, **options):
        if demo and not settings.DEMO_MODE and not settings.DEBUG:
            raise CommandError("Demo logins are for demo mode only (DEMO_MODE=true).")
        seeds_dir = settings.BASE_DIR / "seeds"
        try:
            with transaction.atomic():
                for app_config in apps.get_app_configs():
                    module_name = f"{app_config.name}.seeding"
                    if find_spec(module_name) is None:
                        continue
                    for line in import_module(module_name).seed(seeds_dir=seeds_dir, demo=demo):
                        self.stdout.write(f"{app_config.label}: {line}")
        except (GeographyImportError, ValueError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS("Seeds loaded."))
