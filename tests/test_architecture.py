"""The core imports no front end and no concrete payer (payers are reached through the plugin facade)."""

import ast
from pathlib import Path

import sheetbill

CORE = ["money", "problems", "sheets", "tables", "contract", "models", "book", "adjudication", "billing", "overdue",
        "plugins/hookspecs", "plugins/manager", "plugins/types"]
FORBIDDEN = ("sheetbill.io", "sheetbill.payers", "sheetbill.cli", "sheetbill.excel", "sheetbill.server",
             "sheetbill.documents", "sheetbill.sending", "openpyxl", "python_calamine", "xlwings", "gspread",
             "starlette", "uvicorn")


def imported_modules(path: Path) -> set[str]:
    package = "sheetbill." + ".".join(path.relative_to(Path(sheetbill.__file__).parent).with_suffix("").parts[:-1])
    package = package.rstrip(".")
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


def test_core_modules_import_no_front_end_and_no_payer():
    root = Path(sheetbill.__file__).parent
    offenders = {}
    for name in CORE:
        modules = imported_modules(root / f"{name}.py")
        bad = sorted(m for m in modules if m.startswith(FORBIDDEN))
        if bad:
            offenders[name] = bad
    assert offenders == {}


def test_the_check_itself_sees_relative_imports():
    root = Path(sheetbill.__file__).parent
    assert "sheetbill.money.ZERO" in imported_modules(root / "billing.py")
    assert "sheetbill.payers.common" in imported_modules(root / "payers" / "standard.py")
