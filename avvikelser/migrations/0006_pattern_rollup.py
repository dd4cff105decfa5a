"""The pattern view's rollup (avvikelser.models.ForumPatternCount) and the triggers that keep it exact.

PostgreSQL only: statement-level AFTER triggers with transition tables on avvikelser_deviation, so a COPY or a
bulk insert of a million reports costs one GROUP BY over the new rows, and an update or delete recomputes only the
rollup rows whose reports it touched (from the reports themselves, through deviation_forum_date). Existing reports
are counted when the migration runs. On other databases nothing is installed and the pattern view reads the
reports directly."""

from django.db import migrations, models

KEY = ("forum_id, fragment_start, category_id, reporting_organisation_id, counterpart_organisation_id, "
       "agreement_id, agreement_other")

INSTALL = f"""
CREATE OR REPLACE FUNCTION avvikelser_fragment_start(day date) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT GREATEST(date_trunc('week', day::timestamp)::date, date_trunc('month', day::timestamp)::date) $$;

CREATE OR REPLACE FUNCTION avvikelser_patterncount_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO avvikelser_forumpatterncount AS c ({KEY}, n, first_day, last_day)
    SELECT forum_id, avvikelser_fragment_start(occurred_on), category_id, reporting_organisation_id,
           counterpart_organisation_id, COALESCE(agreement_id, 0), agreement_other, count(*), min(occurred_on),
           max(occurred_on)
    FROM new_rows WHERE forum_id IS NOT NULL AND state <> 'utkast'
    GROUP BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT ({KEY}) DO UPDATE SET n = c.n + EXCLUDED.n, first_day = LEAST(c.first_day, EXCLUDED.first_day),
                                       last_day = GREATEST(c.last_day, EXCLUDED.last_day);
    RETURN NULL;
END $$;

-- The rollup rows of the given keys, recomputed from the reports (after the change).
CREATE OR REPLACE FUNCTION avvikelser_patterncount_recompute(keys jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM avvikelser_forumpatterncount c
    USING (SELECT DISTINCT * FROM jsonb_to_recordset(keys) AS x(
               forum_id bigint, fragment_start date, category_id bigint, reporting_organisation_id bigint,
               counterpart_organisation_id bigint, agreement_id bigint, agreement_other varchar(200))) k
    WHERE (c.forum_id, c.fragment_start, c.category_id, c.reporting_organisation_id, c.counterpart_organisation_id,
           c.agreement_id, c.agreement_other)
        = (k.forum_id, k.fragment_start, k.category_id, k.reporting_organisation_id, k.counterpart_organisation_id,
           k.agreement_id, k.agreement_other);
    INSERT INTO avvikelser_forumpatterncount ({KEY}, n, first_day, last_day)
    SELECT k.forum_id, k.fragment_start, k.category_id, k.reporting_organisation_id, k.counterpart_organisation_id,
           k.agreement_id, k.agreement_other, count(*), min(d.occurred_on), max(d.occurred_on)
    FROM (SELECT DISTINCT * FROM jsonb_to_recordset(keys) AS x(
              forum_id bigint, fragment_start date, category_id bigint, reporting_organisation_id bigint,
              counterpart_organisation_id bigint, agreement_id bigint, agreement_other varchar(200))) k
    JOIN avvikelser_deviation d
      ON d.forum_id = k.forum_id AND d.occurred_on BETWEEN k.fragment_start AND k.fragment_start + 6
     AND avvikelser_fragment_start(d.occurred_on) = k.fragment_start AND d.category_id = k.category_id
     AND d.reporting_organisation_id = k.reporting_organisation_id
     AND d.counterpart_organisation_id = k.counterpart_organisation_id
     AND COALESCE(d.agreement_id, 0) = k.agreement_id AND d.agreement_other = k.agreement_other
     AND d.state <> 'utkast'
    GROUP BY 1, 2, 3, 4, 5, 6, 7;
END $$;

CREATE OR REPLACE FUNCTION avvikelser_patterncount_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE keys jsonb;
BEGIN
    SELECT jsonb_agg(DISTINCT jsonb_build_object(
        'forum_id', forum_id, 'fragment_start', avvikelser_fragment_start(occurred_on), 'category_id', category_id,
        'reporting_organisation_id', reporting_organisation_id,
        'counterpart_organisation_id', counterpart_organisation_id, 'agreement_id', COALESCE(agreement_id, 0),
        'agreement_other', agreement_other))
    INTO keys FROM old_rows WHERE forum_id IS NOT NULL AND state <> 'utkast';
    IF keys IS NOT NULL THEN
        PERFORM avvikelser_patterncount_recompute(keys);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION avvikelser_patterncount_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE keys jsonb;
BEGIN
    WITH changed AS (
        SELECT o.forum_id AS o_forum, o.occurred_on AS o_day, o.category_id AS o_cat,
               o.reporting_organisation_id AS o_src, o.counterpart_organisation_id AS o_dst,
               o.agreement_id AS o_agr, o.agreement_other AS o_other, o.state = 'utkast' AS o_draft,
               n.forum_id AS n_forum, n.occurred_on AS n_day, n.category_id AS n_cat,
               n.reporting_organisation_id AS n_src, n.counterpart_organisation_id AS n_dst,
               n.agreement_id AS n_agr, n.agreement_other AS n_other, n.state = 'utkast' AS n_draft
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE (o.forum_id, o.occurred_on, o.category_id, o.reporting_organisation_id, o.counterpart_organisation_id,
               o.agreement_id, o.agreement_other, o.state = 'utkast')
              IS DISTINCT FROM
              (n.forum_id, n.occurred_on, n.category_id, n.reporting_organisation_id, n.counterpart_organisation_id,
               n.agreement_id, n.agreement_other, n.state = 'utkast')),
    affected AS (
        SELECT o_forum AS forum_id, o_day AS day, o_cat AS category_id, o_src AS src, o_dst AS dst, o_agr AS agr,
               o_other AS other FROM changed WHERE o_forum IS NOT NULL AND NOT o_draft
        UNION
        SELECT n_forum, n_day, n_cat, n_src, n_dst, n_agr, n_other FROM changed
        WHERE n_forum IS NOT NULL AND NOT n_draft)
    SELECT jsonb_agg(DISTINCT jsonb_build_object(
        'forum_id', forum_id, 'fragment_start', avvikelser_fragment_start(day), 'category_id', category_id,
        'reporting_organisation_id', src, 'counterpart_organisation_id', dst, 'agreement_id', COALESCE(agr, 0),
        'agreement_other', other))
    INTO keys FROM affected;
    IF keys IS NOT NULL THEN
        PERFORM avvikelser_patterncount_recompute(keys);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION avvikelser_patterncount_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM avvikelser_forumpatterncount;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS avvikelser_patterncount_insert ON avvikelser_deviation;
CREATE TRIGGER avvikelser_patterncount_insert AFTER INSERT ON avvikelser_deviation
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION avvikelser_patterncount_insert();
DROP TRIGGER IF EXISTS avvikelser_patterncount_update ON avvikelser_deviation;
CREATE TRIGGER avvikelser_patterncount_update AFTER UPDATE ON avvikelser_deviation
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION avvikelser_patterncount_update();
DROP TRIGGER IF EXISTS avvikelser_patterncount_delete ON avvikelser_deviation;
CREATE TRIGGER avvikelser_patterncount_delete AFTER DELETE ON avvikelser_deviation
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION avvikelser_patterncount_delete();
DROP TRIGGER IF EXISTS avvikelser_patterncount_truncate ON avvikelser_deviation;
CREATE TRIGGER avvikelser_patterncount_truncate AFTER TRUNCATE ON avvikelser_deviation
    FOR EACH STATEMENT EXECUTE FUNCTION avvikelser_patterncount_truncate();

DELETE FROM avvikelser_forumpatterncount;
INSERT INTO avvikelser_forumpatterncount ({KEY}, n, first_day, last_day)
SELECT forum_id, avvikelser_fragment_start(occurred_on), category_id, reporting_organisation_id,
       counterpart_organisation_id, COALESCE(agreement_id, 0), agreement_other, count(*), min(occurred_on),
       max(occurred_on)
FROM avvikelser_deviation WHERE forum_id IS NOT NULL AND state <> 'utkast'
GROUP BY 1, 2, 3, 4, 5, 6, 7;
"""

