"""Run stamps: which inputs a workbook's outputs were computed from.

:func:`input_stamp` fingerprints the stored bytes of the input sheets' parts; the writer stores it
on an output sheet, and :func:`read_stamp` reads it back, so a front end can tell cheaply that
nothing it reads has changed since its last run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from xml.etree import ElementTree as ET

from ...cells import normalize
from .limits import scan_part
from .package import ZipSource, format_errors
from .plan import stored_marks
from .workbook import load_workbook_parts


def input_stamp(path: Path, inputs: Iterable[str], context: str) -> str | None:
    """A fingerprint of the parts of ``path`` that the input sheets ``inputs`` are made of.

    It hashes the stored (compressed) bytes of those sheets' parts, of the shared strings and of
    every table part, plus ``context`` (the command, the as-of date, the code's versions). Reading
    the bytes costs a fraction of parsing them, so a front end can tell in that time that nothing
    it reads has changed since it wrote ``stamp`` (:func:`read_stamp`). Anything rewritten, even to
    the same values, changes the fingerprint: the cautious direction, a full run.
    """
    wanted = {normalize(name) for name in inputs}
    digest = hashlib.sha256(context.encode())
    with ZipSource(Path(path)) as source, format_errors(path):
        book = load_workbook_parts(source)
        parts = sorted(sheet.part for sheet in book.sheets if normalize(sheet.name) in wanted)
        parts += sorted(info.filename for info in source.entries
                        if info.filename.endswith("sharedStrings.xml") or info.filename.startswith("xl/tables/"))
        for part in parts:
            info = source.find(part)
            digest.update(part.encode() + b"\0")
            if info is not None:
                for chunk in source.raw_data(info):
                    digest.update(chunk)
        if not _verify(source, book, parts):
            return None
    return digest.hexdigest()


def _verify(source: ZipSource, book, parts: list[str]) -> bool:
    """Check what a skipped run would have relied on: every part it reads inflates to its declared
    size with the right CRC and styles.xml parses (else WorkbookFormatError, so a damaged file is never
    reported as unchanged); False when two sheets share a name after normalising (a full run then
    reports it)."""
    keys = [normalize(sheet.name) for sheet in book.sheets]
    if len(set(keys)) != len(keys):
        return False
    styles = [info.filename for info in source.entries if info.filename.endswith("styles.xml")]
    for part in [*parts, book.part, *styles]:
        scan_part(source, part, worksheet=False)
    for part in styles:
        ET.fromstring(source.read(part))
    return True


def read_stamp(path: Path, sheet_name: str = "Problems") -> str | None:
    """The stamp that :func:`write_output_sheets` stored on ``sheet_name``; ``None`` when there is none
    (never written by sheetbill, or rewritten since by another program, which drops it)."""
    with ZipSource(Path(path)) as source:
        book = load_workbook_parts(source)
        for sheet in book.sheets:
            if sheet.name.casefold() == sheet_name.casefold():
                return stored_marks(source, sheet).get("run")
    return None
