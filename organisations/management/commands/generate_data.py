"""Load synthetic data at a scale (small, region, national) for benchmarks, load tests and CI."""

import json

from django.core.management.base import BaseCommand, CommandError

from bench.datagen import generate


class Command(BaseCommand):
    help = "Genererar syntetiska data (small, region eller national) med COPY på PostgreSQL."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=sorted(generate.SCALES), default="small")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--database", default="default")
        parser.add_argument("--reset", action="store_true",
                            help="Töm organisationer, användare och allt under dem först.")
        parser.add_argument("--summary", help="Skriv en JSON-sammanfattning (radantal, tider) till filen.")

    def handle(self, *args, scale, seed, database, reset, summary, **options):
        from django.db import connections

        from organisations.models import Organisation

        vendor = connections[database].vendor
        if vendor != "postgresql" and scale != "small":
            self.stderr.write(f"Warning: {vendor} without COPY; only --scale small is meant for it.")
        if reset:
            generate.reset(database, self.stdout)
        elif Organisation.objects.using(database).exists():
            raise CommandError("The database already has organisations; use --reset to replace them "
                               "(this removes all organisations, users, plans and deviations).")
        result = generate.Generator(scale, seed=seed, using=database, out=self.stdout).run()
        if summary:
            with open(summary, "w", encoding="utf-8") as fh:
                json.dump(result, fh, ensure_ascii=False, indent=2, default=str)
