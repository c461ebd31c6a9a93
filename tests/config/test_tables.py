"""The one table component (config/tables.py, templates/tables/table.html): sorting by
allow-listed columns only, fixed page sizes, accessible markup and the CSV/XLSX downloads."""

import csv
import datetime as dt
import io
import re

import django_tables2 as tables
import pytest
from django.template import Context, Template, base
from django.test import RequestFactory
from django.utils.module_loading import autodiscover_modules
from openpyxl import load_workbook

from config.tables import (
    EXPORT_FORMATS,
    ActionsColumn,
    DateColumn,
    ListTable,
    TemplateColumn,
    export_format_requested,
    table_configure,
)


class PeopleTable(ListTable):
    caption = "People"
    row_header = "name"

    name = tables.Column(verbose_name="Name")
    born = DateColumn(verbose_name="Born", format="j M Y")
    note = tables.Column(verbose_name="Note", orderable=False)


ROWS = [
    {"name": "Cleo", "born": dt.date(1990, 3, 1), "note": '=HYPERLINK("http://x")'},
    {"name": "Ada", "born": dt.date(1985, 1, 2), "note": "first"},
    {"name": "Bea", "born": dt.date(2001, 7, 9), "note": "+1"},
]


def _table(query: str = "", rows=ROWS, per_page: int = 2) -> PeopleTable:
    request = RequestFactory().get("/people/" + query)
    return table_configure(PeopleTable([dict(row) for row in rows]), request=request, per_page=per_page)


def _names(table) -> list[str]:
    return [row.record["name"] for row in table.paginated_rows]


def _html(table) -> str:
    context = Context({"table": table, "request": table.request})
    return Template("{% load django_tables2 %}{% render_table table %}").render(context)


def test_an_allowed_sort_key_sorts_and_the_header_says_which_way():
    """?sort=-name sorts by name, Z to A; the header carries aria-sort and links to the other way."""
    table = _table("?sort=-name", per_page=10)
    assert _names(table) == ["Cleo", "Bea", "Ada"]
    html = _html(table)
    assert 'aria-sort="descending"' in html
    assert "sort=name" in html


@pytest.mark.parametrize("sort", ["nonsense", "note", "-pk", "name__password", ""])
def test_an_unknown_or_unsortable_key_is_ignored(sort):
    """A key that is not a sortable column leaves the order as it was, never an error."""
    table = _table(f"?sort={sort}", per_page=10)
    assert _names(table) == ["Cleo", "Ada", "Bea"]
    assert "aria-sort" not in _html(table)


@pytest.mark.parametrize(
    ("page", "shown"),
    [("1", ["Cleo", "Ada"]), ("2", ["Bea"]), ("abc", ["Cleo", "Ada"]), ("99", ["Bea"]), ("-1", ["Bea"])],
)
def test_a_bad_page_shows_the_first_or_last_page_as_the_rest_of_the_site(page, shown):
    """Like Paginator.get_page: not a number is the first page, past the end the last."""
    assert _names(_table(f"?page={page}")) == shown


def test_the_page_size_is_fixed_by_the_view_not_the_address():
    """?per_page= cannot ask for every row at once."""
    table = _table("?per_page=1000")
    assert len(_names(table)) == 2


def test_the_markup_names_the_table_and_heads_its_rows():
    """A keyboard-reachable scrolling region labelled by the caption; th scope on both axes;
    page links keep the sort."""
    html = _html(_table("?sort=name"))
    region = (
        '<div class="table-responsive" tabindex="0" role="region" '
        'aria-labelledby="table-peopletable-caption">'
    )
    assert region in html
    assert '<caption id="table-peopletable-caption" class="caption-top">People, page 1 of 2</caption>' in html
    assert '<th scope="col"' in html
    assert re.search(r'<th scope="row"\s*>Ada</th>', html)
    assert "style=" not in html  # the CSP allows no inline styles
    assert "<script" not in html
    assert 'href="?sort=name&amp;page=2"' in html


def test_an_empty_table_says_so():
    assert "Nothing to show." in _html(_table(rows=[]))


def test_only_known_formats_are_downloads():
    factory = RequestFactory()
    assert export_format_requested(factory.get("/?format=csv")) == "csv"
    assert export_format_requested(factory.get("/?format=xlsx")) == "xlsx"
    assert export_format_requested(factory.get("/?format=pdf")) is None
    assert export_format_requested(factory.get("/")) is None


def test_csv_download_has_every_row_sorted_and_never_runs_formulas():
    """Every row (not only the page), in the order asked for; formula-like text is quoted."""
    response = _table("?sort=name&page=2").export_response(export_format="csv", filename="people")
    assert response["Content-Type"] == EXPORT_FORMATS["csv"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="people.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [
        ["Name", "Born", "Note"],
        ["Ada", "1985-01-02", "first"],
        ["Bea", "2001-07-09", "'+1"],
        ["Cleo", "1990-03-01", '\'=HYPERLINK("http://x")'],
    ]


