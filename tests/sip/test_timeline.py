"""sip.queries.timeline_of reads actions and meetings in one statement and gives what reading each through the
ORM gives: every item, its dates (a meeting's in local time), titles (a meeting's kind in the request's language),
status and overdue flag, in date order."""

import datetime

import pytest
from django.utils import timezone, translation

from sip import deadlines, queries
from sip.models import Action, ActionStatus, Meeting, MeetingKind
from tests.organisations.test_granted import new_plan

pytestmark = pytest.mark.django_db


def _by_the_orm(sip) -> list[dict]:
    today = timezone.localdate()
    items = [{"type": "action", "id": a.pk, "date": a.starts_on or a.ends_on, "end": a.ends_on, "title": a.title,
              "status": a.status, "overdue": deadlines.action_overdue(a, today)}
             for a in Action.objects.filter(sip=sip)]
    items += [{"type": "meeting", "id": m.pk, "date": timezone.localtime(m.starts_at).date(),
               "end": timezone.localtime(m.ends_at).date(), "title": m.get_kind_display(), "status": m.status,
               "overdue": False} for m in Meeting.objects.filter(sip=sip)]
    if sip.follow_up_on:
        items.append({"type": "follow_up", "id": sip.pk, "date": sip.follow_up_on, "end": None,
                      "title": translation.gettext("Uppföljning"), "status": sip.status,
                      "overdue": deadlines.follow_up_overdue(sip, today)})
    return sorted(items, key=lambda i: (i["date"] is None, i["date"] or today, i["type"], i["id"]))


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_timeline_equals_reading_each_part(world, language):
    sip = new_plan(world)
    today = timezone.localdate()
    Action.objects.create(sip=sip, title="Boendestöd", starts_on=today, ends_on=today + datetime.timedelta(days=9))
    Action.objects.create(sip=sip, title="Försenad", ends_on=datetime.date(2020, 1, 1), status=ActionStatus.PAGAR)
    Action.objects.create(sip=sip, title="Utan datum")
    late_evening = timezone.make_aware(datetime.datetime(2026, 3, 1, 23, 30), datetime.UTC)  # local: next day
    Meeting.objects.create(sip=sip, kind=MeetingKind.SIP, starts_at=late_evening,
                           ends_at=late_evening + datetime.timedelta(hours=1))
    sip.follow_up_on = today + datetime.timedelta(days=30)
    sip.save(update_fields=["follow_up_on"])
    with translation.override(language):
        timeline = queries.timeline_of(sip)
        assert timeline == _by_the_orm(sip)
    assert [i["type"] for i in timeline].count("action") == 3
    assert next(i for i in timeline if i["title"] == "Försenad")["overdue"] is True
    meeting = next(i for i in timeline if i["type"] == "meeting")
    assert meeting["date"] == datetime.date(2026, 3, 2)


def test_a_plan_without_actions_or_meetings_has_an_empty_timeline(world):
    assert queries.timeline_of(new_plan(world)) == []
