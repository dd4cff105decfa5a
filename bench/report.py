"""The targets of issue #7 judged against bench results, and bench/RESULTS.md."""

from __future__ import annotations

LATENCY_TARGETS = {  # scenario → p95 limit in ms at national scale
    "sip_list": 50, "sip_detail": 30, "deviation_inbox": 50, "forum_patterns": 300, "delaktighet_report": 300,
}
ENDPOINTS = ["sip_list", "sip_detail", "sip_timeline", "deviation_inbox", "forum_patterns", "delaktighet_report"]
GROWTH = ["sip_list", "sip_detail"]
MAX_QUERIES = 10
FLOOR_RATIO = 3.0
GROWTH_RATIO = 1.5
GATE_SPEEDUP = 5.0
LOAD = {"rps": 150, "p95_ms": 200}
SCALE_ORDER = ["national", "region", "small"]


def _main_run(runs):
    by_scale = {r["scale"]: r for r in runs}
    for scale in SCALE_ORDER:
        if scale in by_scale:
            return by_scale[scale]
    return runs[0] if runs else None


def evaluate(data: dict) -> list[dict]:
    runs = data.get("runs", [])
    main = _main_run(runs)
    out = []

    def add(kind, target, measured, ok, scale=None):
        out.append({"kind": kind, "target": target, "measured": measured, "pass": ok,
                    "scale": scale or (main["scale"] if main else None)})

    if main:
        s = main["scenarios"]
        for name, limit in LATENCY_TARGETS.items():
            if name in s:
                p95 = s[name]["latency_ms"]["p95"]
                add("latency", f"{name} p95 ≤ {limit} ms", f"{p95:.1f} ms", p95 <= limit)
            else:
                add("latency", f"{name} p95 ≤ {limit} ms", "not measured", None)
    # Queries: ≤ 10, the same on every call, at another page size and at every scale.
    per_endpoint: dict[str, dict] = {}
    for run in runs:
        for name in ENDPOINTS:
            entry = run["scenarios"].get(name)
            if entry:
                per_endpoint.setdefault(name, {})[run["scale"]] = entry["queries"] + entry.get("queries_alt", [])
                if entry.get("queries_cold"):
                    per_endpoint.setdefault(f"{name} (cold cache)", {})[run["scale"]] = entry["queries_cold"]
    for name, by_scale in per_endpoint.items():
        every = [q for counts in by_scale.values() for q in counts]
        text = ", ".join(f"{scale}: {sorted(set(counts))}" for scale, counts in by_scale.items())
        add("queries", f"{name}: ≤ {MAX_QUERIES} queries, constant (repeat, page size, scale)", text,
            max(every) <= MAX_QUERIES and len(set(every)) == 1)
    for run in runs:
        for label in ("socialsekreterare", "nobody"):
            entry = run["scenarios"].get(f"gate_{label}")
            if entry:
                add("queries", f"access gate ({label}): constant queries, same answer as stock",
                    f"{run['scale']}: ours {entry['ours_queries']}, stock {entry['stock_queries']}, "
                    f"same answer {entry['same_answer']}",
                    entry["same_answer"] and max(entry["ours_queries"]) <= MAX_QUERIES, run["scale"])
    # Growth small → national.
    by_scale = {r["scale"]: r for r in runs}
    if main and "small" in by_scale and main["scale"] != "small":
        for name in GROWTH:
            big, small = main["scenarios"].get(name), by_scale["small"]["scenarios"].get(name)
            if big and small:
                ratio = big["latency_ms"]["p95"] / small["latency_ms"]["p95"]
                add("growth", f"{name} p95 {main['scale']} ≤ {GROWTH_RATIO} × small",
                    f"{big['latency_ms']['p95']:.1f} / {small['latency_ms']['p95']:.1f} ms = ×{ratio:.2f}",
                    ratio <= GROWTH_RATIO)
    if main:
        s = main["scenarios"]
        for name in ENDPOINTS:
            entry = s.get(name)
            if entry and "ratio_p50" in entry:
                add("floor", f"{name} ≤ {FLOOR_RATIO:g} × SQL floor (p50; p95 shown)",
                    f"×{entry['ratio_p50']} (p95 ×{entry['ratio_p95']}; floor p50 {entry['floor_ms']['p50']:.2f} ms)",
                    entry["ratio_p50"] <= FLOOR_RATIO)
        for label in ("socialsekreterare", "nobody"):
            entry = s.get(f"gate_{label}")
            if not entry:
                add("gate", f"access gate ({label})", "not measured", None)
                continue
            if "ratio_floor_p50" in entry:
                add("gate", f"access gate ({label}) ≤ {FLOOR_RATIO:g} × floor (p50)",
                    f"{entry['ours_ms']['p50']:.2f} ms vs floor {entry['floor_ms']['p50']:.2f} ms = "
                    f"×{entry['ratio_floor_p50']}", entry["ratio_floor_p50"] <= FLOOR_RATIO)
            add("gate", f"access gate ({label}) ≥ {GATE_SPEEDUP:g}× faster than get_objects_for_user (p50)",
                f"stock {entry['stock_ms']['p50']:.2f} ms / ours {entry['ours_ms']['p50']:.2f} ms = "
                f"×{entry['speedup_p50']} (p95 ×{entry['speedup_p95']}; {entry['visible']} visible)",
                entry["speedup_p50"] >= GATE_SPEEDUP)
    for run in runs:
        consistent = run["scenarios"].get("forum_patterns", {}).get("rollup_consistent")
        if consistent is not None:
            add("queries", "pattern rollup equals the GROUP BY of the reports (largest forum)",
                "equal" if consistent else "differs", consistent, run["scale"])
    load = data.get("loadtest")
    if load:
        add("load", f"load test ≥ {LOAD['rps']} req/s", f"{load['rps']:.1f} req/s", load["rps"] >= LOAD["rps"],
            load.get("scale"))
        add("load", f"load test p95 < {LOAD['p95_ms']} ms", f"{load['p95_ms']:.0f} ms",
            load["p95_ms"] < LOAD["p95_ms"], load.get("scale"))
        add("load", "load test errors = 0", str(load["errors"]), load["errors"] == 0, load.get("scale"))
    else:
        add("load", f"load test ≥ {LOAD['rps']} req/s, p95 < {LOAD['p95_ms']} ms, 0 errors",
            "not run (make loadtest)", None)
    return out


