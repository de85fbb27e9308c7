"""sheetbill in real Pyodide (Python in WebAssembly, as xlwings Lite runs it) under Node, offline.

sheetbill's wheel and its pure-Python dependencies are unpacked into Pyodide; the Lite "Bill" script
runs over the stand-in Book (tests/excel/fake_xlwings.py, with xlwings Lite's differences) holding a
demo workbook's cells, and every sheet it writes must equal, cell by cell, the sheet a CLI run on the
same file writes. The same run shows what the Lite path imports: no python-calamine, no module of
sheetbill that uses threads, no compiled module of a dependency. Skipped only without Node.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from sheetbill.buttons import press
from tests.server.support import raw_sheets

from .pyodide_node import ROOT, Unavailable, build_wheels, prepare_runtime, run_task

pytestmark = pytest.mark.slow
AS_OF = "2026-06-30"
#: The marker environment micropip evaluates in Pyodide (checked against the real one below).
PYODIDE_MARKERS = {"sys_platform": "emscripten", "platform_system": "Emscripten", "os_name": "posix",
                   "platform_machine": "wasm32", "implementation_name": "cpython", "python_version": "3.14",
                   "python_full_version": "3.14.2", "platform_python_implementation": "CPython", "extra": ""}


@pytest.fixture(scope="module")
def runtime(tmp_path_factory):
    """(node, the wheels directory) or a skip saying what is missing."""
    try:
        node = prepare_runtime()
        wheels = build_wheels(tmp_path_factory.mktemp("lite") / "wheels")
    except Unavailable as why:
        pytest.skip(str(why))
    return node, wheels


@pytest.fixture(scope="module")
def runs(runtime, tmp_path_factory):
    """Each demo workbook billed in Pyodide: {name: (result, costs)}, computed once."""
    from tests.server.support import DEMO

    node, wheels = runtime
    done = {}
    for name in ("medical", "utility"):
        path = DEMO.with_name(f"demo-{name}.xlsx")
        work = tmp_path_factory.mktemp(f"pyodide-{name}")
        task = {"button": "bill", "as_of": AS_OF, "workbook": cells(path)}
        done[name] = run_task(node, wheels, work, task)
    return done


def cells(path: Path) -> dict[str, list[list[object]]]:
    """Every sheet of an .xlsx file as cells (python-calamine, in this process)."""
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    return {name: [[None if v == "" else v for v in row]
                   for row in book.get_sheet_by_name(name).to_python(skip_empty_area=False)]
            for name in book.sheet_names}


def comparable(value: object) -> object:
    """One cell as both readers agree on it: whole dates as datetimes, numbers as floats, empty as None."""
    if value == "" or value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time())
    return value


def table(rows: list[list[object]]) -> list[list[object]]:
    """Rows with trailing empty cells and rows dropped."""
    out = [[comparable(v) for v in row] for row in rows]
    out = [row[: max((i + 1 for i, v in enumerate(row) if v is not None), default=0)] for row in out]
    while out and not out[-1]:
        out.pop()
    return out


def cli_bill(source: Path, directory: Path) -> dict[str, list[list[object]]]:
    """A file run of the CLI on a copy of ``source``: the copy's sheets afterwards."""
    copy = directory / source.name
    shutil.copy2(source, copy)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "sheetbill.cli", "bill", str(copy), "--as-of", AS_OF],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    return cells(copy)


@pytest.mark.parametrize("name", ["medical", "utility"])
def test_bill_in_pyodide_writes_what_a_file_run_writes(runs, name, tmp_path):
    from tests.server.support import DEMO

    result, _ = runs[name]
    expected = cli_bill(DEMO.with_name(f"demo-{name}.xlsx"), tmp_path)
    assert result["written"] and set(result["written"]) <= set(expected)
    for sheet in result["written"]:
        assert table(result["tables"][sheet]) == table(expected[sheet]), sheet
        assert result["frozen"][sheet] == "1:1"
    [alert] = result["alerts"]
    same = press("bill", raw_sheets(cells(DEMO.with_name(f"demo-{name}.xlsx"))), as_of=dt.date.fromisoformat(AS_OF))
    assert (alert["title"], alert["prompt"], result["ok"]) == (same.title, same.message, same.ok)
    assert "invoice(s) issued" in alert["prompt"]
    untouched = set(expected) - set(result["written"])
    assert untouched <= set(cells(DEMO.with_name(f"demo-{name}.xlsx"))), "the CLI wrote a sheet Lite did not"


def test_the_lite_path_imports_nothing_pyodide_lacks(runs):
    result, _ = runs["medical"]
    assert result["platform"]["sys_platform"] == PYODIDE_MARKERS["sys_platform"]
    assert result["platform"]["platform_system"] == PYODIDE_MARKERS["platform_system"]
    loaded = result["new_modules"]
    assert "sheetbill.lite" in result["imported"]
    assert not [m for m in loaded if "calamine" in m]
    assert not [m for m in loaded if m.startswith(("xlwings", "openpyxl", "xlsxwriter", "fpdf", "gspread"))]
    users = threading_users()
    assert users and not sorted(set(loaded) & users), "a module of sheetbill that uses threads was imported"
    compiled = {m: f for m, f in loaded.items() if f and f.endswith((".so", ".pyd")) and "site-packages" in f}
    assert compiled == {}
    sheetbill_files = [f for m, f in loaded.items() if m.startswith("sheetbill") and f]
    assert sheetbill_files and all("site-packages" in f for f in sheetbill_files)  # the wheel, not the tree


def threading_users() -> set[str]:
    """sheetbill's modules whose source starts threads or processes."""
    users = set()
    for path in (ROOT / "sheetbill").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if any(f"import {name}" in text for name in ("threading", "concurrent", "multiprocessing")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            users.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return users


def test_the_wheel_asks_pyodide_only_for_pure_python_packages(runtime):
    _, wheels = runtime
    [wheel] = wheels.glob("sheetbill-*.whl")
    assert wheel.name.endswith("-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        lines = archive.read(metadata).decode().splitlines()
    requirements = [Requirement(line.partition(":")[2].strip()) for line in lines if line.startswith("Requires-Dist:")]
    needed = {r.name for r in requirements if r.marker is None or r.marker.evaluate(PYODIDE_MARKERS)}
    assert needed == {"pluggy", "defusedxml", "babel"}
    assert "python-calamine" in {r.name for r in requirements if r.marker is None
                                 or r.marker.evaluate({**PYODIDE_MARKERS, "sys_platform": "linux",
                                                       "platform_system": "Linux"})}
    for name in needed:
        [dependency] = wheels.glob(f"{name}-*.whl")
        assert dependency.name.endswith("-none-any.whl"), dependency.name
