"""Benchmark: sheetbill against an openpyxl round trip and the python-calamine read floor.

    python benchmarks/run.py [SIZE ...] [--runs N] [--baseline-runs N] [--no-write-docs]

For each size (charges; default 10,000 100,000 1,000,000) it generates the workbook once (fixed
seed, :mod:`benchmarks.generate`), then measures, alternating within one run so machine noise hits
all three alike, each in its own process:

(a) openpyxl ``load_workbook`` + ``save`` of the same file: what any openpyxl-based tool pays;
(b) reading every input sheet with python-calamine: the practical read floor;
(c) ``sheetbill bill`` end to end on a fresh copy (read, adjudicate, invoice, overdue, write back);
(d) ``sheetbill bill`` again on the billed file: nothing new, so nothing may be written;
(e) the daily click: 0.1 % new charges and as many payments appended to the billed file
    (:func:`generate.append_day`, not timed), then ``sheetbill bill`` once more;
(f) the next day's click: another such day appended after (e), then ``sheetbill bill``: the steady
    state, where the run memo holds what (e) parsed.

It reports the median wall time and the peak RSS of each, the ratios (c)/(a), (c)/(b), (e)/(b) and (f)/(b),
checks that (d) left the file byte-identical and that (e) and (f) invoiced every new charge (its summary, and the
charge ids on Invoice Lines), and writes the table into ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generate import Day

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- benchmark:begin -->", "<!-- benchmark:end -->"
AS_OF = "2026-12-31"

OPENPYXL_ROUND_TRIP = """
import sys, openpyxl
book = openpyxl.load_workbook(sys.argv[1])
book.save(sys.argv[2])
"""
CALAMINE_READ = """
import sys, python_calamine
from sheetbill.contract import INPUT_SHEETS
book = python_calamine.CalamineWorkbook.from_path(sys.argv[1])
for name in book.sheet_names:
    if name in INPUT_SHEETS:
        book.get_sheet_by_name(name).to_python()
