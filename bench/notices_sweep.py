"""Benchmark: the notice sweep and sending at N recipients, against PostgreSQL and Redis.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/future_leaders \\
    REDIS_URL=redis://127.0.0.1:6379/5 \\
    .venv/bin/python bench/notices_sweep.py --recipients 10000 100000

It prints a Markdown section (the table and the goals) on standard output, and progress and a
plain table on standard error; `markdown_section(argv)` returns the same section.

For each N it fills a database of its own (`<name>_bench`, dropped and migrated afresh: the
database in DATABASE_URL is not touched) with cohorts of one trainer and `--cohort-size`
trainees, each with a session starting in an hour, so that N people have a reminder due.
Then it measures, with the real services:

- sweep(): writing the N reminders (and listing them), its time and SQL queries; the
  listing of waiting ids alone; a second sweep, which writes nothing;
- sending, in this process: the SQL queries of one batch of notices_send, per reminder;
- enqueueing them all (notices_dispatch), then delivery through a real Celery worker (one
  process, --pool=solo) on Redis, with the dummy mail backend: reminders sent per second
  (the first --deliver-max), compared with bare no-op tasks (config.ping) per second through
  the same Redis in the same run.

Use a Redis database nobody else uses: the worker takes whatever is queued there.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

WAIT = 60  # seconds for the worker to start or answer
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--recipients", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--cohort-size", type=int, default=49, help="trainees per cohort (plus one trainer)")
    parser.add_argument("--pings", type=int, default=2000, help="no-op tasks for the baseline")
    parser.add_argument(
        "--deliver-max",
        type=int,
        default=10_000,
        help="send about this many through the worker (its rate does not depend on N)",
    )
    return parser.parse_args(argv)


# --- The bench database ------------------------------------------------------------------------


def bench_database_create(database_url: str) -> str:
    """Drop and create `<name>_bench` on the same server; return its URL."""
    import psycopg
    from psycopg import sql

    url = urlsplit(database_url)
    name = unquote(url.path.lstrip("/")) or "postgres"
    bench_name = f"{name}_bench"
    server = url._replace(scheme="postgresql", path="/postgres").geturl()
    with psycopg.connect(server, autocommit=True) as connection:
        name_sql = sql.Identifier(bench_name)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name_sql))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(name_sql))
    return url._replace(path=f"/{bench_name}").geturl()


def data_reset() -> None:
    from django.db import connection

    from members.models import Region, User
    from training.models import Programme

    tables = ", ".join(model._meta.db_table for model in (User, Region, Programme))
    with connection.cursor() as cursor:
        # CASCADE empties everything that refers to them: cohorts, enrolments, sessions, notices.
        cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


def data_create(*, recipients: int, cohort_size: int) -> int:
    """Cohorts of one trainer and `cohort_size` trainees, each with a session starting in an
    hour (its 2-hour reminder is due). Returns the number of recipients made."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from members.models import Region, User
    from training.models import (
        Cohort,
        CohortStatus,
        Enrolment,
        EnrolmentStatus,
        Programme,
        ProgrammeVersion,
        Session,
        SessionMode,
        VersionStatus,
    )

    now, today = timezone.now(), timezone.localdate()
    cohorts_count = max(1, recipients // (cohort_size + 1))
    region = Region.objects.create(ons_code="E12999999", name="Bench", nation="england")
    programme = Programme.objects.create(slug="bench", title="Bench", session_reminder_hours="48,2")
    version = ProgrammeVersion.objects.create(
        programme=programme, number=1, status=VersionStatus.PUBLISHED, published_at=now
    )
    cohorts = Cohort.objects.bulk_create(
        Cohort(
            version=version,
            name=f"Cohort {i}",
            region=region,
            capacity=cohort_size,
            enrolment_opens_on=today - timedelta(days=30),
            enrolment_closes_on=today - timedelta(days=10),
            starts_on=today - timedelta(days=7),
            ends_on=today + timedelta(days=60),
            status=CohortStatus.RUNNING,
        )
        for i in range(cohorts_count)
    )
    no_password = make_password(None)  # unusable: nobody logs in as these
    people = User.objects.bulk_create(
        (
            User(email=f"bench{i}@example.org", password=no_password, first_name="Bench", last_name=f"{i}")
            for i in range(cohorts_count * (cohort_size + 1))
        ),
        batch_size=5000,
    )
    people_of = [people[i * (cohort_size + 1) : (i + 1) * (cohort_size + 1)] for i in range(cohorts_count)]
    trainer_of = Cohort.trainers.through
    trainer_of.objects.bulk_create(
        trainer_of(cohort=cohort, user=group[0]) for cohort, group in zip(cohorts, people_of, strict=True)
    )
    Enrolment.objects.bulk_create(
        (
            Enrolment(
                cohort=cohort,
                member=member,
                programme=programme,
                status=EnrolmentStatus.ENROLLED,
                applied_at=now,
                status_changed_at=now,
            )
            for cohort, group in zip(cohorts, people_of, strict=True)
            for member in group[1:]
        ),
        batch_size=5000,
    )
    starts_at = now + timedelta(hours=1)
    Session.objects.bulk_create(
        Session(
            cohort=cohort,
            title="Door knocking",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=2),
            mode=SessionMode.IN_PERSON,
            venue="Community Centre",
            address="1 High Street",
            preparation="Bring a clipboard.",
            checkin_code=f"B{i:07d}",
        )
        for i, cohort in enumerate(cohorts)
    )
    return len(people)


