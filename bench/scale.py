"""Scale benchmark of issue 6: page times and query counts at 10,000 and 1,000,000 cases.

    .venv/bin/python -m bench.scale --cases 10000            # generate bench_scale_10k, measure
    .venv/bin/python -m bench.scale --cases 1000000 --reuse  # measure again on a kept database

Options (environment in brackets): ``--cases`` [BENCH_SCALE_CASES, 10000]; ``--db`` [BENCH_SCALE_DB,
default ``bench_scale`` for 1,000,000 cases, ``bench_scale_<n>`` for other sizes, never the
notice benchmark's database]; ``--reuse`` skips generation when the database already holds that
size; ``--requests`` [BENCH_SCALE_REQUESTS, 50] timed requests per page after ``--warmup`` (5);
``--generate-only``; ``--only`` names the pages to measure.

The pages are requested in-process with Django's test Client (``force_login``) against the bench
database, so the figures are server time (middleware, view, queries, template), without network
or browser. Query counts come from CaptureQueriesContext on one extra request; the slowest
queries of each page are run again under EXPLAIN (ANALYZE, BUFFERS) and the plans stored in the
results (bench/results/scale-<size>-<time>.json).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import generate  # noqa: E402

# Big tables: a sequential scan on one of these in a page's plan is a finding.
BIG_TABLES = (
    "enforcement_enforcementcase",
    "enforcement_party",
    "enforcement_caseparty",
    "enforcement_caseevent",
    "enforcement_caseuserobjectpermission",
    "enforcement_auditentry",
    "clues_propertyclue",
    "clues_measure",
    "platforms_notice",
    "platforms_deliveryattempt",
)


SLOW_MS = 5000  # a first request slower than this: it and SLOW_REQUESTS more are the samples
SLOW_REQUESTS = 1
EXPLAIN_TIMEOUT_S = 60


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def default_db(cases: int) -> str:
    return "bench_scale" if cases == 1_000_000 else f"bench_scale_{cases}"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=int(os.environ.get("BENCH_SCALE_CASES", "10000")))
    parser.add_argument("--db", default=os.environ.get("BENCH_SCALE_DB", ""))
    parser.add_argument("--reuse", action="store_true", help="keep the database if it already has this size")
    parser.add_argument("--requests", type=int, default=int(os.environ.get("BENCH_SCALE_REQUESTS", "50")))
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument(
        "--page-budget", type=float, default=90.0, help="seconds per page: slower pages get fewer requests (≥ 5)"
    )
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated page names to measure")
    return parser.parse_args(argv)


# --------------------------------------------------------------------------------------------
# preparing the database
# --------------------------------------------------------------------------------------------


def prepare(url: str, cases: int, reuse: bool) -> dict:
    if reuse:
        scenario = generate.existing_scenario(url)
        if scenario and scenario.get("cases") == cases:
            print(f"reusing {url} ({cases:,} cases, generated {scenario.get('generated_on')})", flush=True)
            generate.migrate(url)  # the schema of the code being measured (new indexes, columns)
            return scenario
    print(f"generating {cases:,} cases into {url} ...", flush=True)
    t0 = time.perf_counter()
    generate.recreate_database(url)
    generate.migrate(url)
    migrate_s = round(time.perf_counter() - t0, 2)
    scenario = generate.generate(url, cases, log=lambda m: print(m, flush=True))
    scenario["timings"]["migrate_s"] = migrate_s
    conn = generate.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("UPDATE bench_scale_meta SET value = %s WHERE key = 'scenario'", [json.dumps(scenario)])
    conn.close()
    print(f"generated in {scenario['timings']['total_s'] + migrate_s:.0f} s", flush=True)
    return scenario


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["AXES_ENABLED"] = "0"
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    import django

    django.setup()
    from config.runtime import settle_heap

    settle_heap()  # as config/wsgi.py does in every web process


def ensure_connectors(scenario: dict) -> None:
    """The notice tab lists the enabled connectors: one per platform (never called from here)."""
    from enforcement.models import Role, User
    from platforms import services as platform_services
    from platforms.models import Connector, Platform

    if Connector.objects.exists():
        return
    admin, _ = User.objects.get_or_create(username="bench-admin", defaults={"is_superuser": True})
    admin.roles.add(Role.SYSTEM_ADMIN)
    for platform in Platform.objects.all():
        platform_services.save_connector(
            admin,
            platform,
            base_url=f"http://127.0.0.1:9/{platform.code}",
            key_id=f"k-{platform.code}",
            secret=f"bench-secret-{platform.code}-0001",
            capabilities=["query", "freeze", "unfreeze", "renew", "deduct"],
            timeout_s=10,
        )


# --------------------------------------------------------------------------------------------
# pages
# --------------------------------------------------------------------------------------------


def pages(scenario: dict) -> list[dict]:
    """What is measured, as whom. Search terms are taken from cases of the busiest court."""
    from urllib.parse import quote

    from enforcement.models import CaseParty, EnforcementCase

    special = scenario["special_case"]["case_id"]
    hot = scenario["hot_court"]["id"]
    # a case of the hot court that is not the special one (its number and its respondent)
    probe = EnforcementCase.objects.filter(court_id=hot).exclude(pk=special).order_by("-id").first()
    resp = CaseParty.objects.filter(case=probe, role="respondent").select_related("party").first().party
    person = (
        CaseParty.objects.filter(case__court_id=hot, role="respondent", party__kind="person")
        .select_related("party")
        .order_by("-case_id")
        .first()
        .party
    )
    asset_key = _popular_asset_key(special)
    return [
        {"name": "workbench", "user": "judge", "url": "/workbench/"},
        {"name": "case_list", "user": "head", "url": "/cases/"},
        {"name": "case_list_search_number", "user": "head", "url": f"/cases/?q={quote(probe.number)}"},
        {"name": "case_list_search_party_name", "user": "head", "url": f"/cases/?q={quote(resp.name)}"},
        {"name": "case_list_search_id_number", "user": "head", "url": f"/cases/?q={person.id_number}"},
        {"name": "case_detail", "user": "judge", "url": f"/cases/{special}/"},
        {"name": "case_clues_50", "user": "judge", "url": f"/cases/{special}/clues/"},
        {"name": "case_notices_200", "user": "judge", "url": f"/cases/{special}/notices/"},
        {"name": "transfer_eligible", "user": "supervisor", "url": "/transfers/eligible/"},
        {"name": "api_cases", "user": "judge", "url": "/api/v1/cases/"},
        # the same list, five rows at both sizes: the judge's page holds 5 cases at 10k and 25 at
        # 1M (5 against 498 cases handled), so the line above also measures five times the rows
        {"name": "api_cases_5_rows", "user": "judge", "url": "/api/v1/cases/?limit=5"},
        {"name": "api_cases_head", "user": "head", "url": "/api/v1/cases/"},
        {"name": "asset_lookup", "user": None, "asset_key": asset_key, "case": special},
    ]


def _popular_asset_key(case_id: int) -> str:
    """The asset key of the special case held by the most other cases (the cross-court lookup)."""
    from django.db.models import Count

    from clues.models import PropertyClue

    keys = list(PropertyClue.objects.filter(case_id=case_id).values_list("asset_key", flat=True))
    row = (
        PropertyClue.objects.filter(asset_key__in=keys)
        .values("asset_key")
        .annotate(n=Count("id"))
        .order_by("-n", "asset_key")
        .first()
    )
    return row["asset_key"]


def explain(sql: str) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS); a query that runs longer than EXPLAIN_TIMEOUT_S is explained
    without ANALYZE (estimated plan only, ``analyzed: false``)."""
    from django.db import connection, transaction
    from django.db.utils import OperationalError

    analyzed = True
    try:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"SET LOCAL statement_timeout = '{EXPLAIN_TIMEOUT_S}s'")
            cur.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) " + sql)
            plan = "\n".join(r[0] for r in cur.fetchall())
    except OperationalError:
        analyzed = False
        with connection.cursor() as cur:
            cur.execute("EXPLAIN " + sql)
            plan = "\n".join(r[0] for r in cur.fetchall())
    seq = sorted({t for t in re.findall(r"Seq Scan on (\w+)", plan) if t in BIG_TABLES})
    indexes = sorted(set(re.findall(r"Index (?:Only )?Scan(?: Backward)? using (\w+)", plan)))
    indexes += sorted(set(re.findall(r"Bitmap Index Scan on (\w+)", plan)) - set(indexes))
    m = re.search(r"Execution Time: ([\d.]+) ms", plan)
    return {
        "analyzed": analyzed,
        "execution_ms": float(m.group(1)) if m else None,
        "seq_scans_on_big_tables": seq,
        "indexes_used": indexes,
        "plan": plan,
    }


