"""Import samverkansavvikelser from a CSV or XLSX file: all rows or none (see docs/import-avvikelser.md)."""

import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from avvikelser.importer import import_deviations
from organisations.errors import Forbidden


class Command(BaseCommand):
    help = ("Importerar samverkansavvikelser från en CSV- eller XLSX-fil, en rad per rapport. Alla rader "
            "kontrolleras först; finns ett enda fel sparas ingenting. Kolumnerna beskrivs i "
            "docs/import-avvikelser.md.")

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV- eller XLSX-filen")
        parser.add_argument("--user", required=True,
                            help="användarnamnet på den som importerar (processledare eller "
                                 "organisationsadministratör)")

    def handle(self, *args, file, user, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"Filen {path} finns inte.")
        try:
            actor = get_user_model().objects.get(username=user)
        except get_user_model().DoesNotExist:
            raise CommandError(f"Användaren {user} finns inte.") from None
        started = time.monotonic()
        try:
            with path.open("rb") as handle:
                result = import_deviations(actor, handle, filename=path.name)
        except Forbidden as exc:
            raise CommandError(str(exc.message)) from None
        if not result.ok:
            for message in result.messages():
                self.stderr.write(message)
            count = len(result.errors) + result.more_errors
            raise CommandError(f"Importen avbröts: {count} fel. Ingenting sparades.")
        self.stdout.write(self.style.SUCCESS(
            f"Importerade {result.created} avvikelser på {time.monotonic() - started:.1f} s."))
