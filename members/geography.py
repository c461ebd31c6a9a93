"""UK reference geography: ONS regions and Westminster constituencies, imported from CSV files."""

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, TypeVar

from django.db import transaction

from members.models import Constituency, Nation, Region
from members.signals import places_changed_announce

ONS_CODE = re.compile(r"^[ENSW]\d{8}$")
# ONS headers carry the boundary year (PCON24CD, RGN24CD, ...); any year is accepted.
CODE_COLUMN = re.compile(r"^PCON\d{2}CD$")
NAME_COLUMN = re.compile(r"^PCON\d{2}NM$")
REGION_COLUMN = re.compile(r"^RGN\d{2}CD$")
COUNTRY_COLUMN = re.compile(r"^CTRY\d{2}CD$")
REGION_COLUMNS = ("ons_code", "name", "nation")
MAX_PROBLEMS_LISTED = 20
BATCH_SIZE = 500

Place = TypeVar("Place", Region, Constituency)


class GeographyImportError(ValueError):
    """A geography file cannot be imported as it stands; nothing was written."""


@dataclass(frozen=True)
class ImportResult:
    """How many rows of an import were created, updated and left unchanged."""

    created: int
    updated: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


@transaction.atomic
def regions_import(*, path: Path | str) -> ImportResult:
    """Create or update regions from a CSV with the columns ons_code, name and nation.

    Regions are matched by ONS code; regions missing from the file are left alone.
    """
    header, rows = _csv_read(path)
    missing = [column for column in REGION_COLUMNS if column not in header]
    if missing:
        _fail(path, [f"missing column(s): {', '.join(missing)}"])

    problems: list[str] = []
    wanted: dict[str, Region] = {}
    code_lines: dict[str, int] = {}
    name_lines: dict[str, int] = {}
    for line, row in rows:
        code, name, nation = (row.get(column, "") for column in REGION_COLUMNS)
        problems += _code_problems(line, code, code_lines, what="region code")
        if not name:
            problems.append(f"line {line}: the name is empty")
        elif name in name_lines:
            problems.append(f"line {line}: name {name!r} repeats line {name_lines[name]}")
        name_lines.setdefault(name, line)
        if nation not in Nation.values:
            problems.append(
                f"line {line}: unknown nation {nation!r} (expected one of {', '.join(Nation.values)})"
            )
        wanted[code] = Region(ons_code=code, name=name, nation=nation)
    if problems:
        _fail(path, problems)
    return _places_save(Region, wanted, fields=["name", "nation"])


@transaction.atomic
def constituencies_import(*, path: Path | str) -> ImportResult:
    """Create or update Westminster constituencies from an ONS constituency lookup CSV.

    Reads the ONS columns PCONyyCD, PCONyyNM and RGNyyCD or, when there is no region column,
    CTRYyyCD (which places Scottish, Welsh and Northern Irish seats: England's country code is
    not a region). Other columns, such as the Welsh name PCONyyNMW, are ignored. Seats are
    matched by ONS code; their target-seat flag is never touched and seats missing from the
    file are left alone. Import the regions first.
    """
    header, rows = _csv_read(path)
    code_column = _column_find(header, CODE_COLUMN)
    name_column = _column_find(header, NAME_COLUMN)
    region_column = _column_find(header, REGION_COLUMN) or _column_find(header, COUNTRY_COLUMN)
    missing = [
        label
        for label, column in (
            ("PCONyyCD", code_column),
            ("PCONyyNM", name_column),
            ("RGNyyCD or CTRYyyCD", region_column),
        )
        if column is None
    ]
    if missing:
        _fail(path, [f"missing column(s): {', '.join(missing)}"])

    region_ids = dict(Region.objects.values_list("ons_code", "pk"))
    max_name = Constituency._meta.get_field("name").max_length
    problems: list[str] = []
    wanted: dict[str, Constituency] = {}
    code_lines: dict[str, int] = {}
    for line, row in rows:
        code, name, region_code = row[code_column], row[name_column], row[region_column]
        problems += _code_problems(line, code, code_lines, what="constituency code")
        if not name:
            problems.append(f"line {line}: the name is empty")
        elif len(name) > max_name:
            problems.append(f"line {line}: the name is longer than {max_name} characters")
        if region_code not in region_ids:
            problems.append(f"line {line}: unknown region code {region_code!r}")
        wanted[code] = Constituency(ons_code=code, name=name, region_id=region_ids.get(region_code))
    if problems:
        _fail(path, problems)
    return _places_save(Constituency, wanted, fields=["name", "region_id"])


def _csv_read(path: Path | str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header and each row with its line number, every value stripped of spaces."""
    # utf-8-sig drops the byte-order mark that ONS downloads start with.
    with open(path, encoding="utf-8-sig", newline="") as file:
        reader = csv.DictReader(file)
        try:
            if not reader.fieldnames:
                _fail(path, ["the file is empty"])
            reader.fieldnames = [name.strip() for name in reader.fieldnames]
            rows = [
                (
                    reader.line_num,
                    {key: (value or "").strip() for key, value in row.items() if key is not None},
                )
                for row in reader
            ]
        except (UnicodeDecodeError, csv.Error) as error:
            raise GeographyImportError(f"{path}: not a readable UTF-8 CSV file ({error}).") from error
    return list(reader.fieldnames), rows


def _column_find(header: list[str], pattern: re.Pattern[str]) -> str | None:
    return next((name for name in header if pattern.match(name)), None)


def _code_problems(line: int, code: str, code_lines: dict[str, int], *, what: str) -> list[str]:
    if not ONS_CODE.match(code):
        return [f"line {line}: malformed {what} {code!r}"]
    if code in code_lines:
        return [f"line {line}: {what} {code} repeats line {code_lines[code]}"]
    code_lines[code] = line
    return []


def _fail(path: Path | str, problems: list[str]) -> NoReturn:
    listed = problems[:MAX_PROBLEMS_LISTED]
    if len(problems) > MAX_PROBLEMS_LISTED:
        listed.append(f"... and {len(problems) - MAX_PROBLEMS_LISTED} more")
    raise GeographyImportError(f"{path}: nothing imported.\n" + "\n".join(listed))


def _places_save(model: type[Place], wanted: dict[str, Place], *, fields: list[str]) -> ImportResult:
    """Create the places that are new and update those whose `fields` differ, in bulk."""
    existing = model.objects.in_bulk(list(wanted), field_name="ons_code")
    to_create: list[Place] = []
    to_update: list[Place] = []
    for code, place in wanted.items():
        current = existing.get(code)
        if current is None:
            to_create.append(place)
        elif any(getattr(current, field) != getattr(place, field) for field in fields):
            for field in fields:
                setattr(current, field, getattr(place, field))
            to_update.append(current)
    model.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    model.objects.bulk_update(to_update, fields, batch_size=BATCH_SIZE)
    if to_create or to_update:
        places_changed_announce()
    return ImportResult(
        created=len(to_create),
        updated=len(to_update),
        unchanged=len(wanted) - len(to_create) - len(to_update),
    )