def _mark(ok):
    return {True: "pass", False: "**FAIL**", None: "–"}[ok]


def markdown(data: dict) -> str:
    m = data["machine"]
    runs = data["runs"]
    pg = runs[0]["postgresql"] if runs else "?"
    lines = [
        "# Benchmark results (issue #7)",
        "",
        f"Date: {data['date']}. Machine: {m['nproc']} CPU cores, {m['ram_gb']} GB RAM, PostgreSQL {pg} on the same "
        f"box, Python {m['python']}, {m['platform']}. Load average at start: {m.get('loadavg_at_start')}.",
        "",
        "Generated by `make bench` (bench/run.py); the load test by `make loadtest` (bench/locustfile.py). "
        "Method and plans: docs/performance.md. Latencies are in-process through the whole Django/DRF stack "
        "(token authentication for the API, a session for the HTML inbox, middleware, serialisation); the floor "
        "is hand-written SQL returning the same answer, timed in the same run.",
        "",
        *([f"**Note:** {data['note']}", ""] if data.get("note") else []),
        "Databases: " + "; ".join(
            f"`{r['database']}` ({r['scale']}: {r['counts'].get('sips', '?')} SIPs, "
            f"{r['counts'].get('deviations', '?')} deviations, {r['counts'].get('answers', '?')} answers; "
            f"{r['requests']} requests per scenario after {r['warmup']} warm-up)" for r in runs) + ".",
        "",
        "## Targets",
        "",
        "| Target | Scale | Measured | Result |",
        "|---|---|---|---|",
    ]
    for t in data.get("targets", []):
        lines.append(f"| {t['target']} | {t['scale'] or ''} | {t['measured']} | {_mark(t['pass'])} |")
    for run in runs:
        lines += ["", f"## {run['scale']} (`{run['database']}`)", "",
                  "| Scenario | p50 ms | p95 ms | p99 ms | queries | floor p50 ms | floor p95 ms | ×floor p50 | "
                  "×floor p95 | note |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for name, e in run["scenarios"].items():
            if name.startswith("gate_"):
                continue
            f = e.get("floor_ms", {})
            lines.append(
                f"| {name} | {e['latency_ms']['p50']:.2f} | {e['latency_ms']['p95']:.2f} | {e['latency_ms']['p99']:.2f}"
                f" | {sorted(set(e['queries'] + e.get('queries_alt', [])))} | {f.get('p50', '')} | {f.get('p95', '')}"
                f" | {e.get('ratio_p50', '')} | {e.get('ratio_p95', '')} | {e.get('note', '')} |")
            kept = e.get("kept_answer")
            if kept:
                k = kept["latency_ms"]
                lines.append(f"| {name} (kept answer) | {k['p50']:.2f} | {k['p95']:.2f} | {k['p99']:.2f} | "
                             f"{sorted(set(kept['queries']))} | | | | | the same answer from the cache, until a "
                             "report or a name it shows changes (avvikelser/pattern_cache.py) |")
        gates = [(k, e) for k, e in run["scenarios"].items() if k.startswith("gate_")]
        if gates:
            lines += ["", "| Access gate (page of 50 + count) | visible | ours p50 / p95 ms | stock p50 / p95 ms | "
                          "floor p50 / p95 ms | stock ÷ ours (p50) | ours ÷ floor (p50) | queries ours / stock |",
                      "|---|---|---|---|---|---|---|---|"]
            for _name, e in gates:
                f = e.get("floor_ms", {})
                lines.append(
                    f"| {e['user']} | {e['visible']} | {e['ours_ms']['p50']:.2f} / {e['ours_ms']['p95']:.2f} | "
                    f"{e['stock_ms']['p50']:.2f} / {e['stock_ms']['p95']:.2f} | {f.get('p50', '')} / {f.get('p95', '')}"
                    f" | ×{e['speedup_p50']} | ×{e.get('ratio_floor_p50', '')} | {e['ours_queries']} / "
                    f"{e['stock_queries']} |")
        for note in run.get("notes", []):
            lines.append(f"\nNote: {note}")
    by_scale = {r["scale"]: r for r in runs}
    ordered = [by_scale[s] for s in reversed(SCALE_ORDER) if s in by_scale]
    if len(ordered) > 1:
        lines += ["", "## Growth (p95 ms)", "",
                  "| Scenario | " + " | ".join(r["scale"] for r in ordered) + " | last ÷ first |",
                  "|---|" + "---|" * (len(ordered) + 1)]
        for name in ENDPOINTS:
            values = [r["scenarios"].get(name, {}).get("latency_ms", {}).get("p95") for r in ordered]
            if all(v is not None for v in values):
                lines.append(f"| {name} | " + " | ".join(f"{v:.2f}" for v in values)
                             + f" | ×{values[-1] / values[0]:.2f} |")
    load = data.get("loadtest")
    lines += ["", "## Load test", ""]
    if load:
        lines += [
            f"{load['date']}: gunicorn ({load['workers']} workers × {load.get('threads', 1)} threads) on 127.0.0.1 "
            f"against `{load['database']}`, locust headless on the same machine, {load['seconds']} s per step, "
            f"mix: {load['mix']}. Headline: the step with the most requests/s whose p95 stays under "
            f"{LOAD['p95_ms']} ms without errors ({load['users']} users).",
            "",
            "| users | req/s | p50 ms | p95 ms | p99 ms | requests | errors |",
            "|---|---|---|---|---|---|---|",
        ]
        for step in load.get("steps") or [load]:
            mark = " **(headline)**" if step.get("users") == load.get("users") else ""
            lines.append(f"| {step.get('users')}{mark} | {step['rps']:.1f} | {step['p50_ms']:.0f} | "
                         f"{step['p95_ms']:.0f} | {step['p99_ms']:.0f} | {step['requests']} | {step['errors']} |")
        lines += ["", f"Per request at the headline step ({load['users']} users):"]
        if load.get("per_endpoint"):
            lines += ["", "| Request | count | p50 ms | p95 ms | failures |", "|---|---|---|---|---|"]
            for row in load["per_endpoint"]:
                lines.append(f"| {row['name']} | {row['count']} | {row['p50']} | {row['p95']} | {row['failures']} |")
    else:
        lines.append("Not run yet (`make loadtest`).")
    lines.append("")
    return "\n".join(lines)
