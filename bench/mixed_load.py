"""Benchmark: 50 concurrent users for a minute on a mix of pages (issue 18): errors, latency
percentiles and the gunicorn workers' memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/future_leaders \\
    REDIS_URL=redis://127.0.0.1:6379/13 \\
    .venv/bin/python bench/mixed_load.py --users 50 --seconds 180 [--members 1000] [--tracemalloc 60]

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
load, after --warmup seconds of it, --settled seconds before its end and at its end; the goal
is memory level once warm: growth over the last --settled seconds (60) of a load of 180 s.
The first two minutes are warm-up, not a leak: with --tracemalloc the Python allocations
stay level from the first minute on while resident memory rises (bench/README.md). The
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
# "No growth": memory levels off once warm. A worker's first two minutes under load are
# warm-up (code and templates met for the first time, caches filled, the allocator's arenas
# grown to the peak of concurrent work; its Python objects stay level meanwhile, measured
# with --tracemalloc); over the last SETTLED_SECONDS of the load each worker may move by at
# most this (the allocator's noise).
LATE_GROWTH_GOAL_MB = 1.0
SETTLED_SECONDS = 60
MB = 1024 * 1024


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=10, help="users started per second")
    parser.add_argument("--seconds", type=int, default=180, help="length of the load (warm-up included)")
    parser.add_argument("--warmup", type=int, default=10, help="seconds into the load of the second reading")
    parser.add_argument(
        "--settled",
        type=int,
        default=SETTLED_SECONDS,
        help="the last seconds of the load, over which memory must stay level",
    )
    parser.add_argument("--wait", default="0.5,2", help="each user's wait between requests: min,max seconds")
    parser.add_argument(
        "--members", type=int, default=1000, help="generate_scale --members (0: demo data only)"
    )
    parser.add_argument(
        "--sessions", type=int, default=60, help="trainees signed in (shared among the users)"
    )
    parser.add_argument(
        "--tracemalloc",
        type=int,
        default=0,
        metavar="SECONDS",
        help="trace each worker's Python allocations and take a snapshot every SECONDS (0: off); "
        "tracing costs time and memory, so the figures of such a run are for the diagnosis only",
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


# --- Diagnosis: where a worker's memory goes (--tracemalloc) --------------------------------
# Only the bench asks for it: gunicorn loads this module as its configuration
# (GUNICORN_CMD_ARGS="--config python:bench.mixed_load") when MIXED_LOAD_TRACEMALLOC names a
# folder, and then calls this hook in each worker, after the application is loaded. Each
# SIGUSR2 the bench sends a worker then writes a snapshot of the Python allocations made
# since, and a line of totals. Nothing of this is in the project's own configuration.
TRACEMALLOC_ENV = "MIXED_LOAD_TRACEMALLOC"


def post_worker_init(worker) -> None:
    folder = os.environ.get(TRACEMALLOC_ENV)
    if not folder:
        return
    import signal
    import tracemalloc

    import psutil

    tracemalloc.start()
    started, taken = time.monotonic(), []

    def snapshot_write(signum, frame):
        pid = os.getpid()
        snapshot = tracemalloc.take_snapshot()
        path = Path(folder) / f"{pid}-{len(taken):03d}.snapshot"
        snapshot.dump(str(path))
        taken.append(path)
        traced, _peak = tracemalloc.get_traced_memory()
        line = {
            "pid": pid,
            "seconds": round(time.monotonic() - started, 1),
            "snapshot": str(path),
            "traced": traced,
            "tracing_overhead": tracemalloc.get_tracemalloc_memory(),
            "rss": psutil.Process(pid).memory_info().rss,
        }
        with (Path(folder) / f"{pid}.jsonl").open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(line) + "\n")

    signal.signal(signal.SIGUSR2, snapshot_write)


def tracemalloc_report(folder: Path, *, top: int = 12) -> str:
    """For each worker: its totals at each snapshot, and where the Python allocations grew
    from the second snapshot (warm) to the last."""
    import tracemalloc

    lines = []
    for totals_path in sorted(folder.glob("*.jsonl")):
        rows = [json.loads(line) for line in totals_path.read_text(encoding="utf-8").splitlines()]
        lines.append(f"worker {rows[0]['pid']}: seconds, traced Python MB, RSS MB, RSS - tracing overhead MB")
        lines.extend(
            f"  {row['seconds']:>6}  {row['traced'] / MB:7.2f}  {row['rss'] / MB:7.1f}  "
            f"{(row['rss'] - row['tracing_overhead']) / MB:7.1f}"
            for row in rows
        )
        if len(rows) < 3:
            continue
        ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]
        first = tracemalloc.Snapshot.load(rows[1]["snapshot"]).filter_traces(ignore)
        last = tracemalloc.Snapshot.load(rows[-1]["snapshot"]).filter_traces(ignore)
        lines.append(f"  growth from {rows[1]['seconds']} s to {rows[-1]['seconds']} s, by line:")
        lines.extend(f"    {stat}" for stat in last.compare_to(first, "lineno")[:top])
        lines.append("  by file:")
        lines.extend(f"    {stat}" for stat in last.compare_to(first, "filename")[:top])
    return "\n".join(lines)


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
                if args.tracemalloc and len(samples) % args.tracemalloc == 0:
                    snapshots_ask(master_pid)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        time.sleep(args.warmup)
        readings["warm"] = workers_rss(master_pid)
        exit_code = process.wait(timeout=args.seconds + 120)
        readings["end"] = workers_rss(master_pid)
        stop.set()
        sampler.join()
        if args.tracemalloc:
            snapshots_ask(master_pid)
            time.sleep(5)  # each worker writes its last snapshot
    peak = {}
    for sample_rss in samples:
        for pid, rss in sample_rss.items():
            peak[pid] = max(peak.get(pid, 0), rss)
    return {
        "readings": readings,
        "peak": peak,
        "every 10 s": samples[9::10],
        "settled from": samples[-args.settled - 1] if len(samples) > args.settled else {},
        "locust exit": exit_code,
        "log": log_path,
    }


def snapshots_ask(master_pid: int) -> None:
    """SIGUSR2 to each worker (never the master: there it means a new binary)."""
    import signal

    for pid in workers_rss(master_pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGUSR2)


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
    readings = {**readings, "settled": memory["settled from"]}
    pids = sorted(set().union(*readings.values()))
    same_workers = set(readings["start"]) == set(readings["warm"]) == set(readings["end"])
    memory_rows, late, trajectories = [], [], []
    for number, pid in enumerate(pids, 1):
        cells = [
            f"{readings[when][pid] / MB:.1f} MB" if pid in readings[when] else "-"
            for when in ("start", "warm", "settled", "end")
        ]
        if pid in readings["settled"] and pid in readings["end"]:
            growth = (readings["end"][pid] - readings["settled"][pid]) / MB
            late.append(growth)
            cells.append(f"{growth:+.1f} MB")
        else:
            cells.append("-")
        cells.append(f"{peak.get(pid, 0) / MB:.1f} MB")
        memory_rows.append([f"worker {number} (pid {pid})", *cells])
        trajectory = ", ".join(f"{sample[pid] / MB:.1f}" for sample in memory["every 10 s"] if pid in sample)
        trajectories.append(f"- worker {number}, every 10 s of the load: {trajectory} MB")
    worst_late = max(late) if late else float("nan")
    warm_to_end = [
        (readings["end"][pid] - readings["warm"][pid]) / MB
        for pid in pids
        if pid in readings["warm"] and pid in readings["end"]
    ]
    worst_warm_to_end = max(warm_to_end) if warm_to_end else float("nan")
    settled_at = args.seconds - args.settled
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
            f"Each worker's resident memory before the load, after {args.warmup} s of it, "
            f"{args.settled} s before its end (at {settled_at} s), at its end, its growth over those "
            f"last {args.settled} s, and the highest read each second"
            + ("" if same_workers else " (a worker was restarted during the run)")
            + (
                f". **A --tracemalloc run** (snapshots every {args.tracemalloc} s): each snapshot "
                "grows the heap, so resident memory here is for the diagnosis only"
                if args.tracemalloc
                else ""
            )
            + ":",
            "",
            markdown_table(
                [
                    "worker",
                    "start",
                    f"after {args.warmup} s",
                    f"at {settled_at} s",
                    "end",
                    f"last {args.settled} s",
                    "peak",
                ],
                memory_rows,
                align="lrrrrrr",
            ),
            "",
            *trajectories,
            "",
            goal_line("no errors", met=failures == 0, figure=f"{failures} failures in {requests:,} requests"),
            *(f"  - `{row['Name']}`: {row['Error']} ({row['Occurrences']})" for row in failed),
            goal_line(
                f"no growth of worker memory once warm: over the last {args.settled} s of the load at "
                f"most {LATE_GROWTH_GOAL_MB:g} MB a worker",
                met=same_workers and worst_late <= LATE_GROWTH_GOAL_MB,
                figure=f"largest {worst_late:+.1f} MB over the last {args.settled} s; "
                f"{worst_warm_to_end:+.1f} MB from {args.warmup} s to the end (warm-up)",
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
    traces = None
    if args.tracemalloc:
        traces = tempfile.mkdtemp(prefix="mixed_load_bench_tracemalloc_")  # kept: the snapshots
        env[TRACEMALLOC_ENV] = traces
        env["GUNICORN_CMD_ARGS"] = "--config python:bench.mixed_load"
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
    if traces is not None:
        print(f"Snapshots in {traces}", file=sys.stderr)
        print(tracemalloc_report(Path(traces)), file=sys.stderr)
    print(markdown(rows, failed, memory, args=args, data=data))


if __name__ == "__main__":
    main()
