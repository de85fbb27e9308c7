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

from tests.lite.pyodide_node import build_wheels, prepare_runtime, run_task, run_task_in_cpython  # noqa: E402

AS_OF = "2026-12-31"
MB = 1024 * 1024
PHASES = ("read", "press", "write", "run")


def task(charges: int) -> dict:
    """The benchmark task: Bill over the generated workbook, only counts in the result."""
    return {"button": "bill", "as_of": AS_OF, "generate": charges, "summary_only": True}


def figures(result: dict, charges: int) -> dict:
    """The script's seconds by phase (reading the sheets, the billing run, writing the sheets)."""
    assert result["charges"] == charges and "Invoices" in result["written"], result
    return {phase: result["seconds"][phase] for phase in PHASES}


def in_pyodide(node: str, wheels: Path, work: Path, charges: int) -> dict:
    """One fresh Node process running Pyodide; the script's phases, Pyodide's start, heap and RSS in MB."""
    result, costs = run_task(node, wheels, work, task(charges), timeout=3600)
    return {**figures(result, charges), "start": costs["start_seconds"], "heap": costs["wasm_heap_bytes"] / MB,
            "rss": costs["node_rss_bytes"] / MB, "pyodide": costs["pyodide_version"]}


def in_cpython(work: Path, charges: int) -> dict:
    """The same task in a fresh CPython process, for comparison."""
    result, rss = run_task_in_cpython(work, task(charges), timeout=3600)
    return {**figures(result, charges), "rss": rss / MB}


def row(size: int, where: str, runs: list[dict]) -> str:
    """One Markdown table row of medians."""
    def median(key: str) -> float:
        return statistics.median(run[key] for run in runs)

    heap = f"{median('heap'):,.0f}" if "heap" in runs[0] else "-"
    return (f"| {size:,} | {where} | {median('read'):.1f} | {median('press'):.1f} | {median('write'):.1f} "
            f"| {median('run'):.1f} | {heap} | {median('rss'):,.0f} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    node = prepare_runtime()
    with tempfile.TemporaryDirectory() as tmp:
        wheels = build_wheels(Path(tmp) / "wheels")
        print("| Charges | Python | read (s) | bill (s) | write (s) | script (s) | WASM heap (MB) | peak RSS (MB) |")
        print("|---:|---|---:|---:|---:|---:|---:|---:|")
        starts, version = [], ""
        for size in args.sizes:
            pyodide, cpython = [], []
            for n in range(args.runs):  # alternating, so that machine noise hits both alike
                pyodide.append(in_pyodide(node, wheels, Path(tmp) / f"pyodide-{size}-{n}", size))
                cpython.append(in_cpython(Path(tmp) / f"cpython-{size}-{n}", size))
            starts += [run["start"] for run in pyodide]
            version = pyodide[0]["pyodide"]
            print(row(size, f"Pyodide {version}", pyodide), flush=True)
            print(row(size, f"CPython {sys.version.split()[0]}", cpython), flush=True)
        print(f"\nMedians of {args.runs} run(s); Pyodide's own start took {statistics.median(starts):.1f} s.")


if __name__ == "__main__":
    main()
