"""What the dashboard's table partial needs: the table as the site's table component, a row's
cells, and each header's sort link."""

from django import template

from reporting.dashboard_tables import VERDICT_CLASSES

register = template.Library()

NUMERIC_KINDS = {"number", "percent"}


@register.simple_tag(takes_context=True)
def dashboard_table(context, table, rows=None, sortable=False, sort=""):
    """A dashboard Table (reporting/dashboard_tables.py) as the site's table component;
    its sort links keep the page's filters (the request's query string)."""
    # `rows` is "" when the including template gives none: then every row of the table.
    component = table.component(rows=list(rows) if rows else None, sortable=bool(sortable), sort=sort or "")
    component.request = context.get("request")
    return component


@register.filter
def table_cells(table, row) -> list[dict]:
    return table.cells(row)


@register.simple_tag
def column_sort(column, current: str) -> dict:
    """{"next": the ?sort= value a click asks for, "aria": aria-sort now, or ""}. Numbers sort
    largest first on the first click, words A to Z."""
    if current == column.key:
        return {"next": f"-{column.key}", "aria": "ascending"}
    if current == f"-{column.key}":
        return {"next": column.key, "aria": "descending"}
    first = f"-{column.key}" if column.kind in NUMERIC_KINDS else column.key
    return {"next": first, "aria": ""}


@register.filter
def is_numeric(column) -> bool:
    return column.kind in NUMERIC_KINDS


@register.filter
def percent_width(share) -> int:
    """A share (0 to 1) as a whole percentage, for SVG bar widths."""
    return max(0, min(100, round((share or 0) * 100)))


@register.filter
def verdict_class(key) -> str:
    return VERDICT_CLASSES.get(key, "text-bg-secondary")


@register.filter
def thousands(number) -> str:
    """1000 -> "1,000"; floats are rounded to whole numbers first."""
    if number is None or number == "":
        return ""
    return f"{round(number):,}"
