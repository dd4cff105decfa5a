"""The data-protection screens: gallring preview, registerutdrag and radering for org_admins, nobody else.

The personnummer travels only in POST bodies: it never comes back in a page, a URL, a redirect or a message."""

import base64
import datetime
import io
import json
import re

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from frontend.context_processors import org_admin_nav
from organisations import retention
from organisations.models import AuditAction, AuditEntry, Role, User
from sip.models import Person
from tests.conftest import PLAN_PERSONNUMMER, make_plan
from tests.dataskydd.conftest import closed_plan, personnummer, register
from tests.frontend.conftest import browser_for

pytestmark = pytest.mark.django_db

OVERVIEW = reverse("frontend:dataskydd")
EXTRACT = reverse("frontend:dataskydd_registerutdrag")
ERASE = reverse("frontend:dataskydd_erasure")
CONFIRM = reverse("frontend:dataskydd_erasure_confirm")
NOT_HELD = "Ingen person med det numret finns hos din organisation."


def _forms(number: str) -> set[str]:
    """The ways a number can be written: as typed, without the dash, and the canonical 12 digits."""
    digits = re.sub(r"\D", "", number)
    century = "19" if len(digits) == 10 else ""
    return {number, digits, century + digits, f"{century}{digits[:8]}-{digits[8:]}" if century else number}


def assert_never_echoed(response, number: str) -> None:
    text = response.content.decode() if "attachment" not in response.get("Content-Disposition", "") else ""
    shown = " ".join([text, response.get("Location", ""), response.get("Content-Disposition", ""),
                      *(str(m) for m in (response.context or {}).get("messages", []) or [])])
    for form in _forms(number):
        assert form not in shown, f"{form} came back in the response"


def admin(world):
    return browser_for(world.users_a[Role.ORG_ADMIN])


def test_org_admin_sees_the_pages_and_the_nav_link(world):
    client = admin(world)
    overview = client.get(OVERVIEW)
    assert overview.status_code == 200
    page = overview.content.decode()
    for rule in retention.rules():
        assert rule.key in page
    assert "Nästa gallringskörning" in page and "Berörs nu" in page
    assert f'href="{OVERVIEW}"' in page  # the nav link
    for path in (EXTRACT, ERASE):
        response = client.get(path)
        assert response.status_code == 200
        assert 'name="personnummer"' in response.content.decode()
    # Strict CSP: no inline script or style on these pages.
    for response in (overview, client.get(EXTRACT), client.get(ERASE)):
        body = response.content.decode()
        assert "style=" not in body and not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body)


@pytest.mark.parametrize("who", ["samordnare", "behandlare", "outsider", "b_socialsekreterare"])
def test_others_are_refused(world, who):
    user = {"outsider": world.outsider, "b_socialsekreterare": world.users_b[Role.SOCIALSEKRETERARE]}.get(
        who) or world.users_a[who]
    client = browser_for(user)
    for method, path in (("get", OVERVIEW), ("get", EXTRACT), ("post", EXTRACT), ("get", ERASE), ("post", ERASE),
                         ("post", CONFIRM)):
        response = getattr(client, method)(path, {"personnummer": PLAN_PERSONNUMMER} if method == "post" else None)
        assert response.status_code == 403, (method, path)
        assert "Endast organisationsadministratörer" in response.content.decode()
        assert f'href="{OVERVIEW}"' not in response.content.decode()  # no nav link either


def test_anonymous_goes_to_login(client):
    response = client.get(OVERVIEW)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_registerutdrag_downloads_json_and_is_audited(world):
    plan = make_plan(world)
    response = admin(world).post(EXTRACT, {"personnummer": PLAN_PERSONNUMMER, "format": "json"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == f'attachment; filename="registerutdrag-{plan.person.pk}.json"'
    assert response["Cache-Control"] == "no-store"
    data = json.loads(response.content)
    assert data["person"]["first_name"] == "Kim" and [s["id"] for s in data["sips"]] == [plan.sip.pk]
    entry = AuditEntry.objects.get(person_id=plan.person.pk, action=AuditAction.EXPORT)
    assert entry.actor_id == world.users_a[Role.ORG_ADMIN].pk and sorted(entry.fields) == ["json", "registerutdrag"]


def test_registerutdrag_downloads_a_pdf_that_opens(world):
    plan = make_plan(world)
    response = admin(world).post(EXTRACT, {"personnummer": PLAN_PERSONNUMMER, "format": "pdf"})

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="registerutdrag-{plan.person.pk}.pdf"'
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages))
    assert "Registerutdrag" in text and "Kim Andersson" in text
    [entry] = AuditEntry.objects.filter(person_id=plan.person.pk, action=AuditAction.EXPORT)
    assert sorted(entry.fields) == ["pdf", "registerutdrag"]


def test_registerutdrag_errors_in_swedish_without_the_number(world):
    make_plan(world)
    client = admin(world)
    bad = client.post(EXTRACT, {"personnummer": "811218-9877", "format": "pdf"})
    assert bad.status_code == 400
    assert "Ogiltigt personnummer" in bad.content.decode()
    assert_never_echoed(bad, "811218-9877")

    unknown = client.post(EXTRACT, {"personnummer": personnummer(99), "format": "json"})
    assert unknown.status_code == 404 and NOT_HELD in unknown.content.decode()
    assert_never_echoed(unknown, personnummer(99))

    # Another organisation's person answers exactly like an unknown one.
    other = browser_for(world.users_b[Role.ORG_ADMIN]).post(EXTRACT, {"personnummer": PLAN_PERSONNUMMER,
                                                                     "format": "json"})
    assert other.status_code == 404 and NOT_HELD in other.content.decode()
    assert_never_echoed(other, PLAN_PERSONNUMMER)
    assert not AuditEntry.objects.filter(action=AuditAction.EXPORT).exists()


