from django.apps import AppConfig


class ReportingConfig(AppConfig):
    """The read model: what the dashboard counts from, kept in step by the other apps' events."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "reporting"
    verbose_name = "Reporting"

    def ready(self) -> None:
        from reporting import receivers

        receivers.connect()  # the other apps' events, never their models' signals
        from members.permissions import Role, role_home_set

        # Regional staff land on their region's dashboard (certification grants them its permission).
        role_home_set(Role.REGIONAL_STAFF, "reporting:dashboard")
