"""Benchmark: the dashboard and the pages behind it at N members, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/future_leaders \\
    .venv/bin/python bench/dashboard.py --members 10000 100000

For each N it fills a database of its own (`<name>_dashboard_bench`, dropped and migrated
afresh: the database in DATABASE_URL is not touched) with the movement `manage.py
generate_scale` makes (scale/generator.py): three years of cohorts over three programme
versions (finished, running and open), their enrolments, ten weekly sessions each with the
register taken, the work handed in and marked, certificates where the completion rule is met
(some revoked, some lapsed), trainers who were once trainees, reminders sent, and targets.
At 100,000 members: 5,000 cohorts, about 900,000 attendance rows and 20,000 certificates.

Then, signed in as national staff and as regional staff, it requests each page through
Django's test client (the whole request: middleware, views, templates) and reports the
median and 95th percentile of `--runs` requests after one warm-up, the SQL queries of each,
and the median's ratio to the floor view's (bench/floor.py: the same middleware and base
template, nothing else), measured in the same run by the same viewer. The dashboard is
measured twice: warm (its figures served from the cache the warm-up filled, as every
visitor after the first sees it) and cold (the cache emptied before each request, as the
first visitor after a change sees it). At the end, for the dashboard: the ratio of its
median at the largest size to its median at the smallest (goal of issue 9: at most 1.25),
and p95 / median (at most 2).

Each size has a database of its own (`<name>_dashboard_bench` for 100,000 members,
`<name>_dashboard_bench_<members>` for any other), so `--reuse` keeps every size.

To look at the dashboard with realistic data, use the command itself:

    DATABASE_URL=sqlite:////tmp/movement.sqlite3 .venv/bin/python manage.py migrate
    DEMO_MODE=true ... manage.py generate_scale --members 3000 --flush   # demo logins too
"""

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=7, help="requests per page, after a warm-up")
    parser.add_argument(
        "--dashboard-runs",
        type=int,
        default=21,
        help="requests of the floor view and of the dashboard itself, warm and cold",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the data a previous run left (for each size), instead of making it again",
    )
    return parser.parse_args()


def bench_database_name(database_url: str, members: int) -> str:
    name = unquote(urlsplit(database_url).path.lstrip("/")) or "postgres"
    return f"{name}_dashboard_bench" if members == 100_000 else f"{name}_dashboard_bench_{members}"


def bench_database_create(database_url: str, *, members: int, reuse: bool = False) -> str:
    """Drop and create the size's database on the same server (kept, with `reuse`); return
    its name."""
    import psycopg
    from psycopg import sql

    url = urlsplit(database_url)
    bench_name = bench_database_name(database_url, members)
    server = url._replace(scheme="postgresql", path="/postgres").geturl()
    with psycopg.connect(server, autocommit=True) as connection:
        name_sql = sql.Identifier(bench_name)
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [bench_name]).fetchone()
        if not (reuse and exists):
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name_sql))
            connection.execute(sql.SQL("CREATE DATABASE {}").format(name_sql))
    return bench_name


# --- The movement ------------------------------------------------------------------------------


def movement_create(*, members: int, seed: int = 7) -> dict:
    """The movement `manage.py generate_scale` makes (scale.generator), for `members` members in
    the issue's shape; reference data must be loaded (`load_seeds`). Written with COPY, and
    with the dashboard's kept summaries filled as the services keep them. Returns rows made
    per model."""
    from scale.generator import Sizes, scale_generate

    return scale_generate(
        sizes=Sizes(members=members), seed=seed, log=lambda line: print(f"    {line}", flush=True)
    )


# --- Measuring -------------------------------------------------------------------------------------


def pages(regional: bool) -> list[str]:
    from django.urls import reverse

    from members.models import Region

    table = "reporting:dashboard-table"
    north_east = Region.objects.get(ons_code="E12000001").pk
    urls = [
        reverse("reporting:dashboard"),
        reverse(table, args=["places"]),
        reverse(table, args=["places"]) + f"?region={north_east}&sort=-leaders",
        reverse(table, args=["cohorts-at-risk"]),
        reverse(table, args=["trainers"]),
        reverse("reporting:dashboard-people") + "?figure=leaders",
        reverse("reporting:dashboard-people") + "?figure=training&stage=attending",
        reverse("reporting:dashboard-cohorts") + "?figure=at_risk",
    ]
    if not regional:
        urls += [reverse(table, args=["targets"]), reverse(table, args=["funnel-region"])]
    return urls


class Timing(NamedTuple):
    median: float
    p95: float
    queries: int


