"""The dashboard's tables: one definition per table gives its HTML, its sorting and filters
(allow-listed keys only) and its downloads, so that the page and the downloads always agree.
CSV and XLSX are written from the same exported rows (Table.export_rows).

Each definition is shown through the site's one table component (config/tables.py, decision
0023): `Table.component()` is the django-tables2 table that renders it."""

import datetime as dt
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode

import django_tables2
from django.http import HttpResponse
from django.urls import get_script_prefix, reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _
from django_tables2.data import TableListData

from config.tables import EXPORT_FORMATS, XLSX_DATE_FORMAT, ListTable, export_filename, table_export_response
from reporting.forecast import STAGE_LABELS, STAGES, VERDICT_LABELS
from reporting.selectors.dashboard import NOWHERE, TargetProgress
from reporting.selectors.dashboard_cohorts import CohortRisk

__all__ = ["EXPORT_FORMATS", "XLSX_DATE_FORMAT", "Column", "Table", "export_filename"]

NUMERIC_KINDS = {"number", "percent"}
VERDICT_CLASSES = {
    "met": "text-bg-success",
    "on_track": "text-bg-success",
    "at_risk": "text-bg-warning",
    "off_track": "text-bg-danger",
    "missed": "text-bg-danger",
}


@dataclass
class Column:
    key: str
    label: str
    kind: str = "text"  # text, number, percent, date, list, verdict (its key in row["verdict_key"])
    link: str | None = None  # the row key holding this cell's address
    note: str | None = None  # the row key holding a smaller second line (HTML only)
    sortable: bool = True
    csv_only: bool = False
    row_header: bool = False

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS


@dataclass
class Table:
    slug: str
    caption: str
    columns: list[Column]
    rows: list[dict]
    default_sort: str = ""
    filters: dict[str, str] = field(default_factory=dict)  # applied filters, for the form
    total: int | None = None  # all its rows, when only the first are shown

    @property
    def html_columns(self) -> list[Column]:
        return [column for column in self.columns if not column.csv_only]

    def sorted_by(self, sort: str | None) -> "Table":
        """Rows sorted by an allow-listed column key ("-key" for descending); anything else
        leaves the default order. Empty cells go last either way."""
        sortable = {column.key for column in self.columns if column.sortable}
        key = (sort or "").removeprefix("-")
        if key not in sortable:
            return self
        self.rows = rows_sorted(self.rows, key=key, descending=(sort or "").startswith("-"))
        self.default_sort = sort
        return self

    def component(
        self, *, rows: list[dict] | None = None, sortable: bool = False, sort: str = ""
    ) -> ListTable:
        """The table as the site's table component: `rows` (default: all of them; a page of
        them on the full-table pages), sort links in the headers when `sortable`."""
        rows = self.rows if rows is None else rows
        caption = self.caption
        if self.total is not None and self.total > len(self.rows):
            caption = _gettext("%(caption)s: the first %(shown)s of %(total)s") % {
                "caption": caption,
                "shown": len(self.rows),
                "total": self.total,
            }
        component = DashboardComponent(
            DashboardRows(list(rows)),
            extra_columns=[
                (column.key, DashboardColumn(column, orderable=sortable and column.sortable))
                for column in self.html_columns
            ],
            caption=caption,
            html_id=f"table-{self.slug}",
            orderable=sortable,
            order_by=sort or None,
        )
        component.row_header = next((column.key for column in self.html_columns if column.row_header), "")
        return component

    def cells(self, row: dict) -> list[dict]:
        return [
            {
                "column": column,
                "value": row.get(column.key),
                "text": _text(column, row.get(column.key)),
                "href": row.get(column.link) if column.link else None,
                "note": row.get(column.note) if column.note else None,
                "verdict_key": row.get("verdict_key"),
            }
            for column in self.html_columns
        ]

    def export_rows(self) -> Iterator[list]:
        """The header, then each row, as both downloads hold them: every column (those shown
        only in downloads too), numbers as numbers, dates as dates, lists joined."""
        yield [str(column.label) for column in self.columns]
        for row in self.rows:
            yield [_export_value(column, row.get(column.key)) for column in self.columns]

    def export_response(self, *, export_format: str, slug: str, suffix: str = "") -> HttpResponse:
        """The table as a download in `export_format` (a key of EXPORT_FORMATS)."""
        return table_export_response(
            self.export_rows(),
            export_format=export_format,
            filename=export_filename(slug, suffix=suffix, extension=export_format),
            sheet_title=self.slug,
        )


