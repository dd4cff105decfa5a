"""Synthetic data at three scales: organisations, units, staff, persons, SIPs with everything under them,
delaktighet answers, forums and five years of deviations. Fictitious throughout.

Rows are built in Python from one seed and written with COPY (PostgreSQL) or executemany (SQLite) by
`bench.datagen.loader.Loader`. Audit rows are not generated. The SIP grant rows are computed with exactly the
rule of `sip.access.sync_grants` (participating active units whose organisation has an active consent, or is
the initiating organisation without any consent recorded).
"""

from __future__ import annotations

import datetime
import math
import random
import time
from bisect import bisect
from dataclasses import dataclass, field
from itertools import accumulate

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connections, transaction
from django.db.models import Max
from django.utils import timezone
from stdnum import luhn

from bench.datagen import personas as persona_module
from bench.datagen.loader import Loader

UTC = datetime.UTC
DAYS = 5 * 365 + 1


@dataclass(frozen=True)
class Scale:
    regions: tuple[str, ...] | None  # None: all 21
    kommuner_per_region: int | None  # None: all of each region's kommuner
    units: int
    staff: int
    persons: int
    answers: int
    deviations: int


SCALES = {
    "small": Scale(("Region Blekinge",), 3, units=40, staff=70, persons=320, answers=400, deviations=1200),
    "region": Scale(("Region Skåne",), None, units=340, staff=1350, persons=13500, answers=33000,
                    deviations=67000),
    "national": Scale(None, None, units=5000, staff=20000, persons=200000, answers=500000, deviations=1000000),
}

# name, biggest city, number of kommuner (the real counts, 290 in all)
REGIONS = [
    ("Region Stockholm", "Stockholm", 26), ("Region Uppsala", "Uppsala", 8), ("Region Sörmland", "Eskilstuna", 9),
    ("Region Östergötland", "Linköping", 13), ("Region Jönköpings län", "Jönköping", 13),
    ("Region Kronoberg", "Växjö", 8), ("Region Kalmar län", "Kalmar", 12), ("Region Gotland", "Gotland", 1),
    ("Region Blekinge", "Karlskrona", 5), ("Region Skåne", "Malmö", 33), ("Region Halland", "Halmstad", 6),
    ("Västra Götalandsregionen", "Göteborg", 49), ("Region Värmland", "Karlstad", 16),
    ("Region Örebro län", "Örebro", 12), ("Region Västmanland", "Västerås", 10), ("Region Dalarna", "Falun", 15),
    ("Region Gävleborg", "Gävle", 10), ("Region Västernorrland", "Sundsvall", 7),
    ("Region Jämtland Härjedalen", "Östersund", 8), ("Region Västerbotten", "Umeå", 15),
    ("Region Norrbotten", "Luleå", 14),
]
BIG_CITIES = ["Stockholm", "Göteborg", "Malmö", "Uppsala"]

KOMMUN_TOP = ["Socialförvaltningen", "Vård- och omsorgsförvaltningen", "Arbetsmarknadsförvaltningen"]
KOMMUN_AVD = ["Individ- och familjeomsorg", "Funktionsstöd", "Äldreomsorg", "Socialpsykiatri och boende"]
KOMMUN_ENHET = ["Vuxen/missbruk", "Barn och unga", "Socialpsykiatri", "Hemtjänst", "LSS-boende", "Försörjningsstöd",
                "Familjebehandling", "Boendestöd", "Biståndshandläggning"]
REGION_TOP = ["Psykiatriförvaltningen", "Primärvårdsförvaltningen", "Specialistvårdsförvaltningen"]
REGION_AVD = ["Vuxenpsykiatri", "Barn- och ungdomspsykiatri", "Beroendecentrum", "Närsjukvård", "Geriatrik"]
REGION_ENHET = ["Vuxenpsykiatrimottagning", "Beroendemottagning", "BUP-mottagning", "Vårdcentral",
                "Geriatrisk avdelning", "Psykiatrisk slutenvård", "Habilitering", "Rehabmottagning", "Mobilt team"]

FIRST_NAMES = ["Anna", "Eva", "Maria", "Karin", "Sara", "Lena", "Emma", "Elin", "Ida", "Sofia", "Fatima", "Amina",
               "Lars", "Anders", "Johan", "Erik", "Per", "Karl", "Mikael", "Jonas", "Ali", "Omar", "Ahmed", "Nils",
               "Linnea", "Hanna", "Maja", "Ella", "Oskar", "Lucas", "Hugo", "Leo", "Robin", "Kim", "Alex", "Sam"]
LAST_NAMES = ["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson",
              "Svensson", "Gustafsson", "Pettersson", "Jonsson", "Jansson", "Hansson", "Bengtsson", "Lindberg",
              "Lindqvist", "Berg", "Holm", "Ek", "Ali", "Mohammed", "Hassan", "Yusuf", "Rahimi", "Nguyen",
              "Lind", "Strand", "Åberg", "Öberg", "Forsberg", "Sandberg", "Wik", "Dahl", "Sund", "Björk"]

REASONS = ["Behov av insatser från både socialtjänst och hälso- och sjukvård.",
           "Samtidigt missbruk och psykisk ohälsa; behöver samordnade insatser.",
           "Utskrivning från slutenvård med behov av stöd i hemmet.",
           "Barn med behov av stöd från skola, socialtjänst och BUP.",
           "Äldre med flera vårdgivare och hemtjänst."]
GOALS = [("own", "long", "Jag vill ha ett eget boende."), ("own", "short", "Jag vill sova bättre."),
         ("shared", "short", "Regelbunden kontakt med mottagningen."), ("own", "long", "Jag vill börja arbeta."),
         ("shared", "long", "Stabil vardag utan återfall."), ("own", "short", "Jag vill träffa min familj oftare.")]
ACTIONS = ["Boendestöd", "Samtalsbehandling", "Läkemedelsgenomgång", "Hemtjänst", "Kontaktperson",
           "Öppenvårdsbehandling", "Arbetsträning", "Familjebehandling", "Utredning", "Dagverksamhet"]
OTHERS = ["Arbetsförmedlingen", "Försäkringskassan", "Skolan", "Kriminalvården"]
WHAT = ["Kallelse till SIP-möte besvarades inte inom överenskommen tid.",
        "Information om utskrivning kom fram först efter hemgång.",
        "Läkemedelslista saknades vid överrapportering.",
        "Det gick inte att nå ansvarig enhet under flera dagar.",
        "Oklart vilken huvudman som ansvarade för insatsen.",
        "Överenskommen återkoppling uteblev.",
        "Hjälpmedel fanns inte på plats vid hemgång.",
        "Personen blev hänvisad mellan verksamheterna."]
AGREEMENTS = ["Överenskommelse om samarbete kring personer med psykisk funktionsnedsättning",
              "Riktlinje för SIP", "Rutin vid utskrivning från slutenvård"]

