"""A meeting as an iCalendar invitation (RFC 5545), for staff calendars and for the person's side.

Privacy: an invitation travels through mail servers and calendar services outside our control, so it carries
only the meeting kind, the time, the place and a link to the plan — never the person's name, identifier or any
free text from the plan (no reason, minutes, goals or participant names). Pure: the caller checks permissions.
"""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from sip.models import MeetingKind, MeetingStatus

PRODID = "-//Samverkan//SIP//SV"


def meeting_uid(meeting) -> str:
    return f"sip-meeting-{meeting.pk}@samverkan"


def _summary(meeting) -> str:
    return _("Uppföljning av SIP") if meeting.kind == MeetingKind.FOLLOW_UP else _("SIP-möte")


def _utc(value: datetime.datetime) -> datetime.datetime:
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value.astimezone(datetime.UTC)


def meeting_ics(meeting, *, site_url: str, stamp: datetime.datetime | None = None) -> bytes:
    """VCALENDAR (METHOD:REQUEST) with one VEVENT for the meeting; SEQUENCE follows the meeting's version."""
    plan_url = f"{site_url.rstrip('/')}/sip/{meeting.sip_id}/"
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "REQUEST")

    event = Event()
    event.add("uid", meeting_uid(meeting))
    event.add("dtstamp", _utc(stamp or timezone.now()))
    event.add("dtstart", _utc(meeting.starts_at))
    event.add("dtend", _utc(meeting.ends_at))
    event.add("sequence", meeting.version)
    event.add("summary", _summary(meeting))
    place = " – ".join(part for part in (meeting.location, meeting.video_link) if part)
    if place:
        event.add("location", place)
    if meeting.video_link:
        event.add("conference", meeting.video_link, parameters={"VALUE": "URI", "FEATURE": "VIDEO"})
    event.add("url", plan_url)
    # Only fixed text and links: many calendar clients show DESCRIPTION but not URL.
    description = [_("Mer information finns i planen i Samverkan: %(url)s") % {"url": plan_url}]
    if meeting.video_link:
        description.append(_("Videolänk: %(url)s") % {"url": meeting.video_link})
    event.add("description", "\n".join(description))
    event.add("class", "PRIVATE")
    event.add("status", "CANCELLED" if meeting.status == MeetingStatus.CANCELLED else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()
