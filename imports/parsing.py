"""Reading an uploaded CSV or XLSX into rows: encoding detected and named, limits enforced,
headers matched to the columns the import knows. Nothing here touches the database."""

import codecs
import csv
import datetime as dt
import io
import json
import logging
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
# Beyond the member columns, a membership database's export may carry its own: this many at most.
MAX_COLUMNS = 100
# The longest cell: an address is 254 characters, a name 150; no member's detail comes near.
MAX_CELL_CHARS = 1000

# Column -> the headings accepted for it (compared lower-case, with spaces, dashes and
# underscores ignored).
COLUMNS: dict[str, tuple[str, ...]] = {
    "email": ("email", "emailaddress", "e-mail"),
    "first_name": ("firstname", "forename", "givenname"),
    "last_name": ("lastname", "surname", "familyname"),
    "constituency": ("constituency", "constituencycode", "constituencyname", "onscode", "seat"),
    "consent_date": ("consentdate", "consentgivenon", "consentedon", "dateofconsent"),
    "consent_source": ("consentsource", "consentevidence", "sourceofconsent", "consentvia"),
    "membership_number": ("membershipnumber", "membernumber", "membershipno", "memberno", "externalid"),
}
REQUIRED_COLUMNS = ("email", "first_name", "last_name", "constituency", "consent_date", "consent_source")

# A valid UTF-8 sequence of two or more bytes: in a file that is not UTF-8 as a whole, it
# means parts were saved in different encodings.
UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


class ImportFileError(ValueError):
    """The file cannot be read as a whole; the message says why, for the person uploading."""


@dataclass
class ParsedFile:
    rows: list[dict[str, str]]  # one dict a member, keyed by the columns the import knows
    read_as: str  # e.g. "CSV, UTF-8 with BOM" or "XLSX"


def _key(heading) -> str:
    return re.sub(r"[\s_\-]+", "", str(heading or "")).lower()


def _columns_match(headings: list) -> list[str]:
    by_key = {alias.replace("-", ""): column for column, aliases in COLUMNS.items() for alias in aliases}
    matched: list[str] = []
    unknown: list[str] = []
    for heading in headings:
        column = by_key.get(_key(heading))
        if column is None:
            if str(heading or "").strip():
                unknown.append(str(heading).strip())
            matched.append(f"ignored:{len(matched)}")
        elif column in matched:
            raise ImportFileError(_("The column “%(name)s” appears twice.") % {"name": heading})
        else:
            matched.append(column)
    missing = [column for column in REQUIRED_COLUMNS if column not in matched]
    if missing:
        raise ImportFileError(
            _("The first row must name the columns. Missing: %(missing)s.")
            % {"missing": ", ".join(column.replace("_", " ") for column in missing)}
        )
    return matched


