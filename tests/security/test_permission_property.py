"""Permission property test: Hypothesis generates organisations (kommun/region), units, users with memberships and
roles, persons, plans with participating units and consents (given, withdrawn, expired), deviations between
organisations in several states, forums with members and designated contact persons — built through the services,
as the product builds them. Then, for every user and every object, what the API lists and fetches must equal what
an independent oracle, written from the rules of README "How permissions work" / DOMAIN.md, allows: nothing more,
nothing less, hidden objects answer 404 (403 for a signed-in user without an active membership).

The oracle never calls the access modules; it decides from the generated specification alone:

* staff: an active membership in an active unit of an active organisation;
* a plan: a staff member of a unit taking part in it, when the unit's organisation has an active consent (given,
  not withdrawn, not expired) — or it is the initiating organisation and no consent is recorded for it yet;
  the same for the plan's history, timeline, FHIR export, parts and meeting calendar (.ics);
* a person: linked to one of the user's units (registered there) or in a plan the user sees; with protected
  identity the name only to those seeing one of the person's plans;
* a deviation: in full to the reporting unit, and once submitted to the counterpart — members of the
  counterpart unit and the counterpart organisation's designated contact persons who work there; pseudonymised
  to members of the forum spanning both organisations (the first such forum) once submitted; 404 for everyone
  else — list, detail, history and comments alike (no staff names in the pseudonymised ones);
* a forum, its patterns and its reports (the forum's submitted deviations): members only;
* the delaktighet report: only for the user's own organisations.

Bounded by PERMISSION_EXAMPLES (env SAMVERKAN_PERMISSION_EXAMPLES, default 25). The number of user × object ×
endpoint decisions checked is printed at the end of the session as "permission cases checked".
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from tests.security.conftest import FIGURES

pytestmark = pytest.mark.django_db

PERMISSION_EXAMPLES = int(os.environ.get("SAMVERKAN_PERMISSION_EXAMPLES", "25"))
# CI draws the same worlds every run; set SAMVERKAN_SECURITY_RANDOM=1 locally to explore new ones.
DERANDOMIZE = not os.environ.get("SAMVERKAN_SECURITY_RANDOM")
ROLES = ["socialsekreterare", "behandlare", "samordnare", "processledare", "styrgruppsledamot", "org_admin"]
CONSENT_STATES = ["none", "given", "withdrawn", "expired"]
PERSONNUMMER = ["811218-9876", "850704-9867", "19121212-1212", "640823-3234"]


# --- the specification Hypothesis draws ----------------------------------------------------------------------------

@dataclass
class Spec:
    orgs: list[dict]  # {"kind", "active"}
    units: list[dict]  # {"org", "active"}
    users: list[dict]  # {"memberships": [{"unit", "role", "active"}]}
    contacts: list[tuple[int, int]]  # (org, user)
    persons: list[dict]  # {"registered_by": user, "protected": bool}
    sips: list[dict]  # {"person", "initiator", "unit", "units": [...], "consents": {org: state}}
    forums: list[dict]  # {"orgs": [...], "members": {user: role}}
    deviations: list[dict]  # {"reporter", "unit", "counterpart_org", "counterpart_unit", "state", "comment"}


@st.composite
def specs(draw) -> Spec:
    n_orgs = draw(st.integers(2, 3))
    orgs = [{"kind": ["kommun", "region"][i % 2] if i < 2 else draw(st.sampled_from(["kommun", "region"])),
             "active": True if i < 2 else draw(st.booleans())} for i in range(n_orgs)]
    units = [{"org": o, "active": True} for o in range(n_orgs)]
    for _extra in range(draw(st.integers(0, 2))):
        units.append({"org": draw(st.integers(0, n_orgs - 1)), "active": draw(st.booleans())})
    n_units = len(units)
    users = []
    for _i in range(draw(st.integers(2, 5))):
        memberships, taken = [], set()
        for _j in range(draw(st.integers(1, 2))):
            unit = draw(st.integers(0, n_units - 1))
            if unit in taken:
                continue
            taken.add(unit)
            memberships.append({"unit": unit, "role": draw(st.sampled_from(ROLES)),
                                "active": draw(st.sampled_from([True, True, True, False]))})
        users.append({"memberships": memberships})
    n_users = len(users)

    def works_in(user, org):
        return any(units[m["unit"]]["org"] == org for m in users[user]["memberships"])

    contacts = []
    for org in range(n_orgs):
        # A designated contact who works (or worked: an inactive membership) in the organisation, and now and
        # then someone from elsewhere.
        candidates = [u for u in range(n_users) if works_in(u, org)]
        pick = draw(st.sampled_from([None, *candidates, *range(n_users)]))
        if pick is not None:
            contacts.append((org, pick))

    persons = [{"registered_by": draw(st.integers(0, n_users - 1)), "protected": draw(st.booleans())}
               for _i in range(draw(st.integers(1, 3)))]
    sips = []
    for _i in range(draw(st.integers(0, 3))):
        person = draw(st.integers(0, len(persons) - 1))
        initiator = draw(st.integers(0, n_users - 1))
        unit = draw(st.sampled_from([m["unit"] for m in users[initiator]["memberships"]]))
        others = sorted(set(draw(st.lists(st.integers(0, n_units - 1), max_size=3))) - {unit})
        orgs_in = sorted({units[u]["org"] for u in [unit, *others]})
        consents = {org: draw(st.sampled_from(CONSENT_STATES)) for org in orgs_in}
        sips.append({"person": person, "initiator": initiator, "unit": unit, "units": others, "consents": consents})
    forums = []
    for _i in range(draw(st.integers(0, 2))):
        members = draw(st.dictionaries(st.integers(0, n_users - 1), st.sampled_from(["ledamot", "processledare"]),
                                       max_size=3))
        forum_orgs = sorted(set(draw(st.lists(st.integers(0, n_orgs - 1), min_size=2, max_size=3))))
        if len(forum_orgs) >= 2:
            forums.append({"orgs": forum_orgs, "members": members})
    deviations = []
    for _i in range(draw(st.integers(0, 4))):
        reporter = draw(st.integers(0, n_users - 1))
        unit = draw(st.sampled_from([m["unit"] for m in users[reporter]["memberships"]]))
        others = [o for o in range(n_orgs) if o != units[unit]["org"]]
        counterpart = draw(st.sampled_from(others))
        cp_unit = draw(st.sampled_from([None, *[i for i, u in enumerate(units) if u["org"] == counterpart]]))
        deviations.append({"reporter": reporter, "unit": unit, "counterpart_org": counterpart,
                           "counterpart_unit": cp_unit, "state": draw(st.sampled_from(["utkast", "inkommen"])),
                           "comment": draw(st.booleans())})
    return Spec(orgs, units, users, contacts, persons, sips, forums, deviations)


# --- building it through the services -----------------------------------------------------------------------------

@dataclass
class Built:
    orgs: list = field(default_factory=list)
    units: list = field(default_factory=list)
    users: list = field(default_factory=list)
    persons: list = field(default_factory=list)
    sips: list = field(default_factory=list)  # Sip or None when the spec could not be built (see build)
    meetings: list = field(default_factory=list)
    forums: list = field(default_factory=list)
    deviations: list = field(default_factory=list)


def build(spec: Spec) -> Built:
    from avvikelser import services as deviations
    from avvikelser.models import Category, ContactPerson, Forum, ForumMember
    from organisations import access
    from organisations import services as org_services
    from organisations.models import Membership, Organisation, Unit
    from sip import services as sips
    from sip.models import Consent
    from tests.factories import OrganisationFactory, UnitFactory, UserFactory

    built = Built()
    for i, org in enumerate(spec.orgs):
        built.orgs.append(OrganisationFactory(name=f"Org {i}", kind=org["kind"]))
    for i, unit in enumerate(spec.units):
        built.units.append(UnitFactory(organisation=built.orgs[unit["org"]], name=f"Enhet {i}"))
    for i, user in enumerate(spec.users):
        account = UserFactory(username=f"prop{i}")
        for membership in user["memberships"]:
            org_services.add_membership(None, user=account, unit=built.units[membership["unit"]],
                                        role=membership["role"], check_access=False)
        built.users.append(account)
    for org, user in spec.contacts:
        ContactPerson.objects.get_or_create(organisation=built.orgs[org], user=built.users[user])
    for i, forum_spec in enumerate(spec.forums):
        forum = Forum.objects.create(name=f"Forum {i}")
        forum.organisations.set([built.orgs[o] for o in forum_spec["orgs"]])
        for user, role in forum_spec["members"].items():
            ForumMember.objects.create(forum=forum, user=built.users[user], role=role)
        built.forums.append(forum)

    def fresh(user_index):
        account = built.users[user_index]
        access.forget(account)
        return account

    for i, person_spec in enumerate(spec.persons):
        person, _created = sips.find_or_register_person(
            fresh(person_spec["registered_by"]), identifier=PERSONNUMMER[i], first_name=f"Förnamn{i}",
            last_name="Efternamn", protected_identity=person_spec["protected"])
        built.persons.append(person)

    today = timezone.localdate()
    for sip_spec in spec.sips:
        actor = fresh(sip_spec["initiator"])
        person = built.persons[sip_spec["person"]]
        # The initiator registers or looks the person up first (that links their unit, as in the product).
        sips.lookup_person(actor, person.identifier)
        spec.persons[sip_spec["person"]].setdefault("looked_up_by", set()).add(sip_spec["initiator"])
        sip = sips.create_sip(actor, person=person, initiating_unit=built.units[sip_spec["unit"]],
                              units=[built.units[u] for u in sip_spec["units"]])
        start = timezone.now() + datetime.timedelta(days=2)
        built.meetings.append(sips.create_meeting(actor, sip, kind="sip", starts_at=start,
                                                  ends_at=start + datetime.timedelta(hours=1), location="Rum 1"))
        given_consents = {}
        for org, state in sip_spec["consents"].items():
            if state != "none":
                given_consents[org] = sips.give_consent(
                    actor, sip, organisation=built.orgs[org], method="oral", scope="Hela planen",
                    valid_until=today + datetime.timedelta(days=30) if state == "expired" else None)
        initiating_org = spec.units[sip_spec["unit"]]["org"]
        # Withdraw the others' first: once the initiating organisation's own consent is withdrawn, its staff
        # (the actor) no longer reach the plan.
        for org in sorted(given_consents, key=lambda o: o == initiating_org):
            if sip_spec["consents"][org] == "withdrawn":
                sips.withdraw_consent(actor, sip, given_consents[org])
        expired = [c.pk for o, c in given_consents.items() if sip_spec["consents"][o] == "expired"]
        if expired:
            Consent.objects.filter(pk__in=expired).update(valid_until=today - datetime.timedelta(days=1))
        built.sips.append(sip)
    if any(state == "expired" for s in spec.sips for state in s["consents"].values()):
        sips.refresh_expired_consents()  # the hourly task, after the end dates passed

    category = Category.objects.get(key="sip")
    for dev_spec in spec.deviations:
        actor = fresh(dev_spec["reporter"])
        deviation = deviations.create_draft(
            actor, reporting_unit=built.units[dev_spec["unit"]],
            counterpart_organisation=built.orgs[dev_spec["counterpart_org"]],
            counterpart_unit=built.units[dev_spec["counterpart_unit"]] if dev_spec["counterpart_unit"] is not None
            else None,
            occurred_on=today - datetime.timedelta(days=2), category=category, what_happened="Ingen återkoppling.")
        if dev_spec["state"] == "inkommen":
            deviation = deviations.transition(actor, deviation, "inkommen", deviation.version)
        if dev_spec["comment"]:
            deviations.comment(actor, deviation, "Vi följer upp.")
        built.deviations.append(deviation)

    # Last, as an administrator would: memberships ended, units and organisations closed.
    for i, user in enumerate(spec.users):
        for membership in user["memberships"]:
            if not membership["active"]:
                Membership.objects.filter(user=built.users[i], unit=built.units[membership["unit"]]).update(
                    active=False)
    Unit.objects.filter(pk__in=[built.units[i].pk for i, u in enumerate(spec.units) if not u["active"]]).update(
        active=False)
    Organisation.objects.filter(pk__in=[built.orgs[i].pk for i, o in enumerate(spec.orgs) if not o["active"]]).update(
        active=False)
    return built


# --- the oracle ---------------------------------------------------------------------------------------------------

class Oracle:
    """What each user may see, decided from the specification alone."""

    def __init__(self, spec: Spec):
        self.spec = spec

    def active_units(self, user) -> set[int]:
        return {m["unit"] for m in self.spec.users[user]["memberships"]
                if m["active"] and self.spec.units[m["unit"]]["active"]
                and self.spec.orgs[self.spec.units[m["unit"]]["org"]]["active"]}

    def active_orgs(self, user) -> set[int]:
        return {self.spec.units[u]["org"] for u in self.active_units(user)}

    def staff(self, user) -> bool:
        return bool(self.active_units(user))

    def sip_orgs_with_access(self, sip) -> set[int]:
        consents = sip["consents"]
        allowed = {org for org, state in consents.items() if state == "given"}
        initiating = self.spec.units[sip["unit"]]["org"]
        if consents.get(initiating, "none") == "none":
            allowed.add(initiating)
        return allowed

    def sees_sip(self, user, s) -> bool:
        sip = self.spec.sips[s]
        allowed = self.sip_orgs_with_access(sip)
        return any(unit in {sip["unit"], *sip["units"]} and self.spec.units[unit]["org"] in allowed
                   for unit in self.active_units(user))

    def first_unit(self, user) -> int:
        return self.spec.users[user]["memberships"][0]["unit"]

    def sees_person(self, user, p) -> bool:
        person = self.spec.persons[p]
        linkers = {person["registered_by"], *person.get("looked_up_by", ())}
        linked_units = {self.first_unit(u) for u in linkers}
        return (self.staff(user) and bool(linked_units & self.active_units(user))) or self.shows_name(user, p)

    def shows_name(self, user, p) -> bool:
        return any(self.sees_sip(user, s) for s, sip in enumerate(self.spec.sips) if sip["person"] == p)

    def forum_of(self, d) -> int | None:
        dev = self.spec.deviations[d]
        pair = {self.spec.units[dev["unit"]]["org"], dev["counterpart_org"]}
        spanning = [f for f, forum in enumerate(self.spec.forums) if pair <= set(forum["orgs"])]
        return spanning[0] if spanning else None

    def deviation_view(self, user, d) -> str | None:
        """"full", "pseudonymised" or None (404)."""
        if not self.staff(user):
            return None
        dev = self.spec.deviations[d]
        units = self.active_units(user)
        submitted = dev["state"] != "utkast"
        contact = (dev["counterpart_org"], user) in self.spec.contacts and dev["counterpart_org"] in self.active_orgs(
            user)
        if dev["unit"] in units or (submitted and (dev["counterpart_unit"] in units or contact)):
            return "full"
        forum = self.forum_of(d)
        if submitted and forum is not None and user in self.spec.forums[forum]["members"]:
            return "pseudonymised"
        return None

    def sees_forum(self, user, f) -> bool:
        return self.staff(user) and user in self.spec.forums[f]["members"]

    def forum_reports(self, f) -> set[int]:
        return {d for d, dev in enumerate(self.spec.deviations) if self.forum_of(d) == f and dev["state"] != "utkast"}


# --- comparing the API with the oracle ----------------------------------------------------------------------------

class Checker:
    def __init__(self, client, user_index, staff):
        self.client, self.user, self.staff, self.errors = client, user_index, staff, []

    def get(self, url):
        response = self.client.get(url)
        if response.status_code >= 400:
            assert response["Content-Type"].startswith("application/problem+json"), (url, response["Content-Type"])
        return response

    def detail(self, what, url, visible: bool):
        FIGURES["permission cases checked"] += 1
        response = self.get(url)
        expected = 200 if visible else (404 if self.staff else 403)
        if response.status_code != expected:
            self.errors.append(f"user {self.user} {what} {url}: {response.status_code}, rules say {expected}")
        return response if response.status_code == 200 else None

    def listing(self, what, url, universe: int, expected: set, key=lambda row: row["id"], paginated=True):
        FIGURES["permission cases checked"] += max(universe, 1)
        response = self.get(url + ("?page_size=200" if paginated else ""))
        if not self.staff:
            if response.status_code != 403:
                self.errors.append(f"user {self.user} {what} {url}: {response.status_code}, rules say 403")
            return
        rows = response.json()["results"] if paginated else response.json()
        got = {key(row) for row in rows}
        if got != expected:
            self.errors.append(f"user {self.user} {what} {url}: lists {sorted(got, key=str)}, "
                               f"rules say {sorted(expected, key=str)}")


def check_user(oracle: Oracle, built: Built, u: int) -> list[str]:
    from organisations.models import User

    spec = oracle.spec
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=built.users[u].pk))
    check = Checker(client, u, oracle.staff(u))

    # Plans and everything under them.
    sip_ids = {built.sips[s].pk for s in range(len(spec.sips)) if oracle.sees_sip(u, s)}
    check.listing("sip list", "/api/v1/sips/", len(spec.sips), sip_ids)
    for s, sip in enumerate(built.sips):
        visible = oracle.sees_sip(u, s)
        base = f"/api/v1/sips/{sip.pk}/"
        check.detail("sip", base, visible)
        for tail in ("history/", "timeline/", "fhir/", "goals/", "actions/", "meetings/", "consents/", "units/",
                     "invitations/"):
            check.detail("sip part", base + tail, visible)
        check.detail("calendar", f"{base}meetings/{built.meetings[s].pk}/calendar.ics", visible)

    # Persons, and the protected name.
    person_ids = {built.persons[p].pk for p in range(len(spec.persons)) if oracle.sees_person(u, p)}
    check.listing("person list", "/api/v1/persons/", len(spec.persons), person_ids)
    for p, person in enumerate(built.persons):
        response = check.detail("person", f"/api/v1/persons/{person.pk}/", oracle.sees_person(u, p))
        if response is not None and spec.persons[p]["protected"]:
            FIGURES["permission cases checked"] += 1
            name_shown = response.json()["last_name"] == "Efternamn"
            if name_shown != oracle.shows_name(u, p):
                check.errors.append(f"user {u} person {person.pk}: protected name shown={name_shown}, "
                                    f"rules say {oracle.shows_name(u, p)}")

    # Deviations: list, detail, history and comments with the view each side gets.
    views = {d: oracle.deviation_view(u, d) for d in range(len(spec.deviations))}
    check.listing("deviation list", "/api/v1/avvikelser/", len(spec.deviations),
                  {(built.deviations[d].pk, view) for d, view in views.items() if view},
                  key=lambda row: (row["id"], row["view"]))
    for d, deviation in enumerate(built.deviations):
        base = f"/api/v1/avvikelser/{deviation.pk}/"
        response = check.detail("deviation", base, views[d] is not None)
        if response is not None:
            FIGURES["permission cases checked"] += 1
            if response.json()["view"] != views[d]:
                check.errors.append(f"user {u} deviation {deviation.pk}: view {response.json()['view']}, "
                                    f"rules say {views[d]}")
        for tail, name_key in (("history/", "actor_name"), ("comments/", "author_name")):
            response = check.detail(f"deviation {tail}", base + tail, views[d] is not None)
            if response is not None and views[d] == "pseudonymised":
                FIGURES["permission cases checked"] += 1
                if any(row[name_key] for row in response.json()):
                    check.errors.append(f"user {u} deviation {deviation.pk} {tail}: staff names in the "
                                        "pseudonymised view")

    # Forums: list, detail, patterns and the reports behind them.
    forum_ids = {built.forums[f].pk for f in range(len(spec.forums)) if oracle.sees_forum(u, f)}
    check.listing("forum list", "/api/v1/forums/", len(spec.forums), forum_ids)
    for f, forum in enumerate(built.forums):
        visible = oracle.sees_forum(u, f)
        check.detail("forum", f"/api/v1/forums/{forum.pk}/", visible)
        check.detail("forum patterns", f"/api/v1/forums/{forum.pk}/patterns/", visible)
        response = check.detail("forum reports", f"/api/v1/forums/{forum.pk}/reports/?page_size=200", visible)
        if response is not None:
            FIGURES["permission cases checked"] += len(spec.deviations)
            got = {(row["id"], row["view"]) for row in response.json()["results"]}
            expected = {(built.deviations[d].pk, "pseudonymised") for d in oracle.forum_reports(f)}
            if got != expected:
                check.errors.append(f"user {u} forum {forum.pk} reports: {sorted(got)}, rules say {sorted(expected)}")

    # The delaktighet report, scoped to the user's own organisations.
    for o, org in enumerate(built.orgs):
        check.detail("delaktighet report", f"/api/v1/reports/delaktighet/?organisation={org.pk}",
                     o in oracle.active_orgs(u))
    return check.errors


# Always checked besides the drawn worlds: a designated contact person of the region who has left it (membership
# ended) and works in a third organisation must not keep reading the reports against the region.
CONTACT_WHO_LEFT = Spec(
    orgs=[{"kind": "kommun", "active": True}, {"kind": "region", "active": True}, {"kind": "kommun", "active": True}],
    units=[{"org": 0, "active": True}, {"org": 1, "active": True}, {"org": 2, "active": True}],
    users=[{"memberships": [{"unit": 0, "role": "socialsekreterare", "active": True}]},
           {"memberships": [{"unit": 1, "role": "behandlare", "active": False},
                            {"unit": 2, "role": "socialsekreterare", "active": True}]}],
    contacts=[(1, 1)], persons=[{"registered_by": 0, "protected": False}], sips=[], forums=[],
    deviations=[{"reporter": 0, "unit": 0, "counterpart_org": 1, "counterpart_unit": None, "state": "inkommen",
                 "comment": True}])


@example(spec=CONTACT_WHO_LEFT)
@settings(max_examples=PERMISSION_EXAMPLES, deadline=None, derandomize=DERANDOMIZE, database=None,
          suppress_health_check=list(HealthCheck))
@given(spec=specs())
def test_api_shows_exactly_what_the_rules_allow(spec):
    with transaction.atomic():
        try:
            built = build(spec)
            oracle = Oracle(spec)
            errors = []
            for u in range(len(spec.users)):
                errors.extend(check_user(oracle, built, u))
            FIGURES["permission worlds generated"] += 1
            assert not errors, "\n".join(errors[:40])
        finally:
            transaction.set_rollback(True)
