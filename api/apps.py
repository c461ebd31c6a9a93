from django.apps import AppConfig


class ApiConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "api"
    verbose_name = "REST API"

    def ready(self) -> None:
        from api import data_rights, schema  # noqa: F401 - schema registers the token scheme with drf-spectacular
        from members.permissions import Role, role_permissions_extend

        data_rights.register()  # the member's tokens in their data export and erasure

        # National staff create personal API tokens (everyone else uses the API with their
        # browser session, if at all).
        role_permissions_extend(Role.NATIONAL_STAFF, ["api.add_apitoken"])
