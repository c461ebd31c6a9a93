"""Hostile files: every bound of the import's reading is reached with a message, quickly,
never a 500 and never an exhausted worker. The bombs are kept small; the bound is asserted.

The XLSX files are built by hand (a zip of a few XML parts), so that each holds exactly
what is tried: a DOCTYPE, rows past the limit, a shared string past the cell limit, a
directory that declares more than may be unpacked."""

import io
import struct
import time
import zipfile

import pytest

from imports import parsing
from imports.models import MemberImport
from imports.parsing import MAX_CELL_CHARS, MAX_COLUMNS, MAX_ROWS, ImportFileError, import_file_read
from imports.xlsx_reader import Limits, Refused, read_xlsx
from tests.imports.conftest import HEADINGS, csv_bytes, member_row, upload

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}">'
    '<sheets><sheet name="Members" sheetId="1" r:id="rId1"/></sheets></workbook>'
)


def _rels(*relationships: tuple[str, str, str]) -> str:
    inner = "".join(
        f'<Relationship Id="{i}" Type="{REL}/{kind}" Target="{t}"/>' for i, kind, t in relationships
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PACKAGE_RELS}">{inner}</Relationships>'
    )


def _inline(column: int, row: int, text: str) -> str:
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return f'<c r="{letters}{row}" t="inlineStr"><is><t>{text}</t></is></c>'


def rows_xml(rows: list[list[str]], *, first: int = 1) -> str:
    return "".join(
        f'<row r="{n}">' + "".join(_inline(c, n, v) for c, v in enumerate(row, 1) if v) + "</row>"
        for n, row in enumerate(rows, first)
    )


def sheet(rows: str, *, prolog: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{prolog}'
        f'<worksheet xmlns="{MAIN}"><sheetData>{rows}</sheetData></worksheet>'
    )


def xlsx(sheet_xml: str, *, shared: str | None = None, workbook: str = WORKBOOK) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("_rels/.rels", _rels(("rId1", "officeDocument", "xl/workbook.xml")))
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            _rels(
                ("rId1", "worksheet", "worksheets/sheet1.xml"), ("rId2", "sharedStrings", "sharedStrings.xml")
            ),
        )
        archive.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        if shared is not None:
            archive.writestr("xl/sharedStrings.xml", shared)
    return out.getvalue()


def members_sheet(count: int) -> str:
    return sheet(rows_xml([HEADINGS, *(member_row(n) for n in range(1, count + 1))]))


def refusal(data: bytes) -> str:
    with pytest.raises(ImportFileError) as refused:
        import_file_read(name="members.xlsx", data=data)
    return str(refused.value)


LIMITS = Limits(
    {
        "max_expanded_bytes": parsing.XLSX_MAX_EXPANDED_BYTES,
        "max_part_bytes": parsing.XLSX_MAX_PART_BYTES,
        "max_parts": parsing.XLSX_MAX_PARTS,
        "max_rows": MAX_ROWS,
        "max_columns": MAX_COLUMNS,
        "max_cell_chars": MAX_CELL_CHARS,
        "max_shared_strings": parsing.XLSX_MAX_SHARED_STRINGS,
        "max_text_chars": parsing.XLSX_MAX_TEXT_CHARS,
        "max_sheet_rows": parsing.XLSX_MAX_SHEET_ROWS,
        "max_sheet_elements": parsing.XLSX_MAX_SHEET_ELEMENTS,
    }
)


# --- XLSX ---------------------------------------------------------------------------------------


def test_a_hand_made_workbook_is_read_in_the_child_process():
    parsed = import_file_read(name="members.xlsx", data=xlsx(members_sheet(3)))
    assert parsed.read_as == "XLSX"
    assert len(parsed.rows) == 3
    assert parsed.rows[0]["email"] == "imported1@example.org"


@pytest.mark.parametrize("part", ["sheet", "workbook", "shared"])
def test_a_doctype_is_refused_with_a_message(part):
    doctype = '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
    body = members_sheet(1)
    workbook, shared = WORKBOOK, None
    if part == "sheet":
        body = sheet(rows_xml([HEADINGS, member_row(1, first="&lol2;")]), prolog=doctype)
    elif part == "workbook":
        workbook = WORKBOOK.replace("?>", "?>" + doctype, 1)
    else:
        shared = f'<?xml version="1.0"?>{doctype}<sst xmlns="{MAIN}"><si><t>&lol2;</t></si></sst>'
    assert "DOCTYPE" in refusal(xlsx(body, shared=shared, workbook=workbook))


