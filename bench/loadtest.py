"""`make loadtest`: gunicorn on 127.0.0.1 against a generated database, locust headless (bench/locustfile.py),
the figures written into bench/results.json and bench/RESULTS.md.

    python -m bench.loadtest --database samverkan_bench --users 5,10,20,40 --seconds 30 --workers 4

The load rises in steps (concurrent users, each waiting 50–300 ms between requests). The headline is the step with
the most requests per second whose p95 stays under the target (200 ms) without errors: the throughput the
service sustains at that latency. The last step shows saturation.
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


def _step(host: str, users: int, seconds: int, spawn_rate: float, prefix: Path) -> dict:
    """One level of load: locust headless for `seconds` with `users` users; its totals and per request."""
    subprocess.run(
        [str(BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless", "--host", host,
         "-u", str(users), "-r", str(spawn_rate), "--run-time", f"{seconds}s",
         "--csv", str(prefix), "--only-summary", "--stop-timeout", "5"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False, stdout=subprocess.DEVNULL)
    with open(f"{prefix}_stats.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    total = next(r for r in rows if r["Name"] == "Aggregated")
    step = {"users": users, "requests": int(total["Request Count"]), "errors": int(total["Failure Count"]),
            "rps": float(total["Requests/s"]), "p50_ms": float(total["50%"]), "p95_ms": float(total["95%"]),
            "p99_ms": float(total["99%"]),
            "per_endpoint": [{"name": r["Name"] if r["Name"].startswith(r["Type"]) else f"{r['Type']} {r['Name']}",
                              "count": int(r["Request Count"]), "p50": r["50%"],
                              "p95": r["95%"], "failures": int(r["Failure Count"])}
                             for r in rows if r["Name"] != "Aggregated"]}
    print(f"  {users:>3} users: {step['rps']:6.1f} req/s, p50 {step['p50_ms']:.0f} ms, p95 {step['p95_ms']:.0f} ms, "
          f"{step['errors']} errors", flush=True)
    return step


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="samverkan_bench")
    parser.add_argument("--scale", default="national")
    parser.add_argument("--users", default="5,10,20,30,35,40,50", help="concurrent users per step, comma-separated")
    parser.add_argument("--spawn-rate", type=float, default=20)
    parser.add_argument("--seconds", type=int, default=30, help="seconds per step")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per worker (more than 1: gunicorn's gthread worker; measured no faster here)")
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
    try:
        if not _wait(f"{host}/healthz", 60):
            print("loadtest: gunicorn did not answer /healthz", file=sys.stderr)
            return 2
        started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        load = os.getloadavg()
        _step(host, 5, 5, args.spawn_rate, out_dir / "locust_warmup")  # workers import and connect; not counted
        steps = [_step(host, int(users), args.seconds, args.spawn_rate, out_dir / f"locust_{users}")
                 for users in str(args.users).split(",")]
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        try:
            gunicorn.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(gunicorn.pid, signal.SIGKILL)

    from bench import report

    within = [st for st in steps if st["p95_ms"] < report.LOAD["p95_ms"] and st["errors"] == 0]
    headline = max(within, key=lambda st: st["rps"]) if within else min(steps, key=lambda st: st["p95_ms"])
    result = {
        "date": started, "database": args.database, "scale": args.scale, "seconds": args.seconds,
        "workers": args.workers, "threads": args.threads, "loadavg_at_start": load,
        **{k: headline[k] for k in ("users", "requests", "rps", "p50_ms", "p95_ms", "p99_ms", "per_endpoint")},
        "errors": sum(st["errors"] for st in steps),
        "mix": "socialsekreterare 6 (SIP list 5, detail 5, timeline 3, new goal 1), contact person 3 (inbox 5, "
               "deviation 3, comment 1), processledare 1 (patterns)",
        "steps": [{k: v for k, v in st.items() if k != "per_endpoint"} for st in steps],
    }
    print(json.dumps({k: v for k, v in result.items() if k != "per_endpoint"}, indent=1))
    json_path = Path(args.json)
    data = json.loads(json_path.read_text()) if json_path.exists() else {"runs": [], "machine": {}}
    data["loadtest"] = result
    from bench.run import machine

    data.setdefault("date", started)
    if not data.get("machine"):
        data["machine"] = machine()
    data["targets"] = report.evaluate(data)
    json_path.write_text(json.dumps(data, indent=1, default=str) + "\n")
    Path(args.markdown).write_text(report.markdown(data))
    ok = (result["errors"] == 0 and result["rps"] >= report.LOAD["rps"]
          and result["p95_ms"] < report.LOAD["p95_ms"])
    print(f"loadtest: {result['rps']:.1f} req/s at {result['users']} users, p95 {result['p95_ms']:.0f} ms, "
          f"{result['errors']} errors "
          f"({'meets' if ok else 'misses'} the target)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
