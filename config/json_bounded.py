"""JSON from outside (a request's body), read only within a size and a nesting depth.

Python's json module recurses once per level: 5,000 levels of `[` (10 kB) raise RecursionError,
a 500 wherever a view reads the body. The depth is checked here first, by counting brackets
outside strings, in time linear in the text, before json.loads builds anything.

    json_loads_bounded(request.body, max_bytes=64 * 1024, max_depth=32)

Raises JSONBoundsError (a ValueError) for too large or too deep, json.JSONDecodeError (also a
ValueError) for text that is not JSON: callers catch ValueError and answer 400.
"""

import json
import re
from itertools import accumulate

# Depth and size most of the project's readers use: the API's bodies, a credential.
JSON_MAX_DEPTH = 32

# A JSON string, escapes included (unrolled, so linear: no backtracking on long strings).
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class JSONBoundsError(ValueError):
    """The JSON is larger or nested deeper than the reader allows; the message says which."""


def json_depth(text: str) -> int:
    """How deeply the brackets outside strings nest (an unclosed string's brackets count too,
    which can only overstate the depth of text that is not JSON anyway)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(0, max(accumulate(map(_STEP.__getitem__, brackets)), default=0))


def json_loads_bounded(
    data: str | bytes | bytearray, *, max_bytes: int, max_depth: int, **loads_options
) -> object:
    """json.loads, refusing (JSONBoundsError) more than max_bytes (UTF-8) or nesting deeper
    than max_depth arrays and objects, before parsing. loads_options go to json.loads."""
    if isinstance(data, (bytes, bytearray)):
        if len(data) > max_bytes:
            raise JSONBoundsError(f"The JSON is larger than {max_bytes} bytes.")
        # json.loads reads UTF-8, -16 and -32 from bytes: decode the same way, once.
        text = bytes(data).decode(json.detect_encoding(data), "surrogatepass")
    else:
        text = data
        if len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes:
            raise JSONBoundsError(f"The JSON is larger than {max_bytes} bytes.")
    if json_depth(text) > max_depth:
        raise JSONBoundsError(f"The JSON is nested more than {max_depth} levels deep.")
    return json.loads(text, **loads_options)
