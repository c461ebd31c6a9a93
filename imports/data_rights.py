"""What the imports app holds about a member, for their data export and for erasure
(registered with members.data_rights from ImportsConfig.ready).

An imported member's record says which import brought them in, the organisation's evidence of
their consent, and what became of the place held for them. Erasure keeps the row (so an
import's counts stay true) and blanks the evidence's source and the held place; uploaded
files' rows and previews that name the member lose them (see _import_files_erase).
"""

from django.db.models import TextField
from django.db.models.functions import Cast

from imports.models import ImportedMember, MemberImport, MemberImportStatus
from members.data_rights import (
    DataSection,
    ErasurePart,
    ExportPart,
    data_section_register,
    iso,
    member_traces,
)

ERASED_TEXT = "[erased]"


def imports_export(user) -> ExportPart:
    record = ImportedMember.objects.filter(user=user).select_related("member_import", "cohort").first()
    if record is None:
        return ExportPart(data=None)
    return ExportPart(
        data={
            "imported_at": iso(record.member_import.confirmed_at),
            "consent_evidence": {
                "date": record.consent_evidence_date.isoformat(),
                "source": record.consent_evidence_source,
            },
            "cohort_held": record.cohort.name if record.cohort else None,
            "invited_at": iso(record.invited_at),
            "activated_at": iso(record.activated_at),
            "placement_outcome": record.placement_outcome,
        }
    )


def imports_erase(user, now) -> ErasurePart:
    blanked = ImportedMember.objects.filter(user=user).update(
        consent_evidence_source=ERASED_TEXT, cohort=None, placement_outcome=""
    )
    return ErasurePart(counts={"imported_member": blanked, "import_files": _import_files_erase(user)})


def _import_files_erase(user) -> int:
    """Uploaded files' rows that name the member. One still waiting for confirmation (or being
    written) is expired, its rows and preview dropped, as if its 24 hours had passed: staff
    upload it again, and the member is then a stranger to it. A finished one keeps its counts;
    its preview (kept for a refused file) loses the member's line, and a file name theirs."""
    traces = member_traces(user)
    imports = MemberImport.objects.annotate(
        _rows=Cast("rows", TextField()), _preview=Cast("preview", TextField())
    ).filter(traces.mentions(["_rows", "_preview", "file_name"], weak=False))
    waiting = [MemberImportStatus.PREVIEWED, MemberImportStatus.CONFIRMING]
    changed = MemberImport.objects.filter(pk__in=imports.filter(status__in=waiting).values("pk")).update(
        status=MemberImportStatus.EXPIRED, rows=[], preview=[]
    )
    emails = set(traces.emails)
    for member_import in MemberImport.objects.filter(pk__in=imports.exclude(status__in=waiting).values("pk")):
        preview = [
            {**line, "email": ERASED_TEXT, "name": ERASED_TEXT, "notes": [], "errors": []}
            if str(line.get("email", "")).strip().lower() in emails
            else traces.scrub_json(line, weak=False)
            for line in member_import.preview
        ]
        file_name = traces.scrub(member_import.file_name, weak=True)
        member_import.rows = traces.scrub_json(member_import.rows, weak=False)
        member_import.preview, member_import.file_name = preview, file_name
        member_import.save(update_fields=["rows", "preview", "file_name"])
        changed += 1
    return changed


def register() -> None:
    data_section_register(DataSection(name="imports", export=imports_export, erase=imports_erase))