# --- Measuring ---------------------------------------------------------------------------------


@dataclass
class Cost:
    seconds: float = 0.0
    queries: int = 0


@contextmanager
def cost():
    """Wall time and SQL queries of the block (queries in this process only)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    measured = Cost()
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        yield measured
        measured.seconds = time.perf_counter() - start
    measured.queries = len(queries)


class Worker:
    """One `celery worker --pool=solo` process on the bench database and Redis."""

    def __init__(self, log_path: Path):
        self.log_path = log_path
        self.process = None

    def __enter__(self):
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own worker command
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--queues=celery,sweeps",
                    "--pool=solo",
                    "--loglevel=WARNING",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                ],
                cwd=BASE_DIR,
                env=os.environ.copy(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def pings_queue(count: int):
    """Queue `count` no-op tasks; the first and the last keep their result (and its time)."""
    from config.tasks import ping

    first = ping.delay()
    for _ in range(count - 2):
        ping.apply_async(ignore_result=True)
    return first, ping.delay()


def seconds_between(first, last) -> float:
    """Seconds between two results' completion, by the worker's clock."""

    def done(result):
        value = result.date_done
        return datetime.fromisoformat(value) if isinstance(value, str) else value

    return (done(last) - done(first)).total_seconds()


def reminders_per_second(*, exclude: list[int]) -> float:
    """From the worker's own record: a batch writes one sent_at for all its reminders, so
    the rate is what was sent after the first batch ended, over the time since."""
    from django.db.models import Count, Max, Min

    from training.models import Notice, NoticeStatus

    sent = Notice.objects.filter(status=NoticeStatus.SENT).exclude(pk__in=exclude)
    span = sent.aggregate(first=Min("sent_at"), last=Max("sent_at"), count=Count("pk"))
    if span["first"] == span["last"]:
        return float("nan")  # one batch: nothing to time it against
    in_first_batch = sent.filter(sent_at=span["first"]).count()
    return (span["count"] - in_first_batch) / (span["last"] - span["first"]).total_seconds()


def wait_until_handled(count: int, *, log_path: Path) -> None:
    """Until `count` notices are sent (or skipped or failed); stop if nothing moves for a minute."""
    from training.models import Notice, NoticeStatus

    handled = Notice.objects.filter(status__in=[NoticeStatus.SENT, NoticeStatus.SKIPPED, NoticeStatus.FAILED])
    last, last_change = None, time.monotonic()
    while (done := handled.count()) < count:
        if done != last:
            last, last_change = done, time.monotonic()
        elif time.monotonic() - last_change > WAIT:
            sys.exit(f"No progress for {WAIT}s: {done} of {count} notices handled; see {log_path}")
        time.sleep(0.5)


def measure(recipients: int, args, log_path: Path) -> dict:
    from django.db import connection
    from django.utils import timezone

    from config.celery import app
    from training.models import Notice, NoticeStatus
    from training.services.notices import (
        NOTICE_BATCH_SIZE,
        notices_dispatch,
        notices_send,
        notices_waiting_ids,
    )
    from training.services.reminders import sweep

    data_reset()
    made = data_create(recipients=recipients, cohort_size=args.cohort_size)
    # Planner statistics as autovacuum would have them for data that has been there a while
    # (not for the notices the sweep is about to write: the sweep task enqueues at once).
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    row = {"recipients": made}

    now = timezone.now()
    with cost() as row["sweep"]:
        report = sweep(now=now)
    assert report.written == made == len(report.waiting_ids), (report.written, made)
    with cost() as row["listing"]:
        waiting = notices_waiting_ids(now=now)
    with cost() as row["sweep again"]:
        assert sweep(now=now).written == 0

    # Sending, in this process: the queries of one batch, per reminder.
    first, rest = waiting[:NOTICE_BATCH_SIZE], waiting[NOTICE_BATCH_SIZE:]
    with cost() as batch:
        sent = notices_send(first).sent
    assert len(sent) == len(first), "the bench's reminders should all be sendable"
    row["queries per reminder"] = batch.queries / len(first)

    # Through Redis and a worker. The queue is filled before the worker starts, so that both
    # rates are the worker's own (not the speed of this process sending), by its clock: no-op
    # tasks, the first --deliver-max reminders, no-op tasks again (the machine's load may
    # change while the reminders go: the no-op rate is the mean of before and after), then
    # the rest of the reminders, which are purged unsent.
    pings_before = pings_queue(args.pings)
    delivered_now, later = rest[: args.deliver_max], rest[args.deliver_max :]
    with cost() as enqueue_first:
        assert notices_dispatch(delivered_now) == len(delivered_now)
    pings_after = pings_queue(args.pings)
    with cost() as row["enqueue"]:
        assert notices_dispatch(later) == len(later)
    row["enqueue"].seconds += enqueue_first.seconds
    row["enqueue"].queries += enqueue_first.queries
    with Worker(log_path):
        wait_until_handled(len(first) + len(delivered_now), log_path=log_path)
        pings_after[1].get(timeout=WAIT + args.pings)
    app.control.purge()  # the batches beyond --deliver-max
    row["delivered"] = Notice.objects.filter(status=NoticeStatus.SENT).count() - len(first)
    assert not Notice.objects.filter(status__in=[NoticeStatus.SKIPPED, NoticeStatus.FAILED]).exists()
    row["pings/s before"], row["pings/s after"] = (
        (args.pings - 1) / seconds_between(*pings) for pings in (pings_before, pings_after)
    )
    row["pings/s"] = (row["pings/s before"] + row["pings/s after"]) / 2
    row["reminders/s"] = reminders_per_second(exclude=first)
    row["batches/s"] = row["reminders/s"] / NOTICE_BATCH_SIZE
    return row


# --- Report -------------------------------------------------------------------------------------


def table(rows: list[dict]) -> str:
    def timed(name):
        return [
            (f"{name}: seconds", lambda row: f"{row[name].seconds:.3f}"),
            (f"{name}: SQL queries", lambda row: f"{row[name].queries}"),
        ]

    lines = [
        ("recipients (reminders written)", lambda row: f"{row['recipients']:,}"),
        *timed("sweep"),
        *timed("listing"),
        *timed("sweep again"),
        *timed("enqueue"),
        ("SQL queries per reminder sent", lambda row: f"{row['queries per reminder']:.2f}"),
        ("sent through the worker", lambda row: f"{row['delivered']:,}"),
        ("reminders sent per second", lambda row: f"{row['reminders/s']:.0f}"),
        ("batch tasks per second", lambda row: f"{row['batches/s']:.2f}"),
        ("no-op tasks per second", lambda row: f"{row['pings/s']:.0f}"),
        ("reminders/s ÷ no-op tasks/s", lambda row: f"{row['reminders/s'] / row['pings/s']:.2f}"),
        ("batch tasks/s ÷ no-op tasks/s", lambda row: f"{row['batches/s'] / row['pings/s']:.4f}"),
    ]
    width = max(len(label) for label, _value in lines)
    cells = [[value(row) for row in rows] for _label, value in lines]
    column = max(len(cell) for line in cells for cell in line) + 2
    return "\n".join(
        label.ljust(width) + "".join(cell.rjust(column) for cell in line)
        for (label, _value), line in zip(lines, cells, strict=True)
    )


# One UPDATE per message as the mail server accepts it (decision 0008: the ledger, not a cache,
# records what was sent), and at most 0.2 for the rest of the batch.
QUERIES_PER_REMINDER_GOAL = 1.2
DELIVERY_RATIO_GOAL = 1.0


def markdown(rows: list[dict]) -> str:
    """The section for bench/RESULTS.md: the table (one column per size) and the goals."""
    from bench.section import goal_line, markdown_table

    def timed(row, name):
        return f"{row[name].seconds:.3f} s, {row[name].queries} queries"

    lines = [
        ("reminders written by the sweep", lambda row: f"{row['recipients']:,}"),
        ("sweep (write and list)", lambda row: timed(row, "sweep")),
        ("listing what waits", lambda row: timed(row, "listing")),
        ("second sweep (writes nothing)", lambda row: timed(row, "sweep again")),
        ("enqueue all (notices_dispatch)", lambda row: timed(row, "enqueue")),
        ("SQL queries per reminder sent", lambda row: f"{row['queries per reminder']:.2f}"),
        ("sent through the worker", lambda row: f"{row['delivered']:,}"),
        ("reminders sent per second", lambda row: f"{row['reminders/s']:.0f}"),
        (
            "bare no-op tasks per second (before, after: mean)",
            lambda row: f"{row['pings/s before']:.0f}, {row['pings/s after']:.0f}: {row['pings/s']:.0f}",
        ),
        ("reminders/s ÷ no-op tasks/s", lambda row: f"{row['reminders/s'] / row['pings/s']:.2f}"),
    ]
    headers = ["", *(f"{row['recipients']:,} due" for row in rows)]
    body = [[label, *(value(row) for row in rows)] for label, value in lines]
    ratios = [row["reminders/s"] / row["pings/s"] for row in rows]
    per_reminder = [row["queries per reminder"] for row in rows]
    goals = [
        goal_line(
            f"reminders delivered per second at least {DELIVERY_RATIO_GOAL:.1f}x bare no-op tasks",
            met=min(ratios) >= DELIVERY_RATIO_GOAL,
            figure=", ".join(f"{ratio:.2f}x" for ratio in ratios),
        ),
        goal_line(
            f"at most {QUERIES_PER_REMINDER_GOAL} SQL queries per reminder (1 recording it sent)",
            met=max(per_reminder) <= QUERIES_PER_REMINDER_GOAL,
            figure=", ".join(f"{value:.2f}" for value in per_reminder),
        ),
        goal_line(
            "the sweep's queries do not grow with the number due",
            met=len({row["sweep"].queries for row in rows}) == 1
            and len({row["listing"].queries for row in rows}) == 1,
            figure="sweep "
            + " / ".join(str(row["sweep"].queries) for row in rows)
            + ", listing "
            + " / ".join(str(row["listing"].queries) for row in rows)
            + " queries",
        ),
    ]
    return "\n".join(
        [
            "### Reminder sweep and delivery",
            "",
            "Through one Celery worker (`--pool=solo`) on Redis, dummy mail backend; "
            "the no-op tasks (`config.ping`) go through the same Redis and worker in the same "
            "run, just before and just after the reminders.",
            "",
            markdown_table(headers, body),
            "",
            *goals,
            "",
        ]
    )


def markdown_section(argv: list[str]) -> str:
    """The benchmark, run in a process of its own (it configures Django for its database)."""
    from bench.section import section_in_subprocess

    return section_in_subprocess(Path(__file__), argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL server (postgres://...).")
    # A Redis database of the bench's own: it purges the queue and fills the cache.
    redis_url = os.environ.setdefault("REDIS_URL", DEFAULT_REDIS_URL)

    os.environ["DATABASE_URL"] = bench_database_create(database_url)
    os.environ["EMAIL_URL"] = "dummymail://"  # never send real mail; the worker inherits this
    # The cache in the same Redis database, not the next one (the default):
    # the next is another user's, and their clearing it must not meet ours.
    os.environ.setdefault("REDIS_CACHE_URL", redis_url)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from config.celery import app

    app.control.purge()  # what an earlier, interrupted run left queued

    log_path = Path(tempfile.gettempdir()) / "notices_sweep_bench_worker.log"
    log_path.unlink(missing_ok=True)
    progress = sys.stderr
    print(f"Database {os.environ['DATABASE_URL']}, Redis {redis_url}, worker log {log_path}", file=progress)
    rows = []
    for recipients in args.recipients:
        started = time.perf_counter()
        rows.append(measure(recipients, args, log_path))
        print(f"{recipients:,} recipients measured in {time.perf_counter() - started:.0f}s", file=progress)
    print(table(rows), file=progress)
    # The section for the results: the only thing on standard output.
    print(markdown(rows))


if __name__ == "__main__":
    main()
