"""Reading an uploaded CSV or XLSX into rows: encoding detected and named, limits enforced,
headers matched to the columns the import knows. Nothing here touches the database."""

import codecs
import csv
import io
import re
import zipfile
from dataclasses import dataclass

import tablib
from django.utils.translation import gettext as _

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000

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
    dataset: tablib.Dataset
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


def _dataset(headings: list, body: list[list]) -> tablib.Dataset:
    columns = _columns_match(headings)
    width = len(columns)
    dataset = tablib.Dataset(headers=columns)
    for cells in body:
        cells = list(cells)[:width] + [""] * (width - len(cells))
        cells = ["" if cell is None else cell for cell in cells]
        if all(str(cell).strip() == "" for cell in cells):
            continue  # blank lines in a spreadsheet are not rows
        if len(dataset) >= MAX_ROWS:
            raise ImportFileError(
                _("The file has more than %(max)s rows. Split it and import each part.") % {"max": MAX_ROWS}
            )
        dataset.append(cells)
    for column in [c for c in columns if c.startswith("ignored:")]:
        del dataset[column]
    if not len(dataset):
        raise ImportFileError(_("The file has a heading row but no members under it."))
    return dataset


def _csv_read(data: bytes) -> ParsedFile:
    text, encoding = csv_decode(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    lines = list(csv.reader(io.StringIO(text, newline=""), dialect))
    if not lines:
        raise ImportFileError(_("The file is empty."))
    return ParsedFile(
        dataset=_dataset(lines[0], lines[1:]), read_as=_("CSV, %(encoding)s") % {"encoding": encoding}
    )


def _xlsx_read(data: bytes) -> ParsedFile:
    import openpyxl

    try:
        # Formulas are read as written (data_only=False), so that one is seen and refused
        # rather than replaced by whatever value the spreadsheet last showed.
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise ImportFileError(_("The file is not a readable XLSX workbook.")) from error
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        headings = next(rows, None)
        if headings is None:
            raise ImportFileError(_("The first sheet of the workbook is empty."))
        body = []
        for row in rows:
            body.append(list(row))
            if len(body) > MAX_ROWS + 100:  # blank rows are dropped later; stop reading well past the limit
                break
        return ParsedFile(dataset=_dataset(list(headings), body), read_as="XLSX")
    finally:
        workbook.close()


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
