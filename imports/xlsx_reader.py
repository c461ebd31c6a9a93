"""The first sheet of an XLSX workbook, read within bounds, in a process of its own.

Run by imports.parsing as `python -I xlsx_reader.py '<limits as JSON>'` with the file on
standard input; it writes {"rows": [...]} or {"error": code, ...} as JSON on standard output.
The standard library only: the child imports nothing of the project (no Django, no settings,
no secrets in its environment), and caps its own memory and CPU time before reading a byte.

Why not openpyxl: it reads every shared string into memory before the first row (a 122 kB
file took a worker to 1 GB), and pads rows and columns out to what the sheet declares. Here
the few parts an import needs (the workbook, its relationships, the styles, the shared
strings, the first sheet) are streamed through expat, and every bound is checked as it is
reached: the sizes the zip directory declares (in sum and per part) before anything is
unpacked, then the bytes actually unpacked, shared strings, rows, columns, the length of each
cell and of all the text kept. A DOCTYPE, and so any entity, is refused.
"""

import contextlib
import datetime as dt
import io
import json
import posixpath
import re
import resource
import sys
import zipfile
import zlib
from xml.parsers import expat

CHUNK = 64 * 1024
REL_OFFICE_DOCUMENT = "/officeDocument"
WINDOWS_EPOCH = dt.datetime(1899, 12, 30)  # noqa: DTZ001 - a spreadsheet's dates have no zone
MAC_EPOCH = dt.datetime(1904, 1, 1)  # noqa: DTZ001
# Built-in number formats that show dates or times (ECMA-376 18.8.30, and the locale ones).
BUILTIN_DATE_FORMATS = {*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)}
# As openpyxl.styles.numbers.is_date_format: quoted text, [colours] and escapes are not codes.
FORMAT_STRIP = re.compile(r"\[(?!(hh?|mm?|ss?)\])[^\]]*\]|\"[^\"]*\"|\\.")
FORMAT_DATE_CODE = re.compile(r"(?<![_\\])[dmhysDMHYS]")
CELL_REF = re.compile(r"([A-Za-z]{1,3})([0-9]*)")
INTEGER = re.compile(r"[-+]?[0-9]+")