UNINSTALL = """
DROP TRIGGER IF EXISTS avvikelser_patterncount_insert ON avvikelser_deviation;
DROP TRIGGER IF EXISTS avvikelser_patterncount_update ON avvikelser_deviation;
DROP TRIGGER IF EXISTS avvikelser_patterncount_delete ON avvikelser_deviation;
DROP TRIGGER IF EXISTS avvikelser_patterncount_truncate ON avvikelser_deviation;
DROP FUNCTION IF EXISTS avvikelser_patterncount_insert();
DROP FUNCTION IF EXISTS avvikelser_patterncount_update();
DROP FUNCTION IF EXISTS avvikelser_patterncount_delete();
DROP FUNCTION IF EXISTS avvikelser_patterncount_truncate();
DROP FUNCTION IF EXISTS avvikelser_patterncount_recompute(jsonb);
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INSTALL)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNINSTALL)


class Migration(migrations.Migration):

    dependencies = [
        ("avvikelser", "0005_compilation"),
    ]

    operations = [
        migrations.CreateModel(
            name="ForumPatternCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("forum_id", models.BigIntegerField()),
                ("fragment_start", models.DateField()),
                ("category_id", models.BigIntegerField()),
                ("reporting_organisation_id", models.BigIntegerField()),
                ("counterpart_organisation_id", models.BigIntegerField()),
                ("agreement_id", models.BigIntegerField()),
                ("agreement_other", models.CharField(max_length=200)),
                ("n", models.PositiveIntegerField()),
                ("first_day", models.DateField()),
                ("last_day", models.DateField()),
            ],
            options={
                "constraints": [models.UniqueConstraint(
                    fields=("forum_id", "fragment_start", "category_id", "reporting_organisation_id",
                            "counterpart_organisation_id", "agreement_id", "agreement_other"),
                    name="patterncount_key")],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
