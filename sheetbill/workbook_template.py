"""The blank workbook that ``sheetbill new WORKBOOK`` writes.

The template is built by ``workbooks/build.py`` from :mod:`sheetbill.contract` (a "Read me" sheet,
every input sheet with its headers, formats and drop-down lists, and a Settings sheet listing every
setting) and shipped inside the package as ``sheetbill/data/template.xlsx``, so writing one needs
neither XlsxWriter nor openpyxl at run time.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from .files import write_atomic

#: Where the template lives inside the package.
TEMPLATE_RESOURCE = ("data", "template.xlsx")


def template_bytes() -> bytes:
    """The packaged template workbook, as bytes."""
    return resources.files("sheetbill").joinpath(*TEMPLATE_RESOURCE).read_bytes()


def write_template(path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write a fresh template workbook to ``path`` and return the path.

    :param path: the new workbook; it must end in ``.xlsx``.
    :param overwrite: replace an existing file (default: refuse).
    :raises FileExistsError: when ``path`` exists and ``overwrite`` is false.
    :raises ValueError: when ``path`` does not end in ``.xlsx``.

    The file is written to a temporary file in the same folder and then moved into place, so an
    interrupted write never leaves half a workbook behind.
    """
    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        raise ValueError(f"{target.name}: a new workbook must be an .xlsx file")
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} already exists; choose another name or pass overwrite")
    write_atomic(target, template_bytes())
    return target

