"""How the OpenAPI schema describes the token authentication and the errors."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework.mixins import ListModelMixin

from api.serializers import ErrorSerializer


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (fl_…), made by national staff at /manage/api-tokens/.",
        }


# The errors an operation may answer, each in the one shape of api.exceptions.
ERROR_DESCRIPTIONS = {
    "400": "Bad input: `errors` names each field that was wrong (a filter, a body field, a line of a list).",
    "401": "No valid credentials: a token unknown, expired or revoked, or no token or session at all.",
    "403": "Not allowed: the role, the token's resources or read-only access, or a missing CSRF token.",
    "404": "No such object, or not one the caller may see (as on the pages); or a bad cursor.",
    "429": "Too many calls: wait for the number of seconds in Retry-After.",
}


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's schema, with the error responses each operation can give, so the
    contract (and schemathesis, which checks against it) covers errors too. Only public
    AutoSchema methods are used: get_operation, resolve_serializer, map_renderers."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:  # excluded from the schema
            return None
        error_schema = self.resolve_serializer(ErrorSerializer, "response").ref
        media_types = self.map_renderers("media_type")
        for code in self.error_codes():
            operation["responses"].setdefault(
                code,
                {
                    "content": {media_type: {"schema": error_schema} for media_type in media_types},
                    "description": ERROR_DESCRIPTIONS[code],
                },
            )
        return operation

    def error_codes(self) -> list[str]:
        """The error statuses this operation may answer (after get_operation has set path and
        method)."""
        is_list = self.method == "GET" and isinstance(self.view, ListModelMixin)
        codes = []
        if self.method != "GET" or is_list:  # a body, or filters and paging
            codes.append("400")
        if self.view.get_authenticators():  # a public view reads no credentials to refuse
            codes += ["401", "403"]
        if "{" in self.path or is_list:  # an object, or a cursor
            codes.append("404")
        codes.append("429")
        return codes
