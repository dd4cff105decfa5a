"""EXPLAIN (ANALYZE, BUFFERS) of the hot queries of each benchmark scenario, as Markdown (for docs/performance.md).

    python -m bench.explain --database samverkan_bench > /tmp/plans.md

Each scenario's request is made once through the whole stack with CaptureQueriesContext; its slowest SELECTs
(by the captured time) are explained with the values they ran with.
"""

from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="samverkan_bench")
    parser.add_argument("--top", type=int, default=2)
    args = parser.parse_args(argv)

    from bench.run import _api_client, _client, _fresh, _personas, _setup_django

    _setup_django(args.database)
    from django.db import connection
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext

    from avvikelser.access import forum_ids
    from avvikelser.models import Deviation
    from sip.access import visible_sips
    from sip.models import Sip

    who = _personas()
    social = who["socialsekreterare"]
    sip = (Sip.objects.filter(pk__in=visible_sips(_fresh(social)).values("pk")).annotate(n=Count("actions"))
           .order_by("-n", "id").first())
    forum_id = (Deviation.objects.filter(forum_id__in=forum_ids(_fresh(who["forum"]))).values("forum_id")
                .annotate(n=Count("id")).order_by("-n").values_list("forum_id", flat=True).first())
    scenarios = [
        ("SIP list (page of 50 + count)", _api_client(social), "/api/v1/sips/"),
        ("SIP detail", _api_client(social), f"/api/v1/sips/{sip.pk}/"),
        ("Deviation inbox", _client(who["contact"]), "/avvikelser/att-besvara/"),
        ("Forum patterns", _api_client(who["forum"]), f"/api/v1/forums/{forum_id}/patterns/"),
        ("Delaktighet report by gender", _api_client(who["admin"]), "/api/v1/reports/delaktighet/?group_by=gender"),
    ]
    out = [f"Plans from `{args.database}` (values of the bench personas).", ""]
    for title, client, path in scenarios:
        client.get(path)
        with CaptureQueriesContext(connection) as ctx:
            client.get(path)
        selects = [q for q in ctx.captured_queries if q["sql"].lstrip("(").upper().startswith(("SELECT", "WITH"))]
        selects.sort(key=lambda q: -float(q["time"]))
        out += [f"### {title}", ""]
        for query in selects[:args.top]:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                plan = "\n".join(row[0] for row in cursor.fetchall())
            sql = query["sql"] if len(query["sql"]) < 700 else query["sql"][:700] + " …"
            out += ["```sql", sql, "```", "", "```", plan, "```", ""]
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
