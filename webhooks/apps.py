from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from members.permissions import Role, role_permissions_extend
        from webhooks import (
            data_rights,
            tasks,  # noqa: F401 - registers the tasks the services enqueue by name
        )

        data_rights.register()  # events about a member sent elsewhere: in their export and erasure

        # National staff register and manage endpoints (the pages ask for this one permission).
        role_permissions_extend(Role.NATIONAL_STAFF, ["webhooks.add_endpoint"])
