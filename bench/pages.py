"""Time a few pages of a generated database, for A/B runs of two checkouts on one machine.

    .venv/bin/python -m bench.pages /cases/@head /transfers/eligible/@supervisor /cases/SPECIAL/clues/@judge
    BENCH_ROOT=/tmp/old .venv/bin/python bench/pages.py …   # the same pages on another checkout

Each argument is ``path@user`` (user: judge, head or supervisor of the generated scenario;
``SPECIAL`` in a path is the case with 50 clues and 200 notices). Pages are requested in-process
with Django's test Client like ``bench.scale``: 5 warm-up and ``BENCH_PAGE_REQUESTS`` (30) timed
requests each; prints p50, p95 and the size of the answer. ``BENCH_DB`` names the database
(bench_scale).
"""

from __future__ import annotations

import os
import statistics
import sys
import time

ROOT = os.environ.get("BENCH_ROOT") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.chdir(ROOT)


def main(specs: list[str]) -> int:
    from bench import generate, scale

    url = generate.database_url(os.environ.get("BENCH_DB", "bench_scale"))
    scenario = generate.existing_scenario(url)
    if not scenario:
        raise SystemExit(f"{url}: no generated data (make bench-scale)")
    scale.setup_django(url)
    from django.test import Client

    from enforcement.models import User

    requests = int(os.environ.get("BENCH_PAGE_REQUESTS", "30"))
    for spec in specs:
        path, who = spec.rsplit("@", 1)
        client = Client()
        client.force_login(User.objects.get(pk=scenario[who]))
        path = path.replace("SPECIAL", str(scenario["special_case"]["case_id"]))
        for _ in range(5):
            client.get(path)
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            answer = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p95 = times[max(0, int(len(times) * 0.95) - 1)]
        print(f"{path[:48]:48} {who:10} p50 {statistics.median(times):7.1f} p95 {p95:7.1f} bytes {len(answer.content)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
