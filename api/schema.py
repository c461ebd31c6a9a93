"""How the OpenAPI schema describes the token authentication and the errors."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse

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
    contract (and schemathesis, which checks against it) covers errors too."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            if code not in responses:
                error = OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code])
                responses[code] = self._get_response_for_code(error, code, direction=direction)
        return responses

    def _error_codes(self) -> list[str]:
        codes = []
        if self.method != "GET" or self._is_list_view():  # a body, or filters and paging
            codes.append("400")
        if self.view.get_authenticators():  # a public view reads no credentials to refuse
            codes += ["401", "403"]
        if "{" in self.path or self._is_list_view():  # an object, or a cursor
            codes.append("404")
        codes.append("429")
        return codes
