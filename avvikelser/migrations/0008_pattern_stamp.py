"""Versions of what the pattern view shows (avvikelser.models.PatternStamp), for its cache.

PostgreSQL only, like the rollup (0006): statement-level AFTER triggers bump a forum's version when its rollup
rows change, and the directory's (row 0) when categories, organisations, agreements, forums or a forum's
organisations change. A bulk statement bumps each version once, whatever the number of rows. An update of the
rollup that changes nothing it shows (the same n, first and last day) bumps nothing."""

from django.db import migrations, models

DIRECTORY_TABLES = ("avvikelser_category", "organisations_organisation", "avvikelser_agreement", "avvikelser_forum",
                    "avvikelser_forum_organisations")

INSTALL = """
CREATE OR REPLACE FUNCTION avvikelser_patternstamp_bump(forums bigint[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO avvikelser_patternstamp AS s (forum_id, version)
    SELECT DISTINCT f, 1 FROM unnest(forums) AS f WHERE f IS NOT NULL
    ORDER BY 1  -- one lock order for every writer
    ON CONFLICT (forum_id) DO UPDATE SET version = s.version + 1
$$;

CREATE OR REPLACE FUNCTION avvikelser_patternstamp_rollup_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM avvikelser_patternstamp_bump(ARRAY(SELECT DISTINCT forum_id FROM new_rows));
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION avvikelser_patternstamp_rollup_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM avvikelser_patternstamp_bump(ARRAY(SELECT DISTINCT forum_id FROM old_rows));
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION avvikelser_patternstamp_rollup_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM avvikelser_patternstamp_bump(ARRAY(
        SELECT o.forum_id FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE (o.*) IS DISTINCT FROM (n.*)
        UNION SELECT n.forum_id FROM new_rows n LEFT JOIN old_rows o ON o.id = n.id WHERE o.id IS NULL
        UNION SELECT o.forum_id FROM old_rows o LEFT JOIN new_rows n ON n.id = o.id WHERE n.id IS NULL));
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION avvikelser_patternstamp_directory() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM avvikelser_patternstamp_bump(ARRAY[0::bigint]);
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS avvikelser_patternstamp_insert ON avvikelser_forumpatterncount;
CREATE TRIGGER avvikelser_patternstamp_insert AFTER INSERT ON avvikelser_forumpatterncount
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION avvikelser_patternstamp_rollup_insert();
DROP TRIGGER IF EXISTS avvikelser_patternstamp_update ON avvikelser_forumpatterncount;
CREATE TRIGGER avvikelser_patternstamp_update AFTER UPDATE ON avvikelser_forumpatterncount
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION avvikelser_patternstamp_rollup_update();
DROP TRIGGER IF EXISTS avvikelser_patternstamp_delete ON avvikelser_forumpatterncount;
CREATE TRIGGER avvikelser_patternstamp_delete AFTER DELETE ON avvikelser_forumpatterncount
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION avvikelser_patternstamp_rollup_delete();
-- A truncated rollup changes every forum: the directory's version is part of every key.
DROP TRIGGER IF EXISTS avvikelser_patternstamp_truncate ON avvikelser_forumpatterncount;
CREATE TRIGGER avvikelser_patternstamp_truncate AFTER TRUNCATE ON avvikelser_forumpatterncount
    FOR EACH STATEMENT EXECUTE FUNCTION avvikelser_patternstamp_directory();
""" + "".join(f"""
DROP TRIGGER IF EXISTS avvikelser_patternstamp_directory ON {table};
CREATE TRIGGER avvikelser_patternstamp_directory AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION avvikelser_patternstamp_directory();
""" for table in DIRECTORY_TABLES)

UNINSTALL = "".join(f"DROP TRIGGER IF EXISTS avvikelser_patternstamp_directory ON {table};\n"
                    for table in DIRECTORY_TABLES) + """
DROP TRIGGER IF EXISTS avvikelser_patternstamp_insert ON avvikelser_forumpatterncount;
DROP TRIGGER IF EXISTS avvikelser_patternstamp_update ON avvikelser_forumpatterncount;
DROP TRIGGER IF EXISTS avvikelser_patternstamp_delete ON avvikelser_forumpatterncount;
DROP TRIGGER IF EXISTS avvikelser_patternstamp_truncate ON avvikelser_forumpatterncount;
DROP FUNCTION IF EXISTS avvikelser_patternstamp_rollup_insert();
DROP FUNCTION IF EXISTS avvikelser_patternstamp_rollup_update();
DROP FUNCTION IF EXISTS avvikelser_patternstamp_rollup_delete();
DROP FUNCTION IF EXISTS avvikelser_patternstamp_directory();
DROP FUNCTION IF EXISTS avvikelser_patternstamp_bump(bigint[]);
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INSTALL)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNINSTALL)


class Migration(migrations.Migration):

    dependencies = [
        ("avvikelser", "0007_performance_indexes"),
        ("organisations", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="PatternStamp",
            fields=[
                ("forum_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("version", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(install, uninstall),
    ]
