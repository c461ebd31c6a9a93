"""JSON from outside is read within a size and a depth, checked before parsing."""

import json
import time

import pytest

from config.json_bounded import JSONBoundsError, json_depth, json_loads_bounded


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ("[]", 1),
        ('{"a": [1, {"b": []}]}', 4),
        ('{"a": "[[[[{{{{"}', 1),  # brackets in strings do not count
        ('["\\"[[[", "\\\\", [[]]]', 3),  # nor after escaped quotes and backslashes
    ],
)
def test_depth_counts_brackets_outside_strings(text, depth):
    assert json_depth(text) == depth


def test_the_depth_limit_is_exact():
    assert json_loads_bounded("[" * 32 + "]" * 32, max_bytes=1000, max_depth=32)
    with pytest.raises(JSONBoundsError, match="nested more than 32 levels"):
        json_loads_bounded("[" * 33 + "]" * 33, max_bytes=1000, max_depth=32)


@pytest.mark.parametrize("text", ["[" * 5000, '{"a":' * 5000, "[" * 5000 + "]" * 5000])
def test_five_thousand_levels_are_refused_before_parsing_not_a_recursion_error(text):
    with pytest.raises(JSONBoundsError):
        json_loads_bounded(text, max_bytes=100_000, max_depth=32)
    with pytest.raises(JSONBoundsError):
        json_loads_bounded(text.encode(), max_bytes=100_000, max_depth=32)


def test_the_size_limit_counts_utf8_bytes():
    assert json_loads_bounded('"' + "é" * 4 + '"', max_bytes=10, max_depth=1) == "éééé"
    with pytest.raises(JSONBoundsError, match="larger than 9 bytes"):
        json_loads_bounded('"' + "é" * 4 + '"', max_bytes=9, max_depth=1)
    with pytest.raises(JSONBoundsError, match="larger than 9 bytes"):
        json_loads_bounded(('"' + "é" * 4 + '"').encode(), max_bytes=9, max_depth=1)


def test_text_that_is_not_json_is_a_value_error():
    for bad in (b"{not json", b"\xff\xfe\x00", "[1,"):
        with pytest.raises(ValueError):  # noqa: PT011 - JSONDecodeError or UnicodeDecodeError
            json_loads_bounded(bad, max_bytes=100, max_depth=4)


def test_bytes_are_read_as_json_loads_reads_them():
    body = {"a": ["é", 1.5, None]}
    for encoding in ("utf-8", "utf-16", "utf-32"):
        assert json_loads_bounded(json.dumps(body).encode(encoding), max_bytes=200, max_depth=2) == body


def test_the_check_is_linear_in_the_text():
    big = "[" + ",".join(['{"a": "x\\"]]]", "b": [1, 2, {"c": null}]}'] * 60_000) + "]"  # 2.4 MB
    started = time.perf_counter()
    assert json_depth(big) == 4
    assert time.perf_counter() - started < 1.0
