"""The forum's weekly digest: one e-mail per forum member and ISO week with counts only.

What it says: new reports in the last 7 days, new signals in the patterns (when the pattern analysis is
installed), open reports whose answer is overdue, and the forum's measures due in the next 14 days or overdue —
with a link to the forum's page. Never a report's text nor the name of anyone (staff or person): counts and the
forum's name only.

Exactly once per forum, member and week: a DigestLog row (unique on forum, user and ISO week) is claimed, the
e-mail sent and the row marked sent in one transaction (`once.held`), as in `avvikelser.notifications`; a worker
killed mid-send leaves no claim, so the redelivered task sends it. A committed claim left unsent is taken over
after STALE_CLAIM. Members get the digest when they are active staff with an e-mail.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from avvikelser.forum_services import OPEN_MEASURE, OPEN_REPORT, current_signals
from avvikelser.models import Deviation, DigestLog, Forum, ForumMember, Measure, State
from organisations import once
from organisations.models import Membership

logger = logging.getLogger(__name__)
STALE_CLAIM = once.STALE_CLAIM
NEW_REPORTS_DAYS = 7
MEASURES_AHEAD_DAYS = 14


def iso_week(day: datetime.date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class Summary:
    new_reports: int
    new_signals: int | None  # None: pattern analysis not available
    overdue_answers: int
    measures_due_soon: int
    measures_overdue: int


def summarise(forum: Forum, *, now: datetime.datetime, signal_reader=None) -> Summary:
    """The forum's counts at `now`. `signal_reader` is a member the pattern analysis reads as."""
    today = timezone.localdate(now)
    reports = Deviation.objects.filter(forum_id=forum.pk).exclude(state=State.UTKAST).aggregate(
        new=Count("id", filter=Q(submitted_at__gt=now - datetime.timedelta(days=NEW_REPORTS_DAYS),
                                 submitted_at__lte=now)),
        overdue=Count("id", filter=Q(state__in=OPEN_REPORT, answer_due_at__lt=now)))
    measures = Measure.objects.filter(decision__forum_id=forum.pk, status__in=OPEN_MEASURE).aggregate(
        soon=Count("id", filter=Q(due_on__gte=today,
                                  due_on__lte=today + datetime.timedelta(days=MEASURES_AHEAD_DAYS))),
        overdue=Count("id", filter=Q(due_on__lt=today)))
    signals = None
    if signal_reader is not None:
        found = current_signals(signal_reader, forum, since=today - datetime.timedelta(days=NEW_REPORTS_DAYS),
                                until=today)
        signals = None if found is None else len({s.fingerprint for s in found})
    return Summary(new_reports=reports["new"], new_signals=signals, overdue_answers=reports["overdue"],
                   measures_due_soon=measures["soon"], measures_overdue=measures["overdue"])


def recipients(forum: Forum) -> list[ForumMember]:
    """Members who are active staff (an active membership in an active unit) and have an e-mail address."""
    active = Membership.objects.filter(user_id=OuterRef("user_id"), active=True, unit__active=True,
                                       unit__organisation__active=True)
    return list(ForumMember.objects.filter(forum_id=forum.pk, user__is_active=True).exclude(user__email="")
                .filter(Exists(active)).select_related("user").order_by("id"))


def render(forum: Forum, summary: Summary, week: str) -> tuple[str, str]:
    with override(settings.LANGUAGE_CODE):
        signals = (_("Mönsteranalysen är inte tillgänglig.") if summary.new_signals is None
                   else _("Nya signaler i mönstren: %(n)d") % {"n": summary.new_signals})
        lines = [
            _("Veckosammanfattning för %(forum)s, vecka %(week)s.") % {"forum": forum.name, "week": week},
            "",
            "- " + _("Nya avvikelser senaste veckan: %(n)d") % {"n": summary.new_reports},
            "- " + signals,
            "- " + _("Avvikelser som inte besvarats inom tidsgränsen: %(n)d") % {"n": summary.overdue_answers},
            "- " + _("Åtgärder som ska vara klara inom %(days)d dagar: %(n)d") % {
                "days": MEASURES_AHEAD_DAYS, "n": summary.measures_due_soon},
            "- " + _("Försenade åtgärder: %(n)d") % {"n": summary.measures_overdue},
            "",
            _("Öppna forumet: %(link)s") % {"link": f"{settings.SITE_URL}/forum/{forum.pk}/"},
            "",
            _("Det här är en automatisk sammanfattning från Samverkan. Du får den en gång i veckan som medlem i "
              "forumet."),
        ]
        subject = _("Veckosammanfattning: %(forum)s") % {"forum": forum.name}
    return subject, "\n".join(lines)


def send_digests(now: datetime.datetime | None = None) -> int:
    """Send this week's digest to every forum member who has not had it yet; returns how many were sent."""
    now = now or timezone.now()
    week = iso_week(timezone.localdate(now))
    sent = 0
    for forum in Forum.objects.order_by("id"):
        done = set(DigestLog.objects.filter(forum_id=forum.pk, week=week, sent_at__isnull=False)
                   .values_list("user_id", flat=True))
        pending = [m for m in recipients(forum) if m.user_id not in done]
        if not pending:
            continue
        summary = summarise(forum, now=now, signal_reader=pending[0].user)
        subject, body = render(forum, summary, week)
        for member in pending:
            with once.held(DigestLog, forum_id=forum.pk, user_id=member.user_id, week=week) as log:
                if log is None:
                    continue
                send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [member.user.email])
            sent += 1
    logger.info("sent %d forum digests for %s", sent, week)
    return sent
