"""An imported member's record is in their data export, and erasure blanks it."""

from django.utils import timezone

from imports.data_rights import imports_erase, imports_export
from imports.models import ImportedMember
from members.models import User
from tests.imports.conftest import checked, confirm, csv_bytes, member_row


def test_the_import_record_is_exported_and_blanked_on_erasure(
    staff_client, django_capture_on_commit_callbacks
):
    confirm(
        staff_client, checked(staff_client, csv_bytes([member_row(1)])), django_capture_on_commit_callbacks
    )
    member = User.objects.get(email="imported1@example.org")

    data = imports_export(member).data
    assert data["consent_evidence"] == {"date": "2025-03-31", "source": "Membership form 2025"}
    assert data["invited_at"] is not None

    assert imports_erase(member, timezone.now()).counts == {"imported_member": 1, "import_files": 0}
    record = ImportedMember.objects.get(user=member)
    assert record.consent_evidence_source == "[erased]"
    assert imports_export(member).data["consent_evidence"]["source"] == "[erased]"
