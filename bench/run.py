"""The one command for the benchmarks: runs each one and writes bench/RESULTS.md.

    .venv/bin/python bench/run.py                          # every benchmark
    .venv/bin/python bench/run.py --only pages,export      # some of them
    .venv/bin/python bench/run.py --args pages="--reuse --runs 30"

Each benchmark is a module of bench/ with `markdown_section(argv: list[str]) -> str`, which
returns a Markdown section (a ### heading, a table, the goals met or missed). They run in this
order when the module is there and has the function: pages, notices_sweep, certificates,
export, throughput. Each runs in a process of its own (each sets Django up for a database of
its own, which a process can do once), with the arguments given by `--args NAME="..."`; one
that fails is recorded in the results as a failure, with the end of its output, and the next
one runs.

The new results go on top of bench/RESULTS.md under the date, the machine (cores, memory,
load average) and the commit; earlier results stay below, so a regression shows.
"""

import argparse
import ast
import collections
import datetime as dt
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
BENCH_DIR = BASE_DIR / "bench"
RESULTS = BENCH_DIR / "RESULTS.md"
MODULES = ["pages", "notices_sweep", "certificates", "export", "throughput"]
TITLE = "# Benchmark results"
INTRO = (
    "Written by `bench/run.py` (`make bench`): the newest run first, earlier runs below it, so "
    "that a regression is visible. See bench/README.md for what each benchmark measures."
)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default="", help=f"comma-separated, from: {', '.join(MODULES)}")
    parser.add_argument(
        "--args",
        action="append",
        default=[],
        metavar='NAME="ARGS"',
        help='arguments for one benchmark, e.g. pages="--reuse" (may be repeated)',
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="default: bench/RESULTS.md")
    # Internal: run one benchmark's markdown_section in this (child) process.
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-output", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rest and args.rest[0] == "--":
        args.rest = args.rest[1:]
    return args


def module_arguments(pairs: list[str]) -> dict[str, list[str]]:
    arguments = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name not in MODULES:
            raise SystemExit(f"--args: no benchmark called {name!r} (choose from {', '.join(MODULES)}).")
        arguments[name] = shlex.split(value)
    return arguments


def has_markdown_section(name: str) -> bool:
    """Whether bench/<name>.py defines markdown_section at the top level (read, not imported:
    importing may need Django set up)."""
    path = BENCH_DIR / f"{name}.py"
    if not path.exists():
        return False
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(isinstance(node, ast.FunctionDef) and node.name == "markdown_section" for node in tree.body)


# --- The machine and the commit -------------------------------------------------------------


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def machine() -> str:
    memory = "unknown memory"
    model = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB memory"
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = f" ({line.split(':', 1)[1].strip()})"
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores{model}, {memory}"


def commit() -> str:
    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603 - git with fixed arguments
            ["git", *args],  # noqa: S607 - git from PATH, as a developer runs it
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
            check=False,
        )

    head = git("rev-parse", "--short", "HEAD").stdout.strip() or "unknown"
    dirty = git("diff", "--quiet", "HEAD").returncode != 0
    return f"{head} (with uncommitted changes)" if dirty else head


# --- Running the benchmarks ---------------------------------------------------------------------


def child_run(name: str, argv: list[str], output: Path) -> None:
    """In the child: import the benchmark, call its markdown_section, write what it returns."""
    sys.path.insert(0, str(BASE_DIR))
    os.chdir(BASE_DIR)
    import importlib

    module = importlib.import_module(f"bench.{name}")
    output.write_text(module.markdown_section(argv), encoding="utf-8")


def benchmark_run(name: str, argv: list[str]) -> tuple[str, bool, float]:
    """The benchmark's section, or a section saying how it failed; whether it ran; seconds."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "section.md"
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            name,
            "--child-output",
            str(output),
        ]
        command += ["--", *argv]
        # Its progress is shown as it comes, and the end of it kept, in case it fails.
        process = subprocess.Popen(  # noqa: S603 - this script, with arguments of our own
            command, cwd=BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        tail: collections.deque[str] = collections.deque(maxlen=25)
        for line in process.stdout:
            sys.stderr.write(f"[{name}] {line}")
            tail.append(line.rstrip())
        code = process.wait()
        seconds = time.perf_counter() - started
        if code == 0 and output.exists():
            return output.read_text(encoding="utf-8").strip() + "\n", True, seconds
    shown = "\n".join(tail)
    return (
        f"### {name}: failed\n\n`bench/{name}.py {shlex.join(argv)}` stopped with exit code {code} "
        f"after {seconds:.0f} s. The end of its output:\n\n```\n{shown}\n```\n",
        False,
        seconds,
    )


def results_write(path: Path, section: str) -> None:
    """The new run on top, under the title; every earlier run kept below it."""
    earlier = ""
    if path.exists():
        text = path.read_text(encoding="utf-8")
        start = text.find("\n## ")
        earlier = text[start + 1 :] if start >= 0 else ""
    path.write_text(
        f"{TITLE}\n\n{INTRO}\n\n{section.rstrip()}\n\n{earlier}".rstrip() + "\n", encoding="utf-8"
    )


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.child:
        child_run(args.child, args.rest, args.child_output)
        return 0
    chosen = [name.strip() for name in args.only.split(",") if name.strip()] or MODULES
    unknown = [name for name in chosen if name not in MODULES]
    if unknown:
        raise SystemExit(
            f"--only: no benchmark called {', '.join(unknown)} (choose from {', '.join(MODULES)})."
        )
    arguments = module_arguments(args.args)
    started_at = dt.datetime.now(dt.UTC)
    load_before = load_average()
    sections, summary = [], []
    for name in [name for name in MODULES if name in chosen]:
        if not has_markdown_section(name):
            print(f"bench/run.py: {name}: not there yet (no markdown_section), skipped", file=sys.stderr)
            summary.append(f"{name}: not there")
            continue
        print(f"bench/run.py: {name} {shlex.join(arguments.get(name, []))}", file=sys.stderr, flush=True)
        section, ran, seconds = benchmark_run(name, arguments.get(name, []))
        sections.append(section)
        summary.append(f"{name}: {'done' if ran else 'FAILED'} in {seconds:.0f} s")
    header = "\n".join(
        [
            f"## {started_at:%Y-%m-%d %H:%M} UTC · commit {commit()}",
            "",
            f"Machine: {machine()}; load average {load_before} at the start, {load_average()} at the "
            f"end (1, 5 and 15 minutes). Benchmarks: {'; '.join(summary)}.",
        ]
    )
    run_section = header + "\n\n" + "\n".join(sections)
    results_write(args.output, run_section)
    print(run_section)
    print(f"\nWritten to {args.output}.", file=sys.stderr)
    return 0 if all("FAILED" not in line for line in summary) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