# category key -> relative weight
CATEGORY_WEIGHTS = {"brister-i-aterkoppling": 14, "informationsoverforing": 16, "utskrivning": 14, "sip": 12,
                    "otydlig-malgrupp": 7, "bemotande": 5, "lakemedel": 8, "hjalpmedel": 5, "tillganglighet": 9,
                    "ansvarsfordelning": 6, "ovrigt": 4}
SEASON = [1.05, 1.08, 1.06, 1.0, 1.0, 0.92, 0.68, 0.82, 1.1, 1.12, 1.06, 0.88]  # Jan..Dec


class Picker:
    """Weighted choice by bisecting cumulative weights (much cheaper than random.choices per call)."""

    def __init__(self, items, weights):
        self.items = list(items)
        self.cum = list(accumulate(weights))
        self.total = self.cum[-1]

    def pick(self, rng):
        return self.items[bisect(self.cum, rng.random() * self.total)]


@dataclass
class Org:
    id: int
    name: str
    kind: str
    number: str
    weight: float
    region: Org | None = None
    units: list = field(default_factory=list)
    enheter: list = field(default_factory=list)  # unit ids that take part in SIPs and deviations
    top: list = field(default_factory=list)  # förvaltning unit ids
    picker: Picker | None = None
    lead_staff: list = field(default_factory=list)  # staff at förvaltning level


@dataclass
class Unit:
    id: int
    org: Org
    parent: int | None
    name: str
    kind: str
    group: int


def orgnr(prefix9: str) -> str:
    return f"{prefix9[:6]}-{prefix9[6:]}{luhn.calc_check_digit(prefix9)}"


def personnummer(rng, used: set, birth: datetime.date, male: bool) -> str:
    """A valid, unique personnummer in the 980–999 birth-number series (the kind used for test numbers)."""
    for _ in range(1000):
        serial = rng.randrange(980, 1000)
        if (serial % 2 == 1) != male:
            serial += 1 if serial < 999 else -1
        short = f"{birth:%y%m%d}{serial}"
        full = f"{birth:%Y%m%d}{serial}{luhn.calc_check_digit(short)}"
        if full not in used:
            used.add(full)
            return full
        birth = birth + datetime.timedelta(days=1)
    raise RuntimeError("personnummer space exhausted")


