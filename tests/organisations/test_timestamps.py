"""Time stamps read by organisations/timestamps.py equal those Django's own loader reads, value and time zone, and
the loader is the one every PostgreSQL connection uses."""

import datetime

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import BaseTzLoader

from tests.conftest import requires_postgres

pytestmark = pytest.mark.django_db

VALUES = ["2026-03-11 10:00:00+00", "2026-03-11 10:00:00.5+01", "2026-06-30 23:59:59.999999+02",
          "1970-01-01 00:00:00+00", "0099-12-31 12:34:56.000001+00", "2026-03-29 02:30:00 Europe/Stockholm",
          "9999-12-31 23:59:59.999999+00", "2026-11-24 13:00:00.12+00"]


def test_the_same_values_as_djangos_loader():
    requires_postgres()
    from organisations.timestamps import UtcTimestampLoader

    class DjangoLoader(BaseTzLoader):
        timezone = datetime.UTC

    connection.ensure_connection()
    raw = connection.connection
    ours, django = UtcTimestampLoader(1184, raw), DjangoLoader(1184, raw)
    with connection.cursor() as cursor:
        for value in VALUES:
            cursor.execute("SELECT %s::timestamptz::text", [value])
            text = cursor.fetchone()[0].encode()
            expected = django.load(text)
            got = ours.load(memoryview(text))
            assert got == expected and got.tzinfo is expected.tzinfo is datetime.UTC, value
            assert got.isoformat() == expected.isoformat()


def test_every_connection_reads_with_it():
    requires_postgres()
    from organisations.timestamps import UtcTimestampLoader

    with connection.cursor() as cursor:
        cursor.execute("SELECT '2026-03-11 10:00:00.25+01'::timestamptz")
        value = cursor.fetchone()[0]
    assert value == datetime.datetime(2026, 3, 11, 9, 0, 0, 250000, tzinfo=datetime.UTC)
    assert value.tzinfo is datetime.UTC
    assert connection.connection.adapters.get_loader(1184, 0) is UtcTimestampLoader


def test_other_forms_go_to_djangos_loader():
    requires_postgres()
    from organisations.timestamps import UtcTimestampLoader

    connection.ensure_connection()
    loader = UtcTimestampLoader(1184, connection.connection)
    with pytest.raises(Exception, match="before year 1"):
        loader.load(b"0044-03-15 12:00:00+00 BC")
    with pytest.raises(Exception, match="after year 10K"):
        loader.load(b"infinity")
