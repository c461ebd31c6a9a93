"""Two SQL functions the dashboard needs, for PostgreSQL and SQLite: the days between two
timestamps, and the median of a group (so that marking turnaround is aggregated in the
database, not in Python)."""

import statistics

from django.db import NotSupportedError
from django.db.models import Aggregate, FloatField, Func

SQLITE_MEDIAN = "fl_median"


class DaysBetween(Func):
    """Days, with their fraction, from `start` to `end`."""

    output_field = FloatField()
    arity = 2

    def __init__(self, end, start, **extra):
        super().__init__(end, start, **extra)

    def _parts(self, compiler):
        end_sql, end_params = compiler.compile(self.source_expressions[0])
        start_sql, start_params = compiler.compile(self.source_expressions[1])
        return end_sql, start_sql, [*end_params, *start_params]

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError("DaysBetween runs on PostgreSQL and SQLite only.")

    def as_postgresql(self, compiler, connection, **extra_context):
        end_sql, start_sql, params = self._parts(compiler)
        return f"(EXTRACT(EPOCH FROM ({end_sql} - {start_sql})) / 86400.0)", params

    def as_sqlite(self, compiler, connection, **extra_context):
        end_sql, start_sql, params = self._parts(compiler)
        return f"(julianday({end_sql}) - julianday({start_sql}))", params


class Median(Aggregate):
    """The median of a numeric expression over a group (NULLs left out)."""

    function = SQLITE_MEDIAN
    name = "Median"
    output_field = FloatField()
    allow_distinct = False

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError("Median runs on PostgreSQL and SQLite only.")

    def as_postgresql(self, compiler, connection, **extra_context):
        expression_sql, params = compiler.compile(self.source_expressions[0])
        return f"PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY {expression_sql})", params

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, **extra_context)


class _SqliteMedian:
    def __init__(self):
        self.values: list[float] = []

    def step(self, value) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        return statistics.median(self.values) if self.values else None


def sqlite_functions_register(sender, connection, **kwargs) -> None:
    """Give each new SQLite connection the median aggregate (connection_created receiver)."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate(SQLITE_MEDIAN, 1, _SqliteMedian)
