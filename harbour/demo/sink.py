"""Where the seeder's rows go: the ORM, or straight to SQLite or PostgreSQL.

``harbour.demo.writer.Writer`` builds each row as a tuple of column values, in an
order it names per table, and hands batches to a sink:

- ``OrmSink`` makes model instances and writes them with ``bulk_create``: slow, but
  it is Django itself, so the tests seed with it as the reference the fast sinks
  must match row for row;
- ``SqliteSink`` writes with ``executemany`` and one prepared INSERT per table;
- ``PostgresSink`` streams each batch with ``COPY … FROM STDIN`` (psycopg 3).

The fast sinks store exactly what Django would: the writer converts UUIDs, dates,
times and JSON with the sink's converters (Django's own conversions, memoised where
few values repeat), and every column the writer does not fill gets the value Django
would give it (its default, or the moment of seeding for ``auto_now``/
``auto_now_add``), converted once.

Both fast sinks set the secondary indexes of the bulk tables aside while they load
and build them again at the end (a sorted build instead of millions of random
inserts), inside the seeding transaction; PostgreSQL's foreign keys likewise, checked
again in one pass each when they are added back. Primary keys and unique constraints
stay. SQLite keeps checking its foreign keys row by row: the writer writes parents
before children, so no check ever has to wait for the commit.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import Model
from django.utils import timezone

AUTO_FIELDS = ("AutoField", "BigAutoField", "SmallAutoField")


class Table:
    """A batch of rows for one model, in the writer's column order."""

    def __init__(self, model: type[Model], columns: Sequence[str]) -> None:
        self.model = model
        self.columns = tuple(columns)
        self.rows: list[tuple[Any, ...]] = []
        self.written = 0

    @property
    def name(self) -> str:
        return self.model._meta.db_table


class OrmSink:
    """The reference: model instances and bulk_create, as Django writes them."""

    vendor = "orm"

    def __init__(self, batch_size: int) -> None:
        self.batch_size = batch_size
        # Rows held before a flush: enough for a whole client with a year of contacts.
        self.flush_at = 20 * batch_size

    # Converters: what a column holds, from the plan's Python value.
    def uuid(self, value: uuid.UUID | None) -> Any:
        return value

    def date(self, value: dt.date | None) -> Any:
        return value

    def time(self, value: dt.time | None) -> Any:
        return value

    def json(self, value: Sequence[Any]) -> Any:
        return list(value)

    def uuid_int(self, value: int) -> Any:
        """A UUID given as its 128-bit integer (the version bits already set)."""
        return uuid.UUID(int=value)

    def table(self, model: type[Model], columns: Sequence[str]) -> Table:
        return Table(model, columns)

    def prepare(self, tables: Iterable[Table]) -> None:
        """Before the first row."""

    def finish(self) -> None:
        """After the last row."""

    def write(self, table: Table) -> None:
        columns = table.columns
        model = table.model
        model._default_manager.bulk_create(
            (model(**dict(zip(columns, row, strict=True))) for row in table.rows),
            batch_size=self.batch_size,
        )


class _FastSink(OrmSink):
    """Shared by the SQL sinks: column lists, constant tails and converters."""

    def __init__(self, batch_size: int) -> None:
        super().__init__(batch_size)
        # Large batches: one statement (or COPY) per table per flush.
        self.flush_at = max(50 * batch_size, 20_000)
        self.now = timezone.now()
        self._dates: dict[dt.date, Any] = {}
        self._json: dict[tuple[Any, ...], str] = {}
        self._tails: dict[str, tuple[list[str], tuple[Any, ...]]] = {}
        self.tables: list[Table] = []

    def json(self, value: Sequence[Any]) -> str:
        # JSONField on both databases: json.dumps with the default encoder.
        key = tuple(value)
        found = self._json.get(key)
        if found is None:
            found = self._json[key] = json.dumps(list(value))
        return found

    def table(self, model: type[Model], columns: Sequence[str]) -> Table:
        table = Table(model, columns)
        self._tails[table.name] = self._tail(model, table.columns)
        self.tables.append(table)
        return table

    def _tail(self, model: type[Model], given: Sequence[str]) -> tuple[list[str], tuple[Any, ...]]:
        """The columns the writer leaves out, and what Django would store in them."""
        names, values = [], []
        for field in model._meta.concrete_fields:
            numbered = field.primary_key and field.get_internal_type() in AUTO_FIELDS
            if field.attname in given or numbered:
                continue  # given by the writer, or numbered by the database
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value: Any = self.now
            else:
                value = field.get_default()
            names.append(str(field.column))
            values.append(field.get_db_prep_save(value, connection))
        return names, tuple(values)

    def _column_names(self, table: Table) -> list[str]:
        fields = {f.attname: str(f.column) for f in table.model._meta.concrete_fields}
        return [fields[c] for c in table.columns] + self._tails[table.name][0]

    def _quoted(self, table: Table) -> tuple[str, str]:
        quote = connection.ops.quote_name
        return quote(table.name), ", ".join(quote(c) for c in self._column_names(table))


