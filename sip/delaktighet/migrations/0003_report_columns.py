"""The delaktighet report's stored columns (see models.Invitation and models.Response), filled set-wise.

Invitations get the plan's lead organisation, the gender and age band their answer would be stored with, and
the meeting's local date; responses get the number and sum of their 1–6 answers; answers get their response's
organisation, meeting date, gender and age band. Each table is filled by one UPDATE (the same on SQLite and
PostgreSQL), computed exactly as the report computed these values at query time until now. The indexes are
built after the fill.

The functions below are a frozen copy: they use only the models as they are at this migration.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Case, CharField, Count, F, IntegerField, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, ExtractYear, TruncDate


def fill(apps, schema_editor):
    Invitation = apps.get_model("delaktighet", "Invitation")
    Response = apps.get_model("delaktighet", "Response")
    Answer = apps.get_model("delaktighet", "Answer")
    Sip = apps.get_model("sip", "Sip")
    Meeting = apps.get_model("sip", "Meeting")
    using = schema_editor.connection.alias

    is_person = Q(participant__kind="person")
    age = ExtractYear(Coalesce("meeting__held_at", "created_at")) - F("sip__person__birth_year")
    live = Invitation.objects.using(using).filter(pk=OuterRef("pk")).alias(r_age=age).annotate(
        g_gender=Case(When(is_person, then=F("sip__person__gender")), default=Value("vill_ej_uppge"),
                      output_field=CharField()),
        g_age_band=Case(
            When(~is_person | Q(sip__person__birth_year__isnull=True) | Q(sip__person__birth_year=0),
                 then=Value("unknown")),
            When(Q(r_age__lt=25), then=Value("-24")),
            When(Q(r_age__lt=45), then=Value("25-44")),
            When(Q(r_age__lt=65), then=Value("45-64")),
            default=Value("65-"), output_field=CharField()))
    Invitation.objects.using(using).filter(lead_organisation__isnull=True).update(
        lead_organisation_id=Subquery(Sip.objects.using(using).filter(pk=OuterRef("sip_id"))
                                      .values("lead_organisation_id")[:1]),
        meeting_held_on=Subquery(Meeting.objects.using(using).filter(pk=OuterRef("meeting_id"))
                                 .annotate(day=TruncDate("held_at")).values("day")[:1]),
        gender=Subquery(live.values("g_gender")[:1]),
        age_band=Subquery(live.values("g_age_band")[:1]),
    )

    scale = (Answer.objects.using(using).filter(response_id=OuterRef("pk"), item__version_id=OuterRef("version_id"),
                                                 item__kind="scale_1_6", value_int__isnull=False)
             .order_by().values("response_id"))
    Response.objects.using(using).filter(scale_answers__isnull=True).update(
        scale_answers=Coalesce(Subquery(scale.annotate(n=Count("pk")).values("n")[:1],
                                        output_field=IntegerField()), 0),
        scale_sum=Coalesce(Subquery(scale.annotate(s=Sum("value_int")).values("s")[:1],
                                    output_field=IntegerField()), 0),
    )


def fill_answers(apps, schema_editor):
    # One UPDATE … FROM (PostgreSQL, and SQLite since 3.33): a correlated subquery per column would read the
    # response four times for each of the answers.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "UPDATE delaktighet_answer SET lead_organisation_id = r.lead_organisation_id, "
            "meeting_held_on = r.meeting_held_on, gender = r.gender, age_band = r.age_band "
            "FROM delaktighet_response r "
            "WHERE r.id = delaktighet_answer.response_id AND delaktighet_answer.lead_organisation_id IS NULL")


class Migration(migrations.Migration):

    dependencies = [
        ("delaktighet", "0002_default_templates"),
        ("organisations", "0003_organisation_discharge_call_limit_days_and_more"),
        ("sip", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="invitation",
            name="lead_organisation",
            field=models.ForeignKey(blank=True, db_index=False, null=True,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="organisations.organisation"),
        ),
        migrations.AddField(
            model_name="invitation",
            name="gender",
            field=models.CharField(blank=True, db_default="", default="", max_length=16),
        ),
        migrations.AddField(
            model_name="invitation",
            name="age_band",
            field=models.CharField(blank=True, db_default="", default="", max_length=8),
        ),
        migrations.AddField(
            model_name="invitation",
            name="meeting_held_on",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="response",
            name="scale_answers",
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="response",
            name="scale_sum",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="answer",
            name="lead_organisation",
            field=models.ForeignKey(blank=True, db_index=False, null=True,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="organisations.organisation"),
        ),
        migrations.AddField(
            model_name="answer",
            name="meeting_held_on",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="answer",
            name="gender",
            field=models.CharField(blank=True, db_default="", default="", max_length=16),
        ),
        migrations.AddField(
            model_name="answer",
            name="age_band",
            field=models.CharField(blank=True, db_default="", default="", max_length=8),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.RunPython(fill_answers, migrations.RunPython.noop),
        migrations.RemoveIndex(
            model_name="response",
            name="response_org_date",
        ),
        migrations.AddIndex(
            model_name="response",
            index=models.Index(fields=["lead_organisation", "version", "meeting_held_on"],
                               include=["id", "gender", "age_band", "scale_answers", "scale_sum"],
                               name="response_report"),
        ),
        migrations.AddIndex(
            model_name="invitation",
            index=models.Index(condition=models.Q(("status", "answered"), _negated=True),
                               fields=["lead_organisation", "version", "meeting_held_on"],
                               include=["gender", "age_band"], name="invitation_open_report"),
        ),
        migrations.AddIndex(
            model_name="invitation",
            index=models.Index(condition=models.Q(("lead_organisation__isnull", True)), fields=["sip"],
                               name="invitation_unfilled"),
        ),
        migrations.AddIndex(
            model_name="answer",
            index=models.Index(fields=["lead_organisation", "item", "value_int", "gender", "age_band"],
                               include=["meeting_held_on"], name="answer_report"),
        ),
        migrations.AddIndex(
            model_name="answer",
            index=models.Index(condition=models.Q(("lead_organisation__isnull", True)), fields=["response"],
                               name="answer_unfilled"),
        ),
    ]
