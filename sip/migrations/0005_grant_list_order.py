"""Grant rows carry their plan's place in the list order (sip.models._GrantInListOrder).

Database triggers keep `sip_updated_at` equal to the plan's `updated_at`: on every insert of a grant (whatever value
it was given) and every change of a plan's `updated_at`, so neither a service, a bulk update nor a data load can
leave it stale. On PostgreSQL the insert trigger reads the plan with FOR SHARE: a grant inserted while another
transaction changes the plan waits for it and copies the committed value (a plain read could copy the old one,
and the other transaction's update of the grant rows would not see the new grant).
"""

from django.conf import settings
from django.db import migrations, models

GRANT_TABLES = ("sip_sipgroupobjectpermission", "sip_sipuserobjectpermission")

POSTGRESQL = [
    """CREATE FUNCTION sip_grant_copy_list_order() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.sip_updated_at := (SELECT updated_at FROM sip_sip WHERE id = NEW.content_object_id FOR SHARE);
        RETURN NEW;
    END $$""",
    """CREATE FUNCTION sip_follow_list_order() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE sip_sipgroupobjectpermission SET sip_updated_at = NEW.updated_at WHERE content_object_id = NEW.id;
        UPDATE sip_sipuserobjectpermission SET sip_updated_at = NEW.updated_at WHERE content_object_id = NEW.id;
        RETURN NULL;
    END $$""",
    *(f"""CREATE TRIGGER {table}_list_order BEFORE INSERT OR UPDATE ON {table}
          FOR EACH ROW EXECUTE FUNCTION sip_grant_copy_list_order()""" for table in GRANT_TABLES),
    """CREATE TRIGGER sip_sip_list_order AFTER UPDATE OF updated_at ON sip_sip
       FOR EACH ROW WHEN (OLD.updated_at IS DISTINCT FROM NEW.updated_at) EXECUTE FUNCTION sip_follow_list_order()""",
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS sip_sip_list_order ON sip_sip",
    *(f"DROP TRIGGER IF EXISTS {table}_list_order ON {table}" for table in GRANT_TABLES),
    "DROP FUNCTION IF EXISTS sip_follow_list_order()",
    "DROP FUNCTION IF EXISTS sip_grant_copy_list_order()",
]

# SQLite cannot change NEW in a BEFORE trigger: the inserted row is set right after, in the same statement.
SQLITE = [
    *(f"""CREATE TRIGGER {table}_list_order AFTER INSERT ON {table} BEGIN
          UPDATE {table} SET sip_updated_at = (SELECT updated_at FROM sip_sip WHERE id = NEW.content_object_id)
          WHERE id = NEW.id;
        END""" for table in GRANT_TABLES),
    *(f"""CREATE TRIGGER {table}_list_order_kept AFTER UPDATE OF sip_updated_at, content_object_id ON {table}
          WHEN NEW.sip_updated_at IS NOT (SELECT updated_at FROM sip_sip WHERE id = NEW.content_object_id) BEGIN
          UPDATE {table} SET sip_updated_at = (SELECT updated_at FROM sip_sip WHERE id = NEW.content_object_id)
          WHERE id = NEW.id;
        END""" for table in GRANT_TABLES),
    """CREATE TRIGGER sip_sip_list_order AFTER UPDATE OF updated_at ON sip_sip
       WHEN OLD.updated_at IS NOT NEW.updated_at BEGIN
        UPDATE sip_sipgroupobjectpermission SET sip_updated_at = NEW.updated_at WHERE content_object_id = NEW.id;
        UPDATE sip_sipuserobjectpermission SET sip_updated_at = NEW.updated_at WHERE content_object_id = NEW.id;
       END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS sip_sip_list_order",
    *(f"DROP TRIGGER IF EXISTS {table}_list_order" for table in GRANT_TABLES),
    *(f"DROP TRIGGER IF EXISTS {table}_list_order_kept" for table in GRANT_TABLES),
]

BACKFILL = [
    f"UPDATE {table} SET sip_updated_at = (SELECT updated_at FROM sip_sip WHERE sip_sip.id = {table}.content_object_id)"
    for table in GRANT_TABLES
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise NotImplementedError(
                f"sip 0005: no list-order triggers for {schema_editor.connection.vendor} (PostgreSQL and SQLite only)")
        for statement in statements:
            schema_editor.execute(statement)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        ('sip', '0004_sip_updated_order'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='sipgroupobjectpermission',
            name='sip_updated_at',
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='sipuserobjectpermission',
            name='sip_updated_at',
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.RunPython(
            _run({"postgresql": BACKFILL + POSTGRESQL, "sqlite": BACKFILL + SQLITE}),
            _run({"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
        migrations.AddIndex(
            model_name='sipgroupobjectpermission',
            index=models.Index(fields=['group', 'permission', '-sip_updated_at', '-content_object'],
                               name='sip_group_grant_order'),
        ),
        migrations.AddIndex(
            model_name='sipuserobjectpermission',
            index=models.Index(fields=['user', 'permission', '-sip_updated_at', '-content_object'],
                               name='sip_user_grant_order'),
        ),
    ]
