"""What the API app holds about a member, for their data export and for erasure (registered
with members.data_rights from ApiConfig.ready).

Only national staff hold tokens. A member's own tokens are in their export (never the hash)
and deleted on erasure: they are sign-in credentials. A token's name is free text its holder
wrote, so the member's full name, address or phone goes from every other token's name too.
What the member did through the API is in the audit trail (audit_subject_pseudonymise).
"""

from api.models import ApiToken
from members.data_rights import (
    DataSection,
    ErasurePart,
    ExportPart,
    data_section_register,
    iso,
    member_traces,
)


def api_export(user) -> ExportPart:
    tokens = ApiToken.objects.filter(user=user).order_by("created_at", "pk")
    return ExportPart(
        data={
            "tokens": [
                {
                    "name": token.name,
                    "starts_with": f"fl_{token.prefix}_",
                    "access": token.access,
                    "resources": token.resources,
                    "created_at": iso(token.created_at),
                    "expires_at": iso(token.expires_at),
                    "revoked_at": iso(token.revoked_at),
                }
                for token in tokens
            ]
        }
    )


def api_erase(user, now) -> ErasurePart:
    part = ErasurePart()
    part.counts["tokens"] = ApiToken.objects.filter(user=user).delete()[0]
    part.counts["token_names"] = member_traces(user).rows_scrub(ApiToken.objects.all(), ["name"], weak=False)
    return part


def register() -> None:
    data_section_register(DataSection(name="api", export=api_export, erase=api_erase))
