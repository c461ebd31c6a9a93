"""Benchmark: 50 concurrent users for a minute on a mix of pages (issue 18): errors, latency
percentiles and the gunicorn workers' memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/future_leaders \\
    REDIS_URL=redis://127.0.0.1:6379/13 \\
    .venv/bin/python bench/mixed_load.py --users 50 --seconds 60 [--members 1000]

In a database of its own (`<name>_mixed_load`, dropped and made afresh): the seeds with the
demo logins, then `generate_scale --members N` (0 for the demo data only). It signs in
--sessions trainees (trainee role only, so no second factor) by writing their sessions
directly, as the test client's force_login does, and hands the session keys, some
certificate codes and holders' surnames to locust in a JSON file. Then gunicorn as in
bench/throughput.py (2 sync workers, bench.settings, DEBUG off, 127.0.0.1 at a free port) and
locust headless (bench/mixed_load_locustfile.py): --users users, --spawn-rate a second, for
--seconds, each waiting --wait seconds (uniform) between requests. Anonymous visitors (2 in
5): the front page, the registry (and a name search), the certificate check page and the
API's certificate check; signed-in trainees (3 in 5): /, their home, my training, the cohort
finder, certificates, calendar, profile. Each request expects its status (200, or 302 for a
signed-in member's front page); anything else is a failure.

Each gunicorn worker's resident memory (psutil, the master's children) is read before the
load, after --warmup seconds of it and at its end; growth = end - after warm-up. The
verification limit is raised for gunicorn, as in bench/throughput.py. Prints a Markdown
section on standard output; locust's CSV files and gunicorn's log are in the temporary
directory (mixed_load_bench*).
"""

import argparse
import contextlib
import csv
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.throughput import RATE_LIMIT_FOR_BENCH, Gunicorn, free_port  # noqa: E402

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
# "No growth": memory levels off once warm; over the second half of the load each worker
# may move by at most this (the allocator's noise), whatever it took in the first half.
LATE_GROWTH_GOAL_MB = 1.0
MB = 1024 * 1024


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=10, help="users started per second")
    parser.add_argument("--seconds", type=int, default=60, help="length of the load")
    parser.add_argument("--warmup", type=int, default=10, help="seconds into the load of the second reading")
    parser.add_argument("--wait", default="0.5,2", help="each user's wait between requests: min,max seconds")
    parser.add_argument(
        "--members", type=int, default=1000, help="generate_scale --members (0: demo data only)"
    )
    parser.add_argument(
        "--sessions", type=int, default=60, help="trainees signed in (shared among the users)"
    )
    return parser.parse_args(argv)


