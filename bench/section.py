"""What the background benchmarks share: a Markdown table, a goal line, and running a
benchmark in a process of its own.

Each benchmark configures Django for a database it makes (`DJANGO_SETTINGS_MODULE`,
`DATABASE_URL`), which can be done once per process; so its `markdown_section(argv)` runs the
script itself in a child process and returns what that prints on its standard output (progress
goes to standard error). A runner may
then call several benchmarks' sections one after another from one process.
"""

import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def markdown_table(headers: list[str], rows: list[list[str]], *, align: str = "") -> str:
    """`align`: one letter per column, "l" or "r" (default: first left, the rest right)."""
    align = align or "l" + "r" * (len(headers) - 1)
    rule = ["---" if side == "l" else "---:" for side in align]
    lines = [headers, rule, *rows]
    return "\n".join("| " + " | ".join(cell for cell in line) + " |" for line in lines)


def goal_line(label: str, *, met: bool, figure: str) -> str:
    return f"- {label}: **{'met' if met else 'missed'}** ({figure})"


def section_in_subprocess(script: Path, argv: list[str]) -> str:
    """Run `script argv...` with this interpreter; return its standard output (the section).
    Progress goes to standard error, which the child shares with its parent."""
    completed = subprocess.run(  # noqa: S603 - our own benchmark script
        [sys.executable, str(script), *argv],
        cwd=BASE_DIR,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        # The runner (bench/run.py) writes the failure down with the end of the progress.
        raise SystemExit(f"bench/{script.name} stopped with exit status {completed.returncode}.")
    return completed.stdout


def database_create(database_url: str, suffix: str) -> str:
    """Drop and create `<name>_<suffix>` on the server of `database_url` (which is left alone);
    return the new database's URL."""
    from urllib.parse import unquote, urlsplit

    import psycopg
    from psycopg import sql

    url = urlsplit(database_url)
    name = f"{unquote(url.path.lstrip('/')) or 'postgres'}_{suffix}"
    server = url._replace(scheme="postgresql", path="/postgres").geturl()
    with psycopg.connect(server, autocommit=True) as connection:
        identifier = sql.Identifier(name)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(identifier))
    return url._replace(path=f"/{name}").geturl()


def postgres_url_required() -> str:
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL server (postgres://...).")
    return database_url
