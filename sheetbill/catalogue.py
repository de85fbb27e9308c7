"""Keeping the message catalogues in step with the code (a developer's tool, not used by a run).

:func:`used_messages` finds every message id the package uses: the first argument of each
``msg("...")`` call, read from the source with :mod:`ast`. :func:`plain_sentences` finds the places
that would bypass the catalogues: a Problem (``error``/``warning``) or an Advice made from a plain or
formatted string literal. The tests check both against the shipped catalogues.

``python -m sheetbill.catalogue`` adds the message ids the code uses to every shipped ``.po`` file
(English with the id as its translation, other languages untranslated for a translator to fill in)
and marks ids the code no longer uses as obsolete (Babel keeps them at the end, commented out).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from .i18n import LOCALE_DIR, SHIPPED, catalogue_path

PACKAGE = Path(__file__).resolve().parent
#: Calls whose sentence argument must be a catalogue message: ``name -> positions``.
_SENTENCE_ARGUMENTS = {"error": (0,), "warning": (0,), "CellError": (0,), "Advice": (3,)}


def _calls(root: Path) -> Iterator[tuple[Path, ast.Call, str]]:
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                yield path, node, name


def used_messages(root: Path = PACKAGE) -> dict[str, list[str]]:
    """Every message id used in ``msg("...")`` calls under ``root``, with where (``file:line``)."""
    found: dict[str, list[str]] = {}
    for path, node, name in _calls(root):
        if name == "msg" and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            found.setdefault(node.args[0].value, []).append(f"{path.relative_to(root.parent)}:{node.lineno}")
    return found


def plain_sentences(root: Path = PACKAGE) -> list[str]:
    """Places that make a Problem or an Advice from a plain string instead of a catalogue message."""
    found = []
    for path, node, name in _calls(root):
        for position in _SENTENCE_ARGUMENTS.get(name, ()):
            if position < len(node.args) and isinstance(node.args[position], ast.Constant | ast.JoinedStr) \
                    and (isinstance(node.args[position], ast.JoinedStr) or isinstance(node.args[position].value, str)):
                found.append(f"{path.relative_to(root.parent)}:{node.lineno}: {name}(...)")
    return found


def update(locale_dir: Path = LOCALE_DIR) -> None:
    """Bring every shipped catalogue in step with :func:`used_messages`."""
    used = used_messages()
    for code in SHIPPED:
        path = locale_dir / catalogue_path(code).relative_to(LOCALE_DIR)
        if path.exists():
            with open(path, "rb") as handle:
                old = read_po(handle, locale=code)
        else:
            old = Catalog(locale=code)
        new = Catalog(locale=code, project="sheetbill", fuzzy=False, creation_date=old.creation_date,
                      revision_date=old.revision_date)
        for msgid, places in sorted(used.items()):
            previous = old.get(msgid)
            string = previous.string if previous is not None and previous.string else (msgid if code == "en" else "")
            new.add(msgid, string, locations=[(p.rsplit(":", 1)[0], int(p.rsplit(":", 1)[1])) for p in places],
                    flags=("python-brace-format",))
        for message in old:
            if message.id and message.id not in used:
                new.obsolete[message.id] = message
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:
            write_po(handle, new, width=120, sort_output=True, include_lineno=False)


if __name__ == "__main__":  # pragma: no cover - a developer's command
    update()