def test_a_doctype_upload_is_a_400_that_says_why(staff_client):
    data = xlsx(sheet(rows_xml([HEADINGS]), prolog="<!DOCTYPE worksheet>"))
    response = upload(staff_client, data, name="members.xlsx")
    assert response.status_code == 400
    assert "DOCTYPE" in response.content.decode()
    assert not MemberImport.objects.exists()


def test_one_row_past_the_limit_is_refused_and_reading_stops_there():
    """The sheet holds the limit + 1 rows of members, then XML that is broken: the refusal
    names the rows, so nothing after row limit + 1 was read."""
    rows = rows_xml([HEADINGS, *(member_row(n) for n in range(1, MAX_ROWS + 2))])
    broken_tail = sheet(rows + "<row><c><v>1</c></row>" + "<row/>" * 100_000)
    with pytest.raises(Refused) as refused:
        read_xlsx(xlsx(broken_tail), LIMITS)
    assert refused.value.code == "rows"
    started = time.perf_counter()
    assert f"more than {MAX_ROWS} rows" in refusal(xlsx(broken_tail))
    assert time.perf_counter() - started < 5


def test_the_limit_of_rows_is_let_through_and_blank_rows_do_not_count():
    blank_rows = "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t> </t></is></c></row>' for n in range(2, 3000)
    )
    data = xlsx(
        sheet(
            rows_xml([HEADINGS])
            + blank_rows
            + rows_xml([member_row(n) for n in range(1, MAX_ROWS + 1)], first=3000)
        )
    )
    assert len(import_file_read(name="members.xlsx", data=data).rows) == MAX_ROWS


def test_three_million_empty_rows_without_a_dimension_are_refused_quickly():
    """3 million rows in a small file once took 20-30 s and a worker: row elements are counted
    as they come (blank ones too), and reading stops at the bound."""
    data = xlsx(sheet("<row/>" * 3_000_000 + rows_xml([HEADINGS, member_row(1)], first=3_000_001)))
    assert len(data) < 100_000
    started = time.perf_counter()
    assert f"more than {parsing.XLSX_MAX_SHEET_ROWS:,} rows, blank ones included" in refusal(data)
    assert time.perf_counter() - started < 3
    # Blank rows under the bound are passed over.
    data = xlsx(sheet("<row/>" * 90_000 + rows_xml([HEADINGS, member_row(1)], first=90_001)))
    assert len(import_file_read(name="members.xlsx", data=data).rows) == 1


def test_empty_cells_past_the_element_bound_are_refused_quickly():
    data = xlsx(sheet("<row>" + "<c/>" * (parsing.XLSX_MAX_SHEET_ELEMENTS + 1) + "</row>"))
    started = time.perf_counter()
    assert "cells and rows, empty ones included" in refusal(data)
    assert time.perf_counter() - started < 5


def test_rows_past_the_unpacked_size_bound_are_refused_before_parsing():
    data = xlsx(sheet('<row><c t="inlineStr"><is><t>x</t></is></c></row>' * 600_000))
    assert len(data) < 200_000
    with pytest.raises(Refused) as refused:
        read_xlsx(data, LIMITS)
    assert refused.value.code == "part_too_large"
    started = time.perf_counter()
    assert "unpacks to more than" in refusal(data)
    assert time.perf_counter() - started < 2


def test_a_shared_string_over_the_cell_limit_is_refused():
    shared = f'<sst xmlns="{MAIN}"><si><t>' + "x" * (MAX_CELL_CHARS + 1) + "</t></si></sst>"
    body = sheet(rows_xml([HEADINGS]) + '<row r="2"><c r="A2" t="s"><v>0</v></c></row>')
    assert f"more than {MAX_CELL_CHARS:,} characters" in refusal(xlsx(body, shared=shared))
    # A string at the limit is read (and is then the row's problem, not the file's).
    shared = f'<sst xmlns="{MAIN}"><si><t>' + "x" * MAX_CELL_CHARS + "</t></si></sst>"
    assert read_xlsx(xlsx(body, shared=shared), LIMITS)[1] == ["x" * MAX_CELL_CHARS]


def test_a_shared_strings_bomb_is_refused_by_its_count():
    """Many tiny strings (the 122 kB file that took a worker to 1 GB): counted as they come."""
    strings = "<si><t>a</t></si>" * (parsing.XLSX_MAX_SHARED_STRINGS + 1)
    data = xlsx(members_sheet(1), shared=f'<sst xmlns="{MAIN}">{strings}</sst>')
    assert "far more text" in refusal(data)


