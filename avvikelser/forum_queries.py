"""Reads for the forum (styrgrupp): which forums a user sits in, the forum's reports as the pattern view counts
them, the taxonomy as it counts now, and the drill-down filters behind every number of the pattern view.

A forum is visible to its members (ForumMember) only; anyone else gets 404 for the forum and everything under
it. The forum's reports are its submitted deviations (never drafts) — whatever organisation reported them,
retired organisations included — and the forum always sees them pseudonymised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.utils.text import slugify
from django.utils.translation import gettext as _

from avvikelser.models import Agreement, Category, Deviation, Forum, ForumMember, State
from organisations import access
from organisations.models import Organisation

FINGERPRINT_VERSION = "v1"
SLUG_LENGTH = 60
FINGERPRINT = re.compile(
    r"^v1:(?P<key>[-\w]+):(?P<source>\d+)>(?P<target>\d+):(?P<agreement>\*|none|\d+|other-[-\w]+)$", re.ASCII)


# --- forums ------------------------------------------------------------------------------------------------------

def forums_for(user) -> QuerySet[Forum]:
    """The forums the user is a member of, with the user's role and the member organisations loaded."""
    if not access.is_staff_member(user):
        return Forum.objects.none()
    role = ForumMember.objects.filter(forum_id=OuterRef("pk"), user_id=user.pk).values("role")[:1]
    return (Forum.objects.filter(members__user_id=user.pk)
            .annotate(my_role=Subquery(role))
            .prefetch_related(Prefetch("organisations", queryset=Organisation.objects.order_by("name", "id")),
                              Prefetch("agreements", queryset=Agreement.objects.order_by("name", "id")))
            .order_by("name", "id"))


def get_forum(user, forum_id) -> Forum:
    """The forum if the user is a member; 404 otherwise (one query, nothing prefetched)."""
    if not access.is_staff_member(user):
        from organisations.errors import NotFound

        raise NotFound
    return access.get_visible(Forum.objects.filter(members__user_id=user.pk), forum_id)


def reports_of(forum: Forum | int) -> QuerySet[Deviation]:
    """What the forum counts and drills into: its submitted reports (drafts are the reporter's own)."""
    forum_id = forum.pk if isinstance(forum, Forum) else forum
    return Deviation.objects.filter(forum_id=forum_id).exclude(state=State.UTKAST)


# --- the taxonomy as it counts now ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Taxonomy:
    roots: dict[int, int]  # category id → the id it counts under now (itself unless merged)
    info: dict[int, dict]  # category id → {"id", "key", "name", "retired"}

    def group(self, category_id: int) -> set[int]:
        """The category's root and every category that counts under it (its merged predecessors)."""
        root = self.roots.get(category_id, category_id)
        return {pk for pk, r in self.roots.items() if r == root} | {root}

    def describe(self, category_id: int) -> dict:
        return self.info.get(category_id) or {"id": category_id, "key": str(category_id), "name": "",
                                              "retired": False}


def taxonomy() -> Taxonomy:
    """One query: every category with its successor; roots by the rule of services.category_roots()."""
    rows = list(Category.objects.order_by().values_list("id", "successor_id", "key", "name", "retired_at"))
    parents = {pk: successor for pk, successor, *_rest in rows}
    roots = {}
    for category_id in parents:
        current, seen = category_id, set()
        while parents.get(current) and current not in seen:
            seen.add(current)
            current = parents[current]
        roots[category_id] = current
    info = {pk: {"id": pk, "key": key, "name": name, "retired": retired is not None}
            for pk, _successor, key, name, retired in rows}
    return Taxonomy(roots=roots, info=info)


# --- recurring themes --------------------------------------------------------------------------------------------

def agreement_slug(text: str) -> str:
    """A free-text agreement or routine, normalised: case, accents, spacing and punctuation do not matter."""
    return slugify(text or "")[:SLUG_LENGTH].strip("-_")


