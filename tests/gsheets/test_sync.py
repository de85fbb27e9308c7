"""The Google Sheets sync end to end: gspread's real client over real HTTP to the emulator.

Each test builds a spreadsheet in the emulator, syncs it, and looks at what Google would now
hold and at the request log: how many requests, which value input option, how large.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import gspread
import pytest

from sheetbill import contract
from sheetbill.cli import main
from sheetbill.io.gsheets import (
    ENV_API_URL,
    ENV_CREDENTIALS,
    ENV_TOKEN,
    EXIT_CONFLICT,
    MAX_REQUEST_BYTES,
    PROTECTION_NOTE,
    SCOPE,
    STAGING_PREFIX,
    RetryPolicy,
    SheetsLimitError,
    SheetsSyncError,
    SheetsUnavailable,
    connect,
    raw_sheet,
    sync,
    sync_with,
)
from sheetbill.plugins.manager import Plugins, get_plugin_manager
from sheetbill.problems import Problem
from sheetbill.run import run_billing
from sheetbill.sheets import Column, OutputSheet, RawSheet
from tests.support.gsheets_fixtures import FakeClock, emulator_client
from tests.support.sheets_emulator import Fault, LoggedRequest, SheetsEmulator, serial_of

AS_OF = dt.date(2026, 3, 1)
CHARGE_HEADER = ("Charge ID", "Date", "Customer ID", "Service Code", "Quantity", "Price")
FORMULA_TEXT = '=HYPERLINK("http://x","y")'


def workbook(emulator: SheetsEmulator, *charges: tuple) -> str:
    """A billing spreadsheet: settings, two customers (one named like a formula), services, charges."""
    return emulator.create_spreadsheet(
        "Billing",
        {
            "Settings": [["Setting", "Value"], ["Invoice Prefix", "R-"], ["Payment Terms Days", 14]],
            "Customers": [["Customer ID", "Name"], ["00123", "Ann Lee"], ["C2", FORMULA_TEXT]],
            "Services": [["Service Code", "Description", "Price"], ["S", "Session", 80], ["T", "Test", 12.5]],
            "Charges": [list(CHARGE_HEADER), *[list(charge) for charge in charges]],
        },
    )


def billing(sheets: Mapping[str, RawSheet]):
    """The real core, with built-in plugins only."""
    return run_billing(sheets, as_of=AS_OF, plugins=Plugins(get_plugin_manager(entry_points=False)))


def kinds(log: list[LoggedRequest]) -> list[str]:
    return [entry.kind for entry in log]


def test_first_sync_publishes_every_output_formatted_protected_and_exactly_sized(
    sheets_emulator: SheetsEmulator, sheets_client: gspread.Client
) -> None:
    sid = workbook(
        sheets_emulator,
        ("1", dt.date(2026, 2, 1), "00123", "S", 1, None),
        ("2", "2026-02-03", "C2", "T", 2, None),
    )
    result = sync(sid, as_of=AS_OF, client=sheets_client)

    assert result.exit_code == 0 and not result.conflicts and not result.unchanged
    invoices = sheets_emulator.get_values(sid, "Invoices")
    assert invoices[0][:4] == ["Invoice No", "Kind", "Issue Date", "Due Date"]
    assert [row[0] for row in invoices[1:]] == ["R-000001", "R-000002"]
    assert (
        invoices[1][2] == serial_of(AS_OF) and invoices[1][7] == "00123"
    )  # a date serial; text id stays text
    assert invoices[2][6] == FORMULA_TEXT  # a name that looks like a formula is still text...
    assert sheets_emulator.formula_cells(sid) == []  # ...and nothing anywhere became a formula
    assert invoices[1][8] == 80 and invoices[2][8] == 25  # amounts are numbers

    # One metadata read, one batchGet, prepare, one values write, re-check, commit.
    assert kinds(sheets_emulator.log) == [
        "spreadsheets.get",
        "values.batchGet",
        "spreadsheets.batchUpdate",
        "values.batchUpdate",
        "values.batchGet",
        "spreadsheets.batchUpdate",
    ]
    assert result.requests == 6
    assert all(
        e.value_input_option == "RAW" for e in sheets_emulator.log if e.kind.startswith("values.batchU")
    )
    assert all("append" not in e.kind and e.kind != "values.update" for e in sheets_emulator.log)

    titles = sheets_emulator.titles(sid)
    assert titles[:4] == ["Settings", "Customers", "Services", "Charges"]
    assert set(result.written) <= set(titles) and not any(t.startswith(STAGING_PREFIX) for t in titles)
    sheet = sheets_emulator.sheet(sid, "Invoices")
    assert sheet.props["gridProperties"] == {"rowCount": 3, "columnCount": len(contract.INVOICE_COLUMNS),
                                             "frozenRowCount": 1}
    assert not sheet.props.get("hidden")
    assert [(p["warningOnly"], p["description"]) for p in sheet.protected_ranges] == [(True, PROTECTION_NOTE)]
    assert sheet.format_of(0, 5)["textFormat"]["bold"] is True
    assert sheet.format_of(1, 2)["numberFormat"]["type"] == "DATE"
    assert sheet.format_of(2, 8)["numberFormat"]["pattern"] == "#,##0.00"
    assert sheets_emulator.internal_errors == []


def test_a_second_sync_with_unchanged_inputs_sends_no_write_at_all(
    sheets_emulator: SheetsEmulator, sheets_client: gspread.Client
) -> None:
    sid = workbook(sheets_emulator, ("1", dt.date(2026, 2, 1), "00123", "S", 1, None))
    sync_with(sheets_client, sid, billing)
    sheets_emulator.log.clear()

    again = sync_with(sheets_client, sid, billing)

    assert sheets_emulator.writes() == []
    assert kinds(sheets_emulator.log) == ["spreadsheets.get", "values.batchGet"]
    assert again.written == () and len(again.unchanged) == len(again.run.outputs) and again.requests == 2


def test_a_changed_input_rewrites_only_the_outputs_that_changed_in_place(
    sheets_emulator: SheetsEmulator, sheets_client: gspread.Client
) -> None:
    sid = workbook(sheets_emulator, ("1", dt.date(2026, 2, 1), "00123", "S", 1, None))
    sync_with(sheets_client, sid, billing)
    ids = {title: sheets_emulator.sheet(sid, title).sheet_id for title in sheets_emulator.titles(sid)}
    sheets_emulator.put_values(sid, "Charges!A3", [["2", dt.date(2026, 2, 2), "C2", "T", 4, None]])

    result = sync_with(sheets_client, sid, billing)

    assert {"Invoices", "Invoice Lines"} <= set(result.written)
    assert {"Problems", "Advice"} <= set(result.unchanged)
    assert {title: sheets_emulator.sheet(sid, title).sheet_id for title in sheets_emulator.titles(sid)} == ids
    lines = sheets_emulator.get_values(sid, "Invoice Lines")
    assert [row[1] for row in lines[1:]] == ["1", "2"]
    assert sheets_emulator.sheet(sid, "Invoice Lines").props["gridProperties"]["rowCount"] == 3
    assert len(sheets_emulator.sheet(sid, "Invoices").protected_ranges) == 1  # not added twice
    assert len(sheets_emulator.sheet(sid, "Aging").charts) == 1  # nor the chart


# --- mechanics, with a small computation of our own --------------------------------------------------


@dataclass
class Echo:
    """A stand-in for the core: one output row per input row of "Items", plus a count sheet."""

    outputs: list[OutputSheet]
    problems: list[Problem] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    exit_code: int = 0


ITEM_COLUMNS = (Column("ID"), Column("Day", "date"), Column("Amount", "money"), Column("Note"))


def echo(sheets: Mapping[str, RawSheet]) -> Echo:
    items = sheets["Items"].rows[1:]
    report = OutputSheet("Report", ITEM_COLUMNS, [list(row) + [None] * (4 - len(row)) for row in items])
    count = OutputSheet("Count", (Column("Items", "int"),), [[len(items)]])
    return Echo([report, count])


def items_book(emulator: SheetsEmulator, rows: int, note: str = "note", grid_rows: int = 1000) -> str:
    data = [["ID", "Day", "Amount", "Note"]]
    data += [[f"{i:06d}", dt.date(2026, 1, 1) + dt.timedelta(days=i % 300), i / 4, note] for i in range(rows)]
    return emulator.create_spreadsheet("Items", {"Items": data}, rows=grid_rows)


def echo_sync(client: gspread.Client, sid: str, **kwargs):
    return sync_with(client, sid, echo, input_names=("Items",), **kwargs)


def test_the_run_gets_the_sheets_a_run_reads_and_the_named_inputs_only(
    sheets_emulator: SheetsEmulator, sheets_client: gspread.Client
) -> None:
    sid = sheets_emulator.create_spreadsheet(
        "T",
        {"Items": [["ID"], ["1"]], "Customers": [["Customer ID"]], "Invoice Lines 2": [["Invoice No"]],
         "Notes": [["typed by staff"]], "Overdue": [["Customer ID"]]},
    )
    seen: list[list[str]] = []

    def spy(sheets: Mapping[str, RawSheet]) -> Echo:
        seen.append(sorted(sheets))
        return Echo([])

    sync_with(sheets_client, sid, spy, input_names=("Items",))

    assert seen == [["Customers", "Invoice Lines 2", "Items"]]


def test_text_that_looks_like_a_formula_or_number_is_written_as_text(
    sheets_emulator: SheetsEmulator, sheets_client: gspread.Client
) -> None:
    tricky = [FORMULA_TEXT, "=1+1", "+1", "-1", "'quoted", "00123", "1e3", "TRUE", "2026-01-01", "@x"]
    sid = sheets_emulator.create_spreadsheet(
        "T", {"Items": [["ID", "Day", "Amount", "Note"], *[[t] for t in tricky]]}
    )

    echo_sync(sheets_client, sid)

    assert [row[0] for row in sheets_emulator.get_values(sid, "Report")[1:]] == tricky
    assert sheets_emulator.formula_cells(sid) == []
    assert {e.value_input_option for e in sheets_emulator.log if e.kind == "values.batchUpdate"} == {"RAW"}


def test_reads_numbers_as_numbers_dates_as_serials_and_text_as_text(
    sheets_emulator: SheetsEmulator, sheets_client: gspread.Client
) -> None:
    sid = sheets_emulator.create_spreadsheet(
        "T", {"Items": [[], ["ID", "Day", "Amount"], ["00123", dt.date(2026, 1, 31), 12.5], ["7", "", 3]]}
    )
    seen: list[RawSheet] = []

    def spy(sheets: Mapping[str, RawSheet]) -> Echo:
        seen.append(sheets["Items"])
        return Echo([])

    sync_with(sheets_client, sid, spy, input_names=("Items",))

    assert seen[0].rows == [["ID", "Day", "Amount"], ["00123", 46053, 12.5], ["7", None, 3]]
    assert (seen[0].first_row, seen[0].first_col) == (2, 1)
    assert raw_sheet("X", [["", "", "a"], ["", "", "b"]]).first_col == 3


def test_a_big_output_goes_in_requests_of_at_most_2_mb(
    sheets_emulator: SheetsEmulator, sheets_client: gspread.Client
) -> None:
    sid = items_book(sheets_emulator, 30_000, note="x" * 60)

    result = echo_sync(sheets_client, sid)

    writes = [e for e in sheets_emulator.log if e.kind == "values.batchUpdate"]
    assert len(writes) >= 2 and all(e.body_size <= MAX_REQUEST_BYTES for e in writes)
    assert result.requests == 5 + len(writes)
    values = sheets_emulator.get_values(sid, "Report")
    assert len(values) == 30_001 and values[-1][0] == "029999"


def test_a_burst_of_429s_is_waited_out(
    sheets_emulator: SheetsEmulator, sheets_client: gspread.Client, fake_clock: FakeClock
) -> None:
    sid = items_book(sheets_emulator, 5)
    sheets_emulator.quota_per_minute = 2
    sheets_emulator.quota_retry_after = 30

    result = echo_sync(sheets_client, sid)

    assert [e.status for e in sheets_emulator.log].count(429) >= 2
    assert fake_clock.sleeps and min(fake_clock.sleeps) >= 30
    assert sheets_emulator.get_values(sid, "Count") == [["Items"], [5]]
    assert result.requests == len(sheets_emulator.log)


def test_giving_up_after_the_retry_bound_leaves_the_outputs_as_they_were(
    sheets_emulator: SheetsEmulator, fake_clock: FakeClock
) -> None:
    client = emulator_client(sheets_emulator, fake_clock, RetryPolicy(attempts=4, base_delay=1, max_delay=4))
    sid = items_book(sheets_emulator, 3)
    echo_sync(client, sid)
    sheets_emulator.put_values(sid, "Items!A5", [["new"]])
    sheets_emulator.faults.append(Fault(lambda r: r.kind == "values.batchUpdate", status=429, times=None))

    with pytest.raises(
        SheetsUnavailable, match=r"after 4 attempt\(s\); last: HTTP 429.*Nothing visible was changed"
    ):
        echo_sync(client, sid)

    assert len(fake_clock.sleeps) == 3 and all(0 <= s <= 4 for s in fake_clock.sleeps)
    assert sheets_emulator.get_values(sid, "Count") == [["Items"], [3]]
    sheets_emulator.faults.clear()
    echo_sync(client, sid)
    assert sheets_emulator.get_values(sid, "Count") == [["Items"], [4]]
    assert not any(t.startswith(STAGING_PREFIX) for t in sheets_emulator.titles(sid))


def test_server_errors_are_retried(sheets_emulator: SheetsEmulator, sheets_client: gspread.Client) -> None:
    sid = items_book(sheets_emulator, 3)
    sheets_emulator.faults += [
        Fault(lambda r: r.kind == "spreadsheets.get", status=500),
        Fault(lambda r: r.kind == "values.batchUpdate", status=503, retry_after=2, times=2),
        Fault(lambda r: r.kind == "values.batchGet", status=502),
    ]

    echo_sync(sheets_client, sid)

    assert [e.status for e in sheets_emulator.log if e.status != 200] == [500, 502, 503, 503]
    assert sheets_emulator.get_values(sid, "Count") == [["Items"], [3]]


@pytest.mark.parametrize(
    "kind, nth, after",
    [
        ("values.batchUpdate", 2, False),  # mid-write: never gets through
        ("spreadsheets.batchUpdate", 2, False),  # the commit never gets through
        ("spreadsheets.batchUpdate", 1, True),  # preparing went through, its answer was lost
        ("spreadsheets.batchUpdate", 2, True),  # the commit went through, its answer was lost
    ],
)
def test_a_dropped_connection_leaves_each_output_old_or_new_and_the_next_sync_completes(
    sheets_emulator: SheetsEmulator, fake_clock: FakeClock, kind: str, nth: int, after: bool
) -> None:
    client = emulator_client(sheets_emulator, fake_clock, RetryPolicy(attempts=3))
    sid = items_book(sheets_emulator, 9_000, note="y" * 40)
    echo_sync(client, sid, max_request_bytes=200_000)
    old = {t: sheets_emulator.get_values(sid, t) for t in ("Report", "Count")}
    sheets_emulator.put_values(sid, "Items!D2", [["changed"]])
    seen = []

    def nth_of_kind(request: LoggedRequest) -> bool:
        seen.append(request.kind)
        return request.kind == kind and seen.count(kind) >= nth

    sheets_emulator.faults.append(Fault(nth_of_kind, drop=True, after=after, times=1 if after else None))

    try:
        echo_sync(client, sid, max_request_bytes=200_000)
        failed = False
    except SheetsUnavailable:
        failed = True

    assert failed is not after
    now = {t: sheets_emulator.get_values(sid, t) for t in ("Report", "Count")}
    assert now["Report"] == old["Report"] if failed else now["Report"][1][3] == "changed"
    sheets_emulator.faults.clear()
    echo_sync(client, sid, max_request_bytes=200_000)
    assert sheets_emulator.get_values(sid, "Report")[1][3] == "changed"
    assert not any(t.startswith(STAGING_PREFIX) for t in sheets_emulator.titles(sid))
    assert sheets_emulator.internal_errors == []


def test_a_person_editing_inputs_mid_sync_means_nothing_is_published(
    sheets_emulator: SheetsEmulator, sheets_client: gspread.Client
) -> None:
    sid = items_book(sheets_emulator, 3)
    echo_sync(sheets_client, sid)
    sheets_emulator.put_values(sid, "Items!A5", [["004"]])
    before = {t: sheets_emulator.get_values(sid, t) for t in ("Report", "Count")}

    def typing(request: LoggedRequest) -> None:
        if request.kind == "values.batchUpdate":
            sheets_emulator.put_values(sid, "Items!D3", [["typed by a person"]])
            sheets_emulator.before_write = None

    sheets_emulator.before_write = typing

    result = echo_sync(sheets_client, sid)

    assert result.conflicts == ("Items",) and result.exit_code == EXIT_CONFLICT and result.written == ()
    assert {t: sheets_emulator.get_values(sid, t) for t in ("Report", "Count")} == before
    assert sheets_emulator.get_values(sid, "Items")[2][3] == "typed by a person"
    assert not any(t.startswith(STAGING_PREFIX) for t in sheets_emulator.titles(sid))
    after = echo_sync(sheets_client, sid)
    assert after.conflicts == () and sheets_emulator.get_values(sid, "Report")[2][3] == "typed by a person"


def test_a_dry_run_reports_what_would_change_and_writes_nothing(
    sheets_emulator: SheetsEmulator, sheets_client: gspread.Client
) -> None:
    sid = items_book(sheets_emulator, 3)
    result = echo_sync(sheets_client, sid, dry_run=True)
    assert result.dry_run and result.written == ("Report", "Count") and sheets_emulator.writes() == []


def test_outputs_that_cannot_fit_10_million_cells_are_refused_before_writing(
    sheets_emulator: SheetsEmulator, sheets_client: gspread.Client
) -> None:
    sid = items_book(sheets_emulator, 3, grid_rows=384_615)  # 384,615 x 26 = 9,999,990 cells

    with pytest.raises(SheetsLimitError, match=r"Google Sheets allows 10,000,000 .*Nothing was written"):
        echo_sync(sheets_client, sid)
    assert sheets_emulator.writes() == []


def test_stale_staging_sheets_of_a_crashed_sync_are_removed(
    sheets_emulator: SheetsEmulator, sheets_client: gspread.Client
) -> None:
    sid = items_book(sheets_emulator, 3)
    echo_sync(sheets_client, sid)
    sheets_client.http_client.batch_update(
        sid,
        {"requests": [{"addSheet": {"properties": {"title": STAGING_PREFIX + "dead 1", "hidden": True}}}]},
    )

    result = echo_sync(sheets_client, sid)

    assert result.written == () and sheets_emulator.titles(sid) == ["Items", "Report", "Count"]


def test_a_100000_row_sync_takes_a_handful_of_requests(
    sheets_emulator: SheetsEmulator, sheets_client: gspread.Client
) -> None:
    customers = [["Customer ID", "Name"]] + [[f"C{i:05d}", f"Customer {i}"] for i in range(2_000)]
    charges = [list(CHARGE_HEADER)] + [
        [str(i), dt.date(2026, 1, 1) + dt.timedelta(days=i % 50), f"C{i % 2000:05d}", "ST"[i % 2], 1, None]
        for i in range(100_000)
    ]
    sid = sheets_emulator.create_spreadsheet(
        "Big",
        {
            "Settings": [["Setting", "Value"], ["Invoice Prefix", "R-"]],
            "Customers": customers,
            "Services": [["Service Code", "Description", "Price"], ["S", "Session", 80], ["T", "Test", 12.5]],
            "Charges": charges,
        },
    )

    result = sync_with(sheets_client, sid, billing)

    writes = [e for e in sheets_emulator.log if e.kind == "values.batchUpdate"]
    assert all(e.body_size <= MAX_REQUEST_BYTES for e in writes)
    # 13: the tax columns of Invoices and Invoice Lines (empty in a workbook without tax) are cells too
    assert result.requests == 5 + len(writes) <= 13
    assert len(sheets_emulator.get_values(sid, "Invoice Lines")) == 100_001
    print(
        f"100,000 charges: {result.requests} requests, {len(writes)} value writes, "
        f"{sum(e.body_size for e in writes) / 1e6:.1f} MB"
    )
    sheets_emulator.log.clear()
    assert sync_with(sheets_client, sid, billing).requests == 2 and sheets_emulator.writes() == []


def test_retry_delays_are_bounded_jittered_and_honour_retry_after() -> None:
    policy = RetryPolicy(attempts=6, base_delay=1, max_delay=8, max_retry_after=60)
    assert [policy.delay(n, None, lambda: 1.0) for n in range(1, 6)] == [1, 2, 4, 8, 8]
    assert policy.delay(3, None, lambda: 0.5) == 2
    assert policy.delay(1, 30, lambda: 0.5) == 30
    assert policy.delay(1, 61, lambda: 0.5) is None


# --- the command and credentials ---------------------------------------------------------------------


def test_the_sync_command_prints_counts_but_never_tokens_or_cell_contents(
    sheets_emulator: SheetsEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    sid = workbook(
        sheets_emulator,
        ("1", dt.date(2026, 2, 1), "C2", "S", 1, None),
        ("2", "2026-02-02", "C9", "S", 1, None),
    )
    monkeypatch.setenv(ENV_TOKEN, "secret-token-123")
    monkeypatch.setenv(ENV_API_URL, sheets_emulator.url)
    caplog.set_level(logging.DEBUG)
    code = main(["sync", sid, "--as-of", AS_OF.isoformat()])

    printed = capsys.readouterr()
    assert code == 1  # the charge for unknown customer C9 was skipped as a Problem
    assert "Invoices" in printed.out and "1 errors" in printed.out
    for secret in ("secret-token-123", FORMULA_TEXT, "C9"):
        assert secret not in printed.out + printed.err + caplog.text
    assert main(["sync", "no-such-id"]) == 2
    assert "was not found" in capsys.readouterr().err


def test_a_key_file_asks_for_the_spreadsheets_scope_only(tmp_path) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    path = tmp_path / "key.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "client_email": "sheetbill@office.iam.gserviceaccount.com",
                "private_key": pem,
                "private_key_id": "1",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )

    for client in (
        connect(credentials_file=path, environ={}),
        connect(environ={"GOOGLE_APPLICATION_CREDENTIALS": str(path)}),
    ):
        assert client.http_client.auth.scopes == [SCOPE]
    path.write_text(json.dumps({"type": "external_account"}))
    with pytest.raises(SheetsSyncError, match="not a service-account key"):
        connect(environ={ENV_CREDENTIALS: str(path)})
