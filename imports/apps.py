from django.apps import AppConfig


class ImportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "imports"
    verbose_name = "Member imports"

    def ready(self) -> None:
        from allauth.account.signals import password_changed, password_reset, password_set

        from imports import (
            data_rights,
            receivers,
            tasks,  # noqa: F401 - registers the tasks the services enqueue by name
        )
        from members.permissions import Role, role_permissions_extend
        from members.signals import consent_given

        # National staff import members; regional staff only read their region (decision 0014).
        role_permissions_extend(
            Role.NATIONAL_STAFF, ["imports.add_memberimport", "imports.view_memberimport"]
        )
        consent_given.connect(receivers.on_consent_given, dispatch_uid="imports_consent")
        password_reset.connect(receivers.on_password_reset, dispatch_uid="imports_password_reset")
        password_set.connect(receivers.on_password_set, dispatch_uid="imports_password_set")
        password_changed.connect(receivers.on_password_set, dispatch_uid="imports_password_changed")
        data_rights.register()  # the import record in a member's data export and erasure
