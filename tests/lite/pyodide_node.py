"""Running sheetbill inside Pyodide under Node, offline, for the Lite tests and the Lite benchmark.

:func:`prepare_runtime` installs the pinned npm package ``pyodide`` (``tests/lite/js/package-lock.json``)
with ``npm ci`` when ``node_modules`` is missing; :func:`build_wheels` builds sheetbill's wheel from a
copy of the source tree and downloads the pure-Python wheels of its dependencies (the versions of
``requirements.lock``); :func:`run_task` unpacks those wheels into Pyodide's site-packages, copies the
stand-in Book and the task script into a working directory mounted in Pyodide, and runs one task.
Everything past the downloads runs without network.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "tests" / "lite" / "js"
#: The pure-Python dependencies a Pyodide install of sheetbill pulls in.
PURE_DEPENDENCIES = ("pluggy", "defusedxml", "babel")


class Unavailable(Exception):
    """Something the Pyodide run needs is not there (the reason is the message)."""


def prepare_runtime() -> str:
    """The ``node`` executable, with the pinned Pyodide installed next to the runner."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise Unavailable("Node.js and npm are not installed: the Pyodide test runs Pyodide under Node")
    if not (JS / "node_modules" / "pyodide" / "pyodide.asm.wasm").exists():
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=JS, capture_output=True, text=True,
                              timeout=600)
        if done.returncode:
            raise RuntimeError(f"npm ci in {JS} failed:\n{done.stdout}\n{done.stderr}")
    return node


def locked_version(name: str) -> str:
    """The version ``requirements.lock`` pins for ``name``."""
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(name)}==([^\s;]+)", text, flags=re.M | re.I)
    if not match:
        raise LookupError(f"{name} is not pinned in requirements.lock")
    return match[1]


def build_wheels(directory: Path) -> Path:
    """sheetbill's wheel (built from a copy of the tree) and its dependencies' in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    source = directory.parent / "source"
    shutil.rmtree(source, ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    shutil.copytree(ROOT / "sheetbill", source / "sheetbill", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(directory), str(source)], capture_output=True, text=True, timeout=300)
    if built.returncode:
        raise RuntimeError(f"building sheetbill's wheel failed:\n{built.stdout}\n{built.stderr}")
    pins = [f"{name}=={locked_version(name)}" for name in PURE_DEPENDENCIES]
    fetched = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "--no-deps",
                              "-d", str(directory), *pins], capture_output=True, text=True, timeout=300)
    if fetched.returncode:
        raise Unavailable(f"could not download the wheels of {', '.join(pins)} from PyPI:\n{fetched.stderr[-800:]}")
    return directory


def tagged(value: object) -> object:
    """A cell for the task's JSON: dates tagged so that Pyodide rebuilds them as Excel's datetimes."""
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dt.time | dt.timedelta):
        return str(value)
    return value


def untagged(value: object) -> object:
    """A cell of ``result.json`` as a Python value."""
    if isinstance(value, dict) and "$datetime" in value:
        return dt.datetime.fromisoformat(value["$datetime"])
    if isinstance(value, dict) and "$date" in value:
        return dt.date.fromisoformat(value["$date"])
    return value


TASK = ROOT / "tests" / "lite" / "pyodide_task.py"


def _prepare(work: Path, task: dict) -> None:
    """The working directory of one task: the stand-in Book, the generator and ``task.json``."""
    work.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "tests" / "excel" / "fake_xlwings.py", work / "fake_xlwings.py")
    shutil.copy2(ROOT / "tests" / "lite" / "lite_book.py", work / "lite_book.py")
    shutil.copy2(ROOT / "benchmarks" / "generate.py", work / "generate.py")
    (work / "task.json").write_text(json.dumps(task, default=tagged), encoding="utf-8")
    (work / "result.json").unlink(missing_ok=True)


def _result(work: Path, done: subprocess.CompletedProcess, where: str) -> dict:
    if done.returncode or not (work / "result.json").exists():
        raise RuntimeError(f"the {where} run failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-4000:]}")
    return json.loads((work / "result.json").read_text(encoding="utf-8"), object_hook=untagged)


def run_task(node: str, wheels: Path, work: Path, task: dict, *, timeout: float = 900) -> tuple[dict, dict]:
    """Run one task (see ``tests/lite/pyodide_task.py``) in Pyodide; (its result, the runner's costs)."""
    _prepare(work, task)
    done = subprocess.run([node, str(JS / "run.mjs"), str(wheels), str(work), str(TASK)],
                          cwd=JS, capture_output=True, text=True, timeout=timeout)
    result = _result(work, done, "Pyodide")
    return result, json.loads(done.stdout.strip().splitlines()[-1])


def run_task_in_cpython(work: Path, task: dict, *, timeout: float = 900) -> tuple[dict, int]:
    """The same task in this CPython, from the source tree, for comparison; (its result, peak RSS bytes)."""
    _prepare(work, task)
    code = (f"import resource, runpy, sys; sys.path[:0] = ['.', {str(ROOT)!r}]; "
            f"runpy.run_path({str(TASK)!r}, run_name='__main__'); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    done = subprocess.run([sys.executable, "-c", code], cwd=work, capture_output=True, text=True, timeout=timeout)
    result = _result(work, done, "CPython")
    return result, int(done.stdout.strip().splitlines()[-1]) * 1024
