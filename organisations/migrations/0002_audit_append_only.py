"""Make the audit log append-only in the database itself, below any code path.

PostgreSQL refuses UPDATE and DELETE on the table unless a retention job sets
`samverkan.audit_retention = 'on'` for its own transaction (gallring after the retention period).
SQLite (the demo database) refuses UPDATE; DELETE stays possible there because the test runner
empties tables with DELETE between tests.
"""

from django.db import migrations

PG_UP = """
CREATE OR REPLACE FUNCTION organisations_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('samverkan.audit_retention', true), '') = 'on' AND TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'organisations_auditentry is append-only' USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER organisations_auditentry_append_only
    BEFORE UPDATE OR DELETE ON organisations_auditentry
    FOR EACH ROW EXECUTE FUNCTION organisations_audit_append_only();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS organisations_auditentry_append_only ON organisations_auditentry;
DROP FUNCTION IF EXISTS organisations_audit_append_only();
"""
SQLITE_UP = """
CREATE TRIGGER organisations_auditentry_no_update BEFORE UPDATE ON organisations_auditentry
BEGIN SELECT RAISE(ABORT, 'organisations_auditentry is append-only'); END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS organisations_auditentry_no_update;"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_UP)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DOWN)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [("organisations", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
