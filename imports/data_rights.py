"""What the imports app holds about a member, for their data export and for erasure
(registered with members.data_rights from ImportsConfig.ready).

An imported member's record says which import brought them in, the organisation's evidence of
their consent, and what became of the place held for them. Erasure keeps the row (so an
import's counts stay true) and blanks the evidence's source and the held place.
"""

from imports.models import ImportedMember
from members.data_rights import DataSection, ErasurePart, ExportPart, data_section_register, iso

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
    return ErasurePart(counts={"imported_member": blanked})


def register() -> None:
    data_section_register(DataSection(name="imports", export=imports_export, erase=imports_erase))
