"""Benchmark: requests per second under concurrent load, the verification page against the floor.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/future_leaders \\
    REDIS_URL=redis://127.0.0.1:6379/11 \\
    .venv/bin/python bench/throughput.py --seconds 20 --users 10

In a database of its own (`<name>_throughput`, dropped and made afresh) it issues one real
certificate, collects the static files into a temporary folder, and starts gunicorn (2 sync
workers, bench.settings, DEBUG off, on 127.0.0.1 at a free port). Then locust, headless, from
this machine, drives one page at a time for --seconds with --users users (no wait between
requests): the floor view (/bench/floor/), the certificate's verification page (/c/<code>/),
and the floor view again (the machine's load may change: the floor's rate is the mean of the
two). Any answer but a 200 counts as an error.

The verification page is limited per client address (VERIFY_RATE_LIMIT, 30 a minute), and
every request here comes from 127.0.0.1: for the bench only, gunicorn runs with the limit
raised to 1,000,000,000 a minute (the environment, which config.settings reads). The check is
still counted, in the cache, on every request, and each check is queued to be counted (a
Verification row each once the flush has run, at the end).

The cache (the rate limit's counter, the sessions) is the Redis database of REDIS_URL
(redis://127.0.0.1:6379/11 by default; REDIS_CACHE_URL is set to the same database).
Prints a Markdown section on standard output.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

RATIO_GOAL = 0.5
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/11"
RATE_LIMIT_FOR_BENCH = 1_000_000_000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=20, help="load on each page")
    parser.add_argument("--users", type=int, default=10, help="locust users (no wait between requests)")
    parser.add_argument("--spawn-rate", type=float, default=10, help="users started per second")
    return parser.parse_args(argv)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    def __init__(self, *, port: int, env: dict, log_path: Path):
        self.port, self.env, self.log_path = port, env, log_path
        self.process = None

    def __enter__(self):
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own server command
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "config.wsgi:application",
                    "--workers=2",
                    f"--bind=127.0.0.1:{self.port}",
                    "--log-level=warning",
                    "--timeout=60",
                ],
                cwd=BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.port}/bench/floor/", timeout=5
                ) as answer:  # noqa: S310 - our own server
                    if answer.status == 200:
                        return self
            except OSError:
                time.sleep(0.5)
        self.__exit__()
        sys.exit(f"gunicorn did not answer in 60 s; see {self.log_path}")

    def __exit__(self, *exc):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def locust_run(*, host: str, path: str, args, env: dict, log_path: Path) -> dict:
    """One headless locust run on one path; its totals from locust's own JSON."""
    # A few requests first, so that neither worker meets the page for the first time under load.
    for _ in range(4):
        with urllib.request.urlopen(host + path, timeout=10) as answer:  # noqa: S310 - our own server
            assert answer.status == 200, (path, answer.status)
    with log_path.open("ab") as log:
        completed = subprocess.run(  # noqa: S603 - our own load command
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(BASE_DIR / "bench" / "throughput_locustfile.py"),
                "--headless",
                "--only-summary",
                "--json",
                f"--users={args.users}",
                f"--spawn-rate={args.spawn_rate}",
                f"--run-time={args.seconds}s",
                f"--host={host}",
                "--loglevel=WARNING",
            ],
            cwd=BASE_DIR,
            env={**env, "BENCH_PATH": path},
            stdout=subprocess.PIPE,
            stderr=log,
            check=False,
        )
    stats = json.loads(completed.stdout)
    entry = next(item for item in stats if item["name"] == path)
    seconds = entry["last_request_timestamp"] - entry["start_time"]
    response_times = entry["response_times"]  # {rounded milliseconds: count}
    return {
        "path": path,
        "requests": entry["num_requests"],
        "errors": entry["num_failures"],
        "seconds": seconds,
        "rps": entry["num_requests"] / seconds,
        "median ms": _percentile(response_times, 0.5),
        "p95 ms": _percentile(response_times, 0.95),
        "locust exit": completed.returncode,
    }


def _percentile(histogram: dict, fraction: float) -> float:
    total = sum(histogram.values())
    seen = 0
    for milliseconds, count in sorted((float(key), value) for key, value in histogram.items()):
        seen += count
        if seen >= fraction * total:
            return milliseconds
    return float("nan")


def setup_data() -> str:
    """One certificate, as staff issue it; its code."""
    from certification.services.certificates import certificate_issue_manually
    from members.permissions import Role
    from tests.factories import EnrolmentFactory, UserFactory

    staff = UserFactory(role=Role.NATIONAL_STAFF)
    certificate = certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="Bench.")
    return certificate.code


