"""Cells for downloaded spreadsheets (CSV and XLSX), shared by every app that offers one."""

# A spreadsheet runs a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_like(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_safe(value) -> object:
    """A cell a spreadsheet shows as text, never runs: formula-like text gets a leading quote."""
    if formula_like(value):
        return "'" + value
    return value
