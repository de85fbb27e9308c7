"""Keep the Sheets emulator honest: replay gspread's recorded test suite against it.

``../shared/oracles/gspread-cassettes/`` holds vcrpy recordings of gspread 6.2.1's functional
tests talking to the real Google Sheets API. Each cassette is replayed request by request through
a real gspread client (sheetbill's transport) against the emulator, and the value-bearing parts
of every answer are compared with Google's: status codes, values and ranges, update counts,
sheet properties (title, index, grid size), named ranges and notes. Drive calls are not
replayed; a spreadsheet the recording created through Drive is created in the emulator instead,
and recorded ids are mapped to the emulator's. The test fails if fewer cassettes match than
:data:`EXPECTED_MATCHES`; raise it when the emulator improves.

The oracles are not part of the project: without the folder the test is skipped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import gspread
import pytest
from gspread.exceptions import APIError

from tests.support.sheets_emulator import SheetsEmulator

CASSETTES = Path(__file__).resolve().parents[2] / ".." / "shared" / "oracles" / "gspread-cassettes"

#: Cassettes that replay with identical answers (of 124); the test fails below this.
EXPECTED_MATCHES = 119

#: Response fields compared; everything else (formatting, URLs, timestamps, ids) is ignored.
COMPARED = {
    "range",
    "majorDimension",
    "values",
    "valueRanges",
    "updatedRange",
    "updatedRows",
    "updatedColumns",
    "updatedCells",
    "updatedData",
    "updates",
    "tableRange",
    "totalUpdatedRows",
    "totalUpdatedColumns",
    "totalUpdatedCells",
    "totalUpdatedSheets",
    "responses",
    "clearedRange",
    "clearedRanges",
    "sheets",
    "properties",
    "title",
    "index",
    "sheetId",
    "hidden",
    "gridProperties",
    "rowCount",
    "columnCount",
    "frozenRowCount",
    "frozenColumnCount",
    "namedRanges",
    "name",
    "startRowIndex",
    "endRowIndex",
    "startColumnIndex",
    "endColumnIndex",
    "data",
    "rowData",
    "note",
    "replies",
    "addSheet",
}

#: Where each kind of batchUpdate reply carries the id Google chose, to reuse in the replay.
REPLY_IDS = {
    "addSheet": ("properties", "sheetId"),
    "addNamedRange": ("namedRange", "namedRangeId"),
    "addProtectedRange": ("protectedRange", "protectedRangeId"),
}


def project(value: Any) -> Any:
    """The compared part of a JSON answer."""
    if isinstance(value, dict):
        return {key: project(item) for key, item in value.items() if key in COMPARED}
    if isinstance(value, list):
        return [project(item) for item in value]
    return value


def _inject_ids(body: Any, recorded: Any) -> None:
    """Ask the emulator to use the ids Google chose in the recording (addSheet etc. accept them)."""
    replies = recorded.get("replies", []) if isinstance(recorded, dict) else []
    for request, reply in zip(body.get("requests", []), replies, strict=False):
        for kind, (holder, key) in REPLY_IDS.items():
            if kind in request and kind in reply and key in reply[kind].get(holder, {}):
                request[kind].setdefault(holder, {})[key] = reply[kind][holder][key]


def replay(path: Path, emulator: SheetsEmulator, client: gspread.Client) -> list[str]:
    """Replay one cassette; the differences found (empty when every answer matched)."""
    cassette = json.loads(path.read_text(encoding="utf-8"))
    ids: dict[str, str] = {}
    differences = []
    for number, interaction in enumerate(cassette["interactions"]):
        request, response = interaction["request"], interaction["response"]
        uri, method = request["uri"], request["method"]
        status = response["status"]["code"]
        text = response["body"]["string"]
        if "sheets.googleapis.com" not in uri:
            if method == "POST" and urlsplit(uri).path == "/drive/v3/files" and status == 200:
                created = json.loads(text)
                ids[created["id"]] = emulator.create_spreadsheet(json.loads(request["body"])["name"])
            continue
        for old, new in ids.items():
            uri = uri.replace(old, new)
        body = json.loads(request["body"]) if request["body"] else None
        recorded = json.loads(text) if text else None
        if isinstance(body, dict) and "requests" in body:
            _inject_ids(body, recorded)
        try:
            answer = client.http_client.request(method.lower(), uri, json=body)
        except APIError as err:
            answer = err.response
        got = answer.json() if answer.content else None
        if answer.status_code != status:
            differences.append(
                f"#{number} {method} {uri} {request['body'] or ''}: "
                f"status {answer.status_code} {answer.text[:300]}, "
                f"Google {status}"
            )
        elif status < 300 and project(got) != project(recorded):
            differences.append(
                f"#{number} {method} {uri}:\n  emulator {project(got)}\n  google   {project(recorded)}"
            )
    return differences


def test_cassettes_replay_with_googles_answers(
    sheets_emulator: SheetsEmulator, sheets_client: gspread.Client
) -> None:
    """At least EXPECTED_MATCHES recorded test cases get Google's answers from the emulator."""
    if not CASSETTES.is_dir():
        pytest.skip("the gspread cassettes (../shared/oracles) are not available here")
    results = {
        path.stem: replay(path, sheets_emulator, sheets_client) for path in sorted(CASSETTES.glob("*.json"))
    }
    matched = sorted(name for name, found in results.items() if not found)
    report = "\n".join(f"{name}: {found[0]}" for name, found in results.items() if found)
    assert len(matched) >= EXPECTED_MATCHES, f"{len(matched)} cassettes match:\n{report}"
    print(f"{len(matched)} of {len(results)} cassettes match")