def markdown(runs: list[dict], *, args, verifications: int) -> str:
    from bench.section import goal_line, markdown_table

    floor_runs = [run for run in runs if run["path"].startswith("/bench/floor")]
    verify = next(run for run in runs if run["path"].startswith("/c/"))
    floor_rps = sum(run["rps"] for run in floor_runs) / len(floor_runs)
    ratio = verify["rps"] / floor_rps
    errors = sum(run["errors"] for run in runs)
    body = [
        [
            "verification page" if run["path"].startswith("/c/") else "floor view",
            f"`{run['path'].split('/c/')[0] if not run['path'].startswith('/c/') else '/c/<code>/'}`",
            f"{run['requests']:,}",
            f"{run['seconds']:.1f} s",
            f"{run['rps']:.1f}",
            f"{run['median ms']:.0f} / {run['p95 ms']:.0f} ms",
            str(run["errors"]),
        ]
        for run in runs
    ]
    return "\n".join(
        [
            "### Throughput under concurrent load",
            "",
            f"gunicorn (2 sync workers, bench.settings, DEBUG off, static files collected and "
            f"served by whitenoise) on 127.0.0.1; locust headless on the same machine, "
            f"{args.users} users (spawn rate {args.spawn_rate:g}/s, no wait), {args.seconds} s a "
            f"page, in the order shown. The verification page's per-address limit "
            f"(VERIFY_RATE_LIMIT) is raised for this run only (every request comes from "
            f"127.0.0.1); each check is still counted: queued in Redis in the round trip that checks "
            f"the limit, then written by the task beat runs each minute ({verifications:,} "
            f"Verification rows written).",
            "",
            markdown_table(
                ["page", "path", "requests", "time", "requests/s", "median / p95", "errors"],
                body,
                align="llrrrrr",
            ),
            "",
            goal_line(
                f"verification requests/s at least {RATIO_GOAL}x the floor's",
                met=ratio >= RATIO_GOAL,
                figure=f"{verify['rps']:.1f} ÷ {floor_rps:.1f} = {ratio:.2f}x",
            ),
            goal_line("no errors", met=errors == 0, figure=f"{errors} errors"),
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
    os.environ["DATABASE_URL"] = database_create(postgres_url_required(), "throughput")
    # The rate limit's counter and the sessions in a Redis database of the bench's own.
    os.environ.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    os.environ.setdefault("REDIS_CACHE_URL", os.environ["REDIS_URL"])
    os.environ["EMAIL_URL"] = "dummymail://"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["DEBUG"] = "false"
    os.environ["HTTPS"] = "false"  # plain HTTP on 127.0.0.1, as behind a proxy that ends TLS
    os.environ["ALLOWED_HOSTS"] = "127.0.0.1,localhost,testserver"
    os.environ["VERIFY_RATE_LIMIT"] = str(RATE_LIMIT_FOR_BENCH)
    static = tempfile.TemporaryDirectory()
    os.environ["BENCH_STATIC_ROOT"] = static.name
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("load_seeds", verbosity=0, stdout=sys.stderr)  # standard output is the section
    call_command("collectstatic", interactive=False, verbosity=0)
    code = setup_data()

    from django.db import connection

    from certification.models import Verification

    connection.close()  # gunicorn's workers open their own
    log_path = Path(tempfile.gettempdir()) / "throughput_bench.log"
    log_path.unlink(missing_ok=True)
    port = free_port()
    host = f"http://127.0.0.1:{port}"
    print(f"Database {os.environ['DATABASE_URL']}, {host}, log {log_path}", file=sys.stderr)
    runs = []
    with Gunicorn(port=port, env=os.environ.copy(), log_path=log_path):
        for path in ("/bench/floor/", f"/c/{code}/", "/bench/floor/"):
            runs.append(locust_run(host=host, path=path, args=args, env=os.environ.copy(), log_path=log_path))
            print(f"{path}: {runs[-1]['rps']:.1f} requests/s, {runs[-1]['errors']} errors", file=sys.stderr)
    # The page queues its checks in Redis; beat's task counts them each minute: here, now.
    from certification.services.verification import verification_checks_flush

    verification_checks_flush()
    verifications = Verification.objects.count()
    static.cleanup()
    print(markdown(runs, args=args, verifications=verifications))


if __name__ == "__main__":
    main()
