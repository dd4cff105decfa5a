"""Gallring: apply the retention rules, or with --dry-run show what they would do (counts only)."""

import json

from django.core.management.base import BaseCommand

from organisations import retention


class Command(BaseCommand):
    help = "Gallrar enligt lagringsreglerna. Med --dry-run visas bara antal per regel, inget ändras."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Räkna bara, ändra ingenting.")
        parser.add_argument("--json", action="store_true", help="Skriv rapporten som JSON.")

    def handle(self, *args, dry_run=False, json=False, **options):
        report = retention.run(dry_run=dry_run)
        if json:
            self.stdout.write(_dumps({"dry_run": dry_run, "rules": report}))
            return
        verb = "skulle beröras" if dry_run else "berördes"
        for row in report:
            period = row["period"]
            self.stdout.write(f"{row['rule']:<36} {row['disposition']:<10} {period['value']:>4} "
                              f"{period['unit']:<5} före {row['cutoff'][:10]}: {row['count']} rader {verb}")
        if dry_run:
            self.stdout.write(self.style.WARNING("Torrkörning: ingenting ändrades."))


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)
