from rest_framework.renderers import JSONRenderer as BaseJSONRenderer


class JSONRenderer(BaseJSONRenderer):
    """JSON, keeping the response's own content type (application/problem+json for errors).

    Data that arrives already encoded (an object with `encoded_json` and `data`, e.g. the pattern view's kept
    answer, avvikelser/pattern_cache.py) is sent as it is, unless indentation is asked for."""

    ensure_ascii = False

    def render(self, data, accepted_media_type=None, renderer_context=None):
        encoded = getattr(data, "encoded_json", None)
        if encoded is not None:
            if self.get_indent(accepted_media_type, renderer_context or {}) is None:
                return encoded
            data = data.data
        return super().render(data, accepted_media_type, renderer_context)
