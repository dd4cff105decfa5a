"""The forum compilation in HTML: /forum/<forum_pk>/sammanstallning/ — pick a period and start a "Sammanställning
av samverkansavvikelser" (processledare and ordförande), follow its progress (htmx polls one row at a time, no
inline script), and download the PDF and XLSX when it is done.

Thin: everything through avvikelser.compilation, whose gate is the forum's (404 outside the forum, 403 when a
ledamot tries to start one). Without JavaScript the page still works: the rows show the status as it was when the
page was loaded, and reloading shows the progress.
"""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from avvikelser import compilation, forum_services
from avvikelser.models import CompilationGranularity, ForumRole
from frontend.forms import BaseForm, date_input
from frontend.forum_views import forum_view
from organisations.errors import Conflict

LIST_LIMIT = 30
POLL_SECONDS = 2


class CompilationForm(BaseForm):
    period_start = forms.DateField(label=gettext_lazy("Från och med"), widget=date_input())
    period_end = forms.DateField(label=gettext_lazy("Till och med"), widget=date_input())
    granularity = forms.ChoiceField(label=gettext_lazy("Indelning"), choices=CompilationGranularity.choices,
                                    initial=CompilationGranularity.MONTH)

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("Periodens slut ligger före dess början."))
        return data


def default_period(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The last twelve whole months."""
    end = today.replace(day=1) - datetime.timedelta(days=1)
    start = datetime.date(end.year - 1, end.month, 1) + datetime.timedelta(days=32)
    return start.replace(day=1), end


def _row_context(forum_pk: int, item) -> dict:
    return {"forum_pk": forum_pk, "item": item, "step": compilation.step_label(item.step),
            "error": compilation.error_label(item.error), "poll_seconds": POLL_SECONDS,
            "finished": item.status not in compilation.UNFINISHED}


@forum_view
def compilations(request, forum_pk):
    forum = forum_services.get_forum(request.user, forum_pk)
    can_edit = forum_services.can_edit(request.user, forum)
    status = 200
    if request.method == "POST":
        form = CompilationForm(request.POST)
        if form.is_valid():
            try:
                item = compilation.request_compilation(request.user, forum.pk, **form.cleaned_data)
            except ValidationError as exc:
                form.add_service_errors(exc)
                status = 400
            except Conflict as exc:
                form.add_error(None, str(exc.message))
                status = 409
            else:
                messages.success(request, _("Sammanställningen för %(start)s – %(end)s har beställts.") % {
                    "start": formats.date_format(item.period_start, "j F Y"),
                    "end": formats.date_format(item.period_end, "j F Y")})
                return redirect("frontend:forum_compilations", forum_pk=forum.pk)
        else:
            status = 400
    else:
        start, end = default_period(timezone.localdate())
        form = CompilationForm(initial={"period_start": start, "period_end": end,
                                        "granularity": CompilationGranularity.MONTH})
    items = list(compilation.compilations_of(forum)[:LIST_LIMIT])
    role = getattr(forum, "member_role", None)
    return render(request, "forum/compilations.html", {
        "forum": forum, "form": form, "can_edit": can_edit, "tab": "compilations",
        "subpage": _("Sammanställning"),
        "role_label": ForumRole(role).label if role in ForumRole.values else "",
        "rows": [_row_context(forum.pk, item) for item in items],
    }, status=status)


@forum_view
def compilation_row(request, forum_pk, pk):
    """One row of the list (htmx polls it while the compilation is being built)."""
    item = compilation.get_compilation(request.user, forum_pk, pk)
    return render(request, "forum/compilation_row.html", _row_context(item.forum_id, item))


@forum_view
def compilation_file(request, forum_pk, pk, kind):
    try:
        content, content_type, name = compilation.file_of(request.user, forum_pk, pk, kind)
    except Conflict as exc:
        messages.error(request, str(exc.message))
        return redirect("frontend:forum_compilations", forum_pk=forum_pk)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response
