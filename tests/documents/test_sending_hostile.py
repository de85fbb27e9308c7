"""``send`` with line breaks where a mail header expects one line (Alt+Enter in a name cell).

The SMTP server is the real one of :mod:`tests.documents.test_sending` (aiosmtpd on 127.0.0.1).
"""

from __future__ import annotations

from collections import Counter

import pytest

pytest.importorskip("aiosmtpd")

from tests.documents import test_sending  # noqa: E402 - only with aiosmtpd
from tests.documents.test_sending import AS_OF, CUSTOMERS, EMAILED, LETTERS, practice_workbook, send_command, sent_rows  # noqa: E402,E501

smtp = test_sending.smtp  # the real SMTP server fixture


def test_a_line_break_in_a_customer_name_is_folded_and_every_message_goes_out(tmp_path, smtp, capsys):
    recorder, port = smtp
    customers = [("C1", "Jürgen\nMüller-Łukasiewicz", *CUSTOMERS[0][2:]), CUSTOMERS[1],
                 ("C3", "Anna\r\nSchmidt", *CUSTOMERS[2][2:])]
    workbook = practice_workbook(tmp_path, port, customers=customers)
    assert send_command(workbook, AS_OF, dry_run=False) == 0, capsys.readouterr()
    assert recorder.documents() == Counter(dict.fromkeys(EMAILED, 1))
    message = next(m for m in recorder.messages if m["X-Sheetbill-Document"] == "INV-000004")
    assert message["To"] == "Anna Schmidt <anna@example.org>"
    assert {row[0] for row in sent_rows(workbook)} == EMAILED | LETTERS
    assert send_command(workbook, AS_OF, dry_run=False) == 0  # the rerun sends nothing again
    assert len(recorder.messages) == len(EMAILED)


@pytest.mark.parametrize("setting", [("Company Name", "Praxis\r\nDr. Weber"),
                                     ("Company Name", "Praxis\nBcc: x@evil.example"), ("Invoice Prefix", "INV\n-")])
def test_line_breaks_in_company_name_or_invoice_prefix_never_reach_a_header(tmp_path, smtp, capsys, setting):
    recorder, port = smtp
    workbook = practice_workbook(tmp_path, port, setting)
    assert send_command(workbook, AS_OF, dry_run=False) == 0, capsys.readouterr()
    assert len(recorder.messages) == len(EMAILED)
    for message in recorder.messages:
        for name, value in message.items():
            assert "\n" not in str(value) and "\r" not in str(value), name
        assert "Bcc" not in message and len(message["To"].addresses) == 1
    assert len(sent_rows(workbook)) == len(EMAILED | LETTERS)
