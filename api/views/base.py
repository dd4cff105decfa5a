from rest_framework import viewsets

from organisations import access


class GatedViewSetMixin:
    """Every object a viewset shows comes from `gate()`; anything outside it answers 404."""

    def gate(self):
        raise NotImplementedError

    def get_queryset(self):
        return self.gate()

    def get_object(self):
        queryset = self.filter_queryset(self.get_queryset()) if self.action != "retrieve" else self.get_queryset()
        obj = access.get_visible(queryset, self.kwargs[self.lookup_url_kwarg or self.lookup_field])
        self.check_object_permissions(self.request, obj)
        return obj


class GatedReadOnlyViewSet(GatedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass
