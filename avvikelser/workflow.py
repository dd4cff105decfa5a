"""The deviation workflow: one table of allowed transitions and who may make each."""

from avvikelser.models import State as S

OPEN = frozenset({S.INKOMMEN, S.MOTTAGEN, S.BESVARAD})

# target: (allowed from, who may) — who: "reporter" (the reporting unit), "counterpart" (the counterpart's
# contact persons and unit), "processledare" (the forum's process leader).
TRANSITIONS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    S.INKOMMEN: (frozenset({S.UTKAST}), frozenset({"reporter"})),
    S.MOTTAGEN: (frozenset({S.INKOMMEN, S.BESVARAD}), frozenset({"counterpart"})),
    S.BESVARAD: (frozenset({S.MOTTAGEN}), frozenset({"counterpart"})),
    S.AVSLUTAD: (frozenset({S.BESVARAD, S.ESKALERAD}), frozenset({"reporter", "processledare"})),
    S.ESKALERAD: (OPEN, frozenset({"reporter", "counterpart", "processledare"})),
}


def allowed_from(target: str) -> frozenset[str]:
    return TRANSITIONS.get(target, (frozenset(), frozenset()))[0]


def who_may(target: str) -> frozenset[str]:
    return TRANSITIONS.get(target, (frozenset(), frozenset()))[1]


def targets_for(state: str, sides: set[str]) -> list[str]:
    return sorted(t for t, (sources, who) in TRANSITIONS.items() if state in sources and who & sides)
