"""Benchmarks of the hot endpoints against their SQL floor and the stock django-guardian path (issue #7).

    python -m bench.run --database samverkan_bench=national --database samverkan_bench_small=small
    python -m bench.run --smoke --database samverkan_bench_ci=small      # CI: completion + query counts only

Each database is measured in its own child process (``--worker``), so Django is set up once per database. Per
scenario: warm-up, then N requests in-process through the whole Django/DRF stack (django.test.Client with a
session from force_login, so every request loads its user and memberships as a real one does), p50/p95/p99,
queries per request (CaptureQueriesContext, also at another page size), and the hand-written SQL floor
(bench/floors.py) timed in the same run. The parent merges the results into bench/results.json and
bench/RESULTS.md (bench/report.py). PostgreSQL only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASES = ["samverkan_bench=national", "samverkan_bench_small=small"]
PG_HOST = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def summary(times_ms: list[float]) -> dict:
    ordered = sorted(times_ms)
    if len(ordered) == 1:
        value = round(ordered[0], 3)
        return {"n": 1, "p50": value, "p95": value, "p99": value, "mean": value}
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"n": len(ordered), "p50": round(statistics.median(ordered), 3), "p95": round(cuts[94], 3),
            "p99": round(cuts[98], 3), "mean": round(statistics.fmean(ordered), 3)}


# --- the child: one database -----------------------------------------------------------------------------------

def _setup_django(database: str) -> None:
    os.environ["DATABASE_URL"] = f"{PG_HOST}/{database}"
    os.environ.setdefault("DEBUG", "0")
    # Persistent connections, as in production: without them every request pays a new PostgreSQL connection.
    os.environ.setdefault("DATABASE_CONN_MAX_AGE", "600")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-000000000000000000")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("STATIC_MANIFEST", "0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


class Bench:
    def __init__(self, requests: int, warmup: int, smoke: bool):
        self.requests, self.warmup, self.smoke = requests, warmup, smoke
        self.results: dict[str, dict] = {}
        self.notes: list[str] = []

    # Timing helpers ---------------------------------------------------------------------------------------
    def timed(self, fn, n=None) -> list[float]:
        for _ in range(self.warmup):
            fn()
        times = []
        for _ in range(n or self.requests):
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1000)
        return times

    def timed_in_turns(self, fns: dict, n=None) -> dict[str, list[float]]:
        """Each function timed n times, taking turns after each is warmed up, so that drift of the machine or its
        caches during the measurement falls on all of them alike (an endpoint and its floor, say)."""
        for _ in range(self.warmup):
            for fn in fns.values():
                fn()
        times: dict[str, list[float]] = {name: [] for name in fns}
        for _ in range(n or self.requests):
            for name, fn in fns.items():
                start = time.perf_counter()
                fn()
                times[name].append((time.perf_counter() - start) * 1000)
        return times

    def queries(self, fn, runs=3) -> list[int]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        counts = []
        for _ in range(runs):
            with CaptureQueriesContext(connection) as ctx:
                fn()
            counts.append(len(ctx.captured_queries))
        return counts

    @staticmethod
    def floor_run(statements, rows: dict):
        """A function running the floor's statements, every row fetched; `rows["n"]` counts them."""
        from django.db import connection

        def run():
            n = 0
            with connection.cursor() as cursor:
                for sql, params in statements:
                    cursor.execute(sql, params)
                    n += len(cursor.fetchall())
            rows["n"] = n
        return run

    def floor(self, statements) -> tuple[dict, int]:
        rows: dict = {}
        return summary(self.timed(self.floor_run(statements, rows))), rows["n"]

    def fastest_floor(self, shapes: dict) -> tuple[dict, int, str]:
        """The floor when a query has competing shapes: each timed, the fastest (p50) kept."""
        timed = {name: self.floor(statements) for name, statements in shapes.items()}
        best = min(timed, key=lambda name: timed[name][0]["p50"])
        return (*timed[best], best)

    def with_floor(self, get, floor) -> tuple[dict, dict, int, str | None]:
        """The endpoint and its floor (each of its shapes) timed taking turns: (endpoint, floor, floor rows,
        shape) with the fastest shape (p50) as the floor."""
        shapes = floor if isinstance(floor, dict) else {None: floor}
        rows = {name: {} for name in shapes}
        runs = {"endpoint": get, **{("floor", name): self.floor_run(statements, rows[name])
                                    for name, statements in shapes.items()}}
        times = self.timed_in_turns(runs)
        floors = {name: summary(times[("floor", name)]) for name in shapes}
        best = min(floors, key=lambda name: floors[name]["p50"])
        return summary(times["endpoint"]), floors[best], rows[best]["n"], best

    def http(self, name: str, client, path: str, *, floor=None, alt_path: str | None = None, note: str = "",
             cold=None):
        """One endpoint scenario: latency, queries per request (and at another page size), the floor. `cold`
        empties the endpoint's cache, for the queries of a request that misses it."""
        def get(p=path):
            response = client.get(p)
            if response.status_code != 200:
                raise RuntimeError(f"{name}: {p} answered {response.status_code}: {response.content[:300]!r}")
            return response

        first = get()
        size = len(first.content)
        entry = {"path": path, "response_bytes": size, "note": note}
        if cold is not None:  # the queries of a request that finds its cache empty, at both paths
            entry["queries_cold"] = []
            for p in (path, alt_path) if alt_path else (path,):
                cold()
                entry["queries_cold"] += self.queries(lambda p=p: get(p), runs=1)
            get()
        counts = entry["queries"] = self.queries(get)
        if alt_path:
            get(alt_path)  # warm, like the path itself
            entry["queries_alt"] = self.queries(lambda: get(alt_path), runs=1)
            entry["alt_path"] = alt_path
        if floor is None or self.smoke:
            entry["latency_ms"] = summary(self.timed(get, n=(3 if self.smoke else None)))
        else:
            entry["latency_ms"], entry["floor_ms"], entry["floor_rows"], shape = self.with_floor(get, floor)
            if shape is not None:
                entry["floor_shape"] = shape
            entry["ratio_p50"] = round(entry["latency_ms"]["p50"] / entry["floor_ms"]["p50"], 2)
            entry["ratio_p95"] = round(entry["latency_ms"]["p95"] / entry["floor_ms"]["p95"], 2)
        self.results[name] = entry
        print(f"  {name:<22} p50 {entry['latency_ms']['p50']:8.2f} ms  p95 {entry['latency_ms']['p95']:8.2f} ms"
              f"  queries {counts}" + (f"  floor p50 {entry['floor_ms']['p50']:.2f} ms ×{entry['ratio_p50']}"
                                       if "floor_ms" in entry else ""), flush=True)


