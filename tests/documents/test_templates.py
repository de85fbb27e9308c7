"""Templates: language choice, German wording and formats, an office's own templates over the shipped ones."""

from pathlib import Path

import pytest

from sheetbill.documents import prepare
from sheetbill.documents.templates import SHIPPED, Templates, export_templates, language_code, placeholders
from tests.documents.conftest import history, inputs, plugins, workbook_path


def documents_for(tmp_path: Path, latin_fonts, *settings):
    sheets = history(inputs(settings=settings), "2026-01-31")
    return prepare(sheets, workbook_path(tmp_path), fonts=latin_fonts, plugins=plugins())


def by_key(documents, key):
    return next(d for d in documents.documents if d.key == key)


@pytest.mark.parametrize(("value", "code"), [("de", "de"), ("DE", "de"), ("de-AT", "de"), ("Deutsch", "de"),
                                             ("English", "en"), ("", "en"), ("fr_FR", "fr")])
def test_language_codes(value, code):
    assert language_code(value) == code


def test_every_shipped_language_has_every_key_of_english_and_the_same_placeholders():
    english = Templates.load("en")
    for language in ("de",):
        other = Templates.load(language)
        for file, values in english.data.items():
            assert set(other.data[file]) == set(values), file
            for key, text in values.items():
                if isinstance(text, str) and key != "date":
                    assert set(placeholders(other.data[file][key])) <= set(placeholders(text)) | {"level"}, key


def test_german_documents_use_german_words_dates_and_amounts(tmp_path, latin_fonts):
    documents = documents_for(tmp_path, latin_fonts, ("Language", "Deutsch"))
    invoice = by_key(documents, "INV-000002")
    assert invoice.title == "Rechnung"
    assert ("Datum", "31.01.2026") in invoice.facts
    assert invoice.totals[-1] == ("Ihr Anteil", "82,20 EUR", True)
    assert invoice.breakdown == (("Selbstbehalt + prozentualer Eigenanteil", "64,00 EUR"),
                                 ("prozentualer Eigenanteil", "18,20 EUR"))
    assert invoice.greeting == "Guten Tag Jürgen Müller-Łukasiewicz,"
    payer = by_key(documents, "INV-000001")
    assert payer.greeting == "Sehr geehrte Damen und Herren,"
    assert payer.table.headers[1] == "Ziffer (GOÄ)"


def test_an_office_template_changes_single_keys_and_a_typo_is_a_problem(tmp_path, latin_fonts):
    folder = tmp_path / "our templates" / "en"
    folder.mkdir(parents=True)
    (folder / "invoice.toml").write_text('title = "Bill"\nintro_customer = "Hello {nmae}"\nsurprise = "x"\n',
                                         encoding="utf-8")
    documents = documents_for(tmp_path, latin_fonts, ("Document Templates", "our templates"))
    invoice = by_key(documents, "INV-000002")
    assert invoice.title == "Bill"
    assert invoice.paragraphs[0] == "For the services listed below we charge you the amounts in the last column."
    messages = [p.message for p in documents.problems if p.sheet == "Settings"]
    assert any("{nmae}" in m and "shipped text is used" in m for m in messages)
    assert any("unknown key 'surprise'" in m for m in messages)
    assert {p.code for p in documents.problems if p.sheet == "Settings"} == {"bad-template"}
    row = next(p.row for p in documents.problems if "{nmae}" in p.message)
    assert row is not None and all(p.severity == "warning" for p in documents.problems if p.sheet == "Settings")


def test_broken_toml_and_missing_folder_fall_back_to_the_shipped_templates(tmp_path, latin_fonts):
    (tmp_path / "t" / "en").mkdir(parents=True)
    (tmp_path / "t" / "en" / "common.toml").write_text("date = \n", encoding="utf-8")
    documents = documents_for(tmp_path, latin_fonts, ("Document Templates", "t"))
    assert "bad-template" in {p.code for p in documents.problems}
    assert by_key(documents, "INV-000002").facts[1] == ("Date", "31 January 2026")
    documents = documents_for(tmp_path, latin_fonts, ("Document Templates", "nowhere"))
    assert "templates-missing" in {p.code for p in documents.problems}


def test_a_language_without_templates_falls_back_to_english(tmp_path, latin_fonts):
    documents = documents_for(tmp_path, latin_fonts, ("Language", "fr"))
    assert by_key(documents, "INV-000002").title == "Invoice"
    assert "language-unknown" in {p.code for p in documents.problems}


def test_an_office_may_add_a_language(tmp_path, latin_fonts):
    (tmp_path / "t" / "fr").mkdir(parents=True)
    (tmp_path / "t" / "fr" / "invoice.toml").write_text('title = "Facture"\n', encoding="utf-8")
    documents = documents_for(tmp_path, latin_fonts, ("Language", "fr"), ("Document Templates", "t"))
    assert by_key(documents, "INV-000002").title == "Facture"
    assert not [p for p in documents.problems if p.sheet == "Settings"]


def test_export_copies_the_shipped_templates_once(tmp_path):
    written = export_templates(tmp_path)
    assert {p.relative_to(tmp_path).as_posix() for p in written} == {
        p.relative_to(SHIPPED).as_posix() for p in SHIPPED.glob("*/*.toml")}
    assert export_templates(tmp_path) == []
