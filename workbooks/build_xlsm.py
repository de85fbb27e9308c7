"""Build workbooks/sheetbill.xlsm: the demo workbook's sheets, a Billing sheet of buttons and the VBA macros.

The workbook is generated, never edited by hand: the macros' source is sheetbill/data/vba/Sheetbill.bas
and the builder is sheetbill.xlsm.build_xlsm (the same code ``sheetbill new --xlsm FILE`` runs).
Run:  .venv/bin/python workbooks/build_xlsm.py
"""

from __future__ import annotations

from pathlib import Path

from sheetbill.xlsm import build_xlsm

HERE = Path(__file__).resolve().parent


def main() -> None:
    """Rebuild sheetbill.xlsm from demo-medical.xlsx (or from the template while the demo is missing)."""
    source = HERE / "demo-medical.xlsx"
    if not source.exists():
        source = HERE / "template.xlsx"
    print(f"wrote {build_xlsm(HERE / 'sheetbill.xlsm', source, overwrite=True)} from {source.name}")


if __name__ == "__main__":
    main()
