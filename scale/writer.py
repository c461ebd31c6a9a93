"""Writing rows in bulk with ids chosen here: COPY on PostgreSQL, batched INSERTs elsewhere.

The generator plans every row in memory, foreign keys included, so it gives each row its id
itself (from the table's largest id on) instead of reading ids back. On PostgreSQL the tables
are locked for the transaction, so nobody else takes those ids, and each table's id sequence is
moved past them at the end (as `loaddata` does). Their foreign keys, unique constraints and
indexes are dropped while the rows go in and made again before the commit, as pg_restore does:
a foreign key added checks every row in one join and an index is built in one sort, where kept
ones check and insert row by row (most of the time, at a million rows). The database still
refuses the whole transaction if one row breaks a constraint.
"""

from collections.abc import Callable, Iterable, Sequence

from django.core.management.color import no_style
from django.db import connection
from django.db.models import Max, Model
from psycopg.copy import QueuedLibpqWriter

INSERT_BATCH = 2000
PROGRESS_ROWS = 1_000_000


class RowWriter:
    """Ids and inserts for one transaction. Rows are tuples in the order of `fields`
    (attribute names: `region_id`, not `region`), written as given: no defaults, no
    `auto_now`, no signals; the caller supplies every value."""

    def __init__(self, models: Sequence[type[Model]], progress: Callable[[str], None] = print):
        self.models = list(models)
        self.progress = progress
        self.next_id: dict[type[Model], int] = {}
        self.written: dict[type[Model], int] = {}
        self.postgresql = connection.vendor == "postgresql"

    def begin(self) -> None:
        """Lock the tables and set their foreign keys aside (PostgreSQL); read where each
        table's ids continue."""
        self.foreign_keys: list[tuple[str, str, str]] = []
        self.uniques: list[tuple[str, str, str]] = []
        self.indexes: list[tuple[str, str]] = []
        if self.postgresql:
            quote = connection.ops.quote_name
            tables = [quote(model._meta.db_table) for model in self.models]
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE")
                cursor.execute(
                    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY 1, 2",
                    [tables],
                )
                self.foreign_keys = cursor.fetchall()
                cursor.execute(
                    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE contype = 'u' AND conrelid = ANY(%s::regclass[]) ORDER BY 1, 2",
                    [tables],
                )
                self.uniques = cursor.fetchall()
                # Indexes of their own (not a primary key's or a unique constraint's).
                cursor.execute(
                    "SELECT index.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                    "JOIN pg_class index ON index.oid = i.indexrelid "
                    "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary AND NOT EXISTS ("
                    "  SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid"
                    "  AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x')"
                    ") ORDER BY 1",
                    [tables],
                )
                self.indexes = cursor.fetchall()
                # Checks still waiting for the commit (rows written earlier in the transaction)
                # would stop a key being dropped: run them now, then defer again, as Django does.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                for table, name, _definition in self.foreign_keys + self.uniques:
                    cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
                for name, _definition in self.indexes:
                    cursor.execute(f"DROP INDEX {quote(name)}")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                # Building an index at the end sorts once, instead of a million separate inserts.
                cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
                # And checking a foreign key is one join of two whole tables: in memory, not
                # in batches on disk.
                cursor.execute("SET LOCAL work_mem = '256MB'")
        for model in self.models:
            self.next_id[model] = (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1

    def ids(self, model: type[Model], count: int) -> range:
        """Reserve `count` ids of `model`'s table."""
        first = self.next_id[model]
        self.next_id[model] = first + count
        return range(first, first + count)

    def write(self, model: type[Model], fields: Sequence[str], rows: Iterable[tuple]) -> int:
        by_name = {field.attname: field for field in model._meta.concrete_fields}
        columns = [by_name[name].column for name in fields]
        count = self._copy(model, columns, rows) if self.postgresql else self._insert(model, fields, rows)
        self.written[model] = self.written.get(model, 0) + count
        return count

    def _copy(self, model, columns: list[str], rows: Iterable[tuple]) -> int:
        quote = connection.ops.quote_name
        statement = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
        count = 0
        # psycopg 3 adapts each value (aware datetimes, dates, booleans, None) as it goes; its
        # queued writer sends the data from a thread of its own, so the server takes in one
        # batch while this thread formats the next.
        with connection.cursor() as cursor:
            writer = QueuedLibpqWriter(cursor.cursor)
            with cursor.cursor.copy(statement, writer=writer) as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
                    if count % PROGRESS_ROWS == 0:
                        self.progress(f"{model._meta.label}: {count:,} rows sent")
        return count

    def _insert(self, model, fields: Sequence[str], rows: Iterable[tuple]) -> int:
        by_name = {field.attname: field for field in model._meta.concrete_fields}
        prepare = [by_name[name] for name in fields]
        quote = connection.ops.quote_name
        # Names from the models; every value is a parameter.
        statement = (
            f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in prepare)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(prepare))})"
        )
        count = 0
        batch: list[list] = []
        with connection.cursor() as cursor:
            for row in rows:
                # The backend's own conversions (aware datetimes to UTC text on SQLite, ...).
                batch.append(
                    [
                        field.get_db_prep_save(value, connection)
                        for field, value in zip(prepare, row, strict=True)
                    ]
                )
                if len(batch) == INSERT_BATCH:
                    cursor.executemany(statement, batch)
                    count += len(batch)
                    batch = []
            if batch:
                cursor.executemany(statement, batch)
                count += len(batch)
        return count

    def finish(self) -> None:
        """Put the foreign keys back (checking every row) and move each written table's id
        sequence past the ids used here."""
        statements = connection.ops.sequence_reset_sql(no_style(), list(self.written))
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            for _name, definition in self.indexes:
                cursor.execute(definition)
            for table, name, definition in self.uniques + self.foreign_keys:
                cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")
            for statement in statements:
                cursor.execute(statement)