def setup_data(*, members: int, sessions: int) -> dict:
    """The data, then what locust's users need: session keys, certificate codes, surnames."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.core.cache import cache
    from django.core.management import call_command

    from certification.models import Certificate
    from members.models import User
    from members.permissions import ROLE_GROUP_NAMES, Role

    cache.clear()  # the bench's own Redis database: nothing kept from an earlier run's data
    call_command("migrate", verbosity=0)
    call_command("load_seeds", demo=True, verbosity=0, stdout=sys.stderr)  # standard output is the section
    if members:
        started = time.monotonic()
        call_command("generate_scale", members=members, force=True, verbosity=0, stdout=sys.stderr)
        print(f"generate_scale --members {members}: {time.monotonic() - started:.0f} s", file=sys.stderr)
    call_command("collectstatic", interactive=False, verbosity=0)

    other_roles = [name for role, name in ROLE_GROUP_NAMES.items() if role != Role.TRAINEE]
    trainees = list(
        User.objects.filter(is_active=True, groups__name=ROLE_GROUP_NAMES[Role.TRAINEE])
        .exclude(groups__name__in=other_roles)
        .filter(enrolments__isnull=False)
        .distinct()
        .order_by("?")[:sessions]
    )
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    keys = []
    for user in trainees:  # what django.contrib.auth.login writes, as Client.force_login
        store = store_class()
        store[SESSION_KEY] = user._meta.pk.value_to_string(user)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        keys.append(store.session_key)
    certificates = list(Certificate.objects.order_by("?")[:50])
    if not keys or not certificates:
        sys.exit(f"Not enough data: {len(keys)} trainees with enrolments, {len(certificates)} certificates.")
    return {
        "cookie_name": settings.SESSION_COOKIE_NAME,
        "sessions": keys,
        "codes": [certificate.code for certificate in certificates],
        "names": sorted({c.holder_name.split()[-1] for c in certificates if c.holder_name.strip()})
        or ["Smith"],
    }


def sessions_checked(host: str, data: dict) -> None:
    """Every session answers /my-training/ with a 200 (signed in, onboarded, no second
    factor asked), and each worker has met the pages before the load."""
    for key in data["sessions"]:
        request = urllib.request.Request(  # noqa: S310 - our own server
            host + "/my-training/", headers={"Cookie": f"{data['cookie_name']}={key}"}
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - our own server
            if answer.status != 200 or answer.url != host + "/my-training/":
                sys.exit(f"A bench session does not reach /my-training/ ({answer.status}, {answer.url}).")
    for path in (
        "/",
        "/registry/",
        f"/c/{data['codes'][0]}/",
        f"/api/v1/certificates/verify/{data['codes'][0]}/",
    ):
        for _ in range(2):
            with urllib.request.urlopen(host + path, timeout=30) as answer:  # noqa: S310 - our own server
                assert answer.status == 200, (path, answer.status)


def workers_rss(master_pid: int) -> dict[int, int]:
    """Resident memory of each gunicorn worker (the master's children), by pid."""
    import psutil

    rss = {}
    for child in psutil.Process(master_pid).children():
        with contextlib.suppress(psutil.NoSuchProcess):
            rss[child.pid] = child.memory_info().rss
    return rss


def locust_run(*, host: str, args, env: dict, data_path: Path, csv_prefix: Path, master_pid: int) -> dict:
    """Locust headless; the workers' memory read before, after the warm-up and at the end."""
    readings = {"start": workers_rss(master_pid)}
    log_path = csv_prefix.with_suffix(".locust.log")
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own load command
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(BASE_DIR / "bench" / "mixed_load_locustfile.py"),
                "--headless",
                "--only-summary",
                f"--users={args.users}",
                f"--spawn-rate={args.spawn_rate}",
                f"--run-time={args.seconds}s",
                f"--host={host}",
                f"--csv={csv_prefix}",
                "--loglevel=WARNING",
                "--stop-timeout=10",
            ],
            cwd=BASE_DIR,
            env={**env, "MIXED_LOAD_FILE": str(data_path), "MIXED_LOAD_WAIT": args.wait},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        # Read every second too, so a worker restarted mid-run (new pid) or a peak is seen.
        samples, stop = [], threading.Event()

        def sample():
            while not stop.wait(1):
                samples.append(workers_rss(master_pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        time.sleep(args.warmup)
        readings["warm"] = workers_rss(master_pid)
        exit_code = process.wait(timeout=args.seconds + 120)
        readings["end"] = workers_rss(master_pid)
        stop.set()
        sampler.join()
    peak = {}
    for sample_rss in samples:
        for pid, rss in sample_rss.items():
            peak[pid] = max(peak.get(pid, 0), rss)
    return {
        "readings": readings,
        "peak": peak,
        "every 10 s": samples[9::10],
        "half": samples[len(samples) // 2] if samples else {},
        "locust exit": exit_code,
        "log": log_path,
    }


def csv_read(csv_prefix: Path, kind: str) -> list[dict]:
    with Path(f"{csv_prefix}_{kind}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def markdown(rows: list[dict], failed: list[dict], memory: dict, *, args, data: dict) -> str:
    from bench.section import goal_line, markdown_table

    total = next(row for row in rows if row["Name"] == "Aggregated")
    pages = sorted((row for row in rows if row["Name"] != "Aggregated"), key=lambda row: row["Name"])
    requests, failures = int(total["Request Count"]), int(total["Failure Count"])

    def latency_cells(row):
        return [f"{float(row[key]):.0f} ms" for key in ("50%", "95%", "99%")] + [
            f"{float(row['Max Response Time']):.0f} ms"
        ]

    body = [
        [f"`{row['Name']}`", f"{int(row['Request Count']):,}", row["Failure Count"], *latency_cells(row)]
        for row in pages
    ]
    body.append(["**all**", f"**{requests:,}**", f"**{failures}**", *latency_cells(total)])

    readings, peak = memory["readings"], memory["peak"]
    pids = sorted(set().union(*readings.values()))
    same_workers = set(readings["start"]) == set(readings["warm"]) == set(readings["end"])
    memory_rows, growths, trajectories = [], [], []
    for number, pid in enumerate(pids, 1):
        cells = [
            f"{readings[when][pid] / MB:.1f} MB" if pid in readings[when] else "-"
            for when in ("start", "warm", "end")
        ]
        if pid in readings["warm"] and pid in readings["end"]:
            growth = (readings["end"][pid] - readings["warm"][pid]) / MB
            growths.append(growth)
            cells.append(f"{growth:+.1f} MB")
        else:
            cells.append("-")
        cells.append(f"{peak.get(pid, 0) / MB:.1f} MB")
        memory_rows.append([f"worker {number} (pid {pid})", *cells])
        trajectory = ", ".join(f"{sample[pid] / MB:.1f}" for sample in memory["every 10 s"] if pid in sample)
        trajectories.append(f"- worker {number}, every 10 s of the load: {trajectory} MB")
    worst_growth = max(growths) if growths else float("nan")
    half = memory["half"]
    late = [(readings["end"][pid] - half[pid]) / MB for pid in pids if pid in half and pid in readings["end"]]
    worst_late = max(late) if late else float("nan")
    minimum, maximum = args.wait.split(",")
    return "\n".join(
        [
            "### Mixed pages under 50 concurrent users",
            "",
            f"gunicorn (2 sync workers, bench.settings, DEBUG off) on 127.0.0.1; locust headless on the "
            f"same machine, {args.users} users (spawn rate {args.spawn_rate:g}/s) for {args.seconds} s, "
            f"each waiting {minimum}-{maximum} s between requests; 2 in 5 anonymous (front page, "
            f"registry and a name search, certificate check page and API), 3 in 5 signed-in trainees "
            f"({len(data['sessions'])} sessions shared among them). Data: the seeds with the demo "
            f"logins, plus `generate_scale --members {args.members}`. A request fails on any status but "
            f"the page's own (200; 302 for a signed-in member's front page). "
            f"{requests:,} requests: **{float(total['Requests/s']):.1f} requests/s** (locust's rate "
            f"over the run).",
            "",
            markdown_table(
                ["page", "requests", "failures", "p50", "p95", "p99", "max"], body, align="lrrrrrr"
            ),
            "",
            f"Each worker's resident memory before the load, after {args.warmup} s of it, at its end "
            f"(growth = end - after warm-up) and the highest read each second"
            + ("" if same_workers else " (a worker was restarted during the run)")
            + ":",
            "",
            markdown_table(
                ["worker", "start", f"after {args.warmup} s", "end", "growth", "peak"],
                memory_rows,
                align="lrrrrr",
            ),
            "",
            *trajectories,
            "",
            goal_line("no errors", met=failures == 0, figure=f"{failures} failures in {requests:,} requests"),
            *(f"  - `{row['Name']}`: {row['Error']} ({row['Occurrences']})" for row in failed),
            goal_line(
                f"no growth of worker memory: over the second half of the load at most "
                f"{LATE_GROWTH_GOAL_MB:g} MB a worker",
                met=same_workers and worst_late <= LATE_GROWTH_GOAL_MB,
                figure=f"largest {worst_late:+.1f} MB in the second half; "
                f"{worst_growth:+.1f} MB from the warm-up to the end",
            ),
            f"- p95 over all pages: **{float(total['95%']):.0f} ms** (p50 {float(total['50%']):.0f} ms, "
            f"p99 {float(total['99%']):.0f} ms)",
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
    os.environ["DATABASE_URL"] = database_create(postgres_url_required(), "mixed_load")
    # The same environment as bench/throughput.py; the cache in the bench's own Redis database.
    os.environ.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    os.environ.setdefault("REDIS_CACHE_URL", os.environ["REDIS_URL"])
    os.environ["EMAIL_URL"] = "dummymail://"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["DEBUG"] = "false"
    os.environ["HTTPS"] = "false"
    os.environ["ALLOWED_HOSTS"] = "127.0.0.1,localhost,testserver"
    os.environ["VERIFY_RATE_LIMIT"] = str(RATE_LIMIT_FOR_BENCH)
    os.environ["DEMO_MODE"] = "true"  # load_seeds --demo only; gunicorn runs without it
    static = tempfile.TemporaryDirectory()
    os.environ["BENCH_STATIC_ROOT"] = static.name
    import django

    django.setup()
    data = setup_data(members=args.members, sessions=args.sessions)
    from django.db import connection

    connection.close()  # gunicorn's workers open their own
    work = Path(tempfile.gettempdir())
    data_path = work / "mixed_load_bench.json"
    data_path.write_text(json.dumps(data), encoding="utf-8")
    csv_prefix = work / "mixed_load_bench"
    log_path = work / "mixed_load_bench_gunicorn.log"
    log_path.unlink(missing_ok=True)
    for old in work.glob("mixed_load_bench_*.csv"):
        old.unlink()
    env = {key: value for key, value in os.environ.items() if key != "DEMO_MODE"}
    port = free_port()
    host = f"http://127.0.0.1:{port}"
    print(f"Database {os.environ['DATABASE_URL']}, {host}, files {csv_prefix}*", file=sys.stderr)
    with Gunicorn(port=port, env=env, log_path=log_path) as server:
        sessions_checked(host, data)
        memory = locust_run(
            host=host,
            args=args,
            env=env,
            data_path=data_path,
            csv_prefix=csv_prefix,
            master_pid=server.process.pid,
        )
    static.cleanup()
    rows, failed = csv_read(csv_prefix, "stats"), csv_read(csv_prefix, "failures")
    print(f"locust exit {memory['locust exit']}, log {memory['log']}", file=sys.stderr)
    print(markdown(rows, failed, memory, args=args, data=data))


if __name__ == "__main__":
    main()