def poisson(rng, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def at(ordinal: int, minutes: int) -> datetime.datetime:
    return datetime.datetime.fromordinal(ordinal).replace(tzinfo=UTC) + datetime.timedelta(minutes=minutes)


def next_id(model, using) -> int:
    return (model.objects.using(using).aggregate(m=Max("id"))["m"] or 0) + 1


class Generator:
    def __init__(self, scale: str, seed: int = 1, using: str = "default", out=None, today=None):
        self.scale_name = scale
        self.scale = SCALES[scale]
        self.seed = seed
        self.using = using
        self.loader = Loader(using, out)
        self.say = self.loader.say
        self.today = today or timezone.localdate()  # the date sync_grants judges consents by
        self.T = self.today.toordinal()
        self.now = datetime.datetime.now(UTC).replace(microsecond=0)
        self.summary: dict = {}

    def rng(self, salt: int) -> random.Random:
        return random.Random(self.seed * 1_000_003 + salt)

    def model(self, label):
        return apps.get_model(label)

    # ------------------------------------------------------------------------------------------------------
    def run(self) -> dict:
        started = time.monotonic()
        self.say(f"generate_data --scale {self.scale_name} --seed {self.seed} ({connections[self.using].vendor})")
        with transaction.atomic(using=self.using):
            self.loader.begin()
            self.organisations()
            self.staff()
            self.plans()
            self.plan_rows()
            self.delaktighet()
            self.forums()
            self.deviations()
            self.loader.finish()
            self.report_columns()
        self.loader.analyze()
        elapsed = time.monotonic() - started
        total = sum(self.loader.counts.values())
        self.say(f"done: {total:,} rows in {elapsed:.1f} s")
        self.summary.update(seconds=round(elapsed, 1), rows=dict(self.loader.counts), total_rows=total)
        return self.summary

    def report_columns(self):
        """The delaktighet report's stored columns, which services fill on write and COPY does not (set-wise)."""
        from sip.delaktighet.reports import fill_report_columns

        started = time.monotonic()
        filled = fill_report_columns(using=self.using)
        self.say(f"  delaktighet report columns {sum(filled.values()):,} rows {time.monotonic() - started:8.1f} s")

    # --- organisations and units ---------------------------------------------------------------------------
    def organisations(self):
        rng = self.rng(1)
        Organisation = self.model("organisations.Organisation")
        UnitModel = self.model("organisations.Unit")
        scale = self.scale
        regions = [r for r in REGIONS if scale.regions is None or r[0] in scale.regions]
        # Population-like weights: Zipf over a national ranking with the big cities first.
        kommun_specs = []
        for region_name, city, count in regions:
            if scale.kommuner_per_region:
                count = min(count, scale.kommuner_per_region)
            short = region_name.replace("Region ", "").replace("sregionen", "")
            for j in range(count):
                name = f"{city} kommun" if j == 0 else f"Kommun {j:02d} i {short}"
                kommun_specs.append((region_name, name, j == 0, city))
        ranked = sorted(range(len(kommun_specs)), key=lambda i: (
            BIG_CITIES.index(kommun_specs[i][3]) if kommun_specs[i][2] and kommun_specs[i][3] in BIG_CITIES
            else 10 + (0 if kommun_specs[i][2] else 1) * 100 + rng.random()))
        rank = {index: r for r, index in enumerate(ranked)}
        org_id = next_id(Organisation, self.using)
        self.orgs: list[Org] = []
        region_by_name = {}
        for i, (region_name, _city, _count) in enumerate(regions):
            region = Org(org_id, region_name, "region", orgnr(f"232100{500 + REGIONS.index(regions[i]):03d}"), 0.0)
            org_id += 1
            region_by_name[region_name] = region
            self.orgs.append(region)
        for i, (region_name, name, _first, _city) in enumerate(kommun_specs):
            kommun = Org(org_id, name, "kommun", orgnr(f"212000{600 + i:03d}"), (rank[i] + 1) ** -0.9,
                         region=region_by_name[region_name])
            org_id += 1
            kommun.region.weight += kommun.weight
            self.orgs.append(kommun)
        self.kommuner = [o for o in self.orgs if o.kind == "kommun"]
        self.regions = [o for o in self.orgs if o.kind == "region"]
        self.largest_kommun = max(self.kommuner, key=lambda o: o.weight)
        self.largest_region = self.largest_kommun.region
        created = self.now
        self.loader.load(Organisation, ["id", "name", "kind", "organisation_number", "active", "sip_call_limit_days",
                                        "discharge_call_limit_days", "created_at", "updated_at"],
                         ((o.id, o.name, o.kind, o.number, True, None, None, created, created) for o in self.orgs))

        # Units: regions get about a third, kommuner the rest, by weight^0.75 with a floor.
        self.units: dict[int, Unit] = {}
        unit_id = next_id(UnitModel, self.using)
        group_id = next_id(Group, self.using)
        budget = {"region": scale.units * 0.35, "kommun": scale.units * 0.65}
        for kind, orgs, floor in (("region", self.regions, 8), ("kommun", self.kommuner, 5)):
            total = sum(o.weight ** 0.75 for o in orgs)
            for org in orgs:
                n = max(floor, round(budget[kind] * org.weight ** 0.75 / total))
                unit_id, group_id = self._tree(org, n, unit_id, group_id, rng)
        # The unit of bench_nobody: takes part in nothing.
        org = self.largest_kommun
        self.nobody_unit = Unit(unit_id, org, org.top[0], "Bench: enhet utan SIP", "enhet", group_id)
        self.units[unit_id] = self.nobody_unit
        org.units.append(unit_id)
        unit_id += 1
        group_id += 1
        for org in self.orgs:
            org.picker = Picker(org.enheter, [(k + 1) ** -0.8 for k in range(len(org.enheter))])
        self.loader.load(Group, ["id", "name"], (
            (u.group, f"unit:{u.org.id}:bench{u.id:06x}:{u.name}"[:150]) for u in self.units.values()))
        # Parents before children: the tree was built top-down, ids ascending.
        self.loader.load(UnitModel, ["id", "organisation_id", "parent_id", "name", "kind", "group_id", "active",
                                     "created_at", "updated_at"],
                         ((u.id, u.org.id, u.parent, u.name, u.kind, u.group, True, created, created)
                          for u in sorted(self.units.values(), key=lambda u: u.id)))

    def _tree(self, org: Org, n: int, unit_id: int, group_id: int, rng):
        tops = KOMMUN_TOP if org.kind == "kommun" else REGION_TOP
        avds = KOMMUN_AVD if org.kind == "kommun" else REGION_AVD
        enhets = KOMMUN_ENHET if org.kind == "kommun" else REGION_ENHET
        n_top = 1 if n < 20 else 2 if n < 60 else 3
        n_avd = max(1, (n - n_top) // 8)
        n_enhet = max(2, n - n_top - n_avd)

        def add(parent, name, kind):
            nonlocal unit_id, group_id
            unit = Unit(unit_id, org, parent, name, kind, group_id)
            self.units[unit_id] = unit
            org.units.append(unit_id)
            unit_id += 1
            group_id += 1
            return unit

        top_units = [add(None, tops[i], "forvaltning") for i in range(n_top)]
        org.top = [u.id for u in top_units]
        avd_units = [add(top_units[i % n_top].id, avds[i] if i < len(avds)
                         else f"{avds[i % len(avds)]} {i // len(avds) + 1}", "avdelning")
                     for i in range(n_avd)]
        for i in range(n_enhet):
            parent = avd_units[i % n_avd]
            place = f"{org.name.split(' ')[0]} {i + 1}" if org.kind == "kommun" else f"{i + 1}"
            unit = add(parent.id, f"{enhets[i % len(enhets)]} {place}", "enhet")
            org.enheter.append(unit.id)
        return unit_id, group_id

    # --- staff -----------------------------------------------------------------------------------------------
    def staff(self):
        rng = self.rng(2)
        User = self.model("organisations.User")
        Membership = self.model("organisations.Membership")
        ContactPerson = self.model("avvikelser.ContactPerson")
        self.password = make_password(persona_module.PASSWORD)
        user_id = next_id(User, self.using)
        users = []  # (id, username, first, last, title)
        memberships = []  # (user, unit, role)
        self.unit_staff: dict[int, list[int]] = {}
        total_units = sum(len(o.units) for o in self.orgs)
        extra = max(0, self.scale.staff - total_units - 3 * len(self.orgs))

        def person(title):
            nonlocal user_id
            uid = user_id
            user_id += 1
            users.append((uid, f"u{uid:06d}", rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), title))
            return uid

        for org in self.orgs:
            staff_role = "socialsekreterare" if org.kind == "kommun" else "behandlare"
            title = "Socialsekreterare" if org.kind == "kommun" else "Sjuksköterska"
            top = org.top[0]
            for role, label in (("org_admin", "Systemförvaltare"), ("processledare", "Processledare"),
                                ("styrgruppsledamot", "Verksamhetschef")):
                uid = person(label)
                memberships.append((uid, top, role))
                org.lead_staff.append(uid)
            for unit_id in org.units:
                unit = self.units[unit_id]
                if unit is self.nobody_unit:
                    continue
                if unit.kind == "enhet":
                    memberships.append((person(title), unit_id, staff_role))
                else:
                    memberships.append((person("Samordnare"), unit_id, "samordnare"))
            share = extra * len(org.units) / total_units
            for _ in range(int(share) + (1 if rng.random() < share % 1 else 0)):
                unit_id = org.picker.pick(rng)
                role = staff_role if rng.random() < 0.85 else "samordnare"
                uid = person(title if role == staff_role else "SIP-samordnare")
                memberships.append((uid, unit_id, role))
                if rng.random() < 0.08:
                    other = org.picker.pick(rng)
                    if other != unit_id:
                        memberships.append((uid, other, role))
        for uid, unit_id, role in memberships:
            if role in ("socialsekreterare", "behandlare", "samordnare"):
                self.unit_staff.setdefault(unit_id, []).append(uid)

        # Personas (see bench/datagen/personas.py)
        big_k, big_r = self.largest_kommun, self.largest_region
        self.persona_ids = {}
        plan = {
            "bench_socialsekreterare": [(big_k.enheter[0], "socialsekreterare"),
                                        (big_k.enheter[1], "socialsekreterare")],
            "bench_behandlare": [(big_r.enheter[0], "behandlare")],
            "bench_contact": [(big_r.enheter[-1], "behandlare")],
            "bench_forum": [(big_k.top[0], "processledare")],
            "bench_nobody": [(self.nobody_unit.id, "behandlare")],
            "bench_admin": [(big_k.top[0], "org_admin")],
        }
        for username in persona_module.PERSONAS:
            uid = user_id
            user_id += 1
            users.append((uid, username, "Bench", username.removeprefix("bench_").capitalize(), "Bench"))
            self.persona_ids[username] = uid
            for unit_id, role in plan[username]:
                memberships.append((uid, unit_id, role))
        self.summary["personas"] = {"largest_kommun": big_k.name, "largest_region": big_r.name,
                                    "units": {name: [u for u, _r in rows] for name, rows in plan.items()}}

        joined = at(self.T - DAYS, 8 * 60)
        self.loader.load(User, ["id", "password", "last_login", "is_superuser", "username", "first_name", "last_name",
                                "email", "is_staff", "is_active", "date_joined", "title", "phone"],
                         ((uid, self.password, None, False, username, first, last,
                           f"{username}@bench.samverkan.invalid", False, True, joined, title, "")
                          for uid, username, first, last, title in users))
        membership_id = next_id(Membership, self.using)
        self.loader.load(Membership, ["id", "user_id", "unit_id", "role", "active", "created_at", "updated_at"],
                         ((membership_id + i, uid, unit_id, role, True, joined, joined)
                          for i, (uid, unit_id, role) in enumerate(memberships)))
        through = User.groups.through
        pairs = sorted({(uid, self.units[unit_id].group) for uid, unit_id, _role in memberships})
        base = next_id(through, self.using)
        self.loader.load(through, ["id", "user_id", "group_id"],
                         ((base + i, uid, gid) for i, (uid, gid) in enumerate(pairs)))
        contacts = []
        for org in self.orgs:
            contacts.append((org.id, org.lead_staff[1]))
        contacts.append((big_r.id, self.persona_ids["bench_contact"]))
        base = next_id(ContactPerson, self.using)
        self.loader.load(ContactPerson, ["id", "organisation_id", "user_id"],
                         ((base + i, o, u) for i, (o, u) in enumerate(contacts)))

    # --- persons, plans and consents (the skeleton every SIP table is built from) ----------------------------
    def plans(self):
        rng = self.rng(3)
        n = self.scale.persons
        kommun_picker = Picker(self.kommuner, [o.weight for o in self.kommuner])
        region_kommuner = {r.id: [k for k in self.kommuner if k.region is r] for r in self.regions}
        region_kommun_picker = {rid: Picker(ks, [k.weight for k in ks]) for rid, ks in region_kommuner.items()}
        region_picker = Picker(self.regions, [r.weight for r in self.regions])
        Person = self.model("sip.Person")
        Sip = self.model("sip.Sip")
        self.person_base = next_id(Person, self.using)
        self.sip_base = next_id(Sip, self.using)
        used: set[str] = set()
        self.person_gender: list[str] = []
        self.person_year: list[int] = []
        self.skeleton = []
        status_counts: dict[str, int] = {}
        for i in range(n):
            if rng.random() < 0.7:
                kommun = kommun_picker.pick(rng)
                region = kommun.region
                first, second = kommun, region
            else:
                region = region_picker.pick(rng)
                kommun = region_kommun_picker[region.id].pick(rng)
                first, second = region, kommun
            init_unit = first.picker.pick(rng)
            units = [init_unit]
            for _ in range(1 + (rng.random() < 0.3)):
                units.append(second.picker.pick(rng))
            r = rng.random()
            if r < 0.12:
                units.append(first.picker.pick(rng))
            elif r < 0.17 and len(region_kommuner[region.id]) > 1:
                other = region_kommun_picker[region.id].pick(rng)
                if other is not kommun:
                    units.append(other.picker.pick(rng))
            units = list(dict.fromkeys(units))
            if len(units) < 2:
                units.append(second.picker.pick(rng))
                units = list(dict.fromkeys(units))
            ago = int(DAYS * (1 - math.sqrt(rng.random())))  # adoption grows: more recent plans
            need = self.T - ago
            status = self._status(rng, ago)
            status_counts[status] = status_counts.get(status, 0) + 1
            staff = self.unit_staff.get(init_unit) or first.lead_staff
            coordinator = rng.choice(staff)
            orgs = list(dict.fromkeys(self.units[u].org.id for u in units))
            consents = []  # (org, given ordinal, withdrawn ordinal or None, valid_until ordinal or None)
            for org_id in orgs:
                if status == "initierad" and rng.random() < 0.5:
                    continue
                given = min(self.T, need + rng.randrange(0, 6))
                withdrawn = None
                if rng.random() < 0.02 and given < self.T:
                    withdrawn = rng.randrange(given, self.T + 1)
                valid_until = given + rng.randrange(365, 1100) if rng.random() < 0.3 else None
                consents.append((org_id, given, withdrawn, valid_until))
            consent_orgs = {c[0] for c in consents}
            access = {c[0] for c in consents if c[2] is None and (c[3] is None or c[3] >= self.T)}
            if first.id not in consent_orgs:
                access.add(first.id)
            # Everything generated is active, so the grant is to every participating unit of an org with access.
            groups = sorted({self.units[u].group for u in units if self.units[u].org.id in access})
            self.skeleton.append((i, init_unit, tuple(units), status, need, coordinator, first.id,
                                  tuple(consents), tuple(groups), ago))
        self.summary["sip_status"] = status_counts

        # Persons
        def person_rows():
            prng = self.rng(4)
            for i, init_unit, _units, _status, need, _coord, _lead, _c, _g, _ago in self.skeleton:
                g = prng.random()
                gender = "kvinna" if g < 0.47 else "man" if g < 0.95 else "annat" if g < 0.96 else "vill_ej_uppge"
                age_days = int(365.25 * (prng.triangular(4, 90, 38)))
                birth = datetime.date.fromordinal(min(need, self.T) - age_days)
                ident = personnummer(prng, used, birth, male=(gender == "man") if gender in ("man", "kvinna")
                                     else prng.random() < 0.5)
                created = at(need, prng.randrange(420, 960))
                self.person_gender.append(gender)
                self.person_year.append(birth.year)
                yield (self.person_base + i, "personnummer", ident, prng.choice(FIRST_NAMES), prng.choice(LAST_NAMES),
                       gender, birth.year, prng.random() < 0.005, "", "", "", "", "",
                       prng.choice(["sms", "sms", "email", "letter", "phone"]), init_unit, created, created, 1)
        self.loader.load(Person, ["id", "identifier_kind", "identifier", "first_name", "last_name", "gender",
                                  "birth_year", "protected_identity", "phone", "email", "address", "postal_code",
                                  "city", "preferred_channel", "registered_by_unit_id", "created_at", "updated_at",
                                  "version"], person_rows())

    def _status(self, rng, ago: int) -> str:
        r = rng.random()
        if ago > 540:
            return "avslutad" if r < 0.82 else "avbruten"
        if ago > 180:
            return ("uppfoljning", "upprattad", "avslutad", "avbruten")[bisect([0.35, 0.6, 0.9], r)]
        if ago > 30:
            return ("upprattad", "uppfoljning", "kallad", "avslutad", "avbruten", "initierad")[
                bisect([0.45, 0.6, 0.75, 0.85, 0.9], r)]
        return ("initierad", "kallad", "upprattad")[bisect([0.45, 0.8], r)]

    # --- SIPs and everything under them ------------------------------------------------------------------
    def plan_rows(self):
        Sip = self.model("sip.Sip")
        SipUnit = self.model("sip.SipUnit")
        PersonLink = self.model("sip.PersonLink")
        Consent = self.model("sip.Consent")
        Grant = self.model("sip.SipGroupObjectPermission")
        Goal = self.model("sip.Goal")
        Action = self.model("sip.Action")
        Meeting = self.model("sip.Meeting")
        Participant = self.model("sip.Participant")
        T = self.T
        self.dates = {}

        def sip_rows():
            rng = self.rng(5)
            for i, init_unit, _units, status, need, coord, lead, _c, _g, _ago in self.skeleton:
                discharge = self.units[init_unit].org.kind == "region" and rng.random() < 0.15
                discharge_ready = at(need, 600) if discharge else None
                call_due = (discharge_ready + datetime.timedelta(days=3)) if discharge else at(need + 14, 22 * 60 - 1)
                call_sent = est = follow = closed = None
                reason = closure_note = ""
                if status != "initierad" and not (status == "avbruten" and rng.random() < 0.4):
                    call_sent = at(min(T, need + rng.randrange(1, 18 if not discharge else 4)), rng.randrange(420, 960))
                if status in ("upprattad", "uppfoljning", "avslutad"):
                    est = min(T, call_sent.toordinal() + rng.randrange(7, 22) if call_sent else need + 10)
                    follow = est + rng.choice((60, 90, 90, 120, 180))
                if status in ("avslutad", "avbruten"):
                    closed = min(T, (est or need) + rng.randrange(20, 400))
                if status == "avbruten":
                    reason = rng.choice(["person_declined", "consent_withdrawn", "need_ended", "moved", "other"])
                    closure_note = "Planen avbröts."
                if status == "uppfoljning" and follow and follow > T:
                    follow = T - rng.randrange(0, 30)
                last = max(x for x in (need, est or 0, closed or 0, min(follow or 0, T)))
                self.dates[i] = (est, follow, closed)
                yield (self.sip_base + i, self.person_base + i, init_unit, lead, coord, REASONS[i % len(REASONS)],
                       "Att få vara med och bestämma.", "Jag kommer till mötena.", status, reason, closure_note,
                       datetime.date.fromordinal(need), discharge, discharge_ready, call_sent, call_due,
                       _d(est), _d(follow), _d(closed), 1, coord, at(need, 540), at(min(last, T), 900))

        self.loader.load(Sip, ["id", "person_id", "initiating_unit_id", "lead_organisation_id", "coordinator_id",
                               "reason", "what_matters", "own_contribution", "status", "closure_reason",
                               "closure_note", "need_identified_on", "discharge_track", "discharge_ready_at",
                               "call_sent_at", "call_due_at", "established_on", "follow_up_on", "closed_on", "version",
                               "created_by_id", "created_at", "updated_at"], sip_rows())

        first_sipunit_rows = next_id(SipUnit, self.using)


        def sipunit_rows(k=first_sipunit_rows):
            rng = self.rng(6)
            for i, _init, units, _s, need, coord, _l, _c, _g, _a in self.skeleton:
                for u in units:
                    staff = self.unit_staff.get(u)
                    contact = coord if u == units[0] else (rng.choice(staff) if staff and rng.random() < 0.7 else None)
                    yield (k, self.sip_base + i, u, contact, at(need, 560))
                    k += 1
        self.loader.load(SipUnit, ["id", "sip_id", "unit_id", "contact_id", "added_at"], sipunit_rows())

        first_link_rows = next_id(PersonLink, self.using)


        def link_rows(k=first_link_rows):
            for i, _init, units, _s, need, coord, _l, _c, _g, _a in self.skeleton:
                for u in units:
                    yield (k, self.person_base + i, u, coord, at(need, 550))
                    k += 1
        self.loader.load(PersonLink, ["id", "person_id", "unit_id", "created_by_id", "created_at"], link_rows())

        first_consent_rows = next_id(Consent, self.using)


        def consent_rows(k=first_consent_rows):
            rng = self.rng(7)
            for i, _init, _units, _s, _need, coord, _l, consents, _g, _a in self.skeleton:
                for org_id, given, withdrawn, valid_until in consents:
                    yield (k, self.sip_base + i, org_id, at(given, 600), rng.choice(("written", "written", "oral")),
                           "Uppgifter som behövs för planen", _d(valid_until),
                           at(withdrawn, 700) if withdrawn else None, coord, coord if withdrawn else None,
                           at(given, 600))
                    k += 1
        self.loader.load(Consent, ["id", "sip_id", "organisation_id", "given_at", "method", "scope", "valid_until",
                                   "withdrawn_at", "recorded_by_id", "withdrawn_recorded_by_id", "created_at"],
                         consent_rows())

        sip_ct = ContentType.objects.db_manager(self.using).get_for_model(Sip)
        perms = [Permission.objects.using(self.using).get(content_type=sip_ct, codename=c).pk
                 for c in ("view_sip", "change_sip")]

        first_grant_rows = next_id(Grant, self.using)


        def grant_rows(k=first_grant_rows):
            for i, _init, _units, _s, _n, _c, _l, _cs, groups, _a in self.skeleton:
                for g in groups:
                    for p in perms:
                        yield (k, p, g, self.sip_base + i)
                        k += 1
        self.loader.load(Grant, ["id", "permission_id", "group_id", "content_object_id"], grant_rows())

        self.goal_ranges = {}

        first_goal_rows = next_id(Goal, self.using)


        def goal_rows(k=first_goal_rows):
            rng = self.rng(8)
            for i, _init, _units, status, need, _c, _l, _cs, _g, _a in self.skeleton:
                n = rng.randrange(0, 2) if status == "initierad" else rng.randrange(1, 5)
                self.goal_ranges[i] = (k, n)
                for _ in range(n):
                    kind, horizon, text = rng.choice(GOALS)
                    if status == "avslutad":
                        gstatus = rng.choice(("achieved", "achieved", "partly", "not_achieved"))
                    elif status == "avbruten":
                        gstatus = "cancelled"
                    else:
                        gstatus = "active"
                    created = at(need + 7, 600)
                    yield (k, self.sip_base + i, kind, horizon, text, _d(need + rng.randrange(60, 365)), gstatus, "",
                           1, created, created)
                    k += 1
        self.loader.load(Goal, ["id", "sip_id", "kind", "horizon", "text", "target_on", "status", "evaluation",
                                "version", "created_at", "updated_at"], goal_rows())

        first_action_rows = next_id(Action, self.using)


        def action_rows(k=first_action_rows):
            rng = self.rng(9)
            for i, _init, units, status, need, coord, _l, _cs, _g, _a in self.skeleton:
                if status == "initierad":
                    continue
                first_goal, n_goals = self.goal_ranges[i]
                for _ in range(rng.randrange(1, 5)):
                    goal = first_goal + rng.randrange(n_goals) if n_goals and rng.random() < 0.8 else None
                    other = rng.random() < 0.1
                    unit = None if other else rng.choice(units)
                    org = self.units[unit].org.id if unit else None
                    user = (rng.choice(self.unit_staff.get(unit) or [coord]) if unit and rng.random() < 0.5 else None)
                    starts = need + rng.randrange(7, 60)
                    ends = starts + rng.randrange(14, 240)
                    if status in ("avslutad", "avbruten"):
                        astatus = "klar" if status == "avslutad" or rng.random() < 0.5 else "installd"
                    elif starts > T:
                        astatus = "planerad"
                    else:
                        astatus = "pagar" if ends >= T or rng.random() < 0.3 else "klar"
                    created = at(need + 7, 620)
                    yield (k, self.sip_base + i, goal, rng.choice(ACTIONS), "", org, unit, user,
                           rng.choice(OTHERS) if other else "", "", _d(starts), _d(ends), astatus, 1, created, created)
                    k += 1
        self.loader.load(Action, ["id", "sip_id", "goal_id", "title", "description", "responsible_organisation_id",
                                  "responsible_unit_id", "responsible_user_id", "responsible_other", "person_does",
                                  "starts_on", "ends_on", "status", "version", "created_at", "updated_at"],
                         action_rows())

        # Meetings and their participants, remembering held meetings for the questionnaires.
        meetings = []  # (id, sip index, kind, starts, status, coord, units)
        self.held = []  # (meeting id, sip index, held ordinal)
        k = next_id(Meeting, self.using)
        rng = self.rng(10)
        for i, _init, units, status, need, coord, _l, _cs, _g, _a in self.skeleton:
            est, follow, _closed = self.dates[i]
            if status == "kallad":
                meetings.append((k, i, "sip", need + rng.randrange(10, 25), "planned", coord, units))
                k += 1
            elif status in ("upprattad", "uppfoljning", "avslutad"):
                meetings.append((k, i, "sip", est, "held", coord, units))
                k += 1
                if status == "uppfoljning" or (status == "avslutad" and rng.random() < 0.5):
                    day = follow
                    meetings.append((k, i, "follow_up", day, "held" if day <= T else "planned", coord, units))
                    k += 1
                elif status == "upprattad":
                    meetings.append((k, i, "follow_up", follow, "planned", coord, units))
                    k += 1
            elif status == "avbruten" and rng.random() < 0.3:
                meetings.append((k, i, "sip", need + rng.randrange(10, 25), "cancelled", coord, units))
                k += 1

        def meeting_rows():
            mrng = self.rng(11)
            for mid, i, kind, day, status, coord, _units in meetings:
                start = at(day, mrng.choice((420, 480, 540, 720, 780)))
                end = start + datetime.timedelta(minutes=mrng.choice((60, 60, 90)))
                video = "https://video.bench.samverkan.invalid/m" if mrng.random() < 0.2 else ""
                if status == "held":
                    self.held.append((mid, i, day))
                yield (mid, self.sip_base + i, kind, start, end, "Mötesrum" if not video else "", video, status,
                       end if status == "held" else None, "Minnesanteckningar från mötet." if status == "held" else "",
                       coord, 1, at(day - 14, 600), end if status == "held" else at(day - 14, 600))
        self.loader.load(Meeting, ["id", "sip_id", "kind", "starts_at", "ends_at", "location", "video_link",
                                   "status", "held_at", "minutes", "convened_by_id", "version", "created_at",
                                   "updated_at"], meeting_rows())

        self.respondents = {}  # meeting id -> [(participant id, kind)]

        first_participant_rows = next_id(Participant, self.using)


        def participant_rows(p=first_participant_rows):
            prng = self.rng(12)
            for mid, _i, _kind, _day, status, coord, units in meetings:
                held = status == "held"
                rows = [("person", None, None, "", "")]
                if prng.random() < 0.2:
                    rows.append(("related", None, None, f"{prng.choice(FIRST_NAMES)} {prng.choice(LAST_NAMES)}", ""))
                rows.extend(("unit", None, u, "", "") for u in units)
                rows.append(("staff", coord, None, "", ""))
                if prng.random() < 0.05:
                    rows.append(("other", None, None, "", prng.choice(OTHERS)))
                for kind, user, unit, name, org_text in rows:
                    attended = (prng.random() < 0.92) if held else None
                    if held and attended and kind in ("person", "related"):
                        self.respondents.setdefault(mid, []).append((p, kind))
                    yield (p, mid, kind, user, unit, name, org_text, "", "", attended)
                    p += 1
        self.loader.load(Participant, ["id", "meeting_id", "kind", "user_id", "unit_id", "name", "organisation_text",
                                       "email", "phone", "attended"], participant_rows())

    # --- delaktighet: invitations, responses, answers ---------------------------------------------------------
    def delaktighet(self):
        Version = self.model("delaktighet.TemplateVersion")
        Item = self.model("delaktighet.Item")
        Invitation = self.model("delaktighet.Invitation")
        Response = self.model("delaktighet.Response")
        Answer = self.model("delaktighet.Answer")
        version = Version.objects.using(self.using).filter(template__key="delaktighet").published() \
            .order_by("-number").first()
        if version is None:
            self.say("  (no published delaktighet template: questionnaires skipped)")
            return
        items = list(Item.objects.using(self.using).filter(version=version).order_by("order"))
        scale_items = [it.pk for it in items if it.kind == "scale_1_6"]
        text_items = [it.pk for it in items if it.kind == "free_text"]
        per_response = len(scale_items) * 0.93 + len(text_items) * 0.08
        target_responses = self.scale.answers / per_response
        candidates = sum(len(self.respondents.get(mid, ())) for mid, _i, _d in self.held)
        invite_p = 0.85
        answer_p = min(0.95, target_responses / max(1, candidates * invite_p))
        rng = self.rng(13)
        invitations, responses = [], []
        inv_id = next_id(Invitation, self.using)
        resp_id = next_id(Response, self.using)
        for mid, i, day in self.held:
            lead = self.skeleton[i][6]
            coord = self.skeleton[i][5]
            for pid, kind in self.respondents.get(mid, ()):
                if rng.random() >= invite_p:
                    continue
                created = at(day, 960)
                r = rng.random()
                status = "answered" if r < answer_p else ("declined" if r < answer_p + 0.1 else "sent")
                channel = rng.choice(("sms", "sms", "email", "paper"))
                closed = at(min(self.T, day + rng.randrange(0, 12)), 1100) if status != "sent" else None
                invitations.append((inv_id, mid, pid, self.sip_base + i, version.pk, channel, status, created, created,
                                    created + datetime.timedelta(days=14),
                                    created + datetime.timedelta(days=5) if rng.random() < 0.4 else None, closed))
                if status == "answered":
                    if kind == "person":
                        gender = self.person_gender[i]
                        age = day_year(day) - self.person_year[i]
                        band = "-24" if age < 25 else "25-44" if age < 45 else "45-64" if age < 65 else "65-"
                    else:
                        gender, band = "vill_ej_uppge", "unknown"
                    paper = channel == "paper"
                    responses.append((resp_id, inv_id, version.pk, closed, "paper" if paper else "self",
                                      coord if paper else None, rng.random() < 0.3, kind, gender, band, lead,
                                      datetime.date.fromordinal(day)))
                    resp_id += 1
                inv_id += 1
        self.loader.load(Invitation, ["id", "meeting_id", "participant_id", "sip_id", "version_id", "channel",
                                      "status", "created_at", "delivered_at", "expires_at", "reminder_sent_at",
                                      "closed_at"], invitations)
        self.loader.load(Response, ["id", "invitation_id", "version_id", "submitted_at", "mode", "registered_by_id",
                                    "share_with_staff", "respondent_kind", "gender", "age_band",
                                    "lead_organisation_id", "meeting_held_on"], responses)
        del invitations

        first_answer_rows = next_id(Answer, self.using)


        def answer_rows(k=first_answer_rows):
            arng = self.rng(14)
            weights = {"kvinna": [3, 5, 9, 18, 30, 35], "man": [4, 6, 11, 20, 29, 30]}
            for rid, *_rest in responses:
                gender = _rest[7]
                cum = list(accumulate(weights.get(gender, [5, 7, 12, 20, 28, 28])))
                for item in scale_items:
                    if arng.random() < 0.93:
                        yield (k, rid, item, bisect(cum, arng.random() * cum[-1]) + 1, "")
                        k += 1
                for item in text_items:
                    if arng.random() < 0.08:
                        yield (k, rid, item, None, "Bra möte, men kallelsen kom sent.")
                        k += 1
        self.loader.load(Answer, ["id", "response_id", "item_id", "value_int", "value_text"], answer_rows())

    # --- forums ----------------------------------------------------------------------------------------------
    def forums(self):
        rng = self.rng(15)
        Forum = self.model("avvikelser.Forum")
        ForumMember = self.model("avvikelser.ForumMember")
        Agreement = self.model("avvikelser.Agreement")
        self.forum_of = {}
        forums, links, members, agreements = [], [], [], []
        fid = next_id(Forum, self.using)
        for kommun in self.kommuner:
            region = kommun.region
            forums.append((fid, f"Samverkansforum {kommun.name} – {region.name}", 5, 60, self.now))
            self.forum_of[kommun.id] = fid
            links += [(fid, kommun.id), (fid, region.id)]
            chosen = [(kommun.lead_staff[1], "processledare"), (region.lead_staff[1], "processledare"),
                      (kommun.lead_staff[2], "ordforande"), (region.lead_staff[2], "ledamot")]
            for _ in range(rng.randrange(1, 4)):
                org = rng.choice((kommun, region))
                staff = self.unit_staff.get(org.picker.pick(rng))
                if staff:
                    chosen.append((rng.choice(staff), "ledamot"))
            if kommun is self.largest_kommun:
                chosen.append((self.persona_ids["bench_forum"], "processledare"))
            seen = set()
            for uid, role in chosen:
                if uid not in seen:
                    seen.add(uid)
                    members.append((fid, uid, role))
            for name in AGREEMENTS:
                agreements.append((fid, name))
            fid += 1
        self.loader.load(Forum, ["id", "name", "acknowledge_working_days", "answer_days", "created_at"], forums)
        through = Forum.organisations.through
        base = next_id(through, self.using)
        self.loader.load(through, ["id", "forum_id", "organisation_id"],
                         ((base + j, f, o) for j, (f, o) in enumerate(links)))
        base = next_id(ForumMember, self.using)
        self.loader.load(ForumMember, ["id", "forum_id", "user_id", "role"],
                         ((base + j, f, u, r) for j, (f, u, r) in enumerate(members)))
        base = next_id(Agreement, self.using)
        self.agreements = {}
        rows = []
        for j, (f, name) in enumerate(agreements):
            rows.append((base + j, f, name, True))
            self.agreements.setdefault(f, []).append(base + j)
        self.loader.load(Agreement, ["id", "forum_id", "name", "active"], rows)

    # --- deviations: five years, seasonal, with planted rises --------------------------------------------------
    def deviations(self):
        Category = self.model("avvikelser.Category")
        Deviation = self.model("avvikelser.Deviation")
        rng = self.rng(16)
        cats = {c.key: c.pk for c in Category.objects.using(self.using).filter(retired_at__isnull=True)}
        categories = [(cats[k], w) for k, w in CATEGORY_WEIGHTS.items() if k in cats] or \
            [(pk, 1) for pk in cats.values()]
        first_month = _month_index(datetime.date.fromordinal(self.T - DAYS + 1))
        last_month = _month_index(self.today)
        months = list(range(first_month, last_month + 1))
        series = []  # (reporting org, counterpart org, forum, category, base weight)
        for kommun in self.kommuner:
            forum = self.forum_of[kommun.id]
            for src, dst, share in ((kommun, kommun.region, 0.6), (kommun.region, kommun, 0.4)):
                for cat, w in categories:
                    series.append((src, dst, forum, cat, kommun.weight * share * w))
        # Planted rises: ~4 % of the series (always one in the largest forum), from 6–24 months back, ×2–3.
        rises = {}
        for s in range(len(series)):
            if rng.random() < 0.04:
                rises[s] = (last_month - rng.randrange(6, 25), rng.uniform(2, 3))
        largest = [s for s, row in enumerate(series) if row[0] is self.largest_kommun]
        if largest:
            s = max(largest, key=lambda s: series[s][4])
            rises[s] = (last_month - 9, 2.5)

        def factor(s, m):
            month = m % 12
            growth = 0.6 + 0.6 * (m - first_month) / max(1, last_month - first_month)
            f = SEASON[month] * growth
            rise = rises.get(s)
            if rise and m >= rise[0]:
                f *= rise[1]
            return f

        expected = sum(series[s][4] * factor(s, m) for s in range(len(series)) for m in months)
        scale = self.scale.deviations / expected
        self.summary["planted_rises"] = [
            {"reporting_organisation": series[s][0].name, "counterpart_organisation": series[s][1].name,
             "category_id": series[s][3], "from_month": _month_label(rise[0]), "factor": round(rise[1], 2)}
            for s, rise in sorted(rises.items())][:50]
        self.summary["planted_rise_count"] = len(rises)
        T = self.T
        start_ord = T - DAYS + 1

        first_rows = next_id(Deviation, self.using)


        def rows(k=first_rows):
            drng = self.rng(17)
            for s, (src, dst, forum, cat, w) in enumerate(series):
                agreements = self.agreements.get(forum, [])
                for m in months:
                    count = poisson(drng, w * scale * factor(s, m))
                    if not count:
                        continue
                    year, month = divmod(m, 12)
                    lo = max(start_ord, datetime.date(year, month + 1, 1).toordinal())
                    hi = min(T, _month_end(year, month + 1).toordinal())
                    for _ in range(count):
                        day = drng.randrange(lo, hi + 1)
                        unit = src.picker.pick(drng)
                        reporter = drng.choice(self.unit_staff[unit])
                        cp_unit = dst.picker.pick(drng) if drng.random() < 0.4 else None
                        r = drng.random()
                        agreement = drng.choice(agreements) if r < 0.4 and agreements else None
                        agreement_other = "Lokal rutin" if 0.4 <= r < 0.45 else ""
                        yield (k, reporter, unit, src.id, dst.id, cp_unit, forum, _d(day), agreement,
                               agreement_other, cat, WHAT[(k + cat) % len(WHAT)],
                               *self._deviation_state(drng, day, T))
                        k += 1

        self.loader.load(Deviation, ["id", "reporter_id", "reporting_unit_id", "reporting_organisation_id",
                                     "counterpart_organisation_id", "counterpart_unit_id", "forum_id", "occurred_on",
                                     "agreement_id", "agreement_other", "category_id", "what_happened",
                                     "immediate_action", "consequence", "suggestion", "sip_id", "state",
                                     "submitted_at", "acknowledge_due_at", "acknowledged_at", "answer_due_at",
                                     "answered_at", "analysis", "measures", "closed_at", "escalated_at", "version",
                                     "created_at", "updated_at"], rows())

    def _deviation_state(self, rng, day: int, T: int):
        ago = T - day
        r = rng.random()
        if ago > 120:
            state = ("avslutad", "besvarad", "eskalerad", "utkast")[bisect([0.88, 0.94, 0.995], r)]
        elif ago > 60:
            state = ("avslutad", "besvarad", "mottagen", "eskalerad", "inkommen")[bisect([0.5, 0.75, 0.9, 0.95], r)]
        elif ago > 14:
            state = ("mottagen", "besvarad", "inkommen", "avslutad", "eskalerad", "utkast")[
                bisect([0.35, 0.55, 0.8, 0.9, 0.95], r)]
        else:
            state = ("inkommen", "mottagen", "utkast")[bisect([0.55, 0.75], r)]
        consequence = ("ingen", "risk", "skada", "okand")[bisect([0.35, 0.8, 0.88], rng.random())]
        now = self.now
        created = at(day, rng.randrange(420, 960))
        submitted = ack_due = acked = answer_due = answered = closed = escalated = None
        analysis = measures = ""
        if state != "utkast":
            submitted = min(now, created + datetime.timedelta(days=rng.randrange(0, 4), minutes=rng.randrange(5, 300)))
            ack_due = submitted + datetime.timedelta(days=7)
            answer_due = submitted + datetime.timedelta(days=60)
            if state in ("mottagen", "besvarad", "avslutad") or (state == "eskalerad" and r < 0.5):
                acked = min(now, submitted + datetime.timedelta(days=rng.randrange(0, 9), hours=rng.randrange(1, 8)))
            if state in ("besvarad", "avslutad"):
                answered = min(now, acked + datetime.timedelta(days=rng.randrange(3, 55)))
                analysis = "Rutinen var inte känd på enheten."
                measures = "Rutinen har gåtts igenom på arbetsplatsträff."
            if state == "avslutad":
                closed = min(now, answered + datetime.timedelta(days=rng.randrange(1, 15)))
            if state == "eskalerad":
                escalated = min(now, submitted + datetime.timedelta(days=rng.randrange(8, 70)))
        updated = max(x for x in (created, submitted, acked, answered, closed, escalated) if x is not None)
        return ("Kontaktade enheten per telefon." if rng.random() < 0.5 else "", consequence,
                "Tydligare rutin för överrapportering." if rng.random() < 0.3 else "", None, state, submitted,
                ack_due, acked, answer_due, answered, analysis, measures, closed, escalated, 1, created, updated)


def _d(ordinal):
    return datetime.date.fromordinal(ordinal) if ordinal else None


def day_year(ordinal: int) -> int:
    return datetime.date.fromordinal(ordinal).year


def _month_index(day: datetime.date) -> int:
    return day.year * 12 + day.month - 1


def _month_label(index: int) -> str:
    year, month = divmod(index, 12)
    return f"{year}-{month + 1:02d}"


def _month_end(year: int, month: int) -> datetime.date:
    if month == 12:
        return datetime.date(year, 12, 31)
    return datetime.date(year, month + 1, 1) - datetime.timedelta(days=1)


# --- reset ---------------------------------------------------------------------------------------------------

KEEP = {"avvikelser.category", "avvikelser.categoryevent", "delaktighet.template", "delaktighet.templateversion",
        "delaktighet.item", "contenttypes.contenttype", "auth.permission", "sessions.session"}
ROOTS = {"organisations.organisation", "organisations.user", "auth.group", "avvikelser.forum"}


def reset(using: str = "default", out=None) -> list[str]:
    """Remove organisations, units, users and everything hanging off them (persons, SIPs, deviations, forums,
    questionnaire answers, audit rows); keeps the category taxonomy, the templates and permissions."""
    connection = connections[using]
    models = [m for m in apps.get_models(include_auto_created=True) if m._meta.managed and not m._meta.proxy]
    label = {m: m._meta.label_lower for m in models}
    doomed = {m for m in models if label[m] in ROOTS}
    changed = True
    while changed:
        changed = False
        for m in models:
            if m in doomed or label[m] in KEEP:
                continue
            for f in m._meta.concrete_fields:
                if f.is_relation and f.related_model in doomed:
                    doomed.add(m)
                    changed = True
                    break
    started = time.monotonic()
    with transaction.atomic(using=using):
        # Kept rows pointing at doomed ones (e.g. CategoryEvent.actor) lose the pointer.
        for m in models:
            if label[m] in KEEP:
                for f in m._meta.concrete_fields:
                    if f.is_relation and f.related_model in doomed and f.null:
                        m.objects.using(using).exclude(**{f.attname: None}).update(**{f.attname: None})
        tables = sorted(m._meta.db_table for m in doomed)
        # Tables that kept ones refer to cannot be truncated (even with the pointers nulled): delete those rows.
        referenced = sorted({f.related_model._meta.db_table for m in models if label[m] in KEEP
                             for f in m._meta.concrete_fields if f.is_relation and f.related_model in doomed})
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                truncated = [t for t in tables if t not in referenced]
                cursor.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in truncated) + " RESTART IDENTITY")
                for t in referenced:
                    cursor.execute(f'DELETE FROM "{t}"')
            else:
                for t in tables:
                    cursor.execute(f'DELETE FROM "{t}"')
    if out is not None:
        out.write(f"reset: emptied {len(tables)} tables in {time.monotonic() - started:.1f} s\n")
    return tables
