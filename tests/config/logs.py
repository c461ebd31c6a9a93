"""Log lines as the production handler writes them (config.logging's filter and JSON
formatter), captured in memory for a test."""

import io
import json
import logging
from contextlib import contextmanager

from config.logging import JsonLinesFormatter, RequestContextFilter


class CapturedLines:
    def __init__(self, stream: io.StringIO):
        self.stream = stream

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def records(self) -> list[dict]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]


@contextmanager
def json_log_lines(level=logging.INFO):
    """Every record reaching the root logger, as JSON lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonLinesFormatter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield CapturedLines(stream)
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
