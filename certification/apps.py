from django.apps import AppConfig


class CertificationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "certification"
    verbose_name = "Certification"

    def ready(self) -> None:
        from certification.selectors.certificates import certificate_counts_by_status
        from config.metrics import CountsByStatus, counts_by_status_register

        counts_by_status_register(
            CountsByStatus(
                name="fl_certificates",
                documentation="Certificates issued, by status.",
                counts=certificate_counts_by_status,
            )
        )
        from django.db.backends.signals import connection_created

        from certification import (
            checks,  # noqa: F401  (registers the system checks)
            data_rights,
            notice_letters,
        )
        from certification.dbfunctions import sqlite_functions_register
        from certification.receivers import standing_changed_receive
        from members.permissions import Role, role_permissions_extend
        from training.signals import standing_changed

        role_permissions_extend(
            Role.NATIONAL_STAFF,
            [
                "certification.issue_certificates",
                "certification.view_certificate",
                "certification.view_dashboard",
                "certification.view_national_dashboard",
                "certification.set_targets",
            ],
        )
        # Regional staff see the dashboard of their region (reporting sets it as their home).
        role_permissions_extend(Role.REGIONAL_STAFF, ["certification.view_dashboard"])
        notice_letters.register()
        data_rights.register()
        standing_changed.connect(standing_changed_receive, dispatch_uid="certification.standing_changed")
        connection_created.connect(sqlite_functions_register, dispatch_uid="certification.sqlite_functions")
