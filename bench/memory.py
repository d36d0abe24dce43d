"""Celery worker memory while delivering notices (issue 6: RSS after 100,000 notices ≤ 1.2× after 1,000).

    .venv/bin/python -m bench.memory [--notices 100000] [--concurrency 1]

A real worker (``celery -A config worker --pool prefork``) delivers query notices to the stand-in
platforms (``manage.py run_mock_platforms``), started the way the notice benchmark starts them
(bench/__main__.py), on its own database (``bench_scale_memory``) and Redis database (13). The
notices are requested through the service in rounds (six platforms per request), keeping a backlog
of at most ``--backlog`` notices; at each milestone the resident set size of the worker's pool
processes and of its main process is read from /proc. Results: bench/results/memory-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        return 0
    return 0


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def worker_memory(proc) -> dict:
    """RSS (MiB) of the worker's main process and of its pool processes."""
    pool = children(proc.pid)
    return {
        "main_mib": round(rss_kb(proc.pid) / 1024, 1),
        "pool_mib": [round(rss_kb(pid) / 1024, 1) for pid in pool],
        "total_mib": round((rss_kb(proc.pid) + sum(rss_kb(p) for p in pool)) / 1024, 1),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory")
    parser.add_argument("--notices", type=int, default=int(os.environ.get("BENCH_MEMORY_NOTICES", "100000")))
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--backlog", type=int, default=1200)
    args = parser.parse_args(argv)
    os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_scale_memory")
    os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    os.environ["BENCH_WORKER_PROCESSES"] = str(args.concurrency)
    os.environ.setdefault("BENCH_CASES", "50")
    os.environ.setdefault("BENCH_JUDGES", "10")
    # 100,000 notices in about a quarter of an hour: far more queries of each case and judge than
    # the hourly limits allow (the notices benchmark stays within them)
    os.environ["QUERY_RATE_PER_CASE_HOUR"] = os.environ["QUERY_RATE_PER_USER_HOUR"] = "1000000"
    os.environ.setdefault("NOTICE_SWEEP_INTERVAL_S", "3600")
    import importlib

    notice_bench = importlib.import_module("bench.__main__")  # its helpers; importing runs nothing

    tmp = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    print(f"preparing {notice_bench.BENCH_DB} ...", flush=True)
    notice_bench.prepare_database()
    import django

    django.setup()
    from config.celery import app as celery_app
    from platforms import services
    from platforms.models import Notice

    celery_app.control.purge()
    mock, port, config = notice_bench.start_mock(tmp)
    worker = notice_bench.start_workers(tmp)
    milestones = sorted({m for m in (1_000, 5_000, 10_000, 25_000, 50_000, 75_000, args.notices) if m <= args.notices})
    samples = []
    started = time.perf_counter()
    try:
        _head, slots, respondent = notice_bench.setup_world(port, config)
        for _ in range(120):
            if celery_app.control.ping(timeout=0.5):
                break
        requested = 0
        i = 0

        def answered() -> int:
            return (
                Notice.objects.exclude(completed_at__isnull=True).count()
                + Notice.objects.filter(state="failed").count()
            )

        done = 0
        for milestone in milestones:
            while done < milestone:
                while requested - done < args.backlog and requested < milestone:
                    judge, case = slots[i % len(slots)]
                    made = services.request_notices(
                        judge, case, kind="query", platforms="all", respondent=respondent.pk
                    )
                    requested += len(made)
                    i += 1
                time.sleep(0.5)
                done = answered()
                if worker.poll() is not None:
                    raise RuntimeError("the worker exited")
            sample = {
                "notices_delivered": done,
                "seconds": round(time.perf_counter() - started, 1),
                **worker_memory(worker),
            }
            samples.append(sample)
            print(json.dumps(sample), flush=True)
    finally:
        worker.terminate()
        mock.terminate()
        worker.wait(timeout=30)
        mock.wait(timeout=10)
    first, last = samples[0], samples[-1]
    results = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cpus": os.cpu_count(), "worker_concurrency": args.concurrency},
        "samples": samples,
        "ratio_total": round(last["total_mib"] / first["total_mib"], 3),
        "ratio_pool": round(sum(last["pool_mib"]) / sum(first["pool_mib"]), 3) if first["pool_mib"] else None,
        "notices_per_second": round(last["notices_delivered"] / last["seconds"], 1),
    }
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"memory-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2))
    print(json.dumps({k: v for k, v in results.items() if k != "samples"}, indent=2))
    print(f"written to {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