def _personas() -> dict:
    """The generator's personas (bench/datagen/personas.py); on a database without them (e.g. seed_demo) the
    closest users, so the harness can be tried anywhere."""
    from django.db.models import Count

    from avvikelser.models import ContactPerson, Deviation, ForumMember
    from organisations.models import Membership, User
    from sip.models import SipGroupObjectPermission

    found = {u.username: u for u in User.objects.filter(username__startswith="bench_")}
    out = {name: found.get(f"bench_{name}") for name in
           ("socialsekreterare", "behandlare", "contact", "forum", "nobody", "admin")}
    if out["socialsekreterare"] is None:
        busiest = (SipGroupObjectPermission.objects.values("group_id").annotate(n=Count("id")).order_by("-n")
                   .values_list("group_id", flat=True)[:1])
        membership = Membership.objects.filter(unit__group_id__in=list(busiest), active=True).first()
        out["socialsekreterare"] = membership.user if membership else None
    if out["contact"] is None:
        top = (Deviation.objects.values("counterpart_organisation_id").annotate(n=Count("id")).order_by("-n")
               .values_list("counterpart_organisation_id", flat=True)[:1])
        contact = ContactPerson.objects.filter(organisation_id__in=list(top)).select_related("user").first()
        out["contact"] = contact.user if contact else None
    if out["forum"] is None:
        top = (Deviation.objects.values("forum_id").annotate(n=Count("id")).order_by("-n")
               .values_list("forum_id", flat=True)[:1])
        member = ForumMember.objects.filter(forum_id__in=list(top)).select_related("user").first()
        out["forum"] = member.user if member else None
    if out["admin"] is None:
        out["admin"] = out["socialsekreterare"]
    return out


