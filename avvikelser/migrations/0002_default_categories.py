"""The categories of DOMAIN.md: the three frequent Malmö areas and the regional routines' areas."""

from django.db import migrations

CATEGORIES = [
    ("brister-i-aterkoppling", "Brister i återkoppling", "Återkoppling uteblev eller dröjde i gemensamma ärenden."),
    ("otydlig-malgrupp", "Otydlighet kring målgrupp", "Oklart vilka patienter eller klienter verksamheten tar emot."),
    ("bemotande", "Bemötande", "Personen eller samverkanspartnern blev illa bemött."),
    ("sip", "SIP", "Kallelse inte skickad eller besvarad, uteblev från möte, planen följdes inte, "
                   "uppföljning missades."),
    ("informationsoverforing", "Informationsöverföring", "Information kom inte fram, kom fel eller för sent."),
    ("utskrivning", "Utskrivning", "Meddelanden, utskrivningsklar, läkemedelslista vid utskrivning."),
    ("lakemedel", "Läkemedel", "Läkemedelshantering mellan huvudmännen."),
    ("hjalpmedel", "Hjälpmedel", "Hjälpmedel som saknades eller inte fungerade."),
    ("tillganglighet", "Tillgänglighet och kontaktvägar", "Det gick inte att nå rätt person eller verksamhet."),
    ("ansvarsfordelning", "Ansvarsfördelning och kostnadsansvar", "Oklart vem som ansvarar eller betalar."),
    ("ovrigt", "Övrigt", "Annat som rör samverkan."),
]


def forwards(apps, schema_editor):
    Category = apps.get_model("avvikelser", "Category")
    CategoryEvent = apps.get_model("avvikelser", "CategoryEvent")
    for key, name, description in CATEGORIES:
        category, created = Category.objects.get_or_create(key=key, defaults={"name": name,
                                                                             "description": description})
        if created:
            CategoryEvent.objects.create(category=category, kind="created", new={"name": name})


class Migration(migrations.Migration):
    dependencies = [("avvikelser", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
