"""A test-only e-mail backend for worker subprocesses: slow on purpose, and it records every message it delivers.

Settings (environment): SAMVERKAN_TEST_MAIL_DIR (where `progress.log` and `outbox.jsonl` go) and
SAMVERKAN_TEST_MAIL_DELAY (seconds). Per message it appends a line to `progress.log`, sleeps — the window in which
the test kills the worker — and then appends the delivered message to `outbox.jsonl` (the "mail server has
accepted it" moment). Both are fsynced, so what a killed worker wrote is on disk.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend


def _append(path: Path, line: str) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())


class SlowFileBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        folder = Path(os.environ["SAMVERKAN_TEST_MAIL_DIR"])
        delay = float(os.environ.get("SAMVERKAN_TEST_MAIL_DELAY", "0"))
        sent = 0
        for message in email_messages:
            _append(folder / "progress.log", f"{os.getpid()} {message.subject}")
            time.sleep(delay)
            _append(folder / "outbox.jsonl", json.dumps({"to": message.to, "subject": message.subject,
                                                         "body": message.body}, ensure_ascii=False))
            sent += 1
        return sent
