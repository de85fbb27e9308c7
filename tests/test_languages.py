"""Languages: the catalogues match the code, and a German demo writes no English sentence (and back).

The scan bills copies of both demo workbooks as ``make demo`` does (bill, documents, statements with
``--as-of 2026-06-30``) with Settings Language set, reads every output sheet's values and every
document's text, and looks for the other language's sentences: the catalogue's messages (their
fixed words between placeholders, where long enough to be distinctive) and the shipped document
templates' strings.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from sheetbill import contract
from sheetbill.catalogue import plain_sentences, used_messages
from sheetbill.cli import main
from sheetbill.i18n import SHIPPED, Money, catalogue_path, language, msg, read_catalogue
from sheetbill.io.xlsx import read_workbook

ROOT = Path(__file__).resolve().parents[1]
DEMOS = [ROOT / "workbooks" / "demo-medical.xlsx", ROOT / "workbooks" / "demo-utility.xlsx"]
OUTPUT_SHEETS = (contract.INVOICES_SHEET, contract.INVOICE_LINES_SHEET, contract.PROBLEMS_SHEET, contract.ADVICE_SHEET,
                 contract.ALLOCATIONS_SHEET, contract.ACCOUNTS_SHEET, contract.STATEMENTS_SHEET, contract.OVERDUE_SHEET,
                 contract.AGING_SHEET, contract.REMINDERS_SHEET, contract.INSTALLMENTS_SHEET,
                 contract.COLLECTIONS_SHEET, "Sent")
TEMPLATES = ROOT / "sheetbill" / "documents" / "templates"
#: The modules of a billing run (reading, stages, outputs): every sentence they write is a catalogue message.
RUN_MODULES = ("book.py", "tables.py", "adjudication.py", "billing.py", "ledger.py", "overdue.py", "interest.py",
               "run.py", "outputs.py", "wording.py", "contacts.py", "payers")


def _po_entries(code: str):
    from babel.messages.pofile import read_po

    with open(catalogue_path(code), "rb") as handle:
        return [m for m in read_po(handle) if m.id]


def test_every_message_the_code_uses_is_in_every_catalogue():
    used = used_messages()
    assert len(used) > 100
    for code in SHIPPED:
        catalogue = read_catalogue(catalogue_path(code))
        assert sorted(set(used) - set(catalogue)) == [], code


def test_the_german_catalogue_is_complete_and_keeps_every_placeholder():
    for entry in _po_entries("de"):
        assert entry.string and not entry.fuzzy, entry.id
        assert sorted(re.findall(r"{\w+}", entry.id)) == sorted(re.findall(r"{\w+}", entry.string)), entry.id


def test_the_english_catalogue_says_what_the_code_says():
    assert all(entry.string == entry.id for entry in _po_entries("en"))


def test_a_run_makes_problems_and_advice_only_from_catalogue_messages():
    places = [p for p in plain_sentences() if p.split(":")[0].removeprefix("sheetbill/").startswith(RUN_MODULES)]
    assert places == []


def test_dates_and_amounts_follow_the_language():
    german, english = language("Deutsch"), language("en")
    sentence = msg("Please pay {amount} by {pay_by} ({details}).", amount=Money(Decimal("1106.4"), "EUR"),
                   pay_by=dt.date(2026, 2, 28), details=msg("payment reference {reference}", reference="R-1"))
    assert german.render(sentence) == "Bitte zahlen Sie 1.106,40 EUR bis zum 28.02.2026 (Verwendungszweck R-1)."
    assert english.render(sentence) == "Please pay 1,106.40 EUR by 2026-02-28 (payment reference R-1)."
    assert str(sentence) == english.render(sentence)
    assert german.money(Decimal("-5"), "JPY") == "-5 JPY"
    assert language("xx").code == "en"  # no catalogue: English


# --- the demos in both languages -----------------------------------------------------------------------

def _fixed_words(text: str) -> list[str]:
    """The placeholder-free stretches of a message or template string, long enough to be distinctive."""
    parts = re.split(r"{[^}]*}", text)
    return [p.strip(" .,:;()") for p in parts if len(p.strip(" .,:;()").split()) >= 3]


def _template_strings(code: str) -> list[str]:
    found = []

    def walk(value):
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for path in sorted((TEMPLATES / code).glob("*.toml")):
        walk(tomllib.loads(path.read_text(encoding="utf-8")))
    return found


def _sentences_of(code: str) -> set[str]:
    """The distinctive fixed words of every sentence ``code`` writes (catalogue and document templates)."""
    texts = [entry.string for entry in _po_entries(code)] + _template_strings(code)
    words = {w for text in texts for line in text.splitlines() for w in _fixed_words(line)}
    other = "de" if code == "en" else "en"
    shared = {w for text in [e.string for e in _po_entries(other)] + _template_strings(other)
              for line in text.splitlines() for w in _fixed_words(line)}
    # The Reason words of Invoice Lines are contract values (history read back); documents translate them.
    reasons = set(tomllib.loads((TEMPLATES / "en" / "common.toml").read_text(encoding="utf-8"))["reasons"])
    return words - shared - reasons


#: What an office writing in each language types into the free-text Settings the documents print as typed.
OFFICE_TEXTS = {"de": {"Payment Methods": "Überweisung oder Lastschrift"}}


def _set_language(workbook: Path, code: str) -> None:
    """Switch the workbook to ``code``, and its free-text settings to what an office of that language types."""
    from openpyxl import load_workbook

    book = load_workbook(workbook)
    sheet = book["Settings"]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == "Language":
            row[1].value = code
        elif row[0].value in OFFICE_TEXTS.get(code, {}):
            row[1].value = OFFICE_TEXTS[code][row[0].value]
    book.save(workbook)


@pytest.fixture(scope="module", params=["de", "en"])
def demo_texts(request, tmp_path_factory):
    """Every output sheet value and document text of both demos billed in one language: (code, texts)."""
    pypdf = pytest.importorskip("pypdf")
    code = request.param
    folder = tmp_path_factory.mktemp(f"demo-{code}")
    texts: list[tuple[str, str]] = []
    for demo in DEMOS:
        if not demo.exists():
            pytest.skip(f"{demo.name} has not been generated")
        workbook = folder / demo.name
        shutil.copyfile(demo, workbook)
        _set_language(workbook, code)
        # Reminders issued before (the demo's history, in English) keep their text: only new rows count.
        before = read_workbook(workbook).get(contract.REMINDERS_SHEET)
        issued = {tuple(row) for row in before.rows[1:]} if before is not None else set()
        for command in ("bill", "documents", "statements"):
            assert main([command, str(workbook), "--as-of", "2026-06-30"]) <= 1
        sheets = read_workbook(workbook)
        for name, sheet in sheets.items():
            if name not in OUTPUT_SHEETS:
                continue
            for row in sheet.rows[1:]:
                if name == contract.REMINDERS_SHEET and tuple(row) in issued:
                    continue
                texts += [(f"{demo.name} {name}", cell) for cell in row if isinstance(cell, str)]
        for pdf in sorted(folder.rglob("*.pdf")):
            text = " ".join(page.extract_text() for page in pypdf.PdfReader(str(pdf)).pages)
            texts.append((pdf.name, re.sub(r"\s+", " ", text)))
    return code, texts


@pytest.mark.slow
def test_a_demo_writes_no_sentence_of_the_other_language(demo_texts):
    code, texts = demo_texts
    other = _sentences_of("en" if code == "de" else "de")
    assert len(other) > 100
    found = sorted({(where, words) for where, text in texts for words in other if words in text})
    assert found == []
    own = _sentences_of(code)
    assert sum(1 for _, text in texts for words in own if words in text) > 20  # the scan sees real sentences
