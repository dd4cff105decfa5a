"""Time stamps read from PostgreSQL in C rather than Python (issue #7).

Django reads every `timestamptz` through its own loader (django/db/backends/postgresql/psycopg_any.py): a Python
subclass of psycopg's Python loader, which parses the text digit by digit and then puts Django's time zone on the
result. A page of 50 reports holds ~350 time stamps; parsing them was ~10 % of the list's time. With the session
in UTC (Django sets it so when USE_TZ is on), PostgreSQL sends `YYYY-MM-DD HH:MM:SS[.ffffff]+00`, which
`datetime.fromisoformat` (C) reads into exactly the value Django's loader gives: the same instant with
`datetime.timezone.utc`. Anything else — another offset, BC dates, infinity, years past 9999 — goes to Django's
loader as before (tests/organisations/test_timestamps.py compares the two).
"""

from __future__ import annotations

import datetime

from psycopg.adapt import Buffer

try:
    from django.db.backends.postgresql.psycopg_any import BaseTzLoader
except ImportError:  # psycopg 2: not used
    BaseTzLoader = None

_UTC = datetime.UTC


if BaseTzLoader is not None:
    class UtcTimestampLoader(BaseTzLoader):
        """Django's loader for a connection in UTC, with the common case read by `datetime.fromisoformat`."""

        timezone = _UTC

        def load(self, data: Buffer) -> datetime.datetime:
            text = str(data, "ascii") if not isinstance(data, str) else data
            if text.endswith("+00"):
                try:
                    return datetime.datetime.fromisoformat(text)  # tzinfo is datetime.timezone.utc
                except ValueError:
                    pass
            return super().load(data)


def install(sender, connection, **kwargs) -> None:
    """`connection_created` receiver: on a PostgreSQL connection whose time zone is UTC, use the loader above."""
    if connection.vendor != "postgresql" or BaseTzLoader is None or connection.timezone is not _UTC:
        return
    connection.connection.adapters.register_loader("timestamptz", UtcTimestampLoader)