class Refused(Exception):  # noqa: N818 - a refusal with a reason, not an error of ours
    """The file is not read: `code` says why (imports.parsing turns it into words)."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


class Limits:
    def __init__(self, values: dict):
        self.max_expanded_bytes = int(values["max_expanded_bytes"])
        self.max_part_bytes = int(values["max_part_bytes"])
        self.max_parts = int(values["max_parts"])
        self.max_rows = int(values["max_rows"])  # rows of members, the heading row not counted
        self.max_columns = int(values["max_columns"])
        self.max_cell_chars = int(values["max_cell_chars"])
        self.max_shared_strings = int(values["max_shared_strings"])
        self.max_text_chars = int(values["max_text_chars"])
        self.max_sheet_rows = int(values["max_sheet_rows"])  # row elements, blank ones included
        self.max_sheet_elements = int(values["max_sheet_elements"])


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _refuse_doctype(*args):
    raise Refused("doctype")


def _stream(archive: zipfile.ZipFile, name: str, handler, limits: Limits) -> None:
    """Feed one part of the workbook through expat, in chunks, to `handler`."""
    try:
        info = archive.getinfo(name)
    except KeyError as error:
        raise Refused("missing_part", part=name) from error
    if info.file_size > limits.max_part_bytes:
        raise Refused("part_too_large", part=name, size=info.file_size)
    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    parser.ExternalEntityRefHandler = _refuse_doctype
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.buffer_text = True
    parser.StartElementHandler = handler.start
    parser.EndElementHandler = handler.end
    parser.CharacterDataHandler = handler.text
    unpacked = 0
    try:
        with archive.open(info) as stream:
            while not handler.done:
                chunk = stream.read(CHUNK)
                unpacked += len(chunk)
                if unpacked > limits.max_part_bytes:  # the directory's size was a lie
                    raise Refused("part_too_large", part=name, size=unpacked)
                parser.Parse(chunk, not chunk)
                if not chunk:
                    break
    except expat.ExpatError as error:
        raise Refused("xml", part=name, detail=str(error)) from error


class _Relationships:
    def __init__(self):
        self.by_id: dict[str, tuple[str, str]] = {}
        self.done = False

    def start(self, name, attrs):
        if _local(name) == "Relationship" and attrs.get("TargetMode") != "External":
            self.by_id[attrs.get("Id", "")] = (attrs.get("Type", ""), attrs.get("Target", ""))

    def end(self, name):
        pass

    def text(self, data):
        pass

    def target(self, type_suffix: str) -> str | None:
        return next((t for kind, t in self.by_id.values() if kind.endswith(type_suffix)), None)


class _Workbook:
    def __init__(self):
        self.first_sheet_id: str | None = None
        self.date1904 = False
        self.done = False

    def start(self, name, attrs):
        local = _local(name)
        if local == "workbookPr":
            self.date1904 = attrs.get("date1904", "").lower() in ("1", "true")
        elif local == "sheet" and self.first_sheet_id is None:
            self.first_sheet_id = next((v for k, v in attrs.items() if _local(k) == "id"), None)

    def end(self, name):
        if _local(name) == "sheets":
            self.done = True

    def text(self, data):
        pass


class _Styles:
    """Which cell styles show a number as a date."""

    def __init__(self, limits: Limits):
        self.formats: dict[int, str] = {}
        self.style_formats: list[int] = []
        self.in_cell_xfs = False
        self.limits = limits
        self.done = False

    def start(self, name, attrs):
        local = _local(name)
        if local == "numFmt":
            with contextlib.suppress(ValueError):
                self.formats[int(attrs.get("numFmtId", ""))] = attrs.get("formatCode", "")
        elif local == "cellXfs":
            self.in_cell_xfs = True
        elif local == "xf" and self.in_cell_xfs:
            try:
                self.style_formats.append(int(attrs.get("numFmtId", "0")))
            except ValueError:
                self.style_formats.append(0)

    def end(self, name):
        if _local(name) == "cellXfs":
            self.in_cell_xfs = False

    def text(self, data):
        pass

    def date_styles(self) -> set[int]:
        dated = set()
        for index, format_id in enumerate(self.style_formats):
            code = self.formats.get(format_id)
            if code is None:
                is_date = format_id in BUILTIN_DATE_FORMATS
            else:
                is_date = FORMAT_DATE_CODE.search(FORMAT_STRIP.sub("", code.split(";")[0])) is not None
            if is_date:
                dated.add(index)
        return dated


class _SharedStrings:
    def __init__(self, limits: Limits):
        self.limits = limits
        self.strings: list[str] = []
        self.parts: list[str] | None = None
        self.length = 0
        self.in_t = False
        self.phonetic = 0
        self.done = False

    def start(self, name, attrs):
        local = _local(name)
        if local == "si":
            if len(self.strings) >= self.limits.max_shared_strings:
                raise Refused("shared_strings", max=self.limits.max_shared_strings)
            self.parts, self.length = [], 0
        elif local == "rPh":
            self.phonetic += 1  # a reading guide shown above the text, not the text
        elif local == "t" and self.parts is not None and not self.phonetic:
            self.in_t = True

    def end(self, name):
        local = _local(name)
        if local == "si" and self.parts is not None:
            self.strings.append("".join(self.parts))
            self.parts = None
        elif local == "rPh":
            self.phonetic -= 1
        elif local == "t":
            self.in_t = False

    def text(self, data):
        if self.in_t:
            self.length += len(data)
            if self.length > self.limits.max_cell_chars:
                raise Refused(
                    "shared_string_too_long", index=len(self.strings), max=self.limits.max_cell_chars
                )
            self.parts.append(data)


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


class _Sheet:
    """Rows with something in them (the first is the headings), as lists of values."""

    def __init__(self, limits: Limits, shared: list[str], date_styles: set[int], epoch: dt.datetime):
        self.limits = limits
        self.shared = shared
        self.date_styles = date_styles
        self.epoch = epoch
        self.rows: list[list] = []
        self.row_number = 0
        self.cells: dict[int, object] | None = None
        self.column = 0
        self.cell: dict | None = None
        self.capture: str | None = None  # "v", "f" or "t" (inline string text)
        self.phonetic = 0
        self.text_chars = 0
        self.length = 0
        self.row_elements = 0
        self.elements = 0
        self.done = False

    def start(self, name, attrs):
        local = _local(name)
        self.elements += 1
        if self.elements > self.limits.max_sheet_elements:
            raise Refused("elements", max=self.limits.max_sheet_elements)
        if local == "row":
            self.row_elements += 1
            if self.row_elements > self.limits.max_sheet_rows:
                raise Refused("sheet_rows", max=self.limits.max_sheet_rows)
            number = attrs.get("r", "")
            self.row_number = int(number) if number.isdigit() else self.row_number + 1
            self.cells, self.column = {}, 0
        elif local == "c" and self.cells is not None:
            match = CELL_REF.fullmatch(attrs.get("r", ""))
            self.column = _column_number(match.group(1)) if match else self.column + 1
            self.cell = {"t": attrs.get("t", "n"), "s": attrs.get("s", "0"), "v": [], "f": None, "t_text": []}
            self.length = 0
        elif self.cell is not None:
            if local == "v":
                self.capture = "v"
            elif local == "f":
                self.cell["f"] = []
                self.capture = "f"
            elif local == "rPh":
                self.phonetic += 1
            elif local == "t" and not self.phonetic:
                self.capture = "t_text"

    def end(self, name):
        local = _local(name)
        if local in ("v", "f", "t"):
            self.capture = None
        elif local == "rPh":
            self.phonetic -= 1
        elif local == "c" and self.cell is not None:
            self._cell_end()
            self.cell = None
        elif local == "row" and self.cells is not None:
            self._row_end()
            self.cells = None
        elif local == "sheetData":
            self.done = True

    def text(self, data):
        if self.capture and self.cell is not None:
            self.length += len(data)
            if self.length > self.limits.max_cell_chars:
                raise Refused("cell_too_long", row=self.row_number, max=self.limits.max_cell_chars)
            self.cell[self.capture].append(data)

    def _cell_end(self):
        value = self._value(self.cell)
        if value is None or value == "":
            return
        if self.column > self.limits.max_columns:
            raise Refused("columns", max=self.limits.max_columns)
        if isinstance(value, str):
            if len(value) > self.limits.max_cell_chars:  # a shared string used here
                raise Refused("cell_too_long", row=self.row_number, max=self.limits.max_cell_chars)
            self.text_chars += len(value)
            if self.text_chars > self.limits.max_text_chars:
                raise Refused("text_too_long", max=self.limits.max_text_chars)
        self.cells[self.column] = value

    def _row_end(self):
        if not any(str(value).strip() for value in self.cells.values()):
            return  # blank rows in a spreadsheet are not rows
        if len(self.rows) > self.limits.max_rows:  # the headings and max_rows rows are read
            raise Refused("rows", max=self.limits.max_rows)
        width = max(self.cells)
        self.rows.append([self.cells.get(column) for column in range(1, width + 1)])

    def _value(self, cell: dict):
        if cell["f"] is not None:
            # Formulas are kept as written, so that one is seen (and refused) rather than
            # replaced by whatever value the spreadsheet last showed.
            return "=" + "".join(cell["f"])
        kind, raw = cell["t"], "".join(cell["v"])
        if kind == "s":
            try:
                return self.shared[int(raw)]
            except (ValueError, IndexError) as error:
                raise Refused("xml", part="sheet", detail="a shared string that is not there") from error
        if kind == "inlineStr":
            return "".join(cell["t_text"])
        if kind in ("str", "e"):
            return raw
        if kind == "b":
            return raw.strip() in ("1", "true")
        if kind == "d":
            return raw.strip()[:10]
        raw = raw.strip()
        if not raw:
            return None
        try:
            number = int(raw) if INTEGER.fullmatch(raw) else float(raw)
        except ValueError:
            return raw
        if cell["s"].isdigit() and int(cell["s"]) in self.date_styles:
            return self._date(number)
        return number

    def _date(self, number):
        try:
            day, fraction = divmod(number, 1)
            if 0 < number < 60 and self.epoch == WINDOWS_EPOCH:
                day += 1  # Lotus 1-2-3's 29 February 1900, which Excel kept
            moment = self.epoch + dt.timedelta(days=day, seconds=round(fraction * 86400))
        except (OverflowError, ValueError):
            return number
        return moment.date().isoformat() if number >= 1 else moment.time().isoformat()


def _part(base: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))


def _relationships_of(archive, part: str, limits: Limits) -> _Relationships:
    rels = _Relationships()
    name = posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")
    if name in archive.NameToInfo:
        _stream(archive, name, rels, limits)
    return rels


def read_xlsx(data: bytes, limits: Limits) -> list[list]:
    """The rows of the first sheet that hold something; Refused if any bound is passed."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise Refused("zip") from error
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_parts:
            raise Refused("parts", max=limits.max_parts)
        expanded = sum(info.file_size for info in infos)
        if expanded > limits.max_expanded_bytes:
            raise Refused("expanded", size=expanded, max=limits.max_expanded_bytes)
        try:
            package = _Relationships()
            if "_rels/.rels" in archive.NameToInfo:
                _stream(archive, "_rels/.rels", package, limits)
            workbook_part = _part("", package.target(REL_OFFICE_DOCUMENT) or "xl/workbook.xml")
            workbook = _Workbook()
            _stream(archive, workbook_part, workbook, limits)
            rels = _relationships_of(archive, workbook_part, limits)
            if workbook.first_sheet_id not in rels.by_id:
                raise Refused("no_sheet")
            sheet_part = _part(workbook_part, rels.by_id[workbook.first_sheet_id][1])
            # Styles (which numbers are dates) and shared strings are optional parts.
            styles = _Styles(limits)
            styles_part = _part(workbook_part, rels.target("/styles") or "styles.xml")
            if styles_part in archive.NameToInfo:
                _stream(archive, styles_part, styles, limits)
            shared = _SharedStrings(limits)
            shared_part = _part(workbook_part, rels.target("/sharedStrings") or "sharedStrings.xml")
            if shared_part in archive.NameToInfo:
                _stream(archive, shared_part, shared, limits)
            sheet = _Sheet(
                limits,
                shared.strings,
                styles.date_styles(),
                MAC_EPOCH if workbook.date1904 else WINDOWS_EPOCH,
            )
            _stream(archive, sheet_part, sheet, limits)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as error:
            # A bad CRC, a broken stream, an unknown compression, a password.
            raise Refused("zip") from error
    return sheet.rows


def _cap(memory_bytes: int, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # writes no file


def main() -> int:
    settings = json.loads(sys.argv[1])
    _cap(int(settings["memory_bytes"]), int(settings["cpu_seconds"]))
    try:
        data = sys.stdin.buffer.read(int(settings["max_file_bytes"]) + 1)
        try:
            result = {"rows": read_xlsx(data, Limits(settings))}
        except Refused as refused:
            result = {"error": refused.code, **refused.params}
        output = json.dumps(result, ensure_ascii=False, separators=(",", ":"))
    except MemoryError:
        return 3
    sys.stdout.buffer.write(output.encode("utf-8", "surrogatepass"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
