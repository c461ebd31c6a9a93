from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from config.metrics import CountsByStatus, counts_by_status_register
        from webhooks.selectors import delivery_counts_by_status

        counts_by_status_register(
            CountsByStatus(
                name="fl_webhook_deliveries",
                documentation="Webhook deliveries kept, by status (gave_up: given up after every retry).",
                counts=delivery_counts_by_status,
            )
        )
        from config.crypto import EncryptedStore, store_register
        from members.permissions import Role, role_permissions_extend
        from webhooks import (
            crypto,
            data_rights,
            tasks,  # noqa: F401 - registers the tasks the services enqueue by name
        )

        data_rights.register()  # events about a member sent elsewhere: in their export and erasure

        # National staff register and manage endpoints (the pages ask for this one permission).
        role_permissions_extend(Role.NATIONAL_STAFF, ["webhooks.add_endpoint"])
        store_register(
            EncryptedStore(
                name="webhook endpoint secrets",
                table=crypto.Endpoint._meta.db_table,
                reencrypt=crypto.endpoint_secrets_reencrypt,
                unreadable_count=crypto.endpoint_secrets_unreadable_count,
            )
        )
