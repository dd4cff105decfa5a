"""The samverkansavvikelse screens: the gate decides (404 for everyone outside, the forum's pseudonymised view
without SIP link or staff names), the inbox is the counterpart's, the personal-data guard holds on the form,
and lists cost the same however many reports there are."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from avvikelser import services
from avvikelser.models import Category, ContactPerson, Deviation, Forum, ForumMember, State
from organisations.models import Role
from tests.factories import OrganisationFactory, UnitFactory, member
from tests.frontend.conftest import browser_for

pytestmark = pytest.mark.django_db

PERSONNUMMER = "811218-9876"


@pytest.fixture
def forum(world):
    forum = Forum.objects.create(name="Styrgrupp Malmö")
    forum.organisations.set([world.org_a, world.org_b])
    ContactPerson.objects.create(organisation=world.org_b, user=world.users_b[Role.BEHANDLARE])
    return forum


@pytest.fixture
def leader(world, forum):
    """The forum's processledare, working in organisation A but not in the reporting unit."""
    user = member(world.unit_a2, Role.PROCESSLEDARE, first_name="Pia", last_name="Processledare")
    ForumMember.objects.create(forum=forum, user=user, role="processledare")
    return user


def reporter_of(world):
    return world.users_a[Role.SOCIALSEKRETERARE]


def contact_of(world):
    return world.users_b[Role.BEHANDLARE]


def report(world, *, send=True, reporter=None, unit=None, counterpart=None, **extra):
    reporter = reporter or reporter_of(world)
    values = {"counterpart_organisation": counterpart or world.org_b, "occurred_on": datetime.date.today(),
              "category": Category.objects.get(key="sip"), "what_happened": "Kallelsen besvarades inte.", **extra}
    deviation = services.create_draft(reporter, reporting_unit=unit or world.unit_a, **values)
    if send:
        deviation = services.transition(reporter, deviation, State.INKOMMEN, deviation.version)
    return deviation


def report_urls(pk) -> list[str]:
    return [f"/avvikelser/{pk}/", f"/avvikelser/{pk}/andra/", f"/avvikelser/{pk}/status/",
            f"/avvikelser/{pk}/kommentarer/"]


def form_data(world, **extra) -> dict:
    return {"reporting_unit": world.unit_a.pk, "counterpart_organisation": world.org_b.pk,
            "occurred_on": datetime.date.today().isoformat(), "category": Category.objects.get(key="sip").pk,
            "what_happened": "Kallelsen till SIP-mötet besvarades inte.", "consequence": "risk",
            "action": "send", **extra}


# --- The gate --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["no_membership", "other_organisation", "other_unit_same_organisation",
                                 "counterpart_colleague_not_contact"])
def test_a_user_outside_both_organisations_and_the_forum_gets_404_on_every_page_and_post(world, forum, who):
    other_unit = UnitFactory(organisation=OrganisationFactory(name="Region Halland (test)", kind="region"))
    user = {
        "no_membership": world.outsider,
        "other_organisation": member(other_unit, Role.BEHANDLARE),
        "other_unit_same_organisation": member(world.unit_a2, Role.SOCIALSEKRETERARE),
        "counterpart_colleague_not_contact": world.users_b[Role.SOCIALSEKRETERARE],
    }[who]
    sent, draft = report(world), report(world, send=False)
    client = browser_for(user)
    for deviation in (sent, draft):
        for path in report_urls(deviation.pk):
            assert client.get(path).status_code == 404, f"GET {path}"
            for data in ({"target": "mottagen", "version": deviation.version},
                         {"kommentar-text": "Vi tittar på det.", "action": "draft", "version": deviation.version}):
                assert client.post(path, data).status_code == 404, f"POST {path}"
    assert client.get(f"/avvikelser/{sent.pk + 1000}/").status_code == 404
    assert Deviation.objects.get(pk=sent.pk).state == State.INKOMMEN
    assert not sent.comments.exists()


def test_anonymous_visitors_are_sent_to_login(world, forum, client):
    deviation = report(world)
    for path in ["/avvikelser/", "/avvikelser/att-besvara/", "/avvikelser/ny/", f"/avvikelser/{deviation.pk}/"]:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), path


def test_the_live_check_is_only_for_staff(world):
    client = browser_for(world.outsider)
    assert client.post("/avvikelser/granska/", {"text": PERSONNUMMER}).status_code == 404
    assert client.post("/avvikelser/maskera/", {"text": PERSONNUMMER}).status_code == 404
    assert browser_for(reporter_of(world)).get("/avvikelser/granska/").status_code == 405


# --- Full and pseudonymised view ----------------------------------------------------------------------------------