"""
#: New charges (and as many payments) per charge in the daily click (e).
DAILY_SHARE = 0.001


def measure(command: list[str], stdout: Path | None = None) -> tuple[float, float]:
    """Run ``command`` (its output into the file ``stdout``, else discarded); return (wall seconds, peak
    RSS in MiB) of that process alone."""
    with open(stdout or os.devnull, "wb") as output, tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=output, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        errors.seek(0)
        stderr = errors.read().decode(errors="replace")
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}): {stderr[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def daily_click_billed(summary_file: Path, workbook: Path, day: Day) -> str:
    """Why the daily click's run did not bill the day's charges, or "" when it did: its summary must
    report no errors, a write and at least an invoice per customer with new charges, and every new
    charge id must be on Invoice Lines."""
    import python_calamine

    summary = json.loads(summary_file.read_text())
    if summary["errors"] or not summary["written"]:
        return f"{summary['errors']} errors, written: {summary['written']}"
    if summary["invoices_issued"] < len(day.customers):
        return f"{summary['invoices_issued']} invoices for {len(day.customers)} customers with new charges"
    book = python_calamine.CalamineWorkbook.from_path(str(workbook))
    billed: set[str] = set()
    for name in book.sheet_names:
        if name == "Invoice Lines" or name.startswith("Invoice Lines "):
            rows = book.get_sheet_by_name(name).iter_rows()
            column = next(rows).index("Charge ID")
            billed.update(str(row[column]) for row in rows)
    missing = [charge for charge in day.charge_ids if charge not in billed]
    return f"{len(missing)} new charges not on Invoice Lines" if missing else ""


def _in_own_process(step: str, *args: object) -> str:
    """Run a step of the daily click that reads a large file (appending the day, checking the bill) in a
    process of its own and return what it printed: a process the runner starts inherits the runner's
    memory high-water mark (Linux carries it over fork and exec), so the runner must stay small for the
    peak RSS of each measured process to be its own."""
    code = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); import generate, run\n"
        "step, args = sys.argv[2], sys.argv[3:]\n"
        "if step == 'append_day':\n"
        "    generate.append_day(Path(args[0]), int(args[1]), int(args[2]), int(args[3]))\n"
        "else:\n"
        "    day = generate.day_of(int(args[2]), int(args[3]), int(args[4]))\n"
        "    print(run.daily_click_billed(Path(args[0]), Path(args[1]), day))\n")
    done = subprocess.run([sys.executable, "-c", code, str(HERE), step, *map(str, args)], capture_output=True,
                          text=True, check=True)
    return done.stdout.strip()


def bench_size(size: int, runs: int, baseline_runs: int, work: Path) -> dict:
    """Measure one size; return medians and peaks."""
    source = HERE / "data" / f"charges-{size}.xlsx"
    if not source.exists() or source.stat().st_mtime < (HERE / "generate.py").stat().st_mtime:
        # made by an older generate.py (another layout of the same size): made again
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(size), "--out", str(source)], check=True)
    python = sys.executable
    sheetbill = [python, "-m", "sheetbill.cli"]
    samples: dict[str, list[tuple[float, float]]] = {"a": [], "b": [], "c": [], "d": [], "e": [], "f": []}
    identical, unbilled = True, ""
    # Each run starts without a run memo (sheetbill/memo.py), in a cache folder of its own.
    os.environ["SHEETBILL_CACHE_DIR"] = str(work / "cache")
    for run in range(runs):
        if run < baseline_runs:
            samples["a"].append(measure([python, "-c", OPENPYXL_ROUND_TRIP, str(source), str(work / "a.xlsx")]))
        samples["b"].append(measure([python, "-c", CALAMINE_READ, str(source)]))
        target = work / "c.xlsx"
        shutil.copyfile(source, target)
        samples["c"].append(measure([*sheetbill, "bill", str(target), "--as-of", AS_OF]))
        before = sha256(target)
        samples["d"].append(measure([*sheetbill, "bill", str(target), "--as-of", AS_OF]))
        identical = identical and sha256(target) == before
        for case, seed in (("e", 1), ("f", 2)):
            count = max(1, round(size * DAILY_SHARE))
            summary = work / f"{case}.json"
            _in_own_process("append_day", target, size, count, seed)
            samples[case].append(measure([*sheetbill, "bill", str(target), "--as-of", AS_OF, "--json"],
                                         stdout=summary))
            unbilled = unbilled or _in_own_process("daily_click_billed", summary, target, size, count, seed)
        for leftover in work.iterdir():
            shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    result = {"size": size, "runs": runs, "baseline_runs": baseline_runs, "identical": identical,
              "unbilled": unbilled}
    for key, values in samples.items():
        result[key] = statistics.median(v[0] for v in values)
        result[f"{key}_rss"] = max(v[1] for v in values)
    result["c/a"] = result["c"] / result["a"]
    result["c/b"] = result["c"] / result["b"]
    result["e/b"] = result["e"] / result["b"]
    result["f/b"] = result["f"] / result["b"]
    return result


def table(results: list[dict]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| charges | (a) openpyxl load+save | (b) calamine read | (c) sheetbill bill | (d) rerun, nothing new "
        "| (e) daily click | (f) next day | (c)/(a) | (c)/(b) | (e)/(b) | (f)/(b) | runs (a / b-f) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        changed = "" if r["identical"] else " (file changed!)"
        unbilled = f" ({r['unbilled']}!)" if r["unbilled"] else ""
        lines.append(
            f"| {r['size']:,} | {r['a']:.2f} s / {r['a_rss']:,.0f} MiB | {r['b']:.2f} s / {r['b_rss']:,.0f} MiB "
            f"| {r['c']:.2f} s / {r['c_rss']:,.0f} MiB | {r['d']:.2f} s / {r['d_rss']:,.0f} MiB{changed} "
            f"| {r['e']:.2f} s / {r['e_rss']:,.0f} MiB{unbilled} | {r['f']:.2f} s / {r['f_rss']:,.0f} MiB "
            f"| {r['c/a']:.3f} | {r['c/b']:.2f} | {r['e/b']:.2f} | {r['f/b']:.2f} "
            f"| {r['baseline_runs']} / {r['runs']} |")
    if len(results) > 1:
        by_size = {r["size"]: r for r in results}
        if 100_000 in by_size and 1_000_000 in by_size:
            growth = by_size[1_000_000]["c"] / by_size[100_000]["c"]
            daily = by_size[1_000_000]["e"] / by_size[100_000]["e"]
            steady = by_size[1_000_000]["f"] / by_size[100_000]["f"]
            lines.append("")
            lines.append(f"Growth from 100,000 to 1,000,000 charges: x{growth:.1f} for (c), x{daily:.1f} for (e), "
                         f"x{steady:.1f} for (f) (linear would be x10).")
    return "\n".join(lines)


def machine() -> str:
    """One line about the machine the figures come from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
        mem_gib = int(mem.split()[1]) / 1024 / 1024
    except (OSError, StopIteration):
        mem_gib = 0
    return (f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def write_docs(results: list[dict]) -> None:
    """Replace the measured table in docs/performance.md."""
    text = DOC.read_text() if DOC.exists() else f"# Performance\n\n{BEGIN}\n{END}\n"
    stamp = time.strftime("%Y-%m-%d")
    block = f"{BEGIN}\nMeasured {stamp} on {machine()}.\n\n{table(results)}\n{END}"
    start, stop = text.index(BEGIN), text.index(END) + len(END)
    DOC.write_text(text[:start] + block + text[stop:])


def compile_package() -> None:
    """Compile sheetbill's modules to bytecode, as installing a package does, so that every measured
    process loads them as a user's install does. With ``PYTHONDONTWRITEBYTECODE`` set (as on the
    build machines) an editable install would otherwise compile every module in every process
    (measured: 0.2 s of a daily click); a stale file is compiled again at import, as always."""
    compileall.compile_dir(ROOT / "sheetbill", quiet=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=3, help="runs of (b) to (e) per size")
    parser.add_argument("--baseline-runs", type=int, default=1,
                        help="runs of (a) at 1,000,000 charges and more, where one openpyxl round trip takes "
                             "minutes (smaller sizes: --runs)")
    parser.add_argument("--no-write-docs", action="store_true")
    args = parser.parse_args(argv)
    compile_package()
    results = []
    with tempfile.TemporaryDirectory(prefix="sheetbill-bench-") as tmp:
        for size in args.sizes:
            baseline = args.runs if size < 1_000_000 else args.baseline_runs
            result = bench_size(size, args.runs, max(1, min(baseline, args.runs)), Path(tmp))
            results.append(result)
            print(table([result]).splitlines()[-1], flush=True)
    print(table(results))
    if not args.no_write_docs:
        write_docs(results)
    return 0 if all(r["identical"] and not r["unbilled"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
