"""Who has a plan open right now: one cache entry per plan, each user's last poll kept for SIP_PRESENCE_SECONDS.

Only staff names and user ids are kept (never anything about the person), and only for half a minute. Two polls
at the same instant may overwrite each other's entry; the next poll (every 10 s) puts it back, well inside the
expiry, so nobody drops out of the list.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache


def _key(sip_id: int) -> str:
    return f"sip-presence:{sip_id}"


def touch(sip_id: int, user) -> list[str]:
    """Record `user` as present on the plan; return the full names of the others present, sorted."""
    ttl = settings.SIP_PRESENCE_SECONDS
    now = time.time()
    entries = cache.get(_key(sip_id)) or {}
    entries = {uid: (seen, name) for uid, (seen, name) in entries.items() if now - seen < ttl}
    entries[user.pk] = (now, user.get_full_name() or user.username)
    cache.set(_key(sip_id), entries, ttl)
    return sorted(name for uid, (_seen, name) in entries.items() if uid != user.pk)


def poll_seconds() -> int:
    return getattr(settings, "SIP_PRESENCE_POLL_SECONDS", 10)