def rows_sorted(rows: list[dict], *, key: str, descending: bool) -> list[dict]:
    """The dashboard's order: words without regard to case, empty cells last either way."""
    present = [row for row in rows if row.get(key) is not None]
    missing = [row for row in rows if row.get(key) is None]
    present.sort(key=lambda row: _sort_value(row[key]), reverse=descending)
    return present + missing


class DashboardRows(TableListData):
    """Rows of dicts that django-tables2 sorts the way the dashboard does (rows_sorted)."""

    def order_by(self, aliases):
        for alias in reversed(list(aliases)):  # stable sorts, least significant first
            self.data = rows_sorted(self.data, key=alias.removeprefix("-"), descending=alias.startswith("-"))


class DashboardComponent(ListTable):
    class Meta(ListTable.Meta):
        attrs = {"class": "table table-sm align-middle dashboard-table"}

    caption_above = True
    query_keys = None  # the dashboard's views refuse unknown keys; links keep its filters


class DashboardColumn(django_tables2.Column):
    """A cell of a dashboard table: its text, a link, a note below, a verdict's badge; numbers
    sort largest first on the first click, words A to Z."""

    def __init__(self, spec: Column, *, orderable: bool):
        if spec.row_header:
            cell_class = "fw-normal"
        elif spec.numeric:
            cell_class = "text-end text-nowrap"
        elif spec.kind in ("date", "verdict"):
            cell_class = "text-nowrap"
        else:
            cell_class = ""
        super().__init__(
            verbose_name=spec.label,
            orderable=orderable,
            initial_sort_descending=spec.numeric,
            empty_values=(),
            attrs={
                "th": {"class": "text-end"} if spec.numeric else {},
                "td": {"class": cell_class} if cell_class else {},
            },
        )
        self.spec = spec

    def render(self, value, record):
        spec = self.spec
        text = _text(spec, value)
        if spec.kind == "list":
            shown = format_html(
                '<ul class="list-unstyled mb-0">{}</ul>',
                format_html_join("", "<li>{}</li>", ((item,) for item in value or ())),
            )
        elif text == "":
            shown = format_html(
                '<span aria-hidden="true">–</span><span class="visually-hidden">{}</span>', _("none")
            )
        elif spec.kind == "verdict":
            badge = VERDICT_CLASSES.get(record.get("verdict_key"), "text-bg-secondary")
            shown = format_html('<span class="badge {}">{}</span>', badge, text)
        elif spec.link and record.get(spec.link):
            shown = format_html('<a href="{}">{}</a>', record[spec.link], text)
        else:
            shown = text
        note = record.get(spec.note) if spec.note else None
        if note:
            return format_html('{}<div class="small text-body-secondary text-nowrap">{}</div>', shown, note)
        return shown

    def value(self, value, record):
        return _export_value(self.spec, value)


def _sort_value(value):
    return value.lower() if isinstance(value, str) else value


def _text(column: Column, value) -> str:
    if value is None:
        return ""
    if column.kind == "number":
        return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"
    if column.kind == "percent":
        return f"{value:.0%}"
    if column.kind == "date":
        return date_format(value, "j M Y")
    if column.kind == "list":
        return "; ".join(str(item) for item in value)
    return str(value)


def _export_value(column: Column, value):
    """A cell as both downloads hold it (a date stays a date: CSV writes it as YYYY-MM-DD)."""
    if value is None:
        return ""
    if column.kind == "percent":
        return round(100 * value, 1)
    if column.kind == "date":
        return value
    if column.kind == "list":
        return "; ".join(str(item) for item in value)
    if isinstance(value, float):
        return round(value, 1)
    return value if isinstance(value, int) else str(value)


# --- Links to the lists behind the figures --------------------------------------------------------


@functools.lru_cache(maxsize=16)
def _path(name: str, script_prefix: str) -> str:
    return reverse(name)


def people_url(**params) -> str:
    """The list of people behind a figure (reversed once per process: tables link every row)."""
    return (
        _path("reporting:dashboard-people", get_script_prefix())
        + "?"
        + urlencode({key: value for key, value in params.items() if value not in (None, "", False)})
    )


def cohorts_url(**params) -> str:
    return (
        _path("reporting:dashboard-cohorts", get_script_prefix())
        + "?"
        + urlencode({key: value for key, value in params.items() if value not in (None, "", False)})
    )


