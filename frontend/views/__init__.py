"""The HTML face: thin views over sip.queries (reads, gated) and sip.services (writes).

`frontend.views.home` stays importable from here; the SIP screens live in the submodules.
"""

from frontend.views.shell import home

__all__ = ["home"]
