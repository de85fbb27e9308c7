"""A real client: xlwings' own Apps Script client (js/xlwings.js of the installed xlwings) and sheetbill's
bound script run under Node against the server, with an in-memory SpreadsheetApp (tests/server/js).

"Bill" is pressed on a workbook and every cell of the sheets the server wrote is checked against a
file run of the same workbook (run_billing over the same cells). Node runs in New York while the
spreadsheet lives in Auckland, so a codec that shifted dates by a time zone would be a day off.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from sheetbill.buttons import needed_sheet, press
from sheetbill.run import run_billing
from sheetbill.sheets import OutputSheet

from .support import AS_OF, DEMO, ROOT, TOKEN, demo_workbook, raw_sheets, running_server, tiny_workbook

NODE = shutil.which("node")
JS = Path(__file__).parent / "js"
BOUND_SCRIPT = ROOT / "workbooks" / "google-apps-script" / "sheetbill.gs"
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")


def xlwings_js() -> Path:
    spec = importlib.util.find_spec("xlwings")
    if spec is None or spec.origin is None:
        pytest.skip("xlwings is not installed")
    return Path(spec.origin).parent / "js" / "xlwings.js"


def state_cell(value: object) -> object:
    if isinstance(value, dt.datetime):
        if value.time() == dt.time():
            return {"date": value.date().isoformat()}
        return {"datetime": value.isoformat(timespec="seconds")}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    return value


def spreadsheet_state(workbook: dict, url: str, token: str = TOKEN) -> dict:
    return {
        "timeZone": "Pacific/Auckland",
        "name": "Office billing",
        "properties": {"SHEETBILL_URL": url + "/", "SHEETBILL_TOKEN": token},
        "scripts": [str(xlwings_js()), str(BOUND_SCRIPT)],
        "sheets": [{"name": name, "values": [[state_cell(v) for v in row] for row in rows]}
                   for name, rows in workbook.items()],
    }


def run_client(state: dict, tmp_path: Path, *functions: str) -> dict:
    state_in, state_out = tmp_path / "in.json", tmp_path / "out.json"
    state_in.write_text(json.dumps(state))
    subprocess.run([NODE, str(JS / "apps_script_env.js"), str(state_in), str(state_out), *functions],
                   check=True, timeout=120, env={"TZ": "America/New_York", "PATH": "/usr/bin:/bin"})
    return json.loads(state_out.read_text())


def as_workbook(sheets: list[dict]) -> dict:
    """The stand-in's sheets back as cells for another press (dates stay date cells)."""
    def cell(v):
        if isinstance(v, dict) and "date" in v:
            return dt.datetime.fromisoformat(v["date"])
        if isinstance(v, dict) and "datetime" in v:
            return dt.datetime.fromisoformat(v["datetime"])
        assert not isinstance(v, dict), f"a formula in the sheet: {v}"
        return v
    return {s["name"]: [[cell(v) for v in row] for row in s["values"]] for s in sheets}


def expected_cell(kind: str, value: object) -> object:
    """What the spreadsheet should show for an output value, in the stand-in's dump format."""
    if value is None or value == "":
        return None
    if kind == "date":
        return {"date": value.isoformat()}
    if isinstance(value, Decimal):
        return Decimal(value).normalize()
    return value


def got_cell(kind: str, value: object) -> object:
    if isinstance(value, float | int) and not isinstance(value, bool) and kind != "text":
        return Decimal(repr(value)).normalize()
    return value


def assert_sheet_matches(output: OutputSheet, sheet: dict) -> None:
    values = sheet["values"]
    assert values[0] == output.headers, output.name
    assert len(values) == 1 + len(output.rows), output.name
    for number, (got, want) in enumerate(zip(values[1:], output.rows, strict=True), start=2):
        got = got + [None] * (len(output.columns) - len(got))
        for column, g, w in zip(output.columns, got, want, strict=True):
            assert got_cell(column.kind, g) == expected_cell(column.kind, w), \
                f"{output.name} row {number}, column {column.header}: {g!r} != {w!r}"
    for index, column in enumerate(output.columns):
        if column.kind == "date" and output.rows:
            assert sheet["formats"][f"2,{index + 1}"] == "yyyy-mm-dd"
    assert sheet["backgrounds"]["1,1"] == "#d9e1f2"
    assert "1,1" in sheet["bold"] and sheet["frozenRows"] == 1


