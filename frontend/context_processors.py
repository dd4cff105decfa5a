from django.conf import settings


def site(request):
    return {"oidc_enabled": settings.OIDC_ENABLED}


def forum_nav(request):
    """`has_forum` for the nav's Forum link: evaluated only when a template reads it, one query at most (the
    forum seats the deviation gate reads too, kept on the user object for the request)."""
    user = getattr(request, "user", None)

    def has_forum() -> bool:
        if user is None or not user.is_authenticated:
            return False
        from avvikelser.access import forum_ids

        return bool(forum_ids(user))

    return {"has_forum": has_forum}


def org_admin_nav(request):
    """`is_org_admin` for the nav's Dataskydd link: evaluated only when a template reads it, one query at most
    (the memberships the access gate caches on the user object for the rest of the request)."""
    user = getattr(request, "user", None)

    def is_org_admin() -> bool:
        if user is None or not user.is_authenticated:
            return False
        from organisations import access

        return bool(access.admin_organisation_ids(user))

    return {"is_org_admin": is_org_admin}