def test_a_single_huge_cell_is_refused_not_stored():
    row = member_row(1, first="x" * (MAX_CELL_CHARS + 1))
    assert f"more than {MAX_CELL_CHARS:,} characters" in refusal(xlsx(sheet(rows_xml([HEADINGS, row]))))


def test_a_cell_past_the_column_limit_is_refused():
    body = sheet(rows_xml([HEADINGS]) + f'<row r="2">{_inline(MAX_COLUMNS + 1, 2, "x")}</row>')
    assert f"more than {MAX_COLUMNS} columns" in refusal(xlsx(body))
    # An empty cell that far out (formatting) is no content.
    body = sheet(rows_xml([HEADINGS, member_row(1)]) + '<row r="3"><c r="XFD3" s="1"/></row>')
    assert len(import_file_read(name="members.xlsx", data=xlsx(body)).rows) == 1


def _declared_size(data: bytes, name: bytes, size: int) -> bytes:
    """The zip with `name`'s uncompressed size in the central directory changed to `size`."""
    at = data.index(b"PK\x01\x02")
    while True:
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + name_length] == name:
            return data[: at + 24] + struct.pack("<I", size) + data[at + 28 :]
        at = data.index(b"PK\x01\x02", at + 4)


def test_a_zip_declaring_more_than_the_bound_is_refused_before_reading():
    data = _declared_size(
        xlsx(members_sheet(1)), b"xl/worksheets/sheet1.xml", parsing.XLSX_MAX_EXPANDED_BYTES + 1
    )
    with pytest.raises(Refused) as refused:
        read_xlsx(data, LIMITS)
    assert refused.value.code == "expanded"
    assert "unpacks to more than" in refusal(data)


def test_a_part_that_unpacks_past_what_its_directory_declares_is_not_read_past_it():
    data = _declared_size(xlsx(members_sheet(50)), b"xl/worksheets/sheet1.xml", 100)
    with pytest.raises(Refused):  # cut short at the declared size: broken XML, or the zip's check
        read_xlsx(data, LIMITS)


def test_a_reader_over_its_memory_cap_is_a_clear_refusal(monkeypatch):
    monkeypatch.setattr(parsing, "XLSX_READER_MEMORY_BYTES", 16 * 1024 * 1024)
    assert "memory and time an import may use" in refusal(xlsx(members_sheet(1)))


def test_a_reader_over_its_time_is_stopped_with_a_clear_refusal(monkeypatch):
    monkeypatch.setattr(parsing, "XLSX_READER_WALL_SECONDS", 0.001)
    assert "memory and time an import may use" in refusal(xlsx(members_sheet(1)))


def test_an_upload_past_a_bound_is_a_400_with_the_message(staff_client):
    row = member_row(1, first="x" * (MAX_CELL_CHARS + 1))
    response = upload(staff_client, xlsx(sheet(rows_xml([HEADINGS, row]))), name="members.xlsx")
    assert response.status_code == 400
    assert "characters" in response.content.decode()


# --- CSV ----------------------------------------------------------------------------------------


def test_a_csv_cell_over_the_limit_is_refused():
    with pytest.raises(ImportFileError, match=f"Line 2 has a cell of more than {MAX_CELL_CHARS:,}"):
        import_file_read(name="m.csv", data=csv_bytes([member_row(1, first="x" * (MAX_CELL_CHARS + 1))]))


def test_a_csv_cell_past_the_csv_modules_own_limit_is_a_message_not_a_500(staff_client):
    data = csv_bytes([member_row(1)]) + b'"' + b"x" * 200_000 + b'"\r\n'
    response = upload(staff_client, data)
    assert response.status_code == 400
    assert "characters" in response.content.decode() or "cannot be read as CSV" in response.content.decode()


def test_a_csv_with_too_many_columns_is_refused():
    wide = [*member_row(1), *(["x"] * MAX_COLUMNS)]
    with pytest.raises(ImportFileError, match=f"more than {MAX_COLUMNS} columns"):
        import_file_read(name="m.csv", data=csv_bytes([wide]))
    trailing = [*member_row(1), *([""] * MAX_COLUMNS)]  # empty cells past the limit: nothing there
    assert len(import_file_read(name="m.csv", data=csv_bytes([trailing])).rows) == 1


def test_a_csv_stops_at_one_row_past_the_limit():
    rows = [member_row(n) for n in range(1, MAX_ROWS + 2)]
    data = csv_bytes(rows) + b'"unclosed\r\n'
    with pytest.raises(ImportFileError, match=f"more than {MAX_ROWS} rows"):
        import_file_read(name="m.csv", data=data)
