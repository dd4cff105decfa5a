from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AvvikelserConfig(AppConfig):
    name = "avvikelser"
    verbose_name = _("Samverkansavvikelser")
