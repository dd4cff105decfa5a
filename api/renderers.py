from rest_framework.renderers import JSONRenderer as BaseJSONRenderer


class JSONRenderer(BaseJSONRenderer):
    """JSON, keeping the response's own content type (application/problem+json for errors)."""

    ensure_ascii = False
