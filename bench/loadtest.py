"""`make loadtest`: gunicorn on 127.0.0.1 against a generated database, locust headless (bench/locustfile.py),
the figures written into bench/results.json and bench/RESULTS.md.

    python -m bench.loadtest --database samverkan_bench --users 40 --seconds 60 --workers 4
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _wait(url: str, seconds: float) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.5)
    return False


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="samverkan_bench")
    parser.add_argument("--scale", default="national")
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--spawn-rate", type=float, default=20)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--json", default=str(ROOT / "bench" / "results.json"))
    parser.add_argument("--markdown", default=str(ROOT / "bench" / "RESULTS.md"))
    args = parser.parse_args(argv)

    env = dict(os.environ)
    env.update({
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{args.database}",
        "DEBUG": "0", "SECURE_SSL_REDIRECT": "0", "STATIC_MANIFEST": "0", "DATABASE_CONN_MAX_AGE": "600",
        "SECRET_KEY": env.get("SECRET_KEY", "loadtest-only-secret-key-not-for-production-0000000000000000"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost", "THROTTLE_TOKEN": "1000/min",
    })
    address = f"127.0.0.1:{args.port}"
    host = f"http://{address}"
    gunicorn = subprocess.Popen(
        [str(BIN / "gunicorn"), "config.wsgi:application", "--bind", address, "--workers", str(args.workers),
         "--threads", str(args.threads), "--log-level", "warning", "--timeout", "60"],
        cwd=ROOT, env=env, start_new_session=True)
    out_dir = ROOT / "var" / "loadtest"
    out_dir.mkdir(parents=True, exist_ok=True)
    prefix = out_dir / "locust"
    try:
        if not _wait(f"{host}/healthz", 60):
            print("loadtest: gunicorn did not answer /healthz", file=sys.stderr)
            return 2
        started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        load = os.getloadavg()
        subprocess.run(
            [str(BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless", "--host", host,
             "-u", str(args.users), "-r", str(args.spawn_rate), "--run-time", f"{args.seconds}s",
             "--csv", str(prefix), "--only-summary", "--stop-timeout", "5"],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        try:
            gunicorn.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(gunicorn.pid, signal.SIGKILL)

    with open(f"{prefix}_stats.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    total = next(r for r in rows if r["Name"] == "Aggregated")
    per_endpoint = [{"name": f"{r['Type']} {r['Name']}", "count": int(r["Request Count"]), "p50": r["50%"],
                     "p95": r["95%"], "failures": int(r["Failure Count"])} for r in rows if r["Name"] != "Aggregated"]
    requests = int(total["Request Count"])
    failures = int(total["Failure Count"])
    result = {
        "date": started, "database": args.database, "scale": args.scale, "users": args.users,
        "seconds": args.seconds, "workers": args.workers, "threads": args.threads, "loadavg_at_start": load,
        "requests": requests, "errors": failures, "rps": float(total["Requests/s"]),
        "p50_ms": float(total["50%"]), "p95_ms": float(total["95%"]), "p99_ms": float(total["99%"]),
        "mix": "socialsekreterare 6 (SIP list 5, detail 5, timeline 3, new goal 1), contact person 3 (inbox 5, "
               "deviation 3, comment 1), processledare 1 (patterns)",
        "per_endpoint": per_endpoint,
    }
    print(json.dumps({k: v for k, v in result.items() if k != "per_endpoint"}, indent=1))
    json_path = Path(args.json)
    data = json.loads(json_path.read_text()) if json_path.exists() else {"runs": [], "machine": {}}
    data["loadtest"] = result
    from bench import report
    from bench.run import machine

    data.setdefault("date", started)
    if not data.get("machine"):
        data["machine"] = machine()
    data["targets"] = report.evaluate(data)
    json_path.write_text(json.dumps(data, indent=1, default=str) + "\n")
    Path(args.markdown).write_text(report.markdown(data))
    ok = failures == 0 and result["rps"] >= report.LOAD["rps"] and result["p95_ms"] < report.LOAD["p95_ms"]
    print(f"loadtest: {result['rps']:.1f} req/s, p95 {result['p95_ms']:.0f} ms, {failures} errors "
          f"({'meets' if ok else 'misses'} the target)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