@pytest.mark.parametrize("which", ["tiny", "demo-medical"])
def test_pressing_bill_in_google_sheets_writes_what_a_file_run_computes(which, tmp_path):
    if which == "tiny":
        workbook = tiny_workbook()
        expected = run_billing(raw_sheets(workbook))
    else:
        workbook = demo_workbook()
        if workbook is None:
            pytest.skip("no demo workbook")
        from sheetbill.io.xlsx import read_workbook

        expected = run_billing(read_workbook(DEMO))  # the file run of the same workbook
    received: list[set[str]] = []

    def recording_press(button, sheets, **kwargs):
        received.append(set(sheets))
        return press(button, sheets, **kwargs)

    with running_server(run=recording_press) as url:
        result = run_client(spreadsheet_state(workbook, url), tmp_path, "onOpen", "sheetbillBill")
        log = result["log"]
        assert log["errors"] == []
        assert [r["status"] for r in log["requests"]] == [200]
        assert log["requests"][0]["url"].endswith("/xlwings/custom-scripts-call/bill")
        assert received == [{name for name in workbook if needed_sheet(name)}]  # include: only what the run reads
        sheets = {s["name"]: s for s in result["sheets"]}
        for output in expected.outputs:
            assert_sheet_matches(output, sheets[output.name])
        assert [s["name"] for s in result["sheets"]][: len(workbook)] == list(workbook)
        written = {output.name for output in expected.outputs}
        for name, rows in workbook.items():  # the clerk's sheets are untouched
            if name in written:
                continue
            assert as_workbook([sheets[name]])[name] == [[v for v in row] for row in _trimmed(rows)]
        [alert] = log["alerts"]
        assert alert["title"] == "sheetbill: Bill" and "invoice(s) issued" in alert["prompt"]
        assert log["menus"][0]["items"][0] == ["Bill", "sheetbillBill"]

        again = run_client(spreadsheet_state(as_workbook(result["sheets"]), url), tmp_path, "sheetbillBill")
        assert again["log"]["errors"] == []
        assert "0 invoice(s) issued" in again["log"]["alerts"][0]["prompt"]
        twice = {s["name"]: s["values"] for s in again["sheets"]}
        assert twice["Invoices"] == sheets["Invoices"]["values"]
        assert twice["Invoice Lines"] == sheets["Invoice Lines"]["values"]


def _trimmed(rows):
    """Cells as the stand-in dumps them: trailing empty rows and columns dropped, dates as datetimes."""
    def cell(v):
        if v == "":
            return None
        if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
            return dt.datetime.combine(v, dt.time())
        return v
    cells = [[cell(v) for v in row] for row in rows]
    height = max((i + 1 for i, row in enumerate(cells) if any(v is not None for v in row)), default=0)
    width = max((j + 1 for row in cells for j, v in enumerate(row) if v is not None), default=0)
    return [(row + [None] * width)[:width] for row in cells[:height]]


def test_text_that_looks_like_formulas_numbers_or_dates_stays_text(tmp_path):
    workbook = tiny_workbook()
    with running_server() as url:
        result = run_client(spreadsheet_state(workbook, url), tmp_path, "sheetbillBill")
    invoices = {s["name"]: s for s in result["sheets"]}["Invoices"]["values"]
    names = {row[6] for row in invoices[1:]}
    assert '=HYPERLINK("http://x","y")' in names and "1-2-3" in names and "TRUE" in names
    assert {row[5] for row in invoices[1:]} >= {"00123", "00C2"}
    assert all(not isinstance(v, dict) or "formula" not in v for s in result["sheets"] for r in s["values"] for v in r)


def test_dates_keep_their_wall_time_across_time_zones(tmp_path):
    workbook = tiny_workbook()
    with running_server() as url:
        result = run_client(spreadsheet_state(workbook, url), tmp_path, "sheetbillBill")
    lines = {s["name"]: s for s in result["sheets"]}["Invoice Lines"]["values"]
    dates = {row[1]: row[2] for row in lines[1:]}
    assert dates["1"] == {"date": "2026-02-01"} and dates["2"] == {"date": "2026-02-03"}
    invoices = {s["name"]: s for s in result["sheets"]}["Invoices"]["values"]
    assert {row[2]["date"] for row in invoices[1:]} == {AS_OF.date().isoformat()}


def test_a_wrong_token_shows_the_servers_message_and_writes_nothing(tmp_path):
    workbook = tiny_workbook()
    with running_server() as url:
        result = run_client(spreadsheet_state(workbook, url, token="wrong-token-0123456789"), tmp_path,
                            "sheetbillBill")
    assert result["log"]["requests"][0]["status"] == 401
    assert "API token is missing or wrong" in result["log"]["errors"][0]
    assert [s["name"] for s in result["sheets"]] == list(workbook)


def test_without_settings_the_script_says_what_to_set(tmp_path):
    state = spreadsheet_state(tiny_workbook(), "http://127.0.0.1:9")
    state["properties"] = {}
    result = run_client(state, tmp_path, "sheetbillCheck")
    assert result["log"]["requests"] == []
    assert "SHEETBILL_URL" in result["log"]["alerts"][0]["prompt"]


def test_the_bound_script_lists_the_contracts_sheets():
    import re

    from sheetbill import contract

    text = BOUND_SCRIPT.read_text()
    listed = re.findall(r'"([^"]+)"', re.search(r"SHEETBILL_SHEETS = \[(.*?)\];", text, re.S)[1])
    history = re.findall(r'"([^"]+)"', re.search(r"SHEETBILL_HISTORY = \[(.*?)\];", text, re.S)[1])
    assert listed == [*contract.INPUT_SHEETS, *contract.HISTORY_SHEETS, *contract.IMPORTED_SHEETS]
    assert history == list(contract.HISTORY_SHEETS)
