"""The HTTP back end through real HTTP on 127.0.0.1: auth, allow-list, limits, refusals and answers."""

from __future__ import annotations

import http.client
import json
import logging
from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from sheetbill.buttons import ButtonResult
from sheetbill.run import run_billing
from sheetbill.server import ServerConfig, ServerConfigError, load_config, token_matches

from .support import OTHER_TOKEN, TOKEN, apply_actions, payload, post, raw_sheets, running_server, tiny_workbook

BILL = "/xlwings/custom-scripts-call/bill"


@pytest.fixture(scope="module")
def base():
    with running_server() as url:
        yield url


def test_health_needs_no_token(base):
    status, text = post(base + "/health", b"", token=None, method="GET")
    assert status == 200 and json.loads(text)["status"] == "ok"


@pytest.mark.parametrize("header", [None, "", "wrong-token-0123456789", f"Bearer {TOKEN}x", "Bearer", f"Basic {TOKEN}"])
def test_a_missing_or_wrong_token_is_401(base, header):
    status, text = post(base + BILL, payload(tiny_workbook()), token=header)
    assert status == 401
    assert "token" in text and "Traceback" not in text


@pytest.mark.parametrize("header", [TOKEN, f"Bearer {TOKEN}", f"bearer  {OTHER_TOKEN}"])
def test_bare_and_bearer_tokens_are_accepted(base, header):
    status, text = post(base + BILL, payload(tiny_workbook()), token=header)
    assert status == 200, text
    assert json.loads(text)["actions"][-1]["func"] == "alert"


def test_only_the_allow_listed_buttons_exist(base):
    status, text = post(base + "/xlwings/custom-scripts-call/delete_everything", payload(tiny_workbook()))
    assert status == 404 and "bill, check, documents, import-bank, overdue" in text
    assert post(base + "/xlwings/custom-scripts-call/__init__", {})[0] == 404
    assert post(base + "/xlwings/custom-scripts-call/bill/extra", {})[0] == 404
    assert post(base + "/admin", {})[0] == 404
    assert post(base + BILL, b"", method="GET")[0] == 405


def test_a_body_over_the_limit_is_413_by_length_and_by_stream(base):
    big = b'{"client": "' + b"x" * (3 * 2**20) + b'"}'
    status, text = post(base + BILL, big)
    assert status == 413 and "too large" in text
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    chunks = (b"x" * 65536 for _ in range(48))  # 3 MiB without a Content-Length
    conn.request("POST", BILL, body=chunks, headers={"Authorization": TOKEN}, encode_chunked=True)
    response = conn.getresponse()
    assert response.status == 413
    conn.close()


@pytest.mark.parametrize("body, words", [
    (b"{not json", "not valid JSON"),
    ([1, 2], "not a workbook"),
    ({"client": "Google Apps Script"}, "client and version missing"),
    ({"client": "Office.js", "version": "0.37.8"}, "not supported"),
])
def test_malformed_requests_are_400_with_a_message(base, body, words):
    status, text = post(base + BILL, body)
    assert status == 400 and words in text


@pytest.mark.parametrize("version", ["0.36.0", "0.38.0", "dev", "1"])
def test_other_client_versions_are_refused_naming_the_supported_range(base, version):
    status, text = post(base + BILL, payload(tiny_workbook(), version=version))
    assert status == 400
    assert f"client {version}" in text and "supports xlwings 0.37.8" in text


def test_a_needed_sheet_left_out_by_include_is_refused_not_taken_as_empty(base):
    workbook = tiny_workbook()
    workbook["Invoices"] = [["Invoice No"]]
    status, text = post(base + BILL, payload(workbook, exclude=["Invoices", "Payments"]))
    assert status == 400
    assert "'Payments', 'Invoices'" in text and "include" in text and "Nothing was written" in text


def test_sheets_the_run_does_not_read_may_be_left_out(base):
    status, text = post(base + BILL, payload(tiny_workbook(), exclude=["Billing"]))
    assert status == 200, text


def test_the_answer_writes_what_a_file_run_computes_text_as_text(base):
    workbook = tiny_workbook()
    expected = run_billing(raw_sheets(workbook))
    status, text = post(base + BILL, payload(workbook))
    assert status == 200
    actions = json.loads(text)["actions"]
    for action in actions:
        if action["func"] == "setValues":
            for row in action["values"]:
                assert all(not isinstance(v, str) or v == "" or v.startswith("'") or v[:4].isdigit() for v in row)
    after = apply_actions({k: [list(r) for r in v] for k, v in workbook.items()}, actions)
    for output in expected.outputs:
        rows = after[output.name]
        assert rows[0] == output.headers
        for got, want in zip(rows[1:], output.rows, strict=True):
            assert [_plain(v) for v in got] == [_plain(v) for v in want]
    invoices = {r[0]: r for r in after["Invoices"][1:]}
    assert any(r[6] == '=HYPERLINK("http://x","y")' for r in invoices.values())
    assert any(r[5] == "00123" for r in invoices.values())
    alert = actions[-1]
    assert alert["func"] == "alert" and alert["args"][2:] == ["ok", "critical", ""]
    assert "1 error(s)" in alert["args"][0] and "#N/A" in alert["args"][0]