class SqliteSink(_FastSink):
    vendor = "sqlite"

    def uuid(self, value: uuid.UUID | None) -> str | None:
        return None if value is None else value.hex

    def uuid_int(self, value: int) -> str:
        return f"{value:032x}"

    def date(self, value: dt.date | None) -> str | None:
        if value is None:
            return None
        found = self._dates.get(value)
        if found is None:
            found = self._dates[value] = value.isoformat()
        return found

    def time(self, value: dt.time | None) -> str | None:
        return None if value is None else str(value)

    def prepare(self, tables: Iterable[Table]) -> None:
        self._indexes: list[str] = []
        self._sql: dict[str, str] = {}
        raw = connection.connection
        for table in tables:
            name, columns = self._quoted(table)
            marks = ", ".join("?" * len(self._column_names(table)))
            insert = f"INSERT INTO {name} ({columns}) VALUES ({marks})"  # noqa: S608 - quoted names
            self._sql[table.name] = insert
            # Indexes made by CREATE INDEX (those of primary keys and UNIQUE have no SQL).
            found = raw.execute(
                "SELECT name, sql FROM sqlite_master "
                "WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                (table.name,),
            ).fetchall()
            for index, sql in found:
                raw.execute(f"DROP INDEX {connection.ops.quote_name(index)}")
                self._indexes.append(sql)

    def write(self, table: Table) -> None:
        tail = self._tails[table.name][1]
        rows = table.rows if not tail else [row + tail for row in table.rows]
        connection.connection.executemany(self._sql[table.name], rows)

    def finish(self) -> None:
        raw = connection.connection
        for sql in self._indexes:
            raw.execute(sql)
        self._indexes = []


class PostgresSink(_FastSink):
    vendor = "postgresql"

    def uuid_int(self, value: int) -> str:
        return f"{value:032x}"  # PostgreSQL reads 32 hex digits as a uuid

    def prepare(self, tables: Iterable[Table]) -> None:
        self._copy: dict[str, str] = {}
        self._restore: list[str] = []
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            # Deferred checks still pending (of rows written before) run now, so the
            # tables can be altered.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            for table in tables:
                name, columns = self._quoted(table)
                self._copy[table.name] = f"COPY {name} ({columns}) FROM STDIN"
                cursor.execute(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
                    [name],
                )
                for constraint, definition in cursor.fetchall():
                    cursor.execute(f"ALTER TABLE {name} DROP CONSTRAINT {quote(constraint)}")
                    self._restore.append(
                        f"ALTER TABLE {name} ADD CONSTRAINT {quote(constraint)} {definition}"
                    )
                # Indexes that no constraint owns (the primary key's and UNIQUE's stay).
                cursor.execute(
                    "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
                    "JOIN pg_class i ON i.oid = x.indexrelid "
                    "WHERE x.indrelid = %s::regclass AND NOT EXISTS "
                    "(SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) "
                    "ORDER BY i.relname",
                    [name],
                )
                for index, definition in cursor.fetchall():
                    cursor.execute(f"DROP INDEX {quote(index)}")
                    self._restore.insert(0, definition)  # indexes first, then the keys

    def write(self, table: Table) -> None:
        tail = self._tails[table.name][1]
        with (
            connection.connection.cursor() as cursor,
            cursor.copy(self._copy[table.name]) as copy,
        ):
            write_row = copy.write_row
            if tail:
                for row in table.rows:
                    write_row(row + tail)
            else:
                for row in table.rows:
                    write_row(row)

    def finish(self) -> None:
        with connection.cursor() as cursor:
            # Enough memory to sort an index of millions of rows in one go.
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for statement in self._restore:
                cursor.execute(statement)
        self._restore = []


def sink_for(batch_size: int, *, fast: bool = True) -> OrmSink:
    """The fast sink of this database (the ORM where there is none, or not ``fast``)."""
    if fast and connection.vendor == "sqlite":
        return SqliteSink(batch_size)
    if fast and connection.vendor == "postgresql":
        return PostgresSink(batch_size)
    return OrmSink(batch_size)
