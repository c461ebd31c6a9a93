"""Where each app says what it holds about a member: for the copy they may ask for (UK GDPR
article 15) and for erasing their account (article 17).

members sits below training and certification and must not import them, yet a member's data
is spread across all three. So each app registers a section here from its AppConfig.ready:
what to put in the export, and what to delete or blank on erasure. A new model holding
personal data adds to its app's section; tests/members/test_data_rights.py checks every
section against a member with real data.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models.fields.files import FieldFile


@dataclass
class ExportPart:
    """One section of the export: JSON-able data, and stored files to copy into the ZIP
    (path inside the ZIP -> the stored file)."""

    data: object
    files: dict[str, FieldFile] = field(default_factory=dict)


@dataclass
class ErasurePart:
    """What one section's erasure did: counts for the record, and stored file names to delete
    from storage once the transaction has committed (so a rollback loses nothing)."""

    counts: dict[str, int] = field(default_factory=dict)
    storage_names: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DataSection:
    name: str
    # (user) -> ExportPart; reads only.
    export: Callable[..., ExportPart]
    # (user, now) -> ErasurePart; runs inside the erasure's transaction.
    erase: Callable[..., ErasurePart]


_SECTIONS: dict[str, DataSection] = {}


def data_section_register(section: DataSection) -> None:
    """Add (or replace, on a second ready()) an app's section."""
    _SECTIONS[section.name] = section


def data_section_unregister(name: str) -> None:
    _SECTIONS.pop(name, None)


def data_sections() -> list[DataSection]:
    return list(_SECTIONS.values())


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
