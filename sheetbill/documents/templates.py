"""Wording and labels of documents: small TOML templates per document kind and language.

The shipped templates live in ``sheetbill/documents/templates/<language>/``: ``common.toml`` (labels,
date and amount formats, the words for why a customer pays a share) and one file per document
kind (``invoice.toml``, ``credit_note.toml``, ``reminder.toml``, ``statement.toml``) with its texts
and its email.
English (``en``) and German (``de``) are shipped; Settings ``Language`` chooses.

An office changes wording without touching sheetbill: Settings ``Document Templates`` names a
folder (relative to the workbook's folder) laid out the same way, e.g. ``templates/de/reminder.toml``.
Its files only need the keys that differ; every other key comes from the shipped file of the same
language, then from the English one. A folder may also add a language sheetbill does not ship.

Texts contain placeholders in braces (``{invoice_no}``); ``docs/documents.md`` lists them per
document kind. A misspelt placeholder, an unknown key or a file that is not valid TOML is a
Problem on the Settings row ``Document Templates``, and the shipped text is used instead, so a
typo in a template never stops the documents from being made.
"""

from __future__ import annotations

import shutil
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..i18n import language_code
from ..problems import Problem, warning

SHIPPED = Path(__file__).parent / "templates"
SHIPPED_LANGUAGES = ("en", "de")
KINDS = ("invoice", "credit_note", "reminder", "statement")
FILES = ("common", *KINDS)



def _read_toml(path: Path) -> dict[str, Any]:
    with open(path, "rb") as handle:
        return tomllib.load(handle)


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def placeholders(text: str) -> list[str]:
    """The placeholder names used in ``text`` (``"Due {due_date}"`` -> ``["due_date"]``)."""
    return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]


@dataclass
class Templates:
    """The merged templates of one language, per file, with where each key came from.

    Attributes:
        language: the two-letter code in use.
        data: ``{file: {dotted key: value}}``, office keys over shipped keys of the language over English.
        shipped: the same for the shipped templates only (fallback when an office text is broken).
        origin: ``{(file, key): path}`` of every key an office file set.
        problems: what was wrong with the office's files or the language setting.
        settings_row: the Settings row of ``Document Templates`` (or ``Language``) for Problems.
    """

    language: str
    data: dict[str, dict[str, Any]]
    shipped: dict[str, dict[str, Any]]
    origin: dict[tuple[str, str], Path] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    settings_row: int | None = None
    fonts_dir: Path | None = None

    @classmethod
    def load(cls, language: str, office_dir: Path | None = None, *, settings_rows: Mapping[str, int] | None = None,
             ) -> Templates:
        """Templates for ``language``, with an office's folder (or ``None``) laid over the shipped ones."""
        rows = settings_rows or {}
        code = language_code(language)
        problems: list[Problem] = []
        template_row = rows.get("documenttemplates")
        if office_dir is not None and not office_dir.is_dir():
            problems.append(warning(f"Document Templates: folder {str(office_dir)!r} not found; the shipped "
                                    "templates are used", "Settings", template_row, "Value", code="templates-missing"))
            office_dir = None
        office_languages = {p.name for p in office_dir.iterdir() if p.is_dir()} if office_dir else set()
        if code not in SHIPPED_LANGUAGES and code not in office_languages:
            problems.append(warning(f"Language {language!r}: no templates for it (shipped: "
                                    f"{', '.join(SHIPPED_LANGUAGES)}); English is used", "Settings",
                                    rows.get("language"), "Value", code="language-unknown"))
            code = "en"
        shipped: dict[str, dict[str, Any]] = {}
        data: dict[str, dict[str, Any]] = {}
        origin: dict[tuple[str, str], Path] = {}
        for name in FILES:
            base = _read_toml(SHIPPED / "en" / f"{name}.toml")
            if code != "en" and (SHIPPED / code / f"{name}.toml").is_file():
                base = _merge(base, _read_toml(SHIPPED / code / f"{name}.toml"))
            shipped[name] = _flatten(base)
            merged = dict(shipped[name])
            path = office_dir / code / f"{name}.toml" if office_dir else None
            if path is not None and path.is_file():
                try:
                    office = _flatten(_read_toml(path))
                except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
                    problems.append(warning(f"Document Templates: {path} is not valid TOML ({err}); the shipped "
                                            "texts are used", "Settings", template_row, "Value", code="bad-template"))
                    office = {}
                for key, value in office.items():
                    if key not in merged:
                        problems.append(warning(f"Document Templates: {path}: unknown key {key!r} is ignored "
                                                f"(see docs/documents.md)", "Settings", template_row, "Value",
                                                code="bad-template"))
                    elif type(value) is not type(merged[key]):
                        problems.append(warning(f"Document Templates: {path}: {key} must be "
                                                f"{type(merged[key]).__name__}; the shipped text is used",
                                                "Settings", template_row, "Value", code="bad-template"))
                    else:
                        merged[key] = value
                        origin[(name, key)] = path
            data[name] = merged
        fonts = office_dir / "fonts" if office_dir and (office_dir / "fonts").is_dir() else None
        return cls(code, data, shipped, origin, problems, template_row, fonts)

    def raw(self, file: str, key: str) -> Any:
        """The value of ``key`` (dotted) in ``file`` (``common`` is looked into when ``file`` lacks it)."""
        if key in self.data[file]:
            return self.data[file][key]
        return self.data["common"][key]

    def text(self, file: str, key: str, values: Mapping[str, object] | None = None) -> str:
        """The text of ``key`` with its placeholders filled in from ``values``.

        A placeholder that is not in ``values`` is a Problem when the office wrote it (and the
        shipped text is used); in a shipped text it is a bug and raises ``KeyError``.
        """
        values = values or {}
        where = file if key in self.data[file] else "common"
        template = self.data[where][key]
        try:
            return _format(template, values)
        except KeyError as err:
            path = self.origin.get((where, key))
            if path is None:
                raise
            message = (f"Document Templates: {path}: {key} uses {{{err.args[0]}}}, which is not known here "
                       f"(known: {', '.join(sorted(values)) or 'none'}); the shipped text is used")
            problem = warning(message, "Settings", self.settings_row, "Value", code="bad-template")
            if problem not in self.problems:
                self.problems.append(problem)
            return _format(self.shipped[where][key], values)


def _format(template: str, values: Mapping[str, object]) -> str:
    """``template`` with ``{name}`` placeholders filled in; only plain names, never attribute access."""
    parts: list[str] = []
    for literal, name, spec, conversion in string.Formatter().parse(template):
        parts.append(literal)
        if name is None:
            continue
        if name not in values:
            raise KeyError(name)
        value = values[name]
        parts.append(format(value, spec or "") if not conversion else str(value))
    return "".join(parts)


def export_templates(destination: Path) -> list[Path]:
    """Copy the shipped templates into ``destination`` (``<language>/<file>.toml``) for an office to edit.

    Existing files are left alone. Returns the files written.
    """
    written = []
    for source in sorted(SHIPPED.glob("*/*.toml")):
        target = destination / source.parent.name / source.name
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        written.append(target)
    return written