def _plain(value):
    if isinstance(value, Decimal):
        return Decimal(str(value))
    if isinstance(value, float):
        return Decimal(str(value))
    if hasattr(value, "date") and callable(value.date):
        return value.date()
    return value


def test_a_second_press_on_the_updated_workbook_clears_stale_rows(base):
    workbook = tiny_workbook()
    _, text = post(base + BILL, payload(workbook))
    after = apply_actions(workbook, json.loads(text)["actions"])
    after["Problems"].extend([["error", "Charges", 99, "X", "stale"]] * 3)  # rows a clerk or old run left
    _, text = post(base + BILL, payload(after))
    actions = json.loads(text)["actions"]
    assert not any(a["func"] == "addSheet" for a in actions)
    clears = [a for a in actions if a["func"] == "rangeClearContents"]
    assert clears and all(a["start_row"] >= 1 for a in clears)
    again = apply_actions(after, actions)
    assert not any(r and r[-1] == "stale" for r in again["Problems"])
    assert [r for r in again["Invoices"] if any(v is not None for v in r)] == \
        [r for r in after["Invoices"] if any(v is not None for v in r)]


def test_check_writes_only_the_problems_sheet(base):
    status, text = post(base + "/xlwings/custom-scripts-call/check", payload(tiny_workbook()))
    assert status == 200
    actions = json.loads(text)["actions"]
    assert [a["args"][1] for a in actions if a["func"] == "addSheet"] == ["Problems"]


def test_documents_says_not_available_and_writes_nothing(base):
    status, text = post(base + "/xlwings/custom-scripts-call/documents", payload(tiny_workbook()))
    assert status == 200
    actions = json.loads(text)["actions"]
    assert [a["func"] for a in actions] == ["alert"]
    assert "not available" in actions[0]["args"][0]


def test_a_broken_workbook_gets_a_message_and_no_writes(base):
    workbook = tiny_workbook()
    workbook["Charges"] = [["Charge ID", "Customer ID"], ["1", "C1"]]
    status, text = post(base + BILL, payload(workbook))
    assert status == 200
    actions = json.loads(text)["actions"]
    assert [a["func"] for a in actions] == ["alert"]
    assert "Nothing was written" in actions[0]["args"][0] and actions[0]["args"][3] == "critical"


def test_an_internal_error_gives_a_reference_and_no_details_to_client_or_log(caplog):
    def explode(button, sheets):
        raise ValueError(f"secret {sheets['Customers'].rows[1][1]}")

    caplog.set_level(logging.INFO, logger="sheetbill.server")
    with running_server(run=explode) as url:
        status, text = post(url + BILL, payload(tiny_workbook()))
    assert status == 500 and "reference" in text
    assert "Ann" not in text and "Traceback" not in text and "ValueError" not in text
    assert "Ann" not in caplog.text and "ValueError" in caplog.text


def test_logs_carry_no_customer_data(caplog):
    caplog.set_level(logging.INFO, logger="sheetbill.server")
    with running_server() as url:
        assert post(url + BILL, payload(tiny_workbook()))[0] == 200
        assert post(url + BILL, payload(tiny_workbook(), exclude=["Customers"]))[0] == 400
    assert "button=bill status=200" in caplog.text
    for secret in ("Ann Lee", "HYPERLINK", "office.xlsx", "00123", "R-000001"):
        assert secret not in caplog.text


def test_the_vba_client_is_warned_near_its_row_limit():
    from sheetbill.io.xlwings_json import ClientBook, encode_response
    from sheetbill.sheets import Column, OutputSheet

    output = OutputSheet("Invoice Lines", (Column("No"),), [("x",)] * 30_000)
    for client, warned in (("VBA", True), ("Google Apps Script", False)):
        book = ClientBook(client, "0.37.8", "b", 0, ())
        alert = encode_response(book, [output], "done")["actions"][-1]
        assert ("32,767 rows" in alert["args"][0]) is warned


def test_token_comparison():
    assert token_matches(TOKEN, [OTHER_TOKEN, TOKEN])
    assert token_matches(f"  Bearer {TOKEN} ", [TOKEN])
    assert not token_matches(TOKEN[:-1], [TOKEN])
    assert not token_matches(None, [TOKEN])
    assert not token_matches("Bearer ", [TOKEN])


