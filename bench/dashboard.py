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
median of `--runs` requests after one warm-up, and the SQL queries of each. The conversion
rates are cached for ten minutes; the warm-up fills that cache, as the first visitor of the
morning does.

To look at the dashboard with realistic data, use the command itself:

    DATABASE_URL=sqlite:////tmp/movement.sqlite3 .venv/bin/python manage.py migrate
    DEMO_MODE=true ... manage.py generate_scale --members 3000 --flush   # demo logins too
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=5, help="requests per page, after a warm-up")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the data a previous run left (one --members value), instead of making it again",
    )
    return parser.parse_args()


def bench_database_create(database_url: str, *, reuse: bool = False) -> str:
    """Drop and create `<name>_dashboard_bench` on the same server (kept, with `reuse`);
    return its URL."""
    import psycopg
    from psycopg import sql

    url = urlsplit(database_url)
    name = unquote(url.path.lstrip("/")) or "postgres"
    bench_name = f"{name}_dashboard_bench"
    server = url._replace(scheme="postgresql", path="/postgres").geturl()
    with psycopg.connect(server, autocommit=True) as connection:
        name_sql = sql.Identifier(bench_name)
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [bench_name]).fetchone()
        if not (reuse and exists):
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name_sql))
            connection.execute(sql.SQL("CREATE DATABASE {}").format(name_sql))
    return url._replace(path=f"/{bench_name}").geturl()


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

    table = "certification:dashboard-table"
    north_east = Region.objects.get(ons_code="E12000001").pk
    urls = [
        reverse("certification:dashboard"),
        reverse(table, args=["places"]),
        reverse(table, args=["places"]) + f"?region={north_east}&sort=-leaders",
        reverse(table, args=["cohorts-at-risk"]),
        reverse(table, args=["trainers"]),
        reverse("certification:dashboard-people") + "?figure=leaders",
        reverse("certification:dashboard-people") + "?figure=training&stage=attending",
        reverse("certification:dashboard-cohorts") + "?figure=at_risk",
    ]
    if not regional:
        urls += [reverse(table, args=["targets"]), reverse(table, args=["funnel-region"])]
    return urls


def measure(client, url: str, runs: int) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)  # warm-up
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times), len(queries)


def main() -> None:
    args = parse_args()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL server (postgres://...).")
    os.environ["DATABASE_URL"] = bench_database_create(database_url, reuse=args.reuse)
    os.environ["EMAIL_URL"] = "dummymail://"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    os.environ["HTTPS"] = "false"  # the test client speaks plain HTTP
    import django

    django.setup()
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP
    from allauth.mfa.totp.internal.auth import generate_totp_secret as totp_secret_new
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from members.models import Profile, Region, User
    from members.permissions import Role
    from members.selectors import consent_text_current
    from members.services import consent_give, user_assign_role

    setup_test_environment()
    print(f"Database {os.environ['DATABASE_URL']}", flush=True)
    results = []
    for members in args.members:
        started = time.perf_counter()
        if args.reuse and User.objects.filter(email__endswith="@bench.example").exists():
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
            for url in pages(regional=who == "regional"):
                seconds, queries = measure(client, url, args.runs)
                results.append((members, who, url, seconds, queries))
                print(f"  {who:8} {seconds * 1000:7.0f} ms {queries:3} queries  {url}", flush=True)
    print()
    print("members  viewer    median ms  queries  page")
    for members, who, url, seconds, queries in results:
        print(f"{members:>7,}  {who:8}  {seconds * 1000:9.0f}  {queries:7}  {url}")


if __name__ == "__main__":
    main()
