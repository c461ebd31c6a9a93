"""The migrated test database as a PostgreSQL template, made once and copied by every run.

Migrating a new test database takes about 6 s of each pytest process (each parallel worker,
the serial pass, `make test-fast`). The migrated schema depends only on the migrations, so it
is made once, as a database named by a digest of every app's migration files (and Django's
version), and each test database is created from it (Django's TEST["TEMPLATE"] setting:
CREATE DATABASE ... TEMPLATE, a file copy). Django still runs `migrate` on the copy, which
finds nothing to apply, so a template that was somehow behind would be brought up to date.

A changed or new migration changes the digest: the next run makes a new template and drops
the older ones. Two processes starting at once take an advisory lock: one makes it, the other
waits for it.
"""

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import django
import psycopg
from django.apps import apps
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
# Code the migrations run besides their own files.
MIGRATION_HELPERS = [ROOT / "config" / "migration_operations.py"]
LOCK_KEY = 8_406_112  # any number of our own: pg_advisory_lock's key for making the template


def migrations_digest() -> str:
    digest = hashlib.sha256(django.get_version().encode())
    files = [(path.name, path) for path in MIGRATION_HELPERS]
    for app_config in apps.get_app_configs():
        folder = Path(app_config.path) / "migrations"
        files += [(f"{app_config.label}/{path.name}", path) for path in sorted(folder.glob("*.py"))]
    for name, path in files:
        digest.update(name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _admin_connection(database: dict) -> psycopg.Connection:
    """A connection to the server's maintenance database, as the tests' own user."""
    return psycopg.connect(
        dbname="postgres",
        host=database.get("HOST") or None,
        port=database.get("PORT") or None,
        user=database.get("USER") or None,
        password=database.get("PASSWORD") or None,
        autocommit=True,
    )


def _existing(cursor, prefix: str) -> set[str]:
    cursor.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)", [prefix])
    return {name for (name,) in cursor.fetchall()}


def _migrate(name: str) -> None:
    """`manage.py migrate` into the new database, in a process of its own: this one's Django
    keeps its settings and connections as they are."""
    url = urlsplit(os.environ["DATABASE_URL"])
    env = {**os.environ, "DATABASE_URL": urlunsplit(url._replace(path=f"/{name}"))}
    subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


def migrated_template() -> str:
    """The name of the template database for the current migrations, made if missing."""
    database = settings.DATABASES["default"]
    prefix = f"test_{database['NAME']}_migrated_"
    name = prefix + migrations_digest()
    with _admin_connection(database) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        try:
            if name not in _existing(cursor, prefix):
                for older in _existing(cursor, prefix):
                    cursor.execute(f'DROP DATABASE IF EXISTS "{older}"')
                cursor.execute(f'CREATE DATABASE "{name}"')
                try:
                    _migrate(name)
                except BaseException:
                    cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')  # never a half-made template
                    raise
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
    return name
