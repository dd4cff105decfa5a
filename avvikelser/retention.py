"""Gallring rules for collaboration deviations (registered in organisations.retention).

A closed deviation keeps what the forum's patterns count (organisations, units, category, dates, state,
consequence); its free text, comments, the values in its change history and its link to a plan are removed.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from organisations.retention import DEIDENTIFY, Rule, cutoff, register

# What replaces the free text; also marks a report as already pseudonymised.
REMOVED = "[gallrad]"


def closed_deviations_due(now):
    from avvikelser.models import Deviation, State

    before = cutoff("DEVIATION_CLOSED_YEARS", now)
    return Deviation.objects.filter(state=State.AVSLUTAD, closed_at__lt=before).exclude(what_happened=REMOVED)


def pseudonymise(queryset) -> int:
    from avvikelser.models import Comment, Deviation, DeviationChange

    ids = list(queryset.values_list("pk", flat=True))
    if not ids:
        return 0
    Comment.objects.filter(deviation_id__in=ids).delete()
    DeviationChange.objects.filter(deviation_id__in=ids).update(old=None, new=None)
    Deviation.objects.filter(pk__in=ids).update(
        what_happened=REMOVED, immediate_action="", suggestion="", analysis="", measures="", agreement_other="",
        sip=None,
    )
    return len(ids)


register(Rule(
    key="avvikelser.closed_deviations",
    record_type="avvikelser.deviation",
    disposition=DEIDENTIFY,
    period="DEVIATION_CLOSED_YEARS",
    description=_("Avslutade samverkansavvikelser: fritext, kommentarer och koppling till SIP tas bort; "
                  "kategori, organisationer och datum finns kvar för mönster och statistik."),
    legal_basis="GDPR art. 5.1 e; SOSFS 2011:9 (sammanställning av avvikelser)",
    due=closed_deviations_due,
    apply=pseudonymise,
    order=50,
))