def percentile(times: list[float], share: float) -> float:
    ordered = sorted(times)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def measure(client, url: str, runs: int, *, before_each=None) -> Timing:
    """The median and p95 of `runs` requests after a warm-up; `before_each` runs (untimed)
    before every request (emptying the dashboard's cache, for the cold figures)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)  # warm-up
    assert response.status_code == 200, (url, response.status_code)
    times = []
    counts = set()
    for _ in range(runs):
        if before_each:
            before_each()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
        counts.add(len(queries))
    assert len(counts) == 1, (url, counts)  # the same queries every time
    return Timing(statistics.median(times), percentile(times, 0.95), counts.pop())


def dashboard_cache_empty() -> None:
    """What the first visitor after a change finds: no figures kept (the conversion rates
    and trainers' analytics, kept ten minutes, stay)."""
    try:
        from reporting.services.figures import dashboard_figures_changed
    except ImportError:  # before the figures were cached
        return
    dashboard_figures_changed()


def use_database(name: str) -> None:
    """Point Django's connection at another database (the next query opens it)."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name


def main() -> None:
    args = parse_args()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL server (postgres://...).")
    names = {
        members: bench_database_create(database_url, members=members, reuse=args.reuse)
        for members in args.members
    }
    os.environ["DATABASE_URL"] = urlsplit(database_url)._replace(path=f"/{names[args.members[0]]}").geturl()
    os.environ["EMAIL_URL"] = "dummymail://"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # bench.settings: the project's settings with the floor view's URL.
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    os.environ["HTTPS"] = "false"  # the test client speaks plain HTTP
    import django

    django.setup()
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP
    from allauth.mfa.totp.internal.auth import generate_totp_secret as totp_secret_new
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from members.models import Profile, Region, User
    from members.permissions import Role
    from members.selectors import consent_text_current
    from members.services import consent_give, user_assign_role

    setup_test_environment()
    results = []
    floor_url = reverse("bench-floor")
    dashboard_url = reverse("reporting:dashboard")
    for members in args.members:
        use_database(names[members])
        cache.clear()  # the bench's cache may hold another size's figures
        print(f"Database {names[members]}", flush=True)
        started = time.perf_counter()
        made_before = "members_user" in connection.introspection.table_names()
        if args.reuse and made_before and User.objects.filter(email__endswith="@bench.example").exists():
            call_command("migrate", verbosity=0)  # the code may have moved on since
            made = "the data of the last run"
        else:
            call_command("flush", "--noinput", verbosity=0)
            call_command("migrate", verbosity=0)
            call_command("load_seeds", verbosity=0)
            north_east = Region.objects.get(ons_code="E12000001")
            for role in (Role.NATIONAL_STAFF, Role.REGIONAL_STAFF):
                user = User.objects.create_user(email=f"{role}@bench.example", password=None)
                user_assign_role(user=user, role=role)
                consent_give(user=user, text=consent_text_current())
                Profile.objects.create(user=user, region=north_east)
                User.objects.filter(pk=user.pk).update(staff_region=north_east)  # the scope, apart
            made = movement_create(members=members)
        viewers = {
            role: User.objects.get(email=f"{role}@bench.example")
            for role in (Role.NATIONAL_STAFF, Role.REGIONAL_STAFF)
        }
        # Staff must have a second factor before the dashboard opens (members.mfa).
        for user in viewers.values():
            if not Authenticator.objects.filter(user=user).exists():
                TOTP.activate(user, totp_secret_new())
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"{members:,} members: made {made} in {time.perf_counter() - started:.0f}s", flush=True)
        for who, user in (
            ("national", viewers[Role.NATIONAL_STAFF]),
            ("regional", viewers[Role.REGIONAL_STAFF]),
        ):
            client = Client()
            client.force_login(user)
            floor = measure(client, floor_url, args.dashboard_runs)
            measured = [("floor", floor_url, floor)]
            measured.append(("warm", dashboard_url, measure(client, dashboard_url, args.dashboard_runs)))
            measured.append(
                (
                    "cold",
                    dashboard_url,
                    measure(client, dashboard_url, args.dashboard_runs, before_each=dashboard_cache_empty),
                )
            )
            for url in pages(regional=who == "regional")[1:]:
                measured.append(("", url, measure(client, url, args.runs)))
            for kind, url, timing in measured:
                results.append((members, who, kind, url, timing, timing.median / floor.median))
                print(
                    f"  {who:8} {kind:5} {timing.median * 1000:7.1f} ms (p95 {timing.p95 * 1000:7.1f}) "
                    f"{timing.queries:3} queries  {timing.median / floor.median:5.1f}x floor  {url}",
                    flush=True,
                )
    print()
    print("members  viewer    kind   median ms  p95 ms  p95/med  queries  x floor  page")
    for members, who, kind, url, timing, ratio in results:
        print(
            f"{members:>7,}  {who:8}  {kind:5}  {timing.median * 1000:9.1f}  {timing.p95 * 1000:6.1f}  "
            f"{timing.p95 / timing.median:7.2f}  {timing.queries:7}  {ratio:7.1f}  {url}"
        )
    if len(args.members) > 1:
        smallest, largest = min(args.members), max(args.members)
        print()
        print(f"The dashboard at {largest:,} members over {smallest:,} (goal: at most 1.25, queries equal)")
        for who in ("national", "regional"):
            for kind in ("warm", "cold"):
                timing = {
                    members: found
                    for members, viewer, found_kind, _url, found, _ratio in results
                    if viewer == who and found_kind == kind
                }
                print(
                    f"  {who:8} {kind:5} {timing[largest].median / timing[smallest].median:5.2f}  "
                    f"queries {timing[smallest].queries} / {timing[largest].queries}"
                )


if __name__ == "__main__":
    main()
