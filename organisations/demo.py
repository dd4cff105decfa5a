"""Demo organisations from the source reports, one user for every role. Fictitious people only."""

from django.conf import settings

from organisations import services
from organisations.models import Membership, Organisation, OrganisationKind, Role, Unit, UnitKind, User

# (name, kind, organisation number, tree of (unit name, unit kind, children))
ORGANISATIONS = [
    ("Malmö stad", OrganisationKind.KOMMUN, "212000-1124", [
        ("Arbetsmarknads- och socialförvaltningen", UnitKind.FORVALTNING, [
            (f"Socialtjänst {district}", UnitKind.AVDELNING, [
                (f"Vuxen/missbruk {district}", UnitKind.ENHET, []),
            ])
            for district in ("Innerstaden", "Norr", "Söder", "Väster", "Öster")
        ]),
    ]),
    ("Region Skåne", OrganisationKind.REGION, "232100-0255", [
        ("Psykiatri, habilitering och hjälpmedel", UnitKind.FORVALTNING, [
            ("Beroendecentrum Malmö", UnitKind.AVDELNING, [
                ("Vuxenpsykiatrimottagning beroende Malmö", UnitKind.ENHET, []),
                ("Rådmannen", UnitKind.ENHET, []),
            ]),
        ]),
    ]),
    ("Eskilstuna kommun", OrganisationKind.KOMMUN, "212000-0340", [
        ("Socialförvaltningen", UnitKind.FORVALTNING, [
            ("Vuxenenheten missbruk", UnitKind.ENHET, []),
        ]),
        ("Vård- och omsorgsförvaltningen", UnitKind.FORVALTNING, [
            ("Socialpsykiatri", UnitKind.ENHET, []),
        ]),
    ]),
    ("Region Sörmland", OrganisationKind.REGION, "232100-0032", [
        ("Division psykiatri", UnitKind.FORVALTNING, [
            ("Beroendecentrum", UnitKind.ENHET, []),
        ]),
    ]),
]

# username, first, last, title, organisation, unit, role
USERS = [
    ("malmo.socsek", "Sara", "Lind", "Socialsekreterare", "Malmö stad", "Vuxen/missbruk Innerstaden",
     Role.SOCIALSEKRETERARE),
    ("malmo.socsek2", "Omar", "Haddad", "Socialsekreterare", "Malmö stad", "Vuxen/missbruk Söder",
     Role.SOCIALSEKRETERARE),
    ("malmo.samordnare", "Eva", "Berg", "SIP-samordnare", "Malmö stad", "Vuxen/missbruk Innerstaden",
     Role.SAMORDNARE),
    ("malmo.processledare", "Jonas", "Ek", "Processledare", "Malmö stad",
     "Arbetsmarknads- och socialförvaltningen", Role.PROCESSLEDARE),
    ("malmo.styrgrupp", "Karin", "Holm", "Avdelningschef", "Malmö stad",
     "Arbetsmarknads- och socialförvaltningen", Role.STYRGRUPPSLEDAMOT),
    ("malmo.admin", "Anders", "Nyström", "Systemförvaltare", "Malmö stad",
     "Arbetsmarknads- och socialförvaltningen", Role.ORG_ADMIN),
    ("skane.behandlare", "Lena", "Åberg", "Sjuksköterska", "Region Skåne",
     "Vuxenpsykiatrimottagning beroende Malmö", Role.BEHANDLARE),
    ("skane.radmannen", "Mikael", "Sund", "Behandlingsassistent", "Region Skåne", "Rådmannen",
     Role.BEHANDLARE),
    ("skane.samordnare", "Fatima", "Rahimi", "Kurator", "Region Skåne", "Vuxenpsykiatrimottagning beroende Malmö",
     Role.SAMORDNARE),
    ("skane.processledare", "Per", "Olsson", "Processledare", "Region Skåne", "Beroendecentrum Malmö",
     Role.PROCESSLEDARE),
    ("skane.styrgrupp", "Maria", "Strand", "Verksamhetschef", "Region Skåne", "Beroendecentrum Malmö",
     Role.STYRGRUPPSLEDAMOT),
    ("skane.admin", "Johan", "Wik", "Systemförvaltare", "Region Skåne", "Psykiatri, habilitering och hjälpmedel",
     Role.ORG_ADMIN),
    ("eskilstuna.socsek", "Amina", "Yusuf", "Socialsekreterare", "Eskilstuna kommun", "Vuxenenheten missbruk",
     Role.SOCIALSEKRETERARE),
    ("eskilstuna.admin", "Ulla", "Björk", "Systemförvaltare", "Eskilstuna kommun", "Socialförvaltningen",
     Role.ORG_ADMIN),
    ("sormland.behandlare", "Nils", "Forsberg", "Läkare", "Region Sörmland", "Beroendecentrum", Role.BEHANDLARE),
    ("sormland.admin", "Ingrid", "Dahl", "Systemförvaltare", "Region Sörmland", "Division psykiatri",
     Role.ORG_ADMIN),
]


def _units(organisation, tree, parent=None):
    for name, kind, children in tree:
        unit = Unit.objects.filter(organisation=organisation, parent=parent, name=name).first()
        if unit is None:
            unit = services.create_unit(None, organisation=organisation, name=name, kind=kind, parent=parent,
                                        check_access=False)
        _units(organisation, children, unit)


def seed(stdout) -> None:
    for name, kind, number, tree in ORGANISATIONS:
        organisation = Organisation.objects.filter(name=name).first()
        if organisation is None:
            organisation = services.create_organisation(None, name=name, kind=kind, organisation_number=number)
        _units(organisation, tree)

    password = settings.DEMO_PASSWORD
    rows = []
    for username, first, last, title, org_name, unit_name, role in USERS:
        unit = Unit.objects.get(organisation__name=org_name, name=unit_name)
        user = User.objects.filter(username=username).first()
        if user is None:
            user = services.create_user(None, username=username, unit=unit, role=role, first_name=first,
                                        last_name=last, title=title, email=f"{username}@demo.samverkan.local",
                                        check_access=False)
        elif not Membership.objects.filter(user=user, unit=unit, role=role).exists():
            services.add_membership(None, user=user, unit=unit, role=role, check_access=False)
        user.set_password(password)
        user.save(update_fields=["password"])
        rows.append((username, Role(role).label, f"{unit_name}, {org_name}"))

    stdout.write(f"\nDemoinloggningar (lösenord: {password}, ändra med DEMO_PASSWORD):\n")
    width = max(len(r[0]) for r in rows)
    for username, role, where in rows:
        stdout.write(f"  {username.ljust(width)}  {role} – {where}\n")
