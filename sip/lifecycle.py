"""The SIP status machine: one table of allowed transitions and what each needs."""

from django.utils.translation import gettext_lazy as _

from sip.models import SipStatus as S

TRANSITIONS: dict[str, frozenset[str]] = {
    S.INITIERAD: frozenset({S.KALLAD, S.AVBRUTEN}),
    S.KALLAD: frozenset({S.UPPRATTAD, S.AVBRUTEN}),
    S.UPPRATTAD: frozenset({S.UPPFOLJNING, S.AVSLUTAD, S.AVBRUTEN}),
    # After a follow-up the plan goes on (upprättad, with a new follow-up date) or ends.
    S.UPPFOLJNING: frozenset({S.UPPRATTAD, S.AVSLUTAD, S.AVBRUTEN}),
    S.AVSLUTAD: frozenset(),
    S.AVBRUTEN: frozenset(),
}

OPEN = frozenset({S.INITIERAD, S.KALLAD, S.UPPRATTAD, S.UPPFOLJNING})
ESTABLISHED = frozenset({S.UPPRATTAD, S.UPPFOLJNING})

MESSAGES = {
    "not_allowed": _("En SIP med status %(current)s kan inte få status %(target)s."),
    "follow_up_required": _("Ange uppföljningsdatum när planen upprättas."),
    "reason_required": _("Ange orsak när planen avbryts."),
}


def allowed(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def allowed_targets(current: str) -> list[str]:
    return sorted(TRANSITIONS.get(current, frozenset()))
