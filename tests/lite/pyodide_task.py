"""Runs inside Pyodide (``tests/lite/js/run.mjs``): one xlwings Lite script over a stand-in Book.

Reads ``task.json`` from the working directory: ``{"button", "as_of", "workbook"}`` with the
workbook's cells (dates tagged, see :func:`decode`), or ``{"button", "as_of", "generate": N}`` to
build the benchmark workbook of N charges in memory (``benchmarks/generate.py``, copied alongside).
Writes ``result.json``: the sheets the script wrote, its alerts, the seconds it took, and what the
import of ``sheetbill.lite`` and the run loaded (modules and their files), for the test to judge.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import sys
import time

DATE, DATETIME = "$date", "$datetime"
#: The test's own modules, copied next to this file; not part of what sheetbill loads.
HELPERS = {"lite_book", "fake_xlwings", "generate"}


def decode(value):
    """A cell from JSON as Excel hands it to xlwings: numbers as floats, dates as datetimes."""
    if isinstance(value, dict) and DATE in value:
        return dt.datetime.fromisoformat(value[DATE])
    if isinstance(value, dict) and DATETIME in value:
        return dt.datetime.fromisoformat(value[DATETIME])
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def encode(value):
    """A stored cell as JSON."""
    if isinstance(value, dt.datetime):
        return {DATETIME: value.isoformat()}
    if isinstance(value, dt.date):
        return {DATE: value.isoformat()}
    raise TypeError(type(value))


def excel_cells(workbook):
    """Every sheet's rows with each cell as Excel would hold it."""
    return {name: [[decode(v) for v in row] for row in rows] for name, rows in workbook.items()}


def loaded_modules():
    """Every loaded module with its file (``None`` for built-in ones)."""
    return {name: getattr(module, "__file__", None) for name, module in list(sys.modules.items())}


def timed(module, name: str, spent: dict[str, float]) -> None:
    """Wrap ``module.name`` so that its seconds add up in ``spent[name]`` (read after the run)."""
    spent[name] = 0.0
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[name] += time.perf_counter() - started

    setattr(module, name, wrapper)


def main() -> None:
    with open("task.json", encoding="utf-8") as handle:
        task = json.load(handle)
    before = set(sys.modules)
    started = time.perf_counter()
    import sheetbill.lite as lite

    imported = time.perf_counter()
    on_import = set(sys.modules) - before
    from lite_book import LiteBook

    import sheetbill.io.xlwings_book  # noqa: F401  (the script imports it when it runs; timed below)

    if "generate" in task:
        from generate import tables

        workbook = excel_cells(json.loads(json.dumps(tables(task["generate"]), default=encode)))
    else:
        workbook = excel_cells(task["workbook"])
    book = LiteBook.from_cells(workbook)
    built = time.perf_counter()
    spent: dict[str, float] = {}
    timed(lite, "press", spent)
    timed(sys.modules["sheetbill.io.xlwings_book"], "write_outputs", spent)
    ok = lite.run_script(task["button"], book, task.get("as_of"))
    ran = time.perf_counter()
    written = [sheet.name for sheet in book.sheets if sheet.writes]
    result = {
        "ok": ok,
        "platform": {"sys_platform": sys.platform, "platform_system": platform.system(),
                     "python": platform.python_version()},
        "seconds": {"import": imported - started, "build_book": built - imported, "run": ran - built,
                    "press": spent["press"], "write": spent["write_outputs"],
                    "read": ran - built - spent["press"] - spent["write_outputs"]},
        "charges": len(workbook.get("Charges", [])) - 1,
        "written": written,
        "alerts": book.app.alerts,
        "frozen": {name: book.sheets[name].frozen for name in written},
        "tables": {} if task.get("summary_only") else {name: book.table(name) for name in written},
        "imported": sorted(on_import),
        "new_modules": {name: path for name, path in loaded_modules().items()
                        if name not in before and name.split(".")[0] not in HELPERS},
    }
    with open("result.json", "w", encoding="utf-8") as handle:
        json.dump(result, handle, default=encode)


if __name__ == "__main__":
    main()
