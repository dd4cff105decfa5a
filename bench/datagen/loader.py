"""Writing generated rows: COPY on PostgreSQL (psycopg 3), executemany on SQLite; sequences and ANALYZE after."""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterable

from django.core.management.color import no_style
from django.db import connections


class Loader:
    """Loads rows table by table into one database alias; call inside `transaction.atomic(using=alias)`."""

    def __init__(self, alias: str = "default", out=None):
        self.alias = alias
        self.connection = connections[alias]
        self.vendor = self.connection.vendor
        self.out = out
        self.models = []
        self.counts: dict[str, int] = {}
        self.seconds: dict[str, float] = {}
        self.replica = False
        self.verify_seconds = 0.0

    def begin(self) -> None:
        """Inside the transaction: on PostgreSQL as a superuser, skip the per-row foreign-key triggers (the rows
        are consistent by construction and `finish` checks every foreign key set-wise instead)."""
        if self.vendor != "postgresql":
            return
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            self.replica = bool(cursor.fetchone()[0])
            if self.replica:
                cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")

    def say(self, text: str) -> None:
        if self.out is not None:
            self.out.write(text + "\n")
            if hasattr(self.out, "flush"):
                self.out.flush()

    def load(self, model, fields: list[str], rows: Iterable[tuple]) -> int:
        """Insert rows (tuples in the order of `fields`, attribute names) into the model's table."""
        started = time.monotonic()
        table = model._meta.db_table
        columns = [model._meta.get_field(name).column for name in fields]
        if self.vendor == "postgresql":
            dropped = self._drop_indexes(table)
            count = self._copy(table, columns, rows)
            self._create_indexes(dropped)
        else:
            count = self._insert(table, columns, rows)
        if model not in self.models:
            self.models.append(model)
        elapsed = time.monotonic() - started
        self.counts[table] = self.counts.get(table, 0) + count
        self.seconds[table] = self.seconds.get(table, 0.0) + elapsed
        self.say(f"  {table:<42} {count:>10,} rows {elapsed:8.1f} s")
        return count

    def _copy(self, table: str, columns: list[str], rows: Iterable[tuple]) -> int:
        self.connection.ensure_connection()
        raw = self.connection.connection  # psycopg.Connection, inside the atomic block's transaction
        quoted = ", ".join(f'"{c}"' for c in columns)
        count = 0
        with raw.cursor() as cursor, cursor.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
            write = copy.write_row
            for row in rows:
                write(row)
                count += 1
        return count

    def _drop_indexes(self, table: str) -> list[str]:
        """Secondary indexes of an empty table are dropped before COPY and built once after (much faster)."""
        with self.connection.cursor() as cursor:
            cursor.execute(f'SELECT EXISTS (SELECT 1 FROM "{table}")')
            if cursor.fetchone()[0]:
                return []
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
                [f'"{table}"'],
            )
            found = cursor.fetchall()
            for name, _definition in found:
                cursor.execute(f"DROP INDEX {name}")
        return [definition for _name, definition in found]

    def _create_indexes(self, definitions: list[str]) -> None:
        with self.connection.cursor() as cursor:
            for definition in definitions:
                cursor.execute(definition)

    def verify_foreign_keys(self) -> None:
        """Every foreign key of every loaded table points at an existing row (one anti-join per key)."""
        started = time.monotonic()
        quote = self.connection.ops.quote_name
        with self.connection.cursor() as cursor:
            for model in self.models:
                table = model._meta.db_table
                for f in model._meta.concrete_fields:
                    if not f.is_relation or not f.db_constraint:
                        continue
                    target = f.related_model._meta.db_table
                    target_col = f.target_field.column
                    cursor.execute(
                        f"SELECT count(*) FROM {quote(table)} t WHERE t.{quote(f.column)} IS NOT NULL AND NOT EXISTS "
                        f"(SELECT 1 FROM {quote(target)} r WHERE r.{quote(target_col)} = t.{quote(f.column)})")
                    missing = cursor.fetchone()[0]
                    if missing:
                        raise RuntimeError(f"{missing} rows of {table}.{f.column} point at no {target} row")
        self.verify_seconds = time.monotonic() - started
        self.say(f"  foreign keys verified {self.verify_seconds:8.1f} s")

    def _insert(self, table: str, columns: list[str], rows: Iterable[tuple]) -> int:
        quote = self.connection.ops.quote_name
        sql = (f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) "
               f"VALUES ({', '.join(['%s'] * len(columns))})")
        count = 0
        batch: list[tuple] = []
        with self.connection.cursor() as cursor:
            for row in rows:
                batch.append(tuple(_sqlite_value(v) for v in row))
                if len(batch) >= 5000:
                    cursor.executemany(sql, batch)
                    count += len(batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
                count += len(batch)
        return count

    def finish(self) -> None:
        """Move the id sequences past the loaded rows."""
        if self.vendor != "postgresql" or not self.models:
            return
        if self.replica:
            self.verify_foreign_keys()
            with self.connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = DEFAULT")
            # Replica mode skipped the triggers that keep the pattern view's rollup too: recount it (set-wise).
            if any(model._meta.db_table == "avvikelser_deviation" for model in self.models):
                from avvikelser import rollup

                started = time.monotonic()
                rows = rollup.rebuild()
                self.say(f"  pattern rollup {rows:,} rows {time.monotonic() - started:8.1f} s")
            # … and the versions the pattern view's cache is keyed by (avvikelser/pattern_cache.py).
            from avvikelser import pattern_cache

            pattern_cache.invalidate_all()
            # … and the plans' list order on their grant rows (migration sip 0005): copy it set-wise.
            if any(model._meta.db_table == "sip_sipgroupobjectpermission" for model in self.models):
                from sip.access import copy_list_order_to_grants

                started = time.monotonic()
                rows = copy_list_order_to_grants()
                self.say(f"  grant list order {rows:,} rows {time.monotonic() - started:8.1f} s")
        started = time.monotonic()
        statements = self.connection.ops.sequence_reset_sql(no_style(), self.models)
        with self.connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        self.say(f"  sequences reset {time.monotonic() - started:8.1f} s")

    def analyze(self) -> None:
        started = time.monotonic()
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                for model in self.models:
                    cursor.execute(f'ANALYZE "{model._meta.db_table}"')
            else:
                cursor.execute("ANALYZE")
        self.say(f"  ANALYZE {time.monotonic() - started:8.1f} s")


def _sqlite_value(value):
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value
