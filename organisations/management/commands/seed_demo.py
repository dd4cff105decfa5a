"""Load demo data for every app that has a `demo` module; safe to run again (idempotent)."""

from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

# Apps seed in dependency order: organisations first, then the apps that build on it.
ORDER = ["organisations", "sip", "sip.delaktighet", "avvikelser"]


class Command(BaseCommand):
    help = "Skapar demodata (organisationer, enheter, användare …). Kan köras flera gånger."

    def handle(self, *args, **options):
        for label in ORDER:
            if not apps.is_installed(label):
                continue
            try:
                module = import_module(f"{label}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{label}.demo":
                    raise
                continue
            with transaction.atomic():
                module.seed(self.stdout)
        self.stdout.write(self.style.SUCCESS("\nDemodata klar."))