def _place_param(value: int | None) -> str | int | None:
    return "none" if value == NOWHERE else value


# --- The tables ----------------------------------------------------------------------------------


def targets_table(progress: list[TargetProgress]) -> Table:
    rows = []
    for item in progress:
        target = item.target
        label = target.place_label + (f" ({target.programme})" if target.programme_id else "")
        rows.append(
            {
                "id": target.pk,
                "target_name": label,
                "chart_href": reverse("reporting:dashboard") + f"?target={target.pk}#chart",
                "deadline": target.deadline,
                "target": target.leaders,
                "certified": item.certified,
                "certified_href": people_url(figure="leaders", target=target.pk),
                "share": item.share_done,
                "days_left": item.days_left,
                "pipeline": item.in_pipeline,
                "pipeline_href": people_url(figure="training", target=target.pk),
                "expected": round(item.forecast.expected),
                "low": round(item.forecast.low),
                "high": round(item.forecast.high),
                "verdict": VERDICT_LABELS[item.verdict],
                "verdict_key": item.verdict,
            }
        )
    return Table(
        slug="targets",
        caption=_("Every target: leaders certified, the forecast at its deadline and the verdict"),
        columns=[
            Column("target_name", _("Target"), link="chart_href", row_header=True),
            Column("deadline", _("Deadline"), kind="date"),
            Column("target", _("Leaders wanted"), kind="number"),
            Column("certified", _("Certified now"), kind="number", link="certified_href"),
            Column("share", _("Share done"), kind="percent"),
            Column("days_left", _("Days left"), kind="number"),
            Column(
                "pipeline", _("In training, finishing by the deadline"), kind="number", link="pipeline_href"
            ),
            Column("expected", _("Forecast"), kind="number"),
            Column("low", _("Forecast, low"), kind="number"),
            Column("high", _("Forecast, high"), kind="number"),
            Column("verdict", _("Verdict"), kind="verdict"),
        ],
        rows=rows,
        default_sort="deadline",
    )


def leaders_by_month_table(series: list[tuple[dt.date, int]], *, caption: str) -> Table:
    return Table(
        slug="leaders-by-month",
        caption=caption,
        columns=[
            Column("month", _("Month"), row_header=True, sortable=False),
            Column("month_start", _("Month starting"), kind="date", csv_only=True, sortable=False),
            Column("leaders", _("Leaders certified by the end of the month"), kind="number", sortable=False),
        ],
        rows=[
            {"month": date_format(month, "F Y"), "month_start": month, "leaders": leaders}
            for month, leaders in series
        ],
    )


def funnel_table(rows: list[dict], *, group_by: str, caption: str) -> Table:
    """Stage counts with the share of the previous stage that went on (drop-off shown beside)."""
    group_labels = {"programme": _("Programme"), "region": _("Region"), "constituency": _("Constituency")}
    table_rows = []
    for row in rows:
        nameless = _("No constituency given") if group_by == "constituency" else _("Place not recorded")
        out = {"group": row["label"] or str(nameless)}
        group_param = {group_by: row["group"] if row["group"] is not None else "none"}
        previous = None
        for stage in STAGES:
            count = row[stage]
            out[stage] = count
            out[f"{stage}_href"] = people_url(figure="reached", stage=stage, **group_param)
            if previous is not None:
                share = count / previous if previous else None
                out[f"{stage}_share"] = share
                out[f"{stage}_note"] = (
                    _("%(share)s went on, %(lost)s dropped")
                    % {"share": f"{share:.0%}", "lost": f"{previous - count:,}"}
                    if share is not None
                    else ""
                )
            previous = count
        table_rows.append(out)
    columns = [Column("group", group_labels[group_by], row_header=True)]
    for index, stage in enumerate(STAGES):
        columns.append(
            Column(stage, STAGE_LABELS[stage], kind="number", link=f"{stage}_href", note=f"{stage}_note")
        )
        if index:
            columns.append(
                Column(
                    f"{stage}_share",
                    _("%(stage)s, share of the stage before") % {"stage": STAGE_LABELS[stage]},
                    kind="percent",
                    csv_only=True,
                )
            )
    return Table(slug=f"funnel-{group_by}", caption=caption, columns=columns, rows=table_rows)


