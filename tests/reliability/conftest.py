"""Shared helpers for the fault and concurrency tests: what they need, skipping with the reason when it is missing."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
# Faults injected and messages delivered, summed over the run and printed at the end (docs/operations.md).
FIGURES: dict[str, int] = {}


def count(name: str, n: int = 1) -> None:
    FIGURES[name] = FIGURES.get(name, 0) + n


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.write_line("reliability figures: " + ", ".join(f"{k}={v}" for k, v in sorted(FIGURES.items())))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_for(predicate, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def pg_bindir() -> Path | None:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def app_env(**extra) -> dict[str, str]:
    """The environment of an app or worker subprocess: production-like settings, no test-only defaults."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DJANGO_", "CELERY_", "DATABASE_", "PYTEST"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "SECRET_KEY": "reliability-test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "STATIC_MANIFEST": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


def stop_process(proc: subprocess.Popen | None, *, group: bool = True) -> None:
    """Ends a process this test started (and its children, which share its process group)."""
    if proc is None or proc.poll() is not None:
        return
    try:
        if group:
            os.killpg(proc.pid, 9)
        else:
            proc.kill()
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)
