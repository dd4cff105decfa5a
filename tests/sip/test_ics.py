import datetime

import pytest
from icalendar import Calendar

from sip import services
from sip.exports.ics import meeting_ics
from tests.sip.conftest import EXPORT_PERSON, EXPORT_TEXTS

pytestmark = pytest.mark.django_db

SITE_URL = "https://samverkan.example.se"


def parse(data: bytes):
    calendar = Calendar.from_ical(data)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return calendar, events[0]


def test_calendar_and_event(export_plan):
    meeting = export_plan.meeting
    data = meeting_ics(meeting, site_url=SITE_URL)
    assert isinstance(data, bytes)
    calendar, event = parse(data)
    assert str(calendar["PRODID"]) == "-//Samverkan//SIP//SV"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == f"sip-meeting-{meeting.pk}@samverkan"
    assert str(event["SUMMARY"]) == "SIP-möte"
    assert str(event["URL"]) == f"{SITE_URL}/sip/{export_plan.sip.pk}/"
    assert int(event["SEQUENCE"]) == meeting.version
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "Rådhuset, rum 4" in str(event["LOCATION"])
    assert "https://video.example.org/sip-42" in str(event["LOCATION"])
    assert isinstance(event.decoded("DTSTAMP"), datetime.datetime)


def test_times_are_utc_and_match_the_meeting(export_plan):
    meeting = export_plan.meeting
    data = meeting_ics(meeting, site_url=SITE_URL)
    _, event = parse(data)
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == meeting.starts_at
    assert end == meeting.ends_at
    assert start.utcoffset() == datetime.timedelta(0)
    text = data.decode()
    assert f"DTSTART:{meeting.starts_at.astimezone(datetime.UTC):%Y%m%dT%H%M%S}Z" in text
    assert f"DTEND:{meeting.ends_at.astimezone(datetime.UTC):%Y%m%dT%H%M%S}Z" in text


def test_no_name_identifier_or_plan_text(export_plan):
    data = meeting_ics(export_plan.meeting, site_url=SITE_URL)
    # Compare against both the raw text and the unfolded text (long lines are folded at 75 octets).
    raw = data.decode()
    unfolded = raw.replace("\r\n ", "").replace("\\,", ",")
    forbidden = [
        EXPORT_PERSON["first_name"], EXPORT_PERSON["last_name"], export_plan.person.full_name,
        "811218", "9876", export_plan.person.identifier,
        EXPORT_TEXTS["minutes"], "Minnesanteckning", EXPORT_TEXTS["reason"], EXPORT_TEXTS["what_matters"],
        EXPORT_TEXTS["own_goal"], EXPORT_TEXTS["action_region"],
        # Staff invited to the meeting are not listed either.
        export_plan.behandlare.last_name,
    ]
    for text in (raw, unfolded):
        for value in forbidden:
            assert value not in text, value
    _, event = parse(data)
    assert "ATTENDEE" not in event
    assert "ORGANIZER" not in event


def test_follow_up_summary(export_plan):
    meeting = export_plan.meeting
    meeting.kind = "follow_up"
    _, event = parse(meeting_ics(meeting, site_url=SITE_URL))
    assert str(event["SUMMARY"]) == "Uppföljning av SIP"


def test_cancelled_meeting_has_status_cancelled_and_a_higher_sequence(export_plan):
    meeting = export_plan.meeting
    before = meeting.version
    cancelled = services.cancel_meeting(export_plan.socialsekreterare, export_plan.sip, meeting, meeting.version)
    _, event = parse(meeting_ics(cancelled, site_url=SITE_URL + "/"))
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == before + 1
    assert str(event["UID"]) == f"sip-meeting-{meeting.pk}@samverkan"
    assert str(event["URL"]) == f"{SITE_URL}/sip/{export_plan.sip.pk}/"


def test_location_only_and_no_location(export_plan):
    meeting = export_plan.meeting
    meeting.video_link = ""
    _, event = parse(meeting_ics(meeting, site_url=SITE_URL))
    assert str(event["LOCATION"]) == "Rådhuset, rum 4"
    assert "CONFERENCE" not in event
    meeting.location = ""
    _, event = parse(meeting_ics(meeting, site_url=SITE_URL))
    assert "LOCATION" not in event
