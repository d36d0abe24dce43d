"""CPU time per notice, by process, for A/B runs of two checkouts on one machine.

    .venv/bin/python bench/notice_cpu.py                       # this checkout
    BENCH_ROOT=/tmp/old .venv/bin/python bench/notice_cpu.py   # another checkout, same machine

Sets up the world of ``make bench`` (its database, stand-in platforms and 4 worker processes),
then runs the raw HTTP client and the end-to-end scenario (``BENCH_CPU_NOTICES``, 1,200 query
notices) and reads the CPU seconds (user + system, from /proc) that each group of processes spent
on them: the producing process, the Celery worker's main process and its pool processes, the stand-in platforms, the PostgreSQL backends
of the benchmark database and Redis. CPU time per notice moves much less with the machine's other
load than notices per second do, so it is the figure to compare when the machine is shared.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = os.environ.get("BENCH_ROOT") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.chdir(ROOT)

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def pids_of(pattern: str) -> list[int]:
    return [int(p) for p in subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout.split()]


def children(pid: int) -> list[int]:
    return [int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()]


def main() -> int:
    import bench.__main__ as notices

    count = int(os.environ.get("BENCH_CPU_NOTICES", "1200"))
    database = notices.BENCH_DB.rsplit("/", 1)[1]
    tmp = Path(tempfile.mkdtemp(prefix="bench-cpu-"))
    notices.prepare_database()
    import django

    django.setup()
    from config.celery import app as celery_app

    celery_app.control.purge()
    mock, port, config = notices.start_mock(tmp)
    workers = notices.start_workers(tmp)

    def groups() -> dict[str, list[int]]:
        return {
            "producer": [os.getpid()],
            "worker main process": [workers.pid],
            "worker pool processes": children(workers.pid),
            "stand-in platforms": [mock.pid],
            "postgres": pids_of(f"postgres: .* {database} "),  # the backends' process titles
            "redis": pids_of("redis-server"),
        }

    def reading() -> dict[str, dict[int, float]]:
        return {name: {pid: cpu_seconds(pid) for pid in pids} for name, pids in groups().items()}

    def spent(before, after) -> dict[str, float]:
        return {
            name: sum(cpu - before.get(name, {}).get(pid, 0.0) for pid, cpu in after[name].items()) for name in after
        }

    try:
        _head, slots, respondent = notices.setup_world(port, config)
        turns = itertools.cycle(slots)
        for _ in range(100):
            if celery_app.control.ping(timeout=0.5):
                break
        notices.find_property(slots, respondent)
        start = reading()
        raw = notices.raw_throughput(port, config, count)
        middle = reading()
        e2e = notices.end_to_end(turns, respondent, count)
        end = reading()
    finally:
        workers.terminate()
        mock.terminate()
        workers.wait(timeout=30)
        mock.wait(timeout=10)
    raw_cpu, e2e_cpu = spent(start, middle), spent(middle, end)
    print(f"checkout {ROOT}, load average before {os.getloadavg()[0]:.1f}")
    print(f"raw HTTP {raw['per_second']}/s, end to end {e2e['per_second']}/s")
    print(f"{'CPU ms per notice':22} {'raw':>8} {'end to end':>11}")
    for name in raw_cpu:
        print(f"{name:22} {1000 * raw_cpu[name] / count:8.2f} {1000 * e2e_cpu[name] / count:11.2f}")
    print(f"{'total':22} {1000 * sum(raw_cpu.values()) / count:8.2f} {1000 * sum(e2e_cpu.values()) / count:11.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