def agreement_part(agreement_id: int | None, agreement_other: str) -> str:
    """The agreement part of a fingerprint: the listed agreement's id, else `other-<slug>`, else `none`."""
    if agreement_id:
        return str(agreement_id)
    slug = agreement_slug(agreement_other)
    return f"other-{slug}" if slug else "none"


ANY_AGREEMENT = "*"


def fingerprint(root_key: str, source_id: int, target_id: int, agreement: str = ANY_AGREEMENT) -> str:
    """`v1:<category-root-key>:<from-org-id>><to-org-id>:<agreement>`. Built on the category's current root, so
    reports filed under a category that was later merged fall into the successor's theme. The agreement part is
    the listed agreement's id, `other-<slug>` for a free-text one, `none` for neither — or `*` for a series (the
    category and direction whatever the agreement)."""
    return f"{FINGERPRINT_VERSION}:{root_key}:{source_id}>{target_id}:{agreement}"


def parse_fingerprint(value: str) -> dict:
    match = FINGERPRINT.match(value or "")
    if not match:
        raise ValidationError({"theme": _(
        "Okänt mönster: förväntade v1:<kategori>:<från>><till>:<överenskommelse eller *>.")})
    return {"key": match["key"], "reporting_organisation": int(match["source"]),
            "counterpart_organisation": int(match["target"]), "agreement": match["agreement"]}


# --- drill-down -------------------------------------------------------------------------------------------------

def filter_reports(queryset: QuerySet[Deviation], *, category: int | None = None,
                   reporting_organisation: int | None = None, counterpart_organisation: int | None = None,
                   period_start=None, period_end=None, agreement: int | None = None, theme: str | None = None,
                   tax: Taxonomy | None = None) -> QuerySet[Deviation]:
    """The reports behind one number of the pattern view; the same rules as the counting (a category means its
    root and every merged predecessor; periods are inclusive dates of `occurred_on`)."""
    parsed = parse_fingerprint(theme) if theme else None
    if category is not None or parsed:
        tax = tax or taxonomy()
    if category is not None:
        queryset = queryset.filter(category_id__in=tax.group(int(category)))
    if reporting_organisation is not None:
        queryset = queryset.filter(reporting_organisation_id=reporting_organisation)
    if counterpart_organisation is not None:
        queryset = queryset.filter(counterpart_organisation_id=counterpart_organisation)
    if period_start is not None:
        queryset = queryset.filter(occurred_on__gte=period_start)
    if period_end is not None:
        queryset = queryset.filter(occurred_on__lte=period_end)
    if agreement is not None:
        queryset = queryset.filter(agreement_id=agreement)
    if parsed:
        roots = [pk for pk, info in tax.info.items() if info["key"] == parsed["key"] and tax.roots.get(pk) == pk]
        queryset = queryset.filter(category_id__in=tax.group(roots[0]) if roots else [],
                                   reporting_organisation_id=parsed["reporting_organisation"],
                                   counterpart_organisation_id=parsed["counterpart_organisation"])
        part = parsed["agreement"]
        if part == ANY_AGREEMENT:
            pass
        elif part.isdigit():
            queryset = queryset.filter(agreement_id=int(part))
        else:
            # Free text is matched by its normalised form: one query over the distinct texts, not the rows.
            texts = (queryset.filter(agreement__isnull=True).order_by().values_list("agreement_other", flat=True)
                     .distinct())
            wanted = [text for text in texts if agreement_part(None, text) == part]
            queryset = queryset.filter(agreement__isnull=True, agreement_other__in=wanted)
    return queryset


def drilldown_reports(forum: Forum, **filters) -> QuerySet[Deviation]:
    """The forum's reports behind a number, newest first, loaded for the pseudonymised representation."""
    return (filter_reports(reports_of(forum), **filters)
            .select_related("reporting_organisation", "counterpart_organisation", "category", "agreement")
            .order_by("-occurred_on", "-id"))
