"""The shape of the package: the core imports no front end and no concrete payer (payers are reached
through the plugin facade), there is no import cycle anywhere, and every module imports on its own."""

import ast
import random
import subprocess
import sys
from pathlib import Path

import sheetbill

ROOT = Path(sheetbill.__file__).parent
CORE = ["money", "problems", "sheets", "tables", "contract", "models", "book", "adjudication", "billing",
        "dunning", "contacts", "wording", "overdue", "outputs", "upgrade", "run", "app", "ledger", "interest",
        "plugins/hookspecs", "plugins/manager", "plugins/types", "tax", "compliance", "seals"]
FORBIDDEN = ("sheetbill.io", "sheetbill.payers", "sheetbill.cli", "sheetbill.excel", "sheetbill.server",
             "sheetbill.documents", "sheetbill.sending", "sheetbill.buttons", "openpyxl", "python_calamine",
             "xlwings", "gspread", "starlette", "uvicorn", "fpdf")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at module level or inside functions, as absolute names."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def all_modules() -> dict[str, Path]:
    return {module_name(path): path for path in ROOT.rglob("*.py")}


def import_graph() -> dict[str, set[str]]:
    """Edges between sheetbill's own modules (an import of a name inside a module counts for the module).

    ``from . import payment`` counts as importing the package too (it runs the package's ``__init__``),
    so a package whose ``__init__`` imports the module that imports it that way is a cycle.
    """
    modules = all_modules()
    graph = {}
    for name, path in modules.items():
        targets = set()
        for imported in imported_modules(path):
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_core_modules_import_no_front_end_and_no_payer():
    offenders = {}
    for name in CORE:
        modules = imported_modules(ROOT / f"{name}.py")
        bad = sorted(m for m in modules if m.startswith(FORBIDDEN))
        if bad:
            offenders[name] = bad
    assert offenders == {}


def test_there_is_no_import_cycle_in_sheetbill():
    assert find_cycle(import_graph()) is None


def test_the_cycle_check_finds_a_cycle_through_an_import_inside_a_function():
    graph = import_graph()
    graph["sheetbill.money"] = graph["sheetbill.money"] | {"sheetbill.run"}  # as billing once imported overdue
    cycle = find_cycle(graph)
    assert cycle is not None and cycle[0] == cycle[-1]


def test_the_check_itself_sees_relative_imports():
    assert "sheetbill.money.ZERO" in imported_modules(ROOT / "billing.py")
    assert "sheetbill.payers.common" in imported_modules(ROOT / "payers" / "standard.py")


def test_every_module_imports_on_its_own_and_in_any_order():
    names = sorted(all_modules())
    shuffled = names[:]
    random.Random(11).shuffle(shuffled)
    script = (
        "import importlib, sys\n"
        f"names = {names!r}\norder = {shuffled!r}\n"
        "for name in names:\n"
        "    for loaded in [m for m in sys.modules if m == 'sheetbill' or m.startswith('sheetbill.')]:\n"
        "        del sys.modules[loaded]\n"
        "    importlib.import_module(name)\n"
        "for loaded in [m for m in sys.modules if m == 'sheetbill' or m.startswith('sheetbill.')]:\n"
        "    del sys.modules[loaded]\n"
        "for name in order:\n"
        "    importlib.import_module(name)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT.parent)
    assert done.returncode == 0, done.stderr[-2000:]


def test_every_problem_code_the_package_uses_is_listed_and_documented():
    import re

    from sheetbill.problems import CODES

    used = set()
    for path in ROOT.rglob("*.py"):
        text = path.read_text()
        used.update(re.findall(r'\bcode="([a-z][a-z0-9]*(?:-[a-z0-9]+)+)"', text))
        used.update(re.findall(r'CellError\([^)]*?"([a-z0-9]+(?:-[a-z0-9]+)+)"\)', text, re.S))
    assert used - set(CODES) == set()
    docs = (ROOT.parent / "docs" / "workbook.md").read_text()
    assert [code for code in CODES if f"`{code}`" not in docs] == []
