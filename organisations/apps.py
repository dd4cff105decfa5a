from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganisationsConfig(AppConfig):
    name = "organisations"
    verbose_name = _("Organisationer och behörigheter")

    def ready(self):
        from organisations import signals  # noqa: F401
