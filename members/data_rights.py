"""Where each app says what it holds about a member: for the copy they may ask for (UK GDPR
article 15) and for erasing their account (article 17).

members sits below training and certification and must not import them, yet a member's data
is spread across all three. So each app registers a section here from its AppConfig.ready:
what to put in the export, and what to delete or blank on erasure. A new model holding
personal data adds to its app's section; tests/members/test_data_rights.py checks every
section against a member with real data.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote, quote_plus

from allauth.account.models import EmailAddress
from django.db.models import JSONField, Q, QuerySet, TextField
from django.db.models.fields.files import FieldFile
from django.db.models.functions import Cast

from members.models import Profile


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


# --- What others wrote: finding and replacing the member in free text ---------------------

ERASED = "[erased]"  # what replaces a member's name, address or number in text others wrote


def _url_forms(term: str) -> set[str]:
    """The term as typed and as a query string carries it (an address's @ is %40)."""
    return {term, quote(term, safe=""), quote_plus(term, safe="")}


@dataclass(frozen=True)
class MemberTraces:
    """What identifies a member in text that others wrote about them (staff's reasons, the
    admin's log, a recorded search, an import's rows, an email's error). Collected once, before
    any section erases anything (the sections delete the addresses and the phone it reads).

    Strong traces (the full name, every email address, the phone, the membership number) name
    this member wherever they appear, so they are replaced in every free-text column of every
    table. Weak traces (the first name or the last name alone) may name someone else too, so
    they are replaced only where the text is about this member: their own rows, entries about
    them, a search whose values are their name."""

    first_name: str
    last_name: str
    emails: tuple[str, ...]
    phone_digits: str  # the national significant number, e.g. 7700900123
    membership_number: str

    @property
    def full_names(self) -> list[str]:
        names = [f"{self.first_name} {self.last_name}".strip(), f"{self.last_name} {self.first_name}".strip()]
        return [name for name in names if " " in name]

    @property
    def names(self) -> list[str]:
        return [name for name in (self.first_name, self.last_name) if name]

    def _patterns(self, *, weak: bool) -> list[str]:
        patterns = []
        for term in (
            self.full_names + list(self.emails) + ([self.membership_number] if self.membership_number else [])
        ):
            patterns += [re.escape(form) for form in _url_forms(term)]
        if self.phone_digits:
            # +44 7700 900123, 07700 900123, 00447700900123, +447700900123 (%2B in a URL)...
            digits = r"[\s.\-()]?".join(re.escape(digit) for digit in self.phone_digits)
            patterns.append(rf"(?:(?:\+|%2B|00)\s?\d{{1,3}}[\s\-]?(?:\(0\))?[\s\-]?|0)?{digits}")
        if weak:
            for name in self.names:
                patterns += [re.escape(form) for form in _url_forms(name)]
        return sorted(patterns, key=len, reverse=True)

    def scrub(self, text: str, *, weak: bool = True) -> str:
        """`text` with each trace replaced by ERASED (names as whole words, any case)."""
        patterns = self._patterns(weak=weak)
        if not text or not patterns:
            return text
        pattern = re.compile(r"(?<!\w)(?:" + "|".join(patterns) + r")(?!\w)", re.IGNORECASE)
        scrubbed = pattern.sub(ERASED, text)
        # "[erased] [erased]" (a name written in two parts) reads as one.
        return re.sub(rf"{re.escape(ERASED)}(?:[\s+]+{re.escape(ERASED)})+", ERASED, scrubbed)

    def scrub_json(self, value, *, weak: bool = True):
        if isinstance(value, str):
            return self.scrub(value, weak=weak)
        if isinstance(value, list):
            return [self.scrub_json(item, weak=weak) for item in value]
        if isinstance(value, dict):
            return {key: self.scrub_json(item, weak=weak) for key, item in value.items()}
        return value

    def _narrowing_terms(self, *, weak: bool) -> set[str]:
        """Substrings a matching cell must contain, in any case: what the database can look for
        before Python decides (as typed, URL-encoded, and as JSON escapes a non-ASCII letter)."""
        terms = set(self.full_names) | set(self.emails) | {self.membership_number}
        if weak:
            terms |= set(self.names)
        if self.phone_digits:
            terms.add(self.phone_digits[-6:])  # survives most ways of spacing a number
        forms = set()
        for term in filter(None, terms):
            for form in _url_forms(term):
                forms |= {form, json.dumps(form)[1:-1]}
        return forms

    def mentions(self, fields: list[str], *, weak: bool) -> Q:
        """A filter for rows whose `fields` (text, or JSON cast to text) may hold a trace: one
        case-insensitive regular expression per field, so a table is read once, each cell
        matched once (PostgreSQL's ~*; Python's re on SQLite)."""
        terms = sorted({term.lower() for term in self._narrowing_terms(weak=weak)})
        if not terms:
            return Q(pk__in=[])
        pattern = "|".join(re.escape(term) for term in terms)
        condition = Q(pk__in=[])
        for name in fields:
            condition |= Q(**{f"{name}__iregex": pattern})
        return condition

    def rows_scrub(self, queryset: QuerySet, fields: list[str], *, weak: bool) -> int:
        """Replace the member's traces in `fields` of the rows of `queryset` that hold one (text
        or JSON fields). Returns how many rows changed. The database narrows (one regular
        expression per field); Python decides and rewrites, one UPDATE per changed row: rows
        that mention a member are few."""
        model = queryset.model
        json_fields = {name for name in fields if isinstance(model._meta.get_field(name), JSONField)}
        casts = {f"_text_{name}": Cast(name, TextField()) for name in json_fields}
        lookups = [f"_text_{name}" if name in json_fields else name for name in fields]
        candidates = queryset.annotate(**casts).filter(self.mentions(lookups, weak=weak))
        changed = 0
        for row in candidates.values("pk", *fields):
            updates = {}
            for name in fields:
                value = row[name]
                if name in json_fields:
                    new = self.scrub_json(value, weak=weak)
                else:
                    value = value or ""
                    new = self.scrub(value, weak=weak)
                if new != value:
                    updates[name] = new
            if updates:
                model._default_manager.filter(pk=row["pk"]).update(**updates)
                changed += 1
        return changed


def member_traces(user) -> MemberTraces:
    """The member's traces, as collected when their erasure began (member_traces_collect);
    collected now if it did not (a section called on its own)."""
    traces = getattr(user, "_member_traces", None)
    return traces if traces is not None else member_traces_collect(user)


def member_traces_collect(user) -> MemberTraces:
    emails = {user.email.lower()} if user.email else set()
    emails |= {
        email.lower() for email in EmailAddress.objects.filter(user=user).values_list("email", flat=True)
    }
    profile = Profile.objects.filter(user=user).first()
    phone = profile.phone if profile is not None and profile.phone else None
    traces = MemberTraces(
        first_name=user.first_name.strip(),
        last_name=user.last_name.strip(),
        emails=tuple(sorted(emails)),
        phone_digits=str(phone.national_number) if phone else "",
        membership_number=profile.membership_number if profile is not None else "",
    )
    user._member_traces = traces
    return traces
