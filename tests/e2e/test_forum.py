"""The forum in a real browser: the processledare opens the dashboard from the nav, follows a flagged point of a
control chart to the pseudonymised reports behind it, and edits the next meeting's agenda. Every page is checked
with axe."""

import datetime
import re
from importlib import import_module

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import expect

from avvikelser import forum_services
from avvikelser.models import AgendaItem, Category, Deviation, Forum, ForumMember, State
from organisations.models import Role
from tests.e2e.conftest import login, navigation
from tests.factories import OrganisationFactory, UnitFactory, member


@pytest.fixture
def forum_with_history(transactional_db):
    """A forum of a kommun and a region: two years of SIP deviations with a rise this month, and a meeting."""
    import_module("avvikelser.migrations.0002_default_categories").forwards(apps, None)
    kommun = OrganisationFactory(name="Eskilstuna kommun (test)")
    region = OrganisationFactory(name="Region Sörmland (test)", kind="region")
    social = UnitFactory(organisation=kommun, name="Vuxenenheten missbruk")
    ledning = UnitFactory(organisation=kommun, name="Socialförvaltningen")
    forum = Forum.objects.create(name="Styrgrupp Eskilstuna (test)")
    forum.organisations.set([kommun, region])
    leader = member(ledning, Role.PROCESSLEDARE, first_name="Ulla", last_name="Björk")
    ForumMember.objects.create(forum=forum, user=leader, role="processledare")
    reporter = member(social, Role.SOCIALSEKRETERARE, first_name="Amina", last_name="Yusuf")
    sip = Category.objects.get(key="sip")
    today = timezone.localdate()
    rows = []
    for i in range(24):
        y, m = divmod(today.year * 12 + today.month - 1 - i, 12)
        count = 12 if i == 0 else 1 + i % 2
        rows += [Deviation(reporter=reporter, reporting_unit=social, reporting_organisation=kommun,
                           counterpart_organisation=region, forum=forum, occurred_on=datetime.date(y, m + 1, 5),
                           category=sip, what_happened="Kallelsen besvarades inte.", state=State.INKOMMEN,
                           submitted_at=timezone.now()) for _ in range(count)]
    Deviation.objects.bulk_create(rows)
    meeting = forum_services.create_meeting(leader, forum.pk, starts_at=timezone.now() + datetime.timedelta(days=14),
                                            location="Rum 4")
    forum_services.create_item(leader, meeting, title="Genomgång av nya avvikelser")
    forum_services.create_item(leader, meeting, title="Uppföljning av åtgärder", kind="follow_up")
    return {"forum": forum, "leader": leader, "meeting": meeting}


def test_dashboard_point_drills_down_and_the_agenda_is_edited(page, live_server, forum_with_history):
    login(page, live_server, forum_with_history["leader"])
    with navigation(page):
        page.get_by_role("link", name="Forum", exact=True).click()
    with navigation(page):
        page.get_by_role("link", name="Styrgrupp Eskilstuna (test)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Styrgrupp Eskilstuna (test)")
    flagged = page.locator("a.chart-point.is-flagged").last
    label = flagged.get_attribute("aria-label")
    count = re.search(r": (\d+) avvikelser", label)[1]
    with navigation(page):
        flagged.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Avvikelserna bakom siffran")
    expect(page.get_by_role("status")).to_have_text(f"{count} avvikelser")
    expect(page.get_by_text("Amina")).to_have_count(0)

    with navigation(page):
        page.get_by_role("link", name="Möten", exact=True).click()
    with navigation(page):
        page.locator("main table a").first.click()
    with navigation(page):
        page.get_by_role("link", name=re.compile(r"^Ändra\s*: Genomgång av nya avvikelser$")).click()
    page.get_by_label("Rubrik").fill("Genomgång av nya avvikelser och signaler")
    with navigation(page):
        page.get_by_role("button", name="Spara").click()
    expect(page.get_by_role("list").filter(has_text="Genomgång av nya avvikelser och signaler")).to_have_count(1)
    with navigation(page):
        page.get_by_role("button", name=re.compile(r"^Flytta ned\s*: Genomgång av nya avvikelser och")).click()
    titles = list(AgendaItem.objects.order_by("order").values_list("title", flat=True))
    assert titles == ["Uppföljning av åtgärder", "Genomgång av nya avvikelser och signaler"]
