"""Benchmark: a member's data export costs the same SQL queries however much there is.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/future_leaders \\
    .venv/bin/python bench/export.py --rows 10 1000

In a database of its own (`<name>_export`, dropped and made afresh), it makes one member per
size with everything a member can have (tests/members/test_data_rights.py's
member_with_everything) plus N more rows of each kind the export lists (attendance,
apologies, confirmations, enrolment history, submissions with a file, a mark and its rubric
levels, emails, certificate history and checks, local actions, audit entries:
tests/members/test_export_queries.py's rows_add), then measures building the export
(members.export.data_export_build: every registered section's data and the ZIP) for each:
SQL queries and time. Prints a Markdown section on standard output.
"""

import argparse
import os
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[10, 1000], help="rows of each kind")
    parser.add_argument("--runs", type=int, default=3, help="builds per member (the median is shown)")
    return parser.parse_args(argv)


def measure(rows: int, runs: int) -> dict:
    import statistics
    import tempfile

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from members.export import data_export_build
    from members.models import DataExport
    from members.permissions import Role
    from tests.factories import UserFactory
    from tests.members.test_data_rights import member_with_everything
    from tests.members.test_export_queries import rows_add

    staff = UserFactory(role=Role.NATIONAL_STAFF)
    everything = member_with_everything(staff=staff, first_name="Bench", last_name=f"Rows{rows}")
    rows_add(everything, rows)
    member = everything["member"]
    queries, seconds = [], []
    with tempfile.TemporaryDirectory() as media:
        from django.conf import settings

        settings.MEDIA_ROOT = media  # the ZIPs go nowhere that lasts
        for _ in range(runs):
            export = DataExport.objects.create(user=member, requested_at=member.date_joined)
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                built = data_export_build(export_id=export.pk)
                seconds.append(time.perf_counter() - started)
            assert built.status == "ready", built.status
            queries.append(len(captured))
            DataExport.objects.filter(pk=export.pk).delete()
    return {
        "rows": rows,
        "queries": queries[-1],
        "all queries": set(queries),
        "seconds": statistics.median(seconds),
    }


def markdown(results: list[dict]) -> str:
    from bench.section import goal_line, markdown_table

    headers = ["rows of each kind", "SQL queries", "build time (median)"]
    body = [[f"{r['rows']:,}", str(r["queries"]), f"{r['seconds'] * 1000:.0f} ms"] for r in results]
    counts = {count for r in results for count in r["all queries"]}
    return "\n".join(
        [
            "### A member's data export",
            "",
            "`members.export.data_export_build` (every registered section's data, the ZIP) for a "
            "member with N more rows of each kind (attendance, apologies, confirmations, enrolment "
            "history, submissions with a file, a mark and rubric levels, emails, certificate "
            "history and checks, local actions, audit entries).",
            "",
            markdown_table(headers, body),
            "",
            goal_line(
                "the same SQL queries whatever the number of rows",
                met=len(counts) == 1,
                figure=" / ".join(str(r["queries"]) for r in results) + " queries",
            ),
            "",
        ]
    )


def markdown_section(argv: list[str]) -> str:
    """The benchmark, run in a process of its own (it configures Django for its database)."""
    from bench.section import section_in_subprocess

    return section_in_subprocess(Path(__file__), argv)


def main(argv: list[str] | None = None) -> None:
    from bench.section import database_create, postgres_url_required

    args = parse_args(argv)
    os.environ["DATABASE_URL"] = database_create(postgres_url_required(), "export")
    os.environ.pop("REDIS_URL", None)  # no broker: nothing here is queued
    os.environ["EMAIL_URL"] = "dummymail://"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("load_seeds", verbosity=0, stdout=sys.stderr)  # standard output is the section
    print(f"Database {os.environ['DATABASE_URL']}", file=sys.stderr)
    results = []
    for rows in args.rows:
        started = time.perf_counter()
        results.append(measure(rows, args.runs))
        print(f"{rows:,} rows measured in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    print(markdown(results))


if __name__ == "__main__":
    main()