def test_xlsx_download_keeps_dates_and_stores_formulas_as_text():
    response = _table("?sort=name").export_response(export_format="xlsx", filename="people")
    assert response["Content-Type"] == EXPORT_FORMATS["xlsx"]
    assert response["Content-Disposition"] == 'attachment; filename="people.xlsx"'
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == ["Name", "Born", "Note"]
    assert [row[0] for row in values[1:]] == ["Ada", "Bea", "Cleo"]
    assert values[1][1].date() == dt.date(1985, 1, 2)  # a date cell, not text
    formula = sheet.cell(row=4, column=3)
    assert formula.data_type == "s"
    assert formula.value == '=HYPERLINK("http://x")'
    assert formula.quotePrefix


def test_sort_and_page_links_keep_the_pages_filters_and_drop_unknown_keys():
    """Links carry the keys the page reads (its filters, sort, page), never other ones."""

    class FilteredPeople(PeopleTable):
        query_keys = ("region",)

    request = RequestFactory().get("/people/?region=3&order=user__password&sort=name")
    table = table_configure(FilteredPeople([dict(row) for row in ROWS]), request=request, per_page=2)
    html = _html(table)
    assert "region=3" in html
    assert "password" not in html


def test_an_unknown_sort_key_leaves_the_default_order_shown():
    """A table sorted by default still says so when ?sort= names no sortable column."""

    class SortedPeople(PeopleTable):
        class Meta(PeopleTable.Meta):
            order_by = "name"

    request = RequestFactory().get("/people/?sort=password")
    table = table_configure(SortedPeople([dict(row) for row in ROWS]), request=request, per_page=10)
    assert _names(table) == ["Ada", "Bea", "Cleo"]
    assert 'aria-sort="ascending"' in _html(table)


class DeliveryActionsTable(ListTable):
    caption = "Deliveries"
    row_header = "event_id"

    event_id = tables.Column(verbose_name="Event")
    actions = ActionsColumn("webhooks/partials/_delivery_actions.html")


def test_an_actions_column_draws_its_partial_under_a_hidden_header_and_stays_out_of_downloads():
    """The buttons come from the partial, per row; the header is for screen readers only; the
    column cannot be sorted on and is not downloaded."""
    rows = [{"event_id": "evt-1", "status": "failed", "endpoint_id": 4, "pk": 7}]
    table = table_configure(
        DeliveryActionsTable(rows), request=RequestFactory().get("/?sort=actions"), per_page=2
    )
    html = _html(table)
    assert '<span class="visually-hidden">Actions</span>' in html
    assert 'action="/manage/webhooks/4/deliveries/7/send-again/"' in html
    assert "sort=actions" not in html
    response = table.export_response(export_format="csv", filename="deliveries")
    assert list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")))) == [["Event"], ["evt-1"]]


def test_every_listing_table_keeps_the_site_table_options():
    """tables2 reads only the Meta a table declares itself: one without its own Meta lost the
    site's table classes (the API tokens list showed cells with no padding or rules)."""
    autodiscover_modules("tables")
    listings = [table for table in _subclasses(ListTable) if not table.__module__.startswith("tests.")]
    assert listings
    for table in listings:
        meta = vars(table).get("Meta", object)
        assert issubclass(meta, ListTable.Meta), f"{table.__qualname__} needs class Meta(ListTable.Meta)"


def _subclasses(cls) -> list[type]:
    found = []
    for subclass in cls.__subclasses__():
        found += [subclass, *_subclasses(subclass)]
    return found


BADGE = '<b class="{{ css }}">{{ record.name|upper }} {{ value }}</b>'


class BadgeTable(ListTable):
    caption = "Badges"
    row_header = "name"

    name = tables.Column(verbose_name="Name")
    badge = TemplateColumn(BADGE, verbose_name="Badge")
    tables2_badge = tables.TemplateColumn(BADGE, accessor="badge", verbose_name="Same")


def test_a_template_column_compiles_its_template_once_not_once_a_cell(monkeypatch):
    """tables2's own TemplateColumn compiles its template for every cell (most of a listing
    page's time); ours draws the same cells from one compiled template, in the page's context."""
    rows = [{"name": f"n{number}", "badge": number} for number in range(25)]
    compiled = []
    original = base.Template.__init__

    def counting(self, template_string, *args, **kwargs):
        compiled.append(template_string)
        original(self, template_string, *args, **kwargs)

    def page() -> str:
        table = table_configure(BadgeTable([dict(row) for row in rows]), request=RequestFactory().get("/"))
        context = Context({"table": table, "request": table.request, "css": "page-class"})
        return Template("{% load django_tables2 %}{% render_table table %}").render(context)

    html = page()  # warm: every template met once
    monkeypatch.setattr(base.Template, "__init__", counting)
    assert page() == html
    ours = [code for code in compiled if "record.name|upper" in code]
    assert len(ours) == 25, "tables2's own column, as a reference, compiles once a cell"
    cells = re.findall(r'<td[^>]*><b class="page-class">(N\d+ \d+)</b></td>', html)
    assert cells[:4] == ["N0 0", "N0 0", "N1 1", "N1 1"], "both columns draw the same cells"
