"""Benchmark: the xlwings Lite "Bill" script in real Pyodide (WebAssembly) under Node.

    python benchmarks/lite.py [SIZE ...] [--runs N]

For each size (charges; default 10,000 and 100,000) Node loads the pinned Pyodide
(``tests/lite/js``), unpacks sheetbill's wheel and its pure-Python dependencies, builds the benchmark
workbook's tables in memory (:func:`benchmarks.generate.tables`, the data ``generate.py N --out FILE``
writes to a file), puts them into the stand-in Book of the Excel tests with xlwings Lite's
differences, and runs :func:`sheetbill.lite.run_script` ("Bill") over it: reading the sheets through
the xlwings book adapter, billing, writing every output sheet back. Each run is a fresh Node process.

It prints, per size, the median of: the script's wall time inside Pyodide (read + bill + write), the
WebAssembly heap afterwards (``HEAP8.length``: Pyodide's memory never shrinks, so this is its peak,
against xlwings Lite's 2 GB limit) and the Node process's peak-time RSS. Pyodide's own start (a few
seconds, once per Excel session in xlwings Lite) is reported apart.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.lite.pyodide_node import build_wheels, prepare_runtime, run_task  # noqa: E402

AS_OF = "2026-12-31"
MB = 1024 * 1024


def measure(node: str, wheels: Path, work: Path, charges: int) -> dict:
    """One fresh Pyodide process billing ``charges`` charges; its figures."""
    result, costs = run_task(node, wheels, work, {"button": "bill", "as_of": AS_OF, "generate": charges,
                                                  "summary_only": True}, timeout=3600)
    assert result["charges"] == charges and "Invoices" in result["written"], result
    return {"script_s": result["seconds"]["run"], "import_s": result["seconds"]["import"],
            "build_book_s": result["seconds"]["build_book"], "start_s": costs["start_seconds"],
            "heap_mb": costs["wasm_heap_bytes"] / MB, "rss_mb": costs["node_rss_bytes"] / MB,
            "pyodide": costs["pyodide_version"]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    node = prepare_runtime()
    with tempfile.TemporaryDirectory() as tmp:
        wheels = build_wheels(Path(tmp) / "wheels")
        print("| Charges | Bill script (s) | import sheetbill (s) | Pyodide start (s) | WASM heap (MB) "
              "| Node RSS (MB) |")
        print("|---:|---:|---:|---:|---:|---:|")
        for size in args.sizes:
            runs = [measure(node, wheels, Path(tmp) / f"work-{size}-{n}", size) for n in range(args.runs)]

            def median(key: str, runs: list[dict] = runs) -> float:
                return statistics.median(run[key] for run in runs)

            print(f"| {size:,} | {median('script_s'):.1f} | {median('import_s'):.2f} | {median('start_s'):.1f} "
                  f"| {median('heap_mb'):,.0f} | {median('rss_mb'):,.0f} |", flush=True)
        print(f"\nPyodide {runs[0]['pyodide']}, {args.runs} run(s) each, median.")


if __name__ == "__main__":
    main()
