"""The default questionnaires as data: delaktighet after a SIP meeting (DOMAIN.md; NSPHiG, SKR, Eskilstuna
1–6 scale) and rutinkollen, the unit's check of its SIP routines. Both published as version 1."""

from django.db import migrations
from django.utils import timezone

LOW, HIGH = "Stämmer inte alls", "Stämmer helt"

PARTICIPATION = [
    ("information", "Jag fick den information jag behövde inför mötet."),
    ("lyssnad", "Jag blev lyssnad på under mötet."),
    ("viktigt", "Det som är viktigt för mig finns med i planen."),
    ("mal", "Jag var med och bestämde mina mål."),
    ("vem_gor_vad", "Jag vet vem som gör vad i min plan."),
    ("uppfoljning", "Jag vet när planen ska följas upp."),
    ("samarbete", "De som var med verkar samarbeta med varandra."),
    ("respekt", "Jag blev bemött med respekt."),
    ("meningsfull", "Planen känns meningsfull för mig."),
]

ROUTINES = [
    ("erbjuder_sip", "Vi erbjuder SIP till alla som behöver insatser från både kommun och region."),
    ("samtycke_forst", "Samtycke dokumenteras innan information delas."),
    ("kallelse_i_tid", "Kallelsen går ut inom tidsgränsen."),
    ("kopia_klarsprak", "Personen får en kopia av planen på lättförståelig svenska."),
    ("ansvar_datum", "Varje insats har en ansvarig person och ett datum."),
    ("uppfoljning_satt", "Datum för uppföljning bestäms på mötet."),
    ("enkat_erbjuds", "Delaktighetsenkäten erbjuds efter varje möte."),
    ("avvikelser_rapporteras", "Avvikelser i samverkan rapporteras."),
]


def forwards(apps, schema_editor):
    Template = apps.get_model("delaktighet", "Template")
    TemplateVersion = apps.get_model("delaktighet", "TemplateVersion")
    Item = apps.get_model("delaktighet", "Item")
    now = timezone.now()

    template, _ = Template.objects.get_or_create(
        key="delaktighet", defaults={"name": "Delaktighet efter SIP-möte", "purpose": "participation"})
    version, created = TemplateVersion.objects.get_or_create(
        template=template, number=1,
        defaults={"title": "Hur var mötet för dig?", "published_at": now,
                  "intro": "Vi vill veta hur du upplevde mötet om din plan. Det tar ett par minuter. "
                           "Du kan hoppa över frågor du inte vill svara på."})
    if created:
        for order, (code, text) in enumerate(PARTICIPATION, start=1):
            Item.objects.create(version=version, order=order, code=code, kind="scale_1_6", text=text,
                                low_label=LOW, high_label=HIGH)
        Item.objects.create(version=version, order=len(PARTICIPATION) + 1, code="till_oss", kind="free_text",
                            text="Vad vill du säga till oss som var med på mötet?")

    template, _ = Template.objects.get_or_create(
        key="rutinkollen", defaults={"name": "Rutinkollen", "purpose": "routine_check"})
    version, created = TemplateVersion.objects.get_or_create(
        template=template, number=1,
        defaults={"title": "Rutinkollen – hur fungerar våra SIP-rutiner?", "published_at": now,
                  "intro": "Bedöm enhetens rutiner för samordnad individuell plan."})
    if created:
        for order, (code, text) in enumerate(ROUTINES, start=1):
            Item.objects.create(version=version, order=order, code=code, kind="yes_partly_no", text=text)


class Migration(migrations.Migration):
    dependencies = [("delaktighet", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
