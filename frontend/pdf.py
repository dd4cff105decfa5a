"""HTML templates rendered to PDF with xhtml2pdf (e.g. the person's printable plan)."""

from __future__ import annotations

import logging
from io import BytesIO

from django.template.loader import render_to_string
from xhtml2pdf import pisa

log = logging.getLogger(__name__)


def _no_fetch(uri: str, rel: str) -> str:
    """The documents are self-contained (inline CSS, no images): never fetch anything a template names."""
    log.warning("render_pdf: refused to fetch %r", uri[:200])
    return ""


def _resource_policy():
    # Newer xhtml2pdf releases take a resource policy: no network, no local files.
    try:
        from xhtml2pdf.config.resources import ResourceAccessPolicy
    except ImportError:  # pragma: no cover - older xhtml2pdf
        return {}
    return {"resource_policy": ResourceAccessPolicy.server(None, allow_remote=False)}


def render_pdf(template_name: str, context: dict) -> bytes:
    """Render a Django template and convert it to PDF bytes; RuntimeError if xhtml2pdf reports errors."""
    html = render_to_string(template_name, context)
    output = BytesIO()
    result = pisa.CreatePDF(html, dest=output, encoding="utf-8", link_callback=_no_fetch, **_resource_policy())
    if result.err:
        raise RuntimeError(f"PDF rendering of {template_name} failed with {result.err} error(s)")
    return output.getvalue()