def test_config_from_environment_and_file(tmp_path):
    config = load_config(environ={"SHEETBILL_API_TOKENS": f" {TOKEN} ,, {OTHER_TOKEN}"})
    assert config.tokens == (TOKEN, OTHER_TOKEN)
    path = tmp_path / "server.toml"
    path.write_text(f'api_tokens = ["{OTHER_TOKEN}"]\nmax_body_mb = 1.5\nmax_concurrent_runs = 2\n')
    config = load_config(path, environ={"SHEETBILL_API_TOKENS": TOKEN})
    assert config.tokens == (TOKEN, OTHER_TOKEN) and config.max_body == int(1.5 * 2**20)
    assert config.max_concurrent_runs == 2
    assert load_config(environ={"SHEETBILL_SERVER_CONFIG": str(path)}).tokens == (OTHER_TOKEN,)
    with pytest.raises(ServerConfigError, match="no API token"):
        load_config(environ={})
    with pytest.raises(ServerConfigError, match="shorter than 16"):
        load_config(environ={"SHEETBILL_API_TOKENS": "short"})
    path.write_text("api_tokens = 'not a list'")
    with pytest.raises(ServerConfigError, match="list of strings"):
        load_config(path, environ={})


def test_a_custom_run_is_used_and_its_result_encoded():
    def fake(button, sheets):
        return ButtonResult(button, [], "hello", ok=True)

    with running_server(ServerConfig((TOKEN,)), run=fake) as url:
        status, text = post(url + "/xlwings/custom-scripts-call/overdue", payload(tiny_workbook()))
    assert status == 200
    assert json.loads(text)["actions"][0]["args"][:4] == ["hello", "sheetbill: Update overdue", "ok", "info"]


def billed_with_a_statement(base):
    """The tiny workbook billed through the server, its first Invoices row, and a camt.053 paying that
    invoice by its RF reference."""
    import datetime as dt

    from sheetbill.bank.camt_write import camt053
    from sheetbill.bank.entries import BankEntry
    from sheetbill.bank.references import invoice_rf

    workbook = tiny_workbook()
    _, text = post(base + BILL, payload(workbook))
    after = apply_actions(workbook, json.loads(text)["actions"])
    first = after["Invoices"][1]
    day = dt.date(2026, 3, 5)
    data = camt053("DE89370400440532013000", [
        BankEntry(Decimal(str(first[8])), "EUR", day, day, "Ann Lee", structured_reference=invoice_rf(first[0]),
                  bank_reference="B1", status="BOOK")], statement_id="S1", created=dt.datetime(2026, 3, 6))
    return after, first, data


def test_import_bank_takes_the_statement_files_in_the_request(base):
    import base64

    after, first, data = billed_with_a_statement(base)
    body = payload(after) | {"files": [{"name": "../../etc/passwd", "content": base64.b64encode(data).decode()}]}
    status, text = post(base + "/xlwings/custom-scripts-call/import-bank", body)
    assert status == 200, text
    actions = json.loads(text)["actions"]
    imported = apply_actions(after, actions)
    rows = imported["Bank Payments"]
    assert rows[0][:4] == ["Payment ID", "Date", "Invoice No", "Amount"] and rows[1][2] == first[0]
    assert "Matched by reference: 1" in actions[-1]["args"][0]
    status, text = post(base + "/xlwings/custom-scripts-call/import-bank", payload(after) | {"files": [{"x": 1}]})
    assert status == 400 and "base64" in text


def test_import_bank_takes_the_files_from_the_sheet_excels_macro_adds(base):
    """Excel's RunServerPython sends only the workbook: the macro puts each picked file on the sheet
    'sheetbill import files' (name in A, base64 split over cells from B on), and the server reads it there."""
    import base64

    from sheetbill import contract_bank

    after, first, data = billed_with_a_statement(base)
    content = base64.b64encode(data).decode()
    cells = [content[i:i + 700] for i in range(0, len(content), 700)]  # the macro's chunks, smaller here
    assert len(cells) > 1
    sent = dict(after)
    sent[contract_bank.STATEMENT_FILES_SHEET] = [["=1+1 a'); import os #.xml", *cells], ["empty.xml", ""]]
    status, text = post(base + "/xlwings/custom-scripts-call/import-bank", payload(sent))
    assert status == 200, text
    actions = json.loads(text)["actions"]
    imported = apply_actions(sent, actions)
    assert [row[2] for row in imported["Bank Payments"][1:]] == [first[0]]
    assert imported[contract_bank.STATEMENT_FILES_SHEET] == sent[contract_bank.STATEMENT_FILES_SHEET]  # not written to
    assert "Matched by reference: 1" in actions[-1]["args"][0] and "empty.xml" in actions[-1]["args"][0]
    sent[contract_bank.STATEMENT_FILES_SHEET] = [["bad.xml", "not base64!"]]
    status, text = post(base + "/xlwings/custom-scripts-call/import-bank", payload(sent))
    assert status == 400 and "base64" in text
