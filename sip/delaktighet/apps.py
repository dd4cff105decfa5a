from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DelaktighetConfig(AppConfig):
    name = "sip.delaktighet"
    label = "delaktighet"
    verbose_name = _("Delaktighet")

    def ready(self):
        from sip.delaktighet import receivers  # noqa: F401