def _client(user):
    """A browser: a session from force_login (the HTML pages)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def _api_client(user):
    """An API client: `Authorization: Token …` (knox; one query per request, the user joined in)."""
    from django.test import Client
    from knox.models import AuthToken

    _instance, token = AuthToken.objects.create(user)
    return Client(headers={"Authorization": f"Token {token}"})


def _fresh(user):
    from organisations.models import User

    return User.objects.get(pk=user.pk)


def _gate(bench: Bench, label: str, user) -> None:
    """Ours (organisations/access.py via sip.access.visible_sips) vs stock get_objects_for_user, page + count."""
    from guardian.shortcuts import get_objects_for_user

    from bench import floors
    from organisations.access import permission_id
    from organisations.paging import LateRowPaginator
    from sip.access import visible_sips
    from sip.models import Sip

    perm = permission_id("sip", "sip", "view_sip")
    n = 3 if bench.smoke else bench.requests

    def timed_with_fresh_user(*runs):
        """Each run timed n times, the runs taking turns (so drift of the machine or the caches during the
        measurement falls on all of them alike), after warming each up; a fresh user object per call (outside
        the clock): nothing cached from the previous call."""
        for _ in range(max(bench.warmup, 20) if not bench.smoke else 1):
            for run in runs:
                run(_fresh(user))
        times = [[] for _ in runs]
        for _ in range(n):
            for run, timed in zip(runs, times, strict=True):
                fresh = _fresh(user)
                start = time.perf_counter()
                run(fresh)
                timed.append((time.perf_counter() - start) * 1000)
        return times

    answer = {}

    def ours(u):
        # As the list reads it: organisations/paging.py (the count, then the page's keys and rows).
        page = LateRowPaginator(visible_sips(u).order_by("-updated_at", "-id"), 50).page(1)
        answer["ours"] = ([s.pk for s in page.object_list], page.paginator.count)

    def stock(u):
        queryset = get_objects_for_user(u, "sip.view_sip", klass=Sip).order_by("-updated_at", "-id")
        answer["stock"] = ([s.pk for s in queryset[:50]], queryset.count())

    entry = {"user": user.username}
    entry["ours_queries"] = bench.queries(lambda: ours(_fresh(user)), runs=1)
    entry["stock_queries"] = bench.queries(lambda: stock(_fresh(user)), runs=1)
    ours_ms, stock_ms = timed_with_fresh_user(ours, stock)
    entry["ours_ms"], entry["stock_ms"] = summary(ours_ms), summary(stock_ms)
    entry["same_answer"] = answer["ours"] == answer["stock"]
    entry["visible"] = answer["ours"][1]
    if not bench.smoke:
        entry["floor_ms"], _rows, entry["floor_shape"] = bench.fastest_floor(
            {shape: floors.gate_page_and_count(user.pk, perm, shape) for shape in floors.PAGE_SHAPES})
        entry["ratio_floor_p50"] = round(entry["ours_ms"]["p50"] / entry["floor_ms"]["p50"], 2)
        entry["ratio_floor_p95"] = round(entry["ours_ms"]["p95"] / entry["floor_ms"]["p95"], 2)
    entry["speedup_p50"] = round(entry["stock_ms"]["p50"] / entry["ours_ms"]["p50"], 2)
    entry["speedup_p95"] = round(entry["stock_ms"]["p95"] / entry["ours_ms"]["p95"], 2)
    bench.results[f"gate_{label}"] = entry
    print(f"  gate_{label:<17} ours p50 {entry['ours_ms']['p50']:7.2f} ms, stock p50 {entry['stock_ms']['p50']:7.2f}"
          f" ms (×{entry['speedup_p50']}), visible {entry['visible']}, same answer {entry['same_answer']}",
          flush=True)


def run_worker(database: str, scale: str, requests: int, warmup: int, smoke: bool) -> dict:
    _setup_django(database)
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from avvikelser import forum_queries, patterns
    from avvikelser.access import forum_ids
    from bench import floors
    from organisations import access
    from organisations.access import permission_id
    from sip.access import visible_sips
    from sip.delaktighet.models import Item, Response
    from sip.delaktighet.reports import COUNTED_KINDS, _version
    from sip.models import Sip

    if connection.vendor != "postgresql":
        raise SystemExit("bench: PostgreSQL only (DATABASE_URL)")
    bench = Bench(requests, warmup, smoke)
    today = timezone.localdate()
    perm = permission_id("sip", "sip", "view_sip")
    who = _personas()
    counts = {name: model.objects.count() for name, model in (("sips", Sip), ("responses", Response))}
    from avvikelser.models import Deviation
    from sip.delaktighet.models import Answer

    with connection.cursor() as cursor:  # estimates are enough for the table; exact counts of 1e6 rows cost
        cursor.execute("SELECT relname, reltuples::bigint FROM pg_class WHERE relname = ANY(%s)",
                       [["avvikelser_deviation", "delaktighet_answer", "sip_sip", "sip_person",
                         "organisations_user", "organisations_unit"]])
        estimates = dict(cursor.fetchall())
    counts.update({"deviations": Deviation.objects.count(), "answers": Answer.objects.count()})
    print(f"{database} ({scale}): {counts}", flush=True)

    social = who["socialsekreterare"]
    if social is not None:
        client = _api_client(social)
        plans = visible_sips(_fresh(social))
        sip = (Sip.objects.filter(pk__in=plans.values("pk")).annotate(n=Count("actions")).order_by("-n", "id")
               .first())
        list_floors = {shape: floors.sip_list(social.pk, perm, today, shape) for shape in floors.PAGE_SHAPES}
        bench.http("sip_list", client, "/api/v1/sips/", floor=list_floors,
                   alt_path="/api/v1/sips/?page_size=10", note="page of 50 + count, as socialsekreterare")
        if sip is not None:
            bench.http("sip_detail", client, f"/api/v1/sips/{sip.pk}/",
                       floor=floors.sip_detail(social.pk, perm, sip.pk), note=f"SIP {sip.pk} (most actions)")
            bench.http("sip_timeline", client, f"/api/v1/sips/{sip.pk}/timeline/",
                       floor=floors.timeline(social.pk, perm, sip.pk))
        _gate(bench, "socialsekreterare", social)
    if who["nobody"] is not None:
        _gate(bench, "nobody", who["nobody"])
    else:
        bench.notes.append("no bench_nobody persona in this database: the gate for a user who sees nothing "
                           "was not measured")

    contact = who["contact"]
    if contact is not None:
        browser = _client(contact)
        bench.http("deviation_inbox", browser, "/avvikelser/att-besvara/",
                   floor=floors.inbox(contact.pk, browser.session.session_key),
                   alt_path="/avvikelser/att-besvara/?sida=2",
                   note="HTML inbox 'Att besvara' of the counterpart's contact person (page of 50 + count)")

    forum_user = who["forum"]
    if forum_user is not None:
        forum_id = (Deviation.objects.filter(forum_id__in=forum_ids(_fresh(forum_user))).values("forum_id")
                    .annotate(n=Count("id")).order_by("-n").values_list("forum_id", flat=True).first())
        if forum_id is not None:
            first, last, _starts = patterns.resolve_period(None, None, "month", today)
            reports = forum_queries.reports_of(forum_id).count()
            from django.core.cache import cache
            from django.test import override_settings

            client = _api_client(forum_user)
            path = f"/api/v1/forums/{forum_id}/patterns/"
            # Timed as computed (a request after a report arrived): without the kept answer, with the kept
            # denominators; the kept answer (avvikelser/pattern_cache.py) is timed on its own below.
            with override_settings(PATTERN_ANSWER_CACHE=False):
                bench.http("forum_patterns", client, path, cold=cache.clear,
                           floor=floors.patterns(forum_id, first, last),
                           alt_path=f"{path}?granularity=week",
                           note=f"forum {forum_id}, {reports} reports, 36 months; computed (no kept answer)")
            bench.results["forum_patterns"]["forum_reports"] = reports
            client.get(path)
            bench.results["forum_patterns"]["kept_answer"] = {
                "queries": bench.queries(lambda: client.get(path)),
                "latency_ms": summary(bench.timed(lambda: client.get(path), n=(3 if bench.smoke else None)))}
            from avvikelser import rollup

            bench.results["forum_patterns"]["rollup_consistent"] = not rollup.differences(forum_id)

    admin = who["admin"]
    if admin is not None:
        orgs = sorted(access.organisation_ids(_fresh(admin)))
        version = _version(None)
        items = list(Item.objects.filter(version=version, kind__in=COUNTED_KINDS).values("id", "kind"))
        scale_ids = [i["id"] for i in items if i["kind"] == "scale_1_6"]
        answers_in_scope = Answer.objects.filter(response__lead_organisation_id__in=orgs).count()
        bench.http("delaktighet_report", _api_client(admin), "/api/v1/reports/delaktighet/?group_by=gender",
                   floor=floors.delaktighet(orgs, version.pk, [i["id"] for i in items], scale_ids),
                   alt_path="/api/v1/reports/delaktighet/?group_by=gender&group_by=age_band",
                   note=f"group_by=gender over the {answers_in_scope} answers of the user's organisations")
        bench.results["delaktighet_report"]["answers_in_scope"] = answers_in_scope

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    return {
        "database": database, "scale": scale, "counts": counts, "estimates": estimates,
        "personas": {k: (v.username if v else None) for k, v in who.items()},
        "requests": requests if not smoke else 3, "warmup": warmup, "smoke": smoke,
        "postgresql": pg_version, "debug": settings.DEBUG, "scenarios": bench.results, "notes": bench.notes,
    }


# --- the parent -----------------------------------------------------------------------------------------------

def machine() -> dict:
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"nproc": os.cpu_count(), "ram_gb": round(mem_kb / 1024 / 1024, 1), "platform": platform.platform(),
            "python": platform.python_version(), "loadavg_at_start": load}


def database_exists(name: str) -> bool:
    result = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc",
                             f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
                            capture_output=True, text=True)
    return result.stdout.strip() == "1"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", action="append", metavar="NAME=SCALE",
                        help="database and its scale label (repeatable); default: national + small")
    parser.add_argument("--requests", type=int, default=int(os.environ.get("BENCH_REQUESTS", 60)))
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--smoke", action="store_true",
                        help="3 requests per scenario, no floors: assert completion and query counts only")
    parser.add_argument("--json", default=str(ROOT / "bench" / "results.json"))
    parser.add_argument("--markdown", default=str(ROOT / "bench" / "RESULTS.md"))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    databases = args.database or DEFAULT_DATABASES
    if args.worker:
        name, _, scale = databases[0].partition("=")
        result = run_worker(name, scale or name, args.requests, args.warmup, args.smoke)
        Path(args.worker_out).write_text(json.dumps(result, indent=1, default=str))
        return 0

    url = os.environ.get("DATABASE_URL", "")
    if url and not url.startswith(("postgres://", "postgresql://")):
        print("bench: PostgreSQL only — the benchmarks run against the generated PostgreSQL databases "
              "(python manage.py generate_data --scale …); DATABASE_URL points elsewhere.", file=sys.stderr)
        return 2
    if subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"]).returncode != 0:
        print("bench: PostgreSQL is not answering on 127.0.0.1:5432 (the benchmarks need PostgreSQL).",
              file=sys.stderr)
        return 2
    runs = []
    for spec in databases:
        name, _, scale = spec.partition("=")
        if not database_exists(name):
            print(f"bench: database {name} does not exist; create it with "
                  f"`DATABASE_URL={PG_HOST}/{name} python manage.py generate_data --scale {scale or 'small'}`",
                  file=sys.stderr)
            return 2
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
            out = handle.name
        command = [sys.executable, "-m", "bench.run", "--worker", "--worker-out", out, "--database", spec,
                   "--requests", str(args.requests), "--warmup", str(args.warmup)] + (["--smoke"] if args.smoke else [])
        started = time.time()
        subprocess.run(command, check=True, cwd=ROOT)
        result = json.loads(Path(out).read_text())
        os.unlink(out)
        result["seconds"] = round(time.time() - started, 1)
        runs.append(result)

    from bench import report

    data = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine(), "runs": runs,
            "note": os.environ.get("BENCH_NOTE", "")}
    verdict = report.evaluate(data)
    data["targets"] = verdict
    if args.smoke:
        failures = [t for t in verdict if t["kind"] == "queries" and t["pass"] is False]
        expected = {*report.ENDPOINTS, "gate_socialsekreterare", "gate_nobody"}
        for run in runs:
            if run["scenarios"].get("forum_patterns", {}).get("rollup_consistent") is False:
                failures.append({"target": "pattern rollup equals the reports", "pass": False})
                print(f"FAIL {run['database']}: the pattern rollup differs from the reports")
        for run in runs:
            missing = sorted(expected - set(run["scenarios"]))
            if missing:
                failures.append({"target": f"{run['database']}: scenarios not run (personas or data missing)",
                                 "measured": missing, "pass": False})
                print(f"FAIL {run['database']}: scenarios not run: {missing}")
        for t in verdict:
            if t["kind"] == "queries":
                print(f"{'ok  ' if t['pass'] else 'FAIL'} {t['target']}: {t['measured']}")
        if failures:
            print(f"bench smoke: {len(failures)} query-count target(s) failed", file=sys.stderr)
            return 1
        print("bench smoke: completed; query counts hold")
        return 0
    previous = {}
    json_path = Path(args.json)
    if json_path.exists():
        try:
            previous = json.loads(json_path.read_text())
        except ValueError:
            previous = {}
    if "loadtest" in previous:
        data["loadtest"] = previous["loadtest"]
        data["targets"] = verdict = report.evaluate(data)
    json_path.write_text(json.dumps(data, indent=1, default=str) + "\n")
    Path(args.markdown).write_text(report.markdown(data))
    print(f"wrote {json_path} and {args.markdown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
