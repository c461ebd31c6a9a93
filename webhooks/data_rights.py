"""What the webhooks app holds about a member, for their data export and for erasure
(registered with members.data_rights from WebhooksConfig.ready).

A payload names a member by their id only (webhooks.events), and the id stays meaningful
after erasure only as an erased account, so deliveries are kept as they are. The export
lists the events about the member that were sent (or are due) to other systems, and where:
the recipients of their data (UK GDPR article 15(1)(c)). Erasure replaces the member's full
name, address or phone wherever free text could carry them: an endpoint's description, a
payload, the last error a receiver answered.
"""

from urllib.parse import urlsplit

from members.data_rights import (
    DataSection,
    ErasurePart,
    ExportPart,
    data_section_register,
    iso,
    member_traces,
)
from webhooks.models import Delivery, Endpoint


def webhooks_export(user) -> ExportPart:
    deliveries = (
        Delivery.objects.filter(payload__data__member_id=user.pk)
        .select_related("endpoint")
        .order_by("created_at", "pk")
    )
    return ExportPart(
        data={
            "events_sent_to_other_systems": [
                {
                    "event": delivery.event_type,
                    "at": iso(delivery.created_at),
                    "to": urlsplit(delivery.endpoint.url).hostname,
                    "status": delivery.status,
                    "delivered_at": iso(delivery.delivered_at),
                }
                for delivery in deliveries
            ]
        }
    )


def webhooks_erase(user, now) -> ErasurePart:
    traces = member_traces(user)
    return ErasurePart(
        counts={
            "endpoint_descriptions": traces.rows_scrub(Endpoint.objects.all(), ["description"], weak=False),
            "deliveries": traces.rows_scrub(Delivery.objects.all(), ["payload", "last_error"], weak=False),
        }
    )


def register() -> None:
    data_section_register(DataSection(name="webhooks", export=webhooks_export, erase=webhooks_erase))
