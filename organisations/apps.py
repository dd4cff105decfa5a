from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganisationsConfig(AppConfig):
    name = "organisations"
    verbose_name = _("Organisationer och behörigheter")

    def ready(self):
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from organisations import access, prepared, signals, timestamps  # noqa: F401

        connection_created.connect(timestamps.install, weak=False, dispatch_uid="organisations.timestamps")

        # Flushing the test database recreates permissions with new ids.
        post_migrate.connect(lambda **kwargs: access.permission_id.cache_clear(), weak=False)
        # Prepared querysets compile constants such as a permission's id into their SQL (organisations/prepared.py).
        post_migrate.connect(lambda **kwargs: prepared.forget_all(), weak=False)