def test_blocked_erasure_shows_the_rules_in_swedish(world):
    plan = make_plan(world)
    client = admin(world)
    response = client.post(ERASE, {"personnummer": PLAN_PERSONNUMMER})

    assert response.status_code == 409
    page = response.content.decode()
    assert "Personen kan inte raderas" in page and "Pågående plan" in page
    assert "Personen har en pågående SIP. Avsluta eller avbryt planen först." in page
    assert 'name="token"' not in page
    assert_never_echoed(response, PLAN_PERSONNUMMER)
    assert "dataskydd_erasure_pending" not in client.session
    assert Person.objects.filter(pk=plan.person.pk).exists()

    person = register(world, 31)
    closed_plan(world, person, timezone.localdate())
    kept = client.post(ERASE, {"personnummer": personnummer(31)})
    assert kept.status_code == 409 and "Bevarandeskyldighet" in kept.content.decode()
    assert "sip.closed_plans" in kept.content.decode()


def test_erasure_needs_confirmation_and_is_audited(world):
    person = register(world, 33, first_name="Radera", last_name="Mig")
    number = personnummer(33)
    client = admin(world)

    asked = client.post(ERASE, {"personnummer": number})

    assert asked.status_code == 200
    assert_never_echoed(asked, number)
    assert "Radera" not in re.sub(r"Radera personen|Radering|radera", "", asked.content.decode())  # no name
    token = re.search(r'name="token" value="([^"]+)"', asked.content.decode()).group(1)
    payload = base64.urlsafe_b64decode(token.split(":")[0] + "==").decode()
    for form in _forms(number):
        assert form not in token and form not in payload
    assert Person.objects.filter(pk=person.pk).exists()  # nothing happens before the confirmation

    done = client.post(CONFIRM, {"token": token, "action": "erase"})

    assert done.status_code == 302 and done["Location"] == ERASE
    assert_never_echoed(done, number)
    assert not Person.objects.filter(pk=person.pk).exists()
    [entry] = AuditEntry.objects.filter(person_id=person.pk, action=AuditAction.DELETE)
    assert entry.actor_id == world.users_a[Role.ORG_ADMIN].pk and entry.fields == ["radering"]
    shown = client.get(done["Location"])
    assert "Personen är raderad" in shown.content.decode()
    assert_never_echoed(shown, number)


def test_confirmation_is_single_use_short_lived_and_bound_to_the_session(world, monkeypatch):
    person = register(world, 34)
    number = personnummer(34)
    client = admin(world)

    def ask():
        page = client.post(ERASE, {"personnummer": number}).content.decode()
        return re.search(r'name="token" value="([^"]+)"', page).group(1)

    # Another session (the same user signed in elsewhere) cannot use the token.
    token = ask()
    elsewhere = admin(world).post(CONFIRM, {"token": token, "action": "erase"}, follow=True)
    assert "Bekräftelsen har gått ut" in elsewhere.content.decode()
    # Cancelling keeps the person and spends the token.
    cancelled = client.post(CONFIRM, {"token": token, "action": "cancel"}, follow=True)
    assert "Raderingen är avbruten" in cancelled.content.decode()
    assert client.post(CONFIRM, {"token": token, "action": "erase"})["Location"] == ERASE
    assert Person.objects.filter(pk=person.pk).exists()
    # A tampered or expired token is refused.
    token = ask()
    assert client.post(CONFIRM, {"token": token[:-2] + "xx", "action": "erase"})["Location"] == ERASE
    token = ask()
    monkeypatch.setattr("frontend.dataskydd_views.CONFIRM_SECONDS", -1)
    expired = client.post(CONFIRM, {"token": token, "action": "erase"}, follow=True)
    assert "Bekräftelsen har gått ut" in expired.content.decode()
    assert Person.objects.filter(pk=person.pk).exists()
    assert not AuditEntry.objects.filter(person_id=person.pk, action=AuditAction.DELETE).exists()


def test_rules_are_checked_again_at_the_confirmation(world):
    person = register(world, 35)
    number = personnummer(35)
    client = admin(world)
    page = client.post(ERASE, {"personnummer": number}).content.decode()
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    register(world, 35, org="b")  # meanwhile organisation B registers the person

    response = client.post(CONFIRM, {"token": token, "action": "erase"})

    assert response.status_code == 409
    assert "Uppgifter hos en annan organisation" in response.content.decode()
    assert_never_echoed(response, number)
    assert Person.objects.filter(pk=person.pk).exists()


def test_nav_check_costs_at_most_one_query(world):
    request = RequestFactory().get("/")
    request.user = User.objects.get(pk=world.users_a[Role.SAMORDNARE].pk)
    with CaptureQueriesContext(connection) as ctx:
        is_org_admin = org_admin_nav(request)["is_org_admin"]
        assert is_org_admin() is False and is_org_admin() is False
    assert len(ctx.captured_queries) <= 1
    request.user = User.objects.get(pk=world.users_a[Role.ORG_ADMIN].pk)
    assert org_admin_nav(request)["is_org_admin"]() is True


def test_next_run_is_the_nightly_crontab():
    moment = timezone.localtime(retention.next_run())
    now = timezone.localtime()
    assert now < moment <= now + datetime.timedelta(days=1, minutes=1)
    assert (moment.hour, moment.minute) == (3, 30)