def places_table(rows: list[dict], *, region=None, caption: str) -> Table:
    table_rows = []
    for row in rows:
        if region is None:
            scope = {"region": _place_param(row["id"])}
            name = row["name"] or str(_("Place not recorded"))
            name_href = (
                reverse("reporting:dashboard-table", args=["places"]) + f"?region={row['id']}"
                if row["id"] != NOWHERE
                else None
            )
        else:
            scope = {"region": region.pk, "constituency": _place_param(row["id"])}
            name = row["name"] or str(_("No constituency given"))
            name_href = None
        table_rows.append(
            {
                **row,
                "name": name,
                "name_href": name_href,
                "seat_label": _("Target seat") if row["target_seat"] else "",
                "leaders_href": people_url(figure="leaders", **scope),
                "training_href": people_url(figure="training", **scope),
            }
        )
    columns = [
        Column(
            "name", _("Region") if region is None else _("Constituency"), link="name_href", row_header=True
        )
    ]
    if region is not None:
        columns.append(Column("seat_label", _("Target seat")))
    columns += [
        Column("leaders", _("Leaders"), kind="number", link="leaders_href"),
        Column("training", _("In training"), kind="number", link="training_href"),
        Column("target", _("Target"), kind="number"),
        Column("deadline", _("Target deadline"), kind="date"),
        Column("gap", _("Gap to target"), kind="number"),
    ]
    return Table(
        slug="places",
        caption=caption,
        columns=columns,
        rows=table_rows,
        default_sort="" if region is not None else "name",
    )


def places_filtered(table: Table, *, seats: bool, gap: bool) -> Table:
    if seats:
        table.rows = [row for row in table.rows if row.get("target_seat")]
        table.filters["seats"] = "1"
    if gap:
        table.rows = [row for row in table.rows if row.get("gap")]
        table.filters["gap"] = "1"
    return table


def risks_table(risks: list[CohortRisk], *, cohort_href: Callable[[int], str | None], caption: str) -> Table:
    return Table(
        slug="cohorts-at-risk",
        caption=caption,
        columns=[
            Column("name", _("Cohort"), link="href", row_header=True),
            Column("programme", _("Programme")),
            Column("region", _("Region")),
            Column("starts_on", _("Starts"), kind="date"),
            Column("ends_on", _("Ends"), kind="date"),
            Column("reasons", _("What is wrong"), kind="list", sortable=False),
            Column("reason_keys", _("Risks"), kind="list", csv_only=True, sortable=False),
        ],
        rows=[
            {
                "id": risk.pk,
                "name": risk.name,
                "href": cohort_href(risk.pk),
                "programme": risk.programme,
                "region": risk.region,
                "starts_on": risk.starts_on,
                "ends_on": risk.ends_on,
                "reasons": [f"{label}: {text}" for label, text in risk.reason_list],
                "reason_keys": list(risk.reasons),
            }
            for risk in risks
        ],
        default_sort="ends_on",
    )


def trainers_table(rows: list[dict], *, caption: str) -> Table:
    return Table(
        slug="trainers",
        caption=caption,
        columns=[
            Column("name", _("Trainer"), row_header=True),
            Column("cohorts_run", _("Cohorts run"), kind="number", link="cohorts_href"),
            Column("leaders", _("Leaders produced"), kind="number", link="leaders_href"),
            Column("median_days", _("Median days to mark"), kind="number"),
            Column("marked", _("Pieces of work marked"), kind="number"),
            Column("generation", _("Generation"), kind="number"),
            Column("depth", _("Generations trained below"), kind="number"),
        ],
        rows=[
            {
                **row,
                "cohorts_href": cohorts_url(figure="trainer_cohorts", trainer=row["id"]),
                "leaders_href": people_url(figure="trainer_leaders", trainer=row["id"]),
            }
            for row in rows
        ],
        default_sort="-leaders",
    )


def trainer_cohorts_table(cohorts, *, cohort_href: Callable[[int], str | None], caption: str) -> Table:
    return Table(
        slug="trainer-cohorts",
        caption=caption,
        columns=[
            Column("name", _("Cohort"), link="href", row_header=True),
            Column("programme", _("Programme")),
            Column("region", _("Region")),
            Column("starts_on", _("Starts"), kind="date"),
            Column("ends_on", _("Ends"), kind="date"),
            Column("status", _("Status")),
        ],
        rows=[
            {
                "name": cohort.name,
                "href": cohort_href(cohort.pk),
                "programme": cohort.version.programme.title,
                "region": cohort.region.name,
                "starts_on": cohort.starts_on,
                "ends_on": cohort.ends_on,
                "status": cohort.get_status_display(),
            }
            for cohort in cohorts
        ],
    )
