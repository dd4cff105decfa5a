"""Gallring rules for the delaktighet questionnaire (registered in organisations.retention)."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from organisations.retention import DEIDENTIFY, DELETE, Rule, cutoff, register


def tokens_due(now):
    from sip.delaktighet.models import InvitationToken

    before = cutoff("DELAKTIGHET_TOKEN_DAYS", now)
    return InvitationToken.objects.filter(Q(invitation__expires_at__lt=before) | Q(invitation__closed_at__lt=before))


def free_text_due(now):
    from sip.delaktighet.models import Answer

    before = cutoff("DELAKTIGHET_FREE_TEXT_YEARS", now)
    return Answer.objects.filter(response__submitted_at__lt=before).exclude(value_text="")


def blank_free_text(queryset) -> int:
    return queryset.update(value_text="")


register(Rule(
    key="delaktighet.answer_links",
    record_type="delaktighet.invitationtoken",
    disposition=DELETE,
    period="DELAKTIGHET_TOKEN_DAYS",
    description=_("Svarslänkarnas hemligheter (hashade) efter att länken gått ut eller använts."),
    legal_basis="GDPR art. 5.1 e (lagringsminimering)",
    due=tokens_due,
    order=30,
))

register(Rule(
    key="delaktighet.free_text_answers",
    record_type="delaktighet.answer",
    disposition=DEIDENTIFY,
    period="DELAKTIGHET_FREE_TEXT_YEARS",
    description=_("Fritextsvar i delaktighetsenkäten töms; skattningarna 1–6 finns kvar för rapporterna."),
    legal_basis="GDPR art. 5.1 c och e (uppgiftsminimering, lagringsminimering)",
    due=free_text_due,
    apply=blank_free_text,
    order=40,
))