def measure_page(client, page: dict, requests: int, warmup: int, budget: float, warm_url: str) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # a cheap request first: the session's last-seen write (once a minute) stays out of the count
    client.get(warm_url)
    # the first request counts the queries and keeps their SQL for EXPLAIN
    with CaptureQueriesContext(connection) as ctx:
        t0 = time.perf_counter()
        response = client.get(page["url"])
        first_ms = (time.perf_counter() - t0) * 1000
    assert response.status_code == 200, (page["url"], response.status_code, response.content[:500])
    queries = [{"sql": q["sql"], "ms": float(q["time"]) * 1000} for q in ctx.captured_queries]
    slow = first_ms > SLOW_MS  # a page of seconds: a second request tells enough
    times = [first_ms] if slow else []
    for _ in range(0 if slow else warmup - 1):
        client.get(page["url"])
    started = time.perf_counter()
    for _ in range(SLOW_REQUESTS if slow else requests):
        t0 = time.perf_counter()
        response = client.get(page["url"])
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200
        if len(times) >= 5 and time.perf_counter() - started > budget:
            break
    slowest = sorted(queries, key=lambda q: -q["ms"])[:3]
    plans = []
    for q in slowest:
        if not q["sql"].lstrip().upper().startswith("SELECT"):
            continue
        plans.append({"sql": q["sql"], "ms_in_page": round(q["ms"], 2), **explain(q["sql"])})
    return {
        "url": page["url"],
        "user": page["user"],
        "requests": len(times),
        "first_ms": round(first_ms, 1),
        "p50_ms": round(percentile(times, 50), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "max_ms": round(max(times), 1),
        "queries": len(queries),
        "sql_ms": round(sum(q["ms"] for q in queries), 1),
        "statements": [q["sql"][:160] for q in queries],
        "bytes": len(response.content),
        "explain": plans,
    }


def measure_asset_lookup(page: dict, requests: int, warmup: int) -> dict:
    """``clues.services.other_courts``: every other court holding a clue or measure on one asset."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from clues import services

    for _ in range(warmup):
        services.other_courts(page["asset_key"], page["case"])
    times = []
    for _ in range(max(requests, 200)):
        t0 = time.perf_counter()
        rows = services.other_courts(page["asset_key"], page["case"])
        times.append((time.perf_counter() - t0) * 1000)
    with CaptureQueriesContext(connection) as ctx:
        services.other_courts(page["asset_key"], page["case"])
    sql = ctx.captured_queries[0]["sql"]
    return {
        "asset_key": page["asset_key"],
        "other_cases": len(rows),
        "other_courts": len({r["court"] for r in rows}),
        "p50_ms": round(percentile(times, 50), 2),
        "p95_ms": round(percentile(times, 95), 2),
        "max_ms": round(max(times), 2),
        "queries": len(ctx.captured_queries),
        "explain": [{"sql": sql, **explain(sql)}],
    }


def run(scenario: dict, args, results: dict, save=lambda: None) -> dict:
    from django.test import Client

    from enforcement.models import User

    ensure_connectors(scenario)
    users = {key: User.objects.get(pk=scenario[key]) for key in ("judge", "head", "supervisor")}
    clients = {}
    for key, user in users.items():
        clients[key] = Client()
        clients[key].force_login(user)
    only = {n for n in args.only.split(",") if n}
    # process-wide caches (content types) filled before any page is counted
    from django.contrib.contenttypes.models import ContentType

    from enforcement.models import EnforcementCase

    ContentType.objects.get_for_model(EnforcementCase)
    warm_url = f"/cases/{scenario['special_case']['case_id']}/"
    for page in pages(scenario):
        if only and page["name"] not in only:
            continue
        if page["user"] is None:
            result = measure_asset_lookup(page, args.requests, args.warmup)
        else:
            result = measure_page(clients[page["user"]], page, args.requests, args.warmup, args.page_budget, warm_url)
        results[page["name"]] = result
        save()
        print(
            f"  {page['name']:<30} p50 {result['p50_ms']:>7} ms  p95 {result['p95_ms']:>7} ms  "
            f"queries {result['queries']:>3}"
            + (
                "  seq scans: " + ",".join(sorted({t for p in result["explain"] for t in p["seq_scans_on_big_tables"]}))
                if any(p["seq_scans_on_big_tables"] for p in result["explain"])
                else ""
            ),
            flush=True,
        )
    return results


def main(argv=None) -> int:
    args = parse_args(argv)
    db = args.db or default_db(args.cases)
    if db == "bench_cross_enforcement":
        raise SystemExit("bench_cross_enforcement belongs to the notice benchmark; choose another --db")
    url = generate.database_url(db)
    scenario = prepare(url, args.cases, args.reuse)
    if args.generate_only:
        print(json.dumps(scenario, indent=2, ensure_ascii=False))
        return 0
    setup_django(url)

    print(f"measuring {args.cases:,} cases on {db} ({args.requests} requests per page)", flush=True)
    started = time.time()
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"scale-{args.cases}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    results = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cpus": os.cpu_count(), "load_average_at_start": [round(x, 2) for x in os.getloadavg()]},
        "database": db,
        "database_size": generate.database_size(url),
        "scenario": scenario,
        "requests_per_page": args.requests,
        "pages": {},
    }

    def save():  # after every page, so that an interrupted run keeps what it measured
        results["measure_s"] = round(time.time() - started, 1)
        results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        path.write_text(json.dumps(results, indent=2, ensure_ascii=False))

    run(scenario, args, results["pages"], save)
    save()
    summary = {name: {k: r[k] for k in ("p50_ms", "p95_ms", "queries")} for name, r in results["pages"].items()}
    print(json.dumps(summary, indent=1))
    print(f"written to {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
