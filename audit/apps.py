from django.apps import AppConfig


class AuditConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from members.permissions import Role, role_permissions_extend

        # National staff read the trail (and export it); nobody may change it.
        role_permissions_extend(Role.NATIONAL_STAFF, ["audit.view_auditentry"])
