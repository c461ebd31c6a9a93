from django.apps import AppConfig


class CertificationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "certification"
    verbose_name = "Certification"

    def ready(self) -> None:
        from certification import checks  # noqa: F401  (registers the system checks)
        from certification import notice_letters
        from certification.receivers import standing_changed_receive
        from members.permissions import Role, role_permissions_extend
        from training.signals import standing_changed

        role_permissions_extend(
            Role.NATIONAL_STAFF, ["certification.issue_certificates", "certification.view_certificate"]
        )
        notice_letters.register()
        standing_changed.connect(standing_changed_receive, dispatch_uid="certification.standing_changed")
