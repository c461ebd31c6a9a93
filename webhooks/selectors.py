"""Reading endpoints and their deliveries. Only national staff (webhooks.add_endpoint)
reach these, through the views; a deleted endpoint is a 404."""

from django.db.models import Count, Q
from django.shortcuts import get_object_or_404

from webhooks.models import Delivery, DeliveryStatus, Endpoint


def endpoint_list():
    """Every endpoint not deleted, with its deliveries counted by outcome (one query)."""
    return (
        Endpoint.objects.filter(deleted_at__isnull=True)
        .annotate(
            waiting_count=Count(
                "deliveries", filter=Q(deliveries__status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED])
            ),
            gave_up_count=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.GAVE_UP)),
        )
        .order_by("-created_at", "-pk")
    )  # Meta.ordering does not apply to a grouped query


def endpoint_list_paused_automatically():
    return Endpoint.objects.filter(
        deleted_at__isnull=True, paused_automatically=True, paused_at__isnull=False
    )


def endpoint_get(*, pk: int) -> Endpoint:
    return get_object_or_404(Endpoint, pk=pk, deleted_at__isnull=True)


def delivery_list_for_endpoint(*, endpoint: Endpoint, status: str = ""):
    deliveries = Delivery.objects.filter(endpoint=endpoint).defer("payload")
    if status:
        deliveries = deliveries.filter(status=status)
    return deliveries


def delivery_get(*, endpoint: Endpoint, pk: int) -> Delivery:
    return get_object_or_404(Delivery, pk=pk, endpoint=endpoint)


def delivery_counts_by_status() -> dict[str, int]:
    """Deliveries kept (WEBHOOKS_DELIVERY_RETENTION_DAYS) by status, every status named (one
    query; config.metrics reports the given-up ones)."""
    counts = dict(
        Delivery.objects.order_by()
        .values_list("status")
        .annotate(count=Count("pk"))
        .values_list("status", "count")
    )
    return {status: counts.get(status, 0) for status in DeliveryStatus.values}
