"""Data protection in HTML, for org_admins: the gallring preview, registerutdrag (art. 15) and radering (art. 17).

Thin, like the API (api/views/dataskydd.py): the rules live in organisations.retention and sip.person_data, which
check the caller, audit the extract and the erasure and name the rules that keep a record. The personnummer only
travels in POST bodies: never in a URL, a redirect, a message or a log, and the forms do not write it back. The
erasure asks first (person_data.erasure_check) and erases on a second POST whose signed, short-lived token only
points at the pending request kept in the session (the person's id, never the number). Everyone else gets 403,
as from the API.
"""

from __future__ import annotations

import datetime
import json
import secrets
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from frontend import dataskydd_pdf
from frontend.dataskydd_forms import ErasureForm, RegisterutdragForm
from organisations import access, retention
from organisations.errors import Forbidden, NotFound
from sip import person_data

PENDING_KEY = "dataskydd_erasure_pending"
TOKEN_SALT = "frontend.dataskydd.erasure"
CONFIRM_SECONDS = 300

NOT_ORG_ADMIN = gettext_lazy("Endast organisationsadministratörer har åtkomst.")
DISPOSITIONS = {
    retention.DELETE: gettext_lazy("Raderas"),
    retention.DEIDENTIFY: gettext_lazy("Avidentifieras"),
}
BLOCKER_TITLES = {
    "active_plan": gettext_lazy("Pågående plan"),
    "retention_obligation": gettext_lazy("Bevarandeskyldighet"),
    "pending_disposal": gettext_lazy("Väntar på gallring"),
    "held_by_other_organisation": gettext_lazy("Uppgifter hos en annan organisation"),
}


def dataskydd_view(view):
    """Signed-in org_admins only (the API's IsOrgAdmin): everyone else gets a 403 page with the reason."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not access.admin_organisation_ids(request.user):
            return _forbidden(request, NOT_ORG_ADMIN)
        try:
            return view(request, *args, **kwargs)
        except Forbidden as exc:
            return _forbidden(request, exc.message)

    return login_required(wrapper)


def _forbidden(request, message):
    return render(request, "dataskydd/forbidden.html", {"message": message}, status=403)


def _no_store(response):
    response["Cache-Control"] = "no-store"
    return response


def _period(row: dict) -> str:
    value = row["period"]["value"]
    if row["period"]["unit"] == "years":
        return _("%(n)s år") % {"n": value}
    return _("%(n)s dagar") % {"n": value}


def _local(moment):
    return timezone.localtime(moment) if moment else None


@dataskydd_view
@require_http_methods(["GET"])
def overview(request):
    """'Dataskydd': what each gallring rule would remove or de-identify now (counts only), and the next run."""
    rows = [{**row, "disposition_label": DISPOSITIONS.get(row["disposition"], row["disposition"]),
             "period_label": _period(row),
             "cutoff_date": timezone.localtime(datetime.datetime.fromisoformat(row["cutoff"])).date()}
            for row in retention.preview()]
    return render(request, "dataskydd/overview.html", {
        "rows": rows, "next_run": _local(retention.next_run()), "tab": "overview",
        "total": sum(row["count"] for row in rows),
    })


def _lookup_failed(form, exc) -> int:
    """Put a domain refusal on the form, in Swedish and without the number: 400 or the API's neutral 404."""
    if isinstance(exc, ValidationError):
        form.add_service_errors(exc)
        return 400
    form.add_error("personnummer", str(exc.message))
    return 404


@dataskydd_view
@require_http_methods(["GET", "POST"])
def registerutdrag(request):
    """Registerutdrag: the person's data held by the caller's organisations, downloaded as PDF or JSON."""
    form = RegisterutdragForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            output = form.cleaned_data["format"]
            try:
                data = person_data.registerutdrag(request.user, form.cleaned_data["personnummer"],
                                                  output_format=output)
            except (ValidationError, NotFound) as exc:
                status = _lookup_failed(form, exc)
            else:
                return _download(data, output)
    return _no_store(render(request, "dataskydd/registerutdrag_form.html",
                            {"form": form, "tab": "registerutdrag"}, status=status))


def _download(data: dict, output: str) -> HttpResponse:
    if output == "pdf":
        response = HttpResponse(dataskydd_pdf.registerutdrag_pdf(data), content_type="application/pdf")
    else:
        body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{dataskydd_pdf.filename(data, output)}"'
    return _no_store(response)


def _blockers(blockers: list[dict]) -> list[dict]:
    return [{"title": BLOCKER_TITLES.get(b["rule"], b["rule"]), "detail": b["detail"], "rule": b["rule"]}
            for b in blockers]


@dataskydd_view
@require_http_methods(["GET", "POST"])
def erasure(request):
    """Radering, step 1: find the person and the rules that keep the record; ask for confirmation if none."""
    form = ErasureForm(request.POST if request.method == "POST" else None)
    status = 200
    context = {"form": form, "tab": "erasure"}
    if request.method == "POST":
        status = 400
        request.session.pop(PENDING_KEY, None)
        if form.is_valid():
            try:
                check = person_data.erasure_check(request.user, form.cleaned_data["personnummer"])
            except (ValidationError, NotFound) as exc:
                status = _lookup_failed(form, exc)
            else:
                if check["blockers"]:
                    context.update(blockers=_blockers(check["blockers"]), form=ErasureForm())
                    status = 409
                else:
                    nonce = secrets.token_urlsafe(16)
                    request.session[PENDING_KEY] = {"nonce": nonce, "person_id": check["person_id"]}
                    token = signing.dumps(nonce, salt=TOKEN_SALT)
                    return _no_store(render(request, "dataskydd/erasure_confirm.html", {
                        "token": token, "minutes": CONFIRM_SECONDS // 60, "tab": "erasure"}))
    return _no_store(render(request, "dataskydd/erasure.html", context, status=status))


@dataskydd_view
@require_POST
def erasure_confirm(request):
    """Radering, step 2: the confirmation. The token must be fresh and match the request pending in the session;
    the domain checks the caller and the rules once more before it erases."""
    pending = request.session.pop(PENDING_KEY, None)
    if request.POST.get("action") == "cancel":
        messages.info(request, _("Raderingen är avbruten. Inget har ändrats."))
        return redirect("frontend:dataskydd_erasure")
    try:
        nonce = signing.loads(request.POST.get("token", ""), salt=TOKEN_SALT, max_age=CONFIRM_SECONDS)
    except signing.BadSignature:
        nonce = None
    if not pending or not nonce or not secrets.compare_digest(str(nonce), str(pending.get("nonce", ""))):
        messages.error(request, _("Bekräftelsen har gått ut eller är redan använd. Ange numret igen."))
        return redirect("frontend:dataskydd_erasure")
    try:
        person_data.erase_person_id(request.user, pending["person_id"])
    except person_data.ErasureBlocked as exc:
        return _no_store(render(request, "dataskydd/erasure.html", {
            "form": ErasureForm(), "tab": "erasure", "blockers": _blockers(exc.blockers)}, status=409))
    except NotFound as exc:
        messages.error(request, str(exc.message))
        return redirect("frontend:dataskydd_erasure")
    messages.success(request, _("Personen är raderad. Åtkomstloggen finns kvar, utan personuppgifter."))
    return redirect("frontend:dataskydd_erasure")
