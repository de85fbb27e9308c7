"""Test support for the HTTP back end: a real uvicorn server on 127.0.0.1, a tiny HTTP client, and
workbooks as the xlwings clients send them (loopback only; nothing here leaves the machine)."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from sheetbill.server import ServerConfig, create_app, uvicorn_options
from sheetbill.sheets import RawSheet

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "workbooks" / "demo-medical.xlsx"
TOKEN = "test-token-0123456789abcdef"
OTHER_TOKEN = "second-token-fedcba9876543210"
AS_OF = dt.datetime(2026, 3, 1)

Rows = list[list[object]]


@contextmanager
def running_server(config: ServerConfig | None = None, **app_kwargs) -> Iterator[str]:
    """A real uvicorn server in a thread on a free loopback port; yields its base URL."""
    config = config or ServerConfig((TOKEN, OTHER_TOKEN), max_body=2 * 2**20)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(config, **app_kwargs), log_level="warning",
                                           access_log=False, timeout_graceful_shutdown=2, **uvicorn_options(config)))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def post(url: str, body: bytes | Mapping | list, token: str | None = TOKEN, *, headers: Mapping | None = None,
         method: str = "POST", timeout: float = 60) -> tuple[int, str]:
    """POST ``body`` (JSON-encoded unless bytes) and return status and response text."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data if method == "POST" else None, method=method)
    request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", token)
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


# --- workbooks -----------------------------------------------------------------------------------------

def tiny_workbook(customer_prefix: str = "C", name_suffix: str = "") -> dict[str, Rows]:
    """A small workbook whose text would turn into formulas, numbers or dates if written carelessly."""
    c = customer_prefix
    return {
        "Billing": [["Press a button"]],
        "Settings": [["Setting", "Value"], ["Invoice Prefix", "R-"], ["Payment Terms Days", 14.0],
                     ["As Of Date", AS_OF]],
        "Customers": [["Customer ID", "Name", "Email"],
                      [f"{c}1", f"Ann Lee{name_suffix}", "ann@example.org"],
                      [f"00{c}2", f'=HYPERLINK("http://x","y"){name_suffix}', None],
                      ["00123", "1-2-3", None],
                      [f"{c}4", "TRUE", ""]],
        "Services": [["Service Code", "Description", "Price"], ["S", "Session", 80.0], ["T", "Test", 12.5]],
        "Charges": [["Charge ID", "Date", "Customer ID", "Service Code", "Quantity", "Price"],
                    ["1", dt.datetime(2026, 2, 1), f"{c}1", "S", 1.0, None],
                    ["2", dt.datetime(2026, 2, 3), f"00{c}2", "T", 3.0, None],
                    ["3", dt.datetime(2026, 2, 4), "00123", "S", 1.0, 33.335],
                    ["4", dt.datetime(2026, 2, 5), f"{c}4", "T", 1.0, "#N/A"],
                    ["5", dt.datetime(2026, 2, 6), f"{c}4", "S", 0.5, None]],
        "Payments": [["Payment ID", "Date", "Invoice No", "Amount", "Type"]],
    }


def demo_workbook() -> dict[str, Rows] | None:
    """The demo workbook's sheets as cells (calamine, as the file front end reads them), or None."""
    if not DEMO.exists():
        return None
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(DEMO))
    sheets: dict[str, Rows] = {}
    for name in book.sheet_names:
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        sheets[name] = [[None if v == "" else v for v in row] for row in rows]
    return sheets


def raw_sheets(workbook: Mapping[str, Rows]) -> dict[str, RawSheet]:
    """The sheets as a file front end hands them to the core."""
    return {name: RawSheet(name, [list(r) for r in rows]) for name, rows in workbook.items()}


def wire_cell(value: object) -> object:
    """A cell as the Apps Script client sends it (dates as local wall time labelled Z, empty as "")."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%dT00:00:00.000Z")
    return value


def payload(workbook: Mapping[str, Rows], *, client: str = "Google Apps Script", version: str = "0.37.8",
            exclude: Sequence[str] = ()) -> dict:
    """The request body an xlwings client would post for ``workbook``."""
    sheets = []
    for name, rows in workbook.items():
        width = max((len(r) for r in rows), default=1)
        values = [[]] if name in exclude else [[wire_cell(v) for v in r] + [""] * (width - len(r)) for r in rows]
        sheets.append({"name": name, "values": values, "pictures": [], "tables": []})
    return {"client": client, "version": version,
            "book": {"name": "office.xlsx", "active_sheet_index": 0, "selection": "A1"},
            "names": [], "sheets": sheets}


def apply_actions(workbook: dict[str, Rows], actions: list[dict]) -> dict[str, Rows]:
    """What the clients do with an answer, on plain lists (typed-entry semantics are tested with the
    real client under Node): values land as sent, apostrophes mark text."""
    names = list(workbook)
    for action in actions:
        func = action["func"]
        if func == "addSheet":
            position, name = action["args"]
            names.insert(position, name)
            workbook[name] = []
            continue
        if func == "alert":
            continue
        rows = workbook[names[action["sheet_position"]]]
        if func == "sheetClearContents":
            rows.clear()
        elif func in ("rangeClearContents", "setValues"):
            r0, c0 = action["start_row"], action["start_column"]
            for i in range(action["row_count"]):
                while len(rows) <= r0 + i:
                    rows.append([])
                row = rows[r0 + i]
                for j in range(action["column_count"]):
                    while len(row) <= c0 + j:
                        row.append(None)
                    row[c0 + j] = None if func == "rangeClearContents" else _typed(action["values"][i][j])
    return workbook


def _typed(value: object) -> object:
    if isinstance(value, str):
        if value.startswith("'"):
            return value[1:]
        if value == "":
            return None
        return dt.datetime.fromisoformat(value)
    return value