@pytest.fixture
def discussed(world, forum, plan):
    """A report linked to the plan (the link added while it was a draft), sent, commented on by the counterpart's
    contact person, acknowledged and answered."""
    reporter, contact = reporter_of(world), contact_of(world)
    draft = report(world, send=False)
    draft = services.update_draft(reporter, draft, draft.version, sip=plan.sip)
    deviation = services.transition(reporter, draft, State.INKOMMEN, draft.version)
    services.comment(contact, deviation, "Vi tar upp det på nästa arbetsplatsträff.")
    deviation = services.transition(contact, deviation, State.MOTTAGEN, deviation.version)
    return services.transition(contact, deviation, State.BESVARAD, deviation.version,
                               analysis="Kallelsen hamnade i fel funktionsbrevlåda.",
                               measures="Vi har infört en gemensam brevlåda för kallelser.")


def test_a_forum_member_sees_the_report_without_sip_link_or_staff_names(world, discussed, leader, plan):
    response = browser_for(leader).get(f"/avvikelser/{discussed.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert response.context["full"] is False
    assert "Kallelsen besvarades inte." in page and "gemensam brevlåda" in page
    assert "Vi tar upp det på nästa arbetsplatsträff." in page
    for name in (reporter_of(world).get_full_name(), contact_of(world).get_full_name(), plan.person.first_name):
        assert name not in page
    assert f"/sip/{plan.sip.pk}/" not in page
    assert f"SIP {plan.sip.pk}" not in page  # not in the facts, not in the history of the draft
    assert world.unit_a.name not in page  # units only in the full view, like the API
    # The processledare may comment and close, but not answer for the counterpart.
    assert response.context["comment_form"] is not None
    assert [t["target"] for t in response.context["transitions"]] == [State.AVSLUTAD, State.ESKALERAD]
    assert response.context["answer"] is None


def test_the_reporter_sees_the_sip_link_and_staff_names(world, discussed, plan):
    response = browser_for(reporter_of(world)).get(f"/avvikelser/{discussed.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert response.context["full"] is True
    assert f'href="/sip/{plan.sip.pk}/"' in page
    assert contact_of(world).get_full_name() in page  # the comment's author
    assert response.context["history"][0]["actor"] == reporter_of(world).get_full_name()
    assert any(row["field"] == "SIP" and row["new"] == f"SIP {plan.sip.pk}" for row in response.context["history"])
    assert [t["target"] for t in response.context["transitions"]] == [State.AVSLUTAD, State.ESKALERAD]


def test_the_counterpart_acknowledges_and_answers_and_the_reporter_closes(world, forum):
    deviation = report(world)
    contact, reporter = browser_for(contact_of(world)), browser_for(reporter_of(world))
    url = f"/avvikelser/{deviation.pk}/status/"
    assert reporter.post(url, {"target": "mottagen", "to-mottagen-version": 2}).status_code == 403
    response = contact.post(url, {"target": "mottagen", "to-mottagen-version": 2})
    assert response.status_code == 302
    page = contact.get(f"/avvikelser/{deviation.pk}/")
    assert page.context["answer"] is not None
    empty = contact.post(url, {"target": "besvarad", "to-besvarad-version": 3})
    assert empty.status_code == 400
    assert "Beskriv er analys" in empty.content.decode()
    stale = contact.post(url, {"target": "besvarad", "to-besvarad-version": 2, "to-besvarad-analysis": "Fel brevlåda.",
                               "to-besvarad-measures": "En gemensam brevlåda."})
    assert stale.status_code == 412
    assert "Någon annan har ändrat avvikelsen" in stale.content.decode()
    assert "Fel brevlåda." in stale.content.decode()  # the answer being written is kept
    answered = contact.post(url, {"target": "besvarad", "to-besvarad-version": 3,
                                  "to-besvarad-analysis": "Fel brevlåda.", "to-besvarad-measures": "En gemensam."})
    assert answered.status_code == 302
    closed = reporter.post(url, {"target": "avslutad", "to-avslutad-version": 4})
    assert closed.status_code == 302
    assert Deviation.objects.get(pk=deviation.pk).state == State.AVSLUTAD
    again = reporter.post(url, {"target": "avslutad", "to-avslutad-version": 5})
    assert again.status_code == 409


def test_only_the_sides_comment_a_forum_ledamot_gets_403(world, forum):
    deviation = report(world)
    ledamot = member(world.unit_a2, Role.SOCIALSEKRETERARE)
    ForumMember.objects.create(forum=forum, user=ledamot, role="ledamot")
    url = f"/avvikelser/{deviation.pk}/kommentarer/"
    assert browser_for(ledamot).get(f"/avvikelser/{deviation.pk}/").status_code == 200
    assert browser_for(ledamot).post(url, {"kommentar-text": "Hej"}).status_code == 403
    assert browser_for(contact_of(world)).post(url, {"kommentar-text": "Vi undersöker."}).status_code == 302
    refused = browser_for(contact_of(world)).post(url, {"kommentar-text": f"Gäller {PERSONNUMMER}."})
    assert refused.status_code == 400 and "personnummer" in refused.content.decode()
    assert deviation.comments.count() == 1


# --- The inbox -----------------------------------------------------------------------------------------------------

def test_the_inbox_lists_only_open_reports_against_the_contact_persons_organisation(world, forum):
    against_b = report(world)
    report(world, send=False)  # a draft: not the counterpart's business yet
    closed = report(world)
    services.transition(contact_of(world), closed, State.MOTTAGEN, closed.version)
    closed.refresh_from_db()
    closed = services.transition(contact_of(world), closed, State.BESVARAD, closed.version, analysis="A",
                                 measures="B")
    services.transition(reporter_of(world), closed, State.AVSLUTAD, closed.version)
    report(world, reporter=world.users_b[Role.SOCIALSEKRETERARE], unit=world.unit_b,
           counterpart=world.org_a)  # against A, reported by B

    rows = browser_for(contact_of(world)).get("/avvikelser/att-besvara/").context["rows"]
    assert [row["deviation"].pk for row in rows] == [against_b.pk]
    colleague = browser_for(world.users_b[Role.SOCIALSEKRETERARE]).get("/avvikelser/att-besvara/")
    assert colleague.status_code == 200 and colleague.context["rows"] == []
    assert browser_for(reporter_of(world)).get("/avvikelser/att-besvara/").context["rows"] == []


def test_overdue_reports_are_flagged_in_the_inbox(world, forum):
    late = report(world)
    Deviation.objects.filter(pk=late.pk).update(acknowledge_due_at=late.submitted_at - datetime.timedelta(days=1))
    report(world)
    response = browser_for(contact_of(world)).get("/avvikelser/att-besvara/")
    flagged = {row["deviation"].pk: row for row in response.context["rows"]}
    assert flagged[late.pk]["overdue"] and flagged[late.pk]["flags"] == ["Mottagande försenat"]
    assert [pk for pk, row in flagged.items() if row["overdue"]] == [late.pk]
    assert 'class="is-overdue"' in response.content.decode()


def test_my_reports_list_drafts_first(world, forum):
    sent = report(world)
    draft = report(world, send=False)
    report(world, reporter=world.users_b[Role.SOCIALSEKRETERARE], unit=world.unit_b, counterpart=world.org_a)
    rows = browser_for(reporter_of(world)).get("/avvikelser/").context["rows"]
    assert [row["deviation"].pk for row in rows] == [draft.pk, sent.pk]


# --- The report form and the personal-data guard --------------------------------------------------------------

def test_skicka_creates_the_report_and_sends_it(world, forum):
    response = browser_for(reporter_of(world)).post("/avvikelser/ny/", form_data(world))
    deviation = Deviation.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/avvikelser/{deviation.pk}/"
    assert deviation.state == State.INKOMMEN and deviation.forum == forum and deviation.acknowledge_due_at


def test_spara_utkast_keeps_a_draft_the_reporter_edits_with_the_version(world, forum):
    client = browser_for(reporter_of(world))
    client.post("/avvikelser/ny/", form_data(world, action="draft"))
    deviation = Deviation.objects.get()
    assert deviation.state == State.UTKAST
    page = client.get(f"/avvikelser/{deviation.pk}/")
    assert page.context["edit_form"] is not None
    edit = {**form_data(world), "version": 1, "what_happened": "Kallelsen kom aldrig fram.", "action": "draft"}
    del edit["reporting_unit"]
    assert client.post(f"/avvikelser/{deviation.pk}/andra/", edit).status_code == 302
    deviation.refresh_from_db()
    assert deviation.what_happened == "Kallelsen kom aldrig fram." and deviation.version == 2
    stale = client.post(f"/avvikelser/{deviation.pk}/andra/", {**edit, "what_happened": "Ny text.", "action": "send"})
    assert stale.status_code == 412
    assert "Någon annan har ändrat avvikelsen" in stale.content.decode()
    assert stale.context["edit_form"]["version"].value() == 2  # saving again is now possible
    sent = client.post(f"/avvikelser/{deviation.pk}/andra/", {**edit, "version": 2, "action": "send"})
    assert sent.status_code == 302
    assert Deviation.objects.get(pk=deviation.pk).state == State.INKOMMEN


def test_a_personnummer_in_the_text_is_a_field_error_and_nothing_is_saved(world, forum):
    client = browser_for(reporter_of(world))
    text = f"Personen med personnummer {PERSONNUMMER} fick ingen kallelse."
    response = client.post("/avvikelser/ny/", form_data(world, what_happened=text))
    assert response.status_code == 400
    form = response.context["form"]
    assert "personnummer" in form.errors["what_happened"][0]
    assert not any(PERSONNUMMER in message for messages in form.errors.values() for message in messages)
    assert Deviation.objects.count() == 0
    assert response.context["has_findings"] and "Maskera och skicka" in response.content.decode()

    # Without JavaScript the findings show at once, together with the form's own errors.
    incomplete = client.post("/avvikelser/ny/", form_data(world, what_happened=text, category=""))
    assert incomplete.status_code == 400
    assert set(incomplete.context["form"].errors) == {"category", "what_happened"}
    assert Deviation.objects.count() == 0

    masked = client.post("/avvikelser/ny/", form_data(world, what_happened=text, action="mask_send"))
    assert masked.status_code == 302
    deviation = Deviation.objects.get()
    assert deviation.what_happened == "Personen med personnummer [personnummer] fick ingen kallelse."
    assert deviation.state == State.INKOMMEN


def test_maskera_och_granska_shows_the_masked_text_without_saving(world, forum):
    response = browser_for(reporter_of(world)).post(
        "/avvikelser/ny/", form_data(world, immediate_action="Ringde 070-123 45 67.", action="mask"))
    assert response.status_code == 200
    assert response.context["form"]["immediate_action"].value() == "Ringde [telefonnummer]."
    assert Deviation.objects.count() == 0


def test_the_live_check_describes_findings_without_echoing_them_and_masks(world, forum, plan):
    client = browser_for(reporter_of(world))
    text = f"Kim Andersson, {PERSONNUMMER}, ringde."
    found = client.post("/avvikelser/granska/", {"text": text, "sip": plan.sip.pk})
    body = found.content.decode()
    assert found.status_code == 200 and found["Cache-Control"] == "no-store"
    assert "personnummer" in body and "namnet på personen" in body and "Maskera" in body
    assert PERSONNUMMER not in body and "Andersson" not in body
    assert client.post("/avvikelser/granska/", {"text": "Kallelsen kom inte."}).content.decode().strip() == ""
    masked = client.post("/avvikelser/maskera/", {"text": text, "sip": plan.sip.pk}).content.decode()
    assert masked == "[namn] [namn], [personnummer], ringde."


def test_the_live_check_never_looks_for_names_for_the_forum(world, forum, leader, plan):
    deviation = report(world, sip=plan.sip)
    text = "Kim Andersson ringde."
    for user, names_found in ((reporter_of(world), True), (leader, False)):
        body = browser_for(user).post("/avvikelser/granska/", {"text": text, "avvikelse": deviation.pk}).content
        assert ("namnet på personen" in body.decode()) is names_found
    # A plan the forum member does not take part in gives no names either.
    body = browser_for(leader).post("/avvikelser/granska/", {"text": text, "sip": plan.sip.pk}).content.decode()
    assert "namnet på personen" not in body


def test_the_form_offers_only_active_categories_and_the_users_units(world, forum):
    Category.objects.filter(key="ovrigt").update(retired_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))
    form = browser_for(reporter_of(world)).get("/avvikelser/ny/").context["form"]
    assert "ovrigt" not in set(form.fields["category"].queryset.values_list("key", flat=True))
    assert [pk for pk, _label in form.fields["reporting_unit"].choices] == [world.unit_a.pk]
    assert world.org_a not in form.fields["counterpart_organisation"].queryset


# --- Query counts ------------------------------------------------------------------------------------------------

def test_list_query_counts_are_constant_as_reports_grow(world, forum):
    reporter, contact = reporter_of(world), contact_of(world)

    def grow(n):
        for _ in range(n):
            deviation = report(world)
            services.comment(contact, deviation, "Vi undersöker.")
            services.transition(contact, deviation, State.MOTTAGEN, deviation.version)
            report(world, send=False)

    def count(user, path):
        client = browser_for(user)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(path)
        assert response.status_code == 200
        return len(ctx.captured_queries)

    grow(2)
    small = (count(reporter, "/avvikelser/"), count(contact, "/avvikelser/att-besvara/"))
    grow(6)
    assert (count(reporter, "/avvikelser/"), count(contact, "/avvikelser/att-besvara/")) == small
    assert max(small) <= 12
