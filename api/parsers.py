"""The API's JSON parser: bodies read within a size and a nesting depth (config.json_bounded),
so that 5,000 levels of brackets are a 400 in the API's error shape, not a RecursionError."""

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from config.json_bounded import JSON_MAX_DEPTH, json_loads_bounded


class BoundedJSONParser(JSONParser):
    """JSONParser, refusing bodies over DATA_UPLOAD_MAX_MEMORY_SIZE or nested deeper than
    JSON_MAX_DEPTH before parsing. NaN and Infinity are refused, as DRF's STRICT_JSON does."""

    max_depth = JSON_MAX_DEPTH

    def parse(self, stream, media_type=None, parser_context=None):
        max_bytes = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440
        # DRF reads the request's stream itself (Django's body size check does not apply):
        # read one byte past the limit, and no further.
        data = stream.read(max_bytes + 1) if stream is not None else b""
        try:
            return json_loads_bounded(
                data, max_bytes=max_bytes, max_depth=self.max_depth, parse_constant=json_strict_constant
            )
        except ValueError as error:  # JSONBoundsError, JSONDecodeError, UnicodeDecodeError
            raise ParseError(f"JSON parse error - {error}") from error


def json_strict_constant(name: str):
    raise ValueError(f"{name} is not valid JSON.")
