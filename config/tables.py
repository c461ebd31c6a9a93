"""The one table component every listing uses (decision 0023): django-tables2 tables rendered
by one template (templates/tables/table.html), configured from the request by
`table_configure` and downloaded as CSV or XLSX by `table_export_response`.

Why not tables2's RequestConfig and TableExport: RequestConfig lets ?per_page= ask for any
number of rows (a page's cost must stay fixed), and TableExport (tablib) writes formula-like
cells as they are in CSV and builds the whole sheet in memory."""

import csv
import datetime as dt
import functools
import io
from collections.abc import Iterable

import django_tables2 as tables
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.http import HttpResponse, QueryDict
from django.template import Context, Engine
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from config.spreadsheets import csv_safe, formula_like

PER_PAGE = 50

# The downloads a table offers: ?format= value, content type.
EXPORT_FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
XLSX_DATE_FORMAT = "yyyy-mm-dd"


class ListTable(tables.Table):
    """A listing: its caption names it (in the table, and as the label of the scrolling region
    around it, which the keyboard can reach); `row_header` names the column whose cells head
    their rows (<th scope="row">). Columns with `attrs={"cell": {"class": ...}}`-style classes
    use the `numeric` helper for right-aligned numbers. tables2 reads only the Meta a table
    declares itself, so each listing declares `class Meta(ListTable.Meta)` (tested), else it
    loses the site's table classes and page size."""

    caption = ""
    row_header = ""
    caption_above = False  # a visible title above the scrolling box, the caption kept for readers
    # The query keys (besides sort and page) that sort and page links carry over: the page's own
    # filters. Anything else in the address is left out of them (None: keep every key).
    query_keys: tuple[str, ...] | None = ()

    class Meta:
        template_name = "tables/table.html"
        attrs = {"class": "table table-sm align-middle"}
        per_page = PER_PAGE
        empty_text = ""

    def __init__(self, *args, caption=None, html_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        if caption is not None:
            self.caption = caption
        self.html_id = html_id or "table-" + type(self).__name__.lower()

    @property
    def kept_query(self) -> QueryDict:
        """The request's query string as sort and page links keep it."""
        request = getattr(self, "request", None)  # set by table_configure
        query = request.GET.copy() if request is not None else QueryDict(mutable=True)
        if self.query_keys is not None:
            allowed = {*self.query_keys, self.prefixed_order_by_field, self.prefixed_page_field}
            for key in list(query):
                if key not in allowed:
                    del query[key]
        return query

    def query_string(self, **changes) -> str:
        """The kept query with `changes` (None drops a key), as a link's "?..." address. The
        keys `sort` and `page` are this table's own (its prefix added): several tables on one
        page sort and page apart."""
        own = {"sort": self.prefixed_order_by_field, "page": self.prefixed_page_field}
        query = self.kept_query
        for key, value in changes.items():
            key = own.get(key, key)
            if value is None:
                query.pop(key, None)
            else:
                query[key] = value
        return f"?{query.urlencode()}"

    @property
    def header_links(self) -> list[tuple]:
        """Each column with the address its header's sort link goes to (None: not sortable)."""
        return [
            (
                column,
                self.query_string(sort=column.order_by_alias.next, page=None, format=None)
                if column.orderable
                else None,
            )
            for column in self.columns
        ]

    @property
    def page_links(self) -> dict[str, str]:
        """The previous and next pages' addresses, where there are such pages."""
        page = getattr(self, "page", None)
        links = {}
        if page is not None and page.has_previous():
            links["previous"] = self.query_string(page=page.previous_page_number())
        if page is not None and page.has_next():
            links["next"] = self.query_string(page=page.next_page_number())
        return links

    def export_response(self, *, export_format: str, filename: str) -> HttpResponse:
        """Every row (not just a page), every column not excluded from exports."""
        return table_export_response(
            self.as_values(), export_format=export_format, filename=filename, sheet_title=filename
        )


class DateColumn(tables.DateColumn):
    """Shown in the page's format (`format=`, e.g. "j M Y"); downloaded as a date."""

    def value(self, value):
        return value


class DateTimeColumn(tables.DateTimeColumn):
    """Shown in the page's format; downloaded as a date and time."""

    def value(self, value):
        return value


def numeric(**extra) -> dict:
    """Column attrs for numbers: right-aligned header and cells."""
    return {"th": {"class": "text-end"}, "td": {"class": "text-end text-nowrap"}, **extra}


def table_configure(
    table: ListTable, *, request, per_page: int = PER_PAGE, paginate: bool = True
) -> ListTable:
    """Sort by ?sort= (only orderable columns: tables2 drops any other key) and show the page
    ?page= asks for; like Django's Paginator.get_page, a page that is not a number shows the
    first and one past the end shows the last. The page size is fixed here, never by the URL."""
    table.request = request
    # Only sortable columns' keys; with none, the default order stays (and is shown as such).
    sort = [
        key
        for key in request.GET.getlist(table.prefixed_order_by_field)
        if key.removeprefix("-") in table.columns and table.columns[key.removeprefix("-")].orderable
    ]
    if sort:
        table.order_by = sort
    if paginate:
        try:
            table.paginate(per_page=per_page, page=request.GET.get(table.prefixed_page_field) or 1)
        except PageNotAnInteger:
            table.paginate(per_page=per_page, page=1)
        except EmptyPage:
            table.paginate(per_page=per_page, page=table.paginator.num_pages)
    return table


def export_format_requested(request) -> str | None:
    """The download ?format= asks for (csv or xlsx); None for the page itself."""
    value = request.GET.get("format")
    return value if value in EXPORT_FORMATS else None


def export_filename(slug: str, *, suffix: str = "", extension: str = "csv") -> str:
    """A download name from allow-listed parts only, dated today."""
    parts = [slug, suffix, f"{timezone.localdate():%Y-%m-%d}"]
    return "-".join(part for part in parts if part) + "." + extension


def table_export_response(
    values: Iterable[list], *, export_format: str, filename: str, sheet_title: str = "Sheet"
) -> HttpResponse:
    """The header row then each row of `values` as a download in `export_format` (a key of
    EXPORT_FORMATS). Formula-like text is never run by the spreadsheet; dates stay dates."""
    filename = filename if filename.endswith("." + export_format) else f"{filename}.{export_format}"
    response = HttpResponse(
        content_type=EXPORT_FORMATS[export_format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
    if export_format == "xlsx":
        response.write(_xlsx_bytes(values, sheet_title=sheet_title))
    else:
        _csv_write(response, values)
    return response


def _csv_write(response: HttpResponse, values: Iterable[list]) -> None:
    response.write("\ufeff")  # lets Excel read names as UTF-8
    writer = csv.writer(response)
    for row in values:
        writer.writerow(
            [csv_safe(value.isoformat() if isinstance(value, dt.date) else value) for value in row]
        )


def _xlsx_bytes(values: Iterable[list], *, sheet_title: str) -> bytes:
    """One sheet; formula-like text is stored as text and marked as typed with a leading
    apostrophe, so the spreadsheet shows it and never runs it, even when the cell is edited."""
    # Heavy: loaded by the first spreadsheet asked for, not as every process starts.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)  # streams rows: a list of every member stays small
    sheet = workbook.create_sheet(title=sheet_title[:31])
    header = True
    for row in values:
        cells = []
        for value in row:
            value = "" if value is None else value
            if isinstance(value, dt.datetime) and timezone.is_aware(value):
                value = timezone.localtime(value).replace(tzinfo=None)  # XLSX has no zones
            cell = WriteOnlyCell(sheet, value=value)
            if formula_like(value):
                cell.data_type = "s"
                cell.quotePrefix = True
            elif isinstance(value, dt.date):
                cell.number_format = XLSX_DATE_FORMAT
            if header:
                cell.font = Font(bold=True)
            cells.append(cell)
        sheet.append(cells)
        header = False
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def hidden_header(text) -> str:
    """A column header only screen readers read (a column of buttons needs no visible title)."""
    return lazy(lambda: format_html('<span class="visually-hidden">{}</span>', text), SafeString)()


@functools.lru_cache(maxsize=512)
def _template_compiled(template_code: str):
    return Engine.get_default().from_string(template_code)


class TemplateColumn(tables.TemplateColumn):
    """tables2's TemplateColumn, drawing each cell with a template compiled once.

    tables2 compiles `template_code` again for every cell, and for `template_name` copies
    the page's whole context into a new one for every cell: on a page of 25 rows with a few
    such columns, most of the page's time. Here the code is compiled once a process (it is
    written in the source), a named template comes from the engine's loaders (cached outside
    DEBUG), and each cell renders in the page's context with the cell's names pushed on top,
    as `{% include %}` does."""

    def render(self, record, table, value, bound_column, **kwargs):
        context = getattr(table, "context", None) or Context()
        names = self.get_context_data(
            record=record, table=table, value=value, bound_column=bound_column, **kwargs
        )
        template = (
            _template_compiled(self.template_code)
            if self.template_code
            else Engine.get_default().get_template(self.template_name)
        )
        with context.update({**names, "request": getattr(table, "request", None)}):
            return template.render(context)


class ActionsColumn(TemplateColumn):
    """A row's buttons, drawn by `template_name` (which gets `record`): headed for screen
    readers only, not sortable, left out of downloads."""

    def __init__(self, template_name: str, **kwargs):
        super().__init__(
            template_name=template_name,
            verbose_name=hidden_header(_("Actions")),
            orderable=False,
            empty_values=(),
            exclude_from_export=True,
            **kwargs,
        )
