from django.apps import AppConfig


class ApiConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "api"
    verbose_name = "REST API"

    def ready(self) -> None:
        # The token scheme's description (api.schema) registers itself with drf-spectacular
        # when api.views imports it, as the URLs load: before any schema is drawn, and not at
        # all in a process that never loads the URLs (`manage.py shell`, a script that only
        # starts Django).
        from api import data_rights
        from members.permissions import Role, role_permissions_extend

        data_rights.register()  # the member's tokens in their data export and erasure

        # National staff create personal API tokens (everyone else uses the API with their
        # browser session, if at all).
        role_permissions_extend(Role.NATIONAL_STAFF, ["api.add_apitoken"])
