from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from members.geography import GeographyImportError, constituencies_import, regions_import


class Command(BaseCommand):
    help = (
        "Import Westminster constituencies from an ONS constituency lookup CSV "
        "(with --regions, the regions first). Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="ONS lookup CSV: PCONyyCD, PCONyyNM, RGNyyCD/CTRYyyCD.")
        parser.add_argument(
            "--regions", type=Path, help="Regions CSV (ons_code, name, nation) to import first."
        )

    def handle(self, *args, path: Path, regions: Path | None, **options):
        for file in (regions, path):
            if file is not None and not file.is_file():
                raise CommandError(f"File not found: {file}")
        try:
            # Regions and seats land together or not at all.
            with transaction.atomic():
                places = regions_import(path=regions) if regions is not None else None
                seats = constituencies_import(path=path)
        except GeographyImportError as error:
            raise CommandError(str(error)) from error
        if places is not None:
            self.stdout.write(f"Regions: {places}.")
        self.stdout.write(f"Constituencies: {seats}.")
