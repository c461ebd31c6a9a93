"""Ids read from a query string or a form, where anyone can type anything."""

import re

# A database id: the range of a 64-bit signed column (BigAutoField, PostgreSQL's bigint).
ID_MAX = 2**63 - 1
# ASCII digits only: str.isdigit() also takes "²", which int() refuses.
_DIGITS = re.compile(r"[0-9]{1,19}")


def id_from_text(value) -> int | None:
    """The positive id `value` spells, or None for anything else (letters, "²", a sign, a
    number no row can have): a filter given one finds nothing rather than failing."""
    text = str(value) if value is not None else ""
    if not _DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if 0 < number <= ID_MAX else None
