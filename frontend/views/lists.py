"""'Mina SIP:ar': the open plans of the user's units, what is late first."""

from __future__ import annotations

import datetime

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone

from frontend import display
from frontend.views.plan import flag_labels
from sip import deadlines, queries
from sip.models import SipStatus

PAGE_SIZE = 50


def _next_date(sip) -> tuple[datetime.date | None, str]:
    """The date the list shows and sorts by: the call deadline while no call is sent, else the follow-up."""
    if sip.status == SipStatus.INITIERAD and sip.call_sent_at is None and sip.call_due_at:
        return timezone.localdate(sip.call_due_at), "call"
    if sip.follow_up_on:
        return sip.follow_up_on, "follow_up"
    return None, ""


@login_required
def sip_list(request):
    user = request.user
    now = timezone.now()
    rows = []
    # One query for every open plan with its flags annotated; flags() reads the annotation, not the database.
    page = Paginator(queries.my_sips(user), PAGE_SIZE).get_page(request.GET.get("sida"))
    for sip in page.object_list:
        flags = deadlines.flags(sip, now)
        next_date, next_kind = _next_date(sip)
        # Everyone who sees a plan takes part in it, so the name shows even with protected identity.
        rows.append({"sip": sip, "flags": flag_labels(flags, with_history=False), "overdue": flags["overdue"],
                     "next_date": next_date, "next_kind": next_kind,
                     "person_label": display.person_name(sip.person, True)})
    queries.record_sip_list_read(user, [row["sip"] for row in rows])
    return render(request, "sip/list.html", {"page": page, "rows": rows, "total": page.paginator.count})