def csv_decode(data: bytes) -> tuple[str, str]:
    """The text of a CSV file and the name of its encoding. UTF-8 (with or without a byte
    order mark) and Windows-1252 are read; anything else, or a mixture, is refused."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ImportFileError(_("The file is UTF-16. Save it as “CSV UTF-8” and upload it again."))
    if b"\x00" in data:
        raise ImportFileError(_("The file has NUL characters: it is not a text CSV file."))
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "UTF-8 with BOM"
        except UnicodeDecodeError as error:
            raise ImportFileError(_mixed_message(data, error)) from error
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError as error:
        if UTF8_MULTIBYTE.search(data):
            raise ImportFileError(_mixed_message(data, error)) from error
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError as error:
        raise ImportFileError(
            _("The file is in an encoding this import does not read. Save it as “CSV UTF-8”.")
        ) from error


def _mixed_message(data: bytes, error: UnicodeDecodeError) -> str:
    line = data[: error.start].count(b"\n") + 1
    return _(
        "The file mixes text encodings (UTF-8 in places, something else on line %(line)s), so "
        "names would come out garbled. Save it as “CSV UTF-8” and upload it again."
    ) % {"line": line}


def _text(cell) -> str:
    """A cell as text (a workbook gives numbers too), so that rows can be kept as JSON."""
    if cell is None:
        return ""
    if isinstance(cell, dt.datetime):
        return cell.date().isoformat()
    if isinstance(cell, dt.date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


def _rows(headings: list, body: list[list]) -> list[dict[str, str]]:
    columns = _columns_match(headings)
    width = len(columns)
    rows: list[dict[str, str]] = []
    for cells in body:
        cells = [_text(cell) for cell in list(cells)[:width]] + [""] * (width - len(cells))
        if all(cell.strip() == "" for cell in cells):
            continue  # blank lines in a spreadsheet are not rows
        if len(rows) >= MAX_ROWS:
            raise ImportFileError(
                _("The file has more than %(max)s rows. Split it and import each part.") % {"max": MAX_ROWS}
            )
        rows.append(
            {
                column: cell
                for column, cell in zip(columns, cells, strict=True)
                if not column.startswith("ignored:")
            }
        )
    if not rows:
        raise ImportFileError(_("The file has a heading row but no members under it."))
    return rows


def _csv_read(data: bytes) -> ParsedFile:
    text, encoding = csv_decode(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    lines: list[list[str]] = []
    members = 0
    try:
        for cells in reader:
            if len(cells) > MAX_COLUMNS:
                if any(cell.strip() for cell in cells[MAX_COLUMNS:]):
                    raise ImportFileError(
                        _("The file has more than %(max)s columns. Keep the member columns only.")
                        % {"max": MAX_COLUMNS}
                    )
                cells = cells[:MAX_COLUMNS]
            if any(len(cell) > MAX_CELL_CHARS for cell in cells):
                raise ImportFileError(
                    _(
                        "Line %(line)s has a cell of more than %(max)s characters: "
                        "no member's details are that long."
                    )
                    % {"line": reader.line_num, "max": f"{MAX_CELL_CHARS:,}"}
                )
            if lines and any(cell.strip() for cell in cells):
                members += 1
                if members > MAX_ROWS:  # stop reading here: the rest is never looked at
                    raise ImportFileError(
                        _("The file has more than %(max)s rows. Split it and import each part.")
                        % {"max": MAX_ROWS}
                    )
            lines.append(cells)
    except csv.Error as error:  # a field past the csv module's own limit, a stray quote
        raise ImportFileError(
            _("Line %(line)s cannot be read as CSV. Save the file as “CSV UTF-8” and upload it again.")
            % {"line": reader.line_num}
        ) from error
    if not lines:
        raise ImportFileError(_("The file is empty."))
    return ParsedFile(
        rows=_rows(lines[0], lines[1:]), read_as=_("CSV, %(encoding)s") % {"encoding": encoding}
    )


# Bounds of an XLSX file, checked while it is read (imports/xlsx_reader.py): what the zip may
# unpack to (in sum, as its directory declares, and per part read), and what the sheet holds.
XLSX_MAX_EXPANDED_BYTES = 64 * 1024 * 1024
XLSX_MAX_PART_BYTES = 24 * 1024 * 1024
XLSX_MAX_PARTS = 1000
XLSX_MAX_SHARED_STRINGS = 500_000
XLSX_MAX_TEXT_CHARS = 8_000_000
# Row elements (blank rows included: a spreadsheet writes none for an untouched row) and
# elements of any kind in the sheet: each costs time to parse, whatever it holds.
XLSX_MAX_SHEET_ROWS = 100_000
XLSX_MAX_SHEET_ELEMENTS = 1_000_000
# The reading process's own caps: address space, CPU seconds, and the wall clock.
XLSX_READER_MEMORY_BYTES = 256 * 1024 * 1024
XLSX_READER_CPU_SECONDS = 10
XLSX_READER_WALL_SECONDS = 30
XLSX_READER = Path(__file__).with_name("xlsx_reader.py")


def _xlsx_refusal(result: dict) -> str:
    code = result.get("error")
    if code == "doctype":
        return _(
            "The workbook holds a document type declaration (DOCTYPE), which spreadsheet programs "
            "never write. Open it in your spreadsheet program, save it as .xlsx and upload it again."
        )
    if code in ("expanded", "part_too_large", "parts"):
        return _(
            "The workbook unpacks to more than %(mb)s MB, far more than %(rows)s members need. "
            "Save only the sheet of members, or split it, and upload it again."
        ) % {"mb": XLSX_MAX_PART_BYTES // (1024 * 1024), "rows": f"{MAX_ROWS:,}"}
    if code == "rows":
        return _("The file has more than %(max)s rows. Split it and import each part.") % {"max": MAX_ROWS}
    if code == "columns":
        return _("The first sheet has more than %(max)s columns. Keep the member columns only.") % {
            "max": MAX_COLUMNS
        }
    if code in ("cell_too_long", "shared_string_too_long"):
        return _("A cell holds more than %(max)s characters: no member's details are that long.") % {
            "max": f"{MAX_CELL_CHARS:,}"
        }
    if code == "elements":
        return _(
            "The first sheet holds more than %(max)s cells and rows, empty ones included. Copy the "
            "members to a new workbook and upload that."
        ) % {"max": f"{XLSX_MAX_SHEET_ELEMENTS:,}"}
    if code == "sheet_rows":
        return _(
            "The first sheet has more than %(max)s rows, blank ones included. Copy the members to a "
            "new workbook and upload that."
        ) % {"max": f"{XLSX_MAX_SHEET_ROWS:,}"}
    if code in ("shared_strings", "text_too_long"):
        return _("The first sheet holds far more text than %(rows)s members need. Split it.") % {
            "rows": f"{MAX_ROWS:,}"
        }
    if code == "no_sheet":
        return _("The workbook has no sheet to read.")
    return _("The file is not a readable XLSX workbook.")


def xlsx_rows_read(data: bytes) -> list[list]:
    """The rows of the first sheet that hold something, read in a child process with its own
    memory and CPU caps (imports/xlsx_reader.py): a file built to exhaust memory or time
    ends that process, never the web worker. ImportFileError with the reason otherwise."""
    limits = {
        "max_file_bytes": MAX_FILE_BYTES,
        "max_expanded_bytes": XLSX_MAX_EXPANDED_BYTES,
        "max_part_bytes": XLSX_MAX_PART_BYTES,
        "max_parts": XLSX_MAX_PARTS,
        "max_rows": MAX_ROWS,
        "max_columns": MAX_COLUMNS,
        "max_cell_chars": MAX_CELL_CHARS,
        "max_shared_strings": XLSX_MAX_SHARED_STRINGS,
        "max_text_chars": XLSX_MAX_TEXT_CHARS,
        "max_sheet_rows": XLSX_MAX_SHEET_ROWS,
        "max_sheet_elements": XLSX_MAX_SHEET_ELEMENTS,
        "memory_bytes": XLSX_READER_MEMORY_BYTES,
        "cpu_seconds": XLSX_READER_CPU_SECONDS,
    }
    try:
        completed = subprocess.run(  # noqa: S603 - our own script, by path, under this Python
            [sys.executable, "-I", str(XLSX_READER), json.dumps(limits)],
            input=data,
            capture_output=True,
            timeout=XLSX_READER_WALL_SECONDS,
            env={"LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8"},
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        logger.warning("XLSX reader passed %s s and was stopped", XLSX_READER_WALL_SECONDS)
        raise ImportFileError(_reader_gave_up()) from error
    if completed.returncode != 0:
        logger.warning(
            "XLSX reader ended with %s: %s",
            completed.returncode,
            completed.stderr[-500:].decode(errors="replace"),
        )
        raise ImportFileError(_reader_gave_up())
    result = json.loads(completed.stdout)
    if "error" in result:
        raise ImportFileError(_xlsx_refusal(result))
    return result["rows"]


def _reader_gave_up() -> str:
    return _(
        "The workbook could not be read within the memory and time an import may use. Save the "
        "sheet of members as CSV, or split it, and upload it again."
    )


def _xlsx_read(data: bytes) -> ParsedFile:
    rows = xlsx_rows_read(data)
    if not rows:
        raise ImportFileError(_("The first sheet of the workbook is empty."))
    return ParsedFile(rows=_rows(rows[0], rows[1:]), read_as="XLSX")


def import_file_read(*, name: str, data: bytes) -> ParsedFile:
    """Rows of an uploaded file, with its columns named as the import knows them."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(
            _("The file is larger than %(max)s MB. Split it and import each part.")
            % {"max": MAX_FILE_BYTES // (1024 * 1024)}
        )
    if not data:
        raise ImportFileError(_("The file is empty."))
    if data.startswith(b"PK\x03\x04"):
        return _xlsx_read(data)
    if name.lower().endswith((".xlsx", ".xls", ".ods")):
        raise ImportFileError(_("The file is not a readable XLSX workbook. Save it as .xlsx or CSV."))
    return _csv_read(data)
