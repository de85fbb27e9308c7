"""Pick the reader for a statement file from its content.

:func:`read_statement_file` looks at the bytes, not at the file name: an XML document whose namespace
names a camt.052/.053/.054 message goes to :mod:`~sheetbill.bank.camt`, text with MT940 tags
(``:20:`` and ``:25:``/``:60F:``/``:61:`` at line starts) to :mod:`~sheetbill.bank.mt940`, a CSV whose
header is the savings banks' CSV-CAMT layout to :mod:`~sheetbill.bank.csv`. Any other CSV needs a
:class:`~sheetbill.bank.csv.ColumnMapping`; with one, the file is read as that CSV whatever it holds.
"""

from __future__ import annotations

from sheetbill.bank import camt, mt940
from sheetbill.bank import csv as bank_csv
from sheetbill.bank.entries import Statement, StatementError


def detect_format(data: bytes) -> str:
    """``camt``, ``mt940`` or ``csv-camt`` for ``data``; raises :class:`StatementError` when none fits."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        if camt.camt_message(head) is None:
            raise StatementError("an XML file, but not a camt.052, camt.053 or camt.054 message")
        return "camt"
    text = bank_csv.decode(head[:65536])
    if mt940.looks_like_mt940(text):
        return "mt940"
    if bank_csv.looks_like_sparkasse(text):
        return "csv-camt"
    raise StatementError("not a bank statement this reader knows (camt.052/.053/.054, MT940, Sparkasse CSV-CAMT); "
                         "for another bank's CSV give a column mapping")


def read_statement_file(data: bytes, name: str, mapping: bank_csv.ColumnMapping | None = None) -> list[Statement]:
    """The statements in the file ``data``; ``name`` (the file's name) is only used in error messages.

    With ``mapping`` the file is read as a CSV laid out as the mapping says. Raises
    :class:`StatementError` (a ``ValueError``) naming the file when it cannot be read.
    """
    try:
        if mapping is not None:
            return bank_csv.read_mapped_csv(data, mapping)
        kind = detect_format(data)
        if kind == "camt":
            return camt.read_camt(data)
        if kind == "mt940":
            return mt940.read_mt940(data)
        return bank_csv.read_sparkasse_csv(data)
    except StatementError as exc:
        raise StatementError(f"{name}: {exc}") from exc
