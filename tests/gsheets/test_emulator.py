"""The emulator's behaviour beyond what gspread's recordings exercise: limits, atomicity, quoting, faults."""

from __future__ import annotations

import gspread
from gspread.exceptions import APIError

from tests.support.sheets_emulator import Fault, SheetsEmulator

RAW = {"valueInputOption": "RAW"}


def call(client: gspread.Client, method: str, sid: str, path: str, **kwargs):
    """One raw Sheets API call through the gspread client; returns (status, JSON body)."""
    url = f"https://sheets.googleapis.com/v4/spreadsheets/{sid}{path}"
    try:
        answer = client.http_client.request(method, url, **kwargs)
    except APIError as err:
        answer = err.response
    return answer.status_code, answer.json()


def test_quoted_sheet_names_round_trip(
    sheets_emulator: SheetsEmulator, sheets_client: gspread.Client
) -> None:
    sid = sheets_emulator.create_spreadsheet("T", ["It's", "D3", "Plain"])
    status, body = call(
        sheets_client, "put", sid, "/values/'It''s'!B2", params=RAW, json={"values": [["x", 1]]}
    )
    assert (status, body["updatedRange"]) == (200, "'It''s'!B2:C2")
    status, body = call(
        sheets_client, "get", sid, "/values:batchGet", params={"ranges": ["'It''s'!A:C", "D3", "Plain"]}
    )
    assert [r["range"] for r in body["valueRanges"]] == [
        "'It''s'!A1:C1000",
        "'D3'!A1:Z1000",
        "Plain!A1:Z1000",
    ]
    assert body["valueRanges"][0]["values"] == [[], ["", "x", "1"]] and "values" not in body["valueRanges"][1]


def test_writing_past_the_grid_fails_until_the_sheet_is_resized(
    sheets_emulator: SheetsEmulator, sheets_client: gspread.Client
) -> None:
    sid = sheets_emulator.create_spreadsheet("T", rows=2, columns=2)
    status, body = call(
        sheets_client, "put", sid, "/values/Sheet1!A2", params=RAW, json={"values": [[1], [2]]}
    )
    assert status == 400 and "exceeds grid limits. Max rows: 2, max columns: 2" in body["error"]["message"]
    resize = {
        "updateSheetProperties": {
            "properties": {"sheetId": 0, "gridProperties": {"rowCount": 3}},
            "fields": "gridProperties.rowCount",
        }
    }
    assert call(sheets_client, "post", sid, ":batchUpdate", json={"requests": [resize]})[0] == 200
    assert (
        call(sheets_client, "put", sid, "/values/Sheet1!A2", params=RAW, json={"values": [[1], [2]]})[0]
        == 200
    )


def test_the_10_million_cell_limit_and_atomic_batch_updates(
    sheets_emulator: SheetsEmulator, sheets_client: gspread.Client
) -> None:
    sid = sheets_emulator.create_spreadsheet("T")
    big = {
        "addSheet": {
            "properties": {"title": "Big", "gridProperties": {"rowCount": 500_000, "columnCount": 20}}
        }
    }
    status, body = call(sheets_client, "post", sid, ":batchUpdate", json={"requests": [big]})
    assert status == 400 and "above the limit of 10000000 cells" in body["error"]["message"]
    small = {"addSheet": {"properties": {"title": "Small"}}}
    status, body = call(
        sheets_client,
        "post",
        sid,
        ":batchUpdate",
        json={"requests": [small, {"deleteSheet": {"sheetId": 7}}]},
    )
    assert status == 400 and body["error"]["message"] == "Invalid requests[1].deleteSheet: No grid with id: 7"
    assert sheets_emulator.titles(sid) == ["Sheet1"]  # the addSheet before it was not applied either


def test_user_entered_text_becomes_a_formula_and_raw_text_does_not(
    sheets_emulator: SheetsEmulator, sheets_client: gspread.Client
) -> None:
    sid = sheets_emulator.create_spreadsheet("T")
    call(sheets_client, "put", sid, "/values/A1", params=RAW, json={"values": [["=1+1"]]})
    call(
        sheets_client,
        "put",
        sid,
        "/values/A2",
        params={"valueInputOption": "USER_ENTERED"},
        json={"values": [["=1+1"]]},
    )
    assert sheets_emulator.formula_cells(sid) == [("Sheet1!A2", "=1+1")]
    assert sheets_emulator.get_values(sid, "Sheet1") == [["=1+1"], [2]]


def test_faults_quota_and_the_request_log(
    sheets_emulator: SheetsEmulator, sheets_client: gspread.Client
) -> None:
    sid = sheets_emulator.create_spreadsheet("T")
    sheets_emulator.faults.append(Fault(lambda r: r.kind == "values.get", status=503, retry_after=7))
    sheets_emulator.quota_per_minute = 1
    plain = sheets_client.http_client.session
    url = f"{sheets_emulator.url}/v4/spreadsheets/{sid}/values/A1"
    first, second = plain.get(url), plain.get(url)
    assert (first.status_code, first.headers["Retry-After"], second.status_code) == (503, "7", 429)
    assert second.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert [(e.kind, e.range, e.status) for e in sheets_emulator.log] == [
        ("values.get", "A1", 503),
        ("values.get", "A1", 429),
    ]
    assert sheets_emulator.writes() == []
