"""Serve the demo: Django's development server plus a Celery worker with beat on the configured broker."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Kör demo: webbserver och en Celery-worker med beat (periodiska jobb)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")

    def handle(self, *args, host, port, **options):
        worker = None
        if settings.CELERY_BROKER_URL:
            var_dir = Path(settings.VAR_DIR)
            var_dir.mkdir(parents=True, exist_ok=True)
            worker = subprocess.Popen(  # noqa: S603 - fixed argument list, no shell
                [sys.executable, "-m", "celery", "-A", "config", "worker", "--beat", "--pool", "solo",
                 "--loglevel", "WARNING", "--schedule", str(var_dir / "celerybeat-schedule")],
                env=os.environ.copy(),
            )
            self.stdout.write(self.style.SUCCESS("Celery-worker med beat startad."))
        else:
            self.stdout.write("CELERY_BROKER_URL saknas: jobb körs direkt i webbprocessen, inga periodiska jobb.")
        try:
            call_command("runserver", f"{host}:{port}", use_reloader=False)
        finally:
            if worker is not None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()
