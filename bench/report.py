"""A Markdown table of two scale runs (10,000 and 1,000,000 cases) for docs/PERFORMANCE.md.

.venv/bin/python -m bench.report bench/results/scale-10000-….json bench/results/scale-1000000-….json
"""

from __future__ import annotations

import json
import sys


def _fmt(page: dict | None, key: str) -> str:
    if not page or key not in page:
        return "–"
    value = page[key]
    return f"{value:,.0f}" if value >= 100 else f"{value:g}"


def table(small: dict, large: dict, section: str) -> str:
    def pages(run: dict) -> dict:
        return run["pages"] if section == "pages" else run.get(section, {}).get("pages", {})

    a, b = pages(small), pages(large)
    lines = [
        "| page | p50 10k | p95 10k | p50 1M | p95 1M | p95 1M / 10k | queries 10k / 1M |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in dict.fromkeys([*a, *b]):
        x, y = a.get(name), b.get(name)
        ratio = f"{y['p95_ms'] / x['p95_ms']:.1f}×" if x and y and x["p95_ms"] else "–"
        queries = f"{x['queries'] if x else '–'} / {y['queries'] if y else '–'}"
        lines.append(
            f"| {name} | {_fmt(x, 'p50_ms')} | {_fmt(x, 'p95_ms')} | {_fmt(y, 'p50_ms')} | {_fmt(y, 'p95_ms')} "
            f"| {ratio} | {queries} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    small, large = (json.load(open(path)) for path in argv[1:3])
    print("Times in ms:\n")
    print(table(small, large, "pages"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
