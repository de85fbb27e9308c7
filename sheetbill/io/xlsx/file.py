"""An .xlsx or .xlsm file as a :class:`sheetbill.app.Workbook`: the command line's front end."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from ... import contract
from ...memo import MemoStore, memo_enabled
from ...sheets import OutputSheet, RawSheet
from .read import open_workbook
from .stamp import input_stamp, read_stamp
from .write import FileVersion, file_version, write_output_sheets
from .written import WrittenSheets


class XlsxWorkbook:
    """A workbook file: sheets read with python-calamine on demand, outputs written surgically and
    atomically (with a ``.bak``), the run's stamp stored on the Problems sheet.

    :param path: the .xlsx or .xlsm file.
    :param force: write even when Excel's or LibreOffice's lock file says the workbook is open.
    :param cache: keep the run memo in the user's cache folder (:mod:`sheetbill.memo`); also off when
        ``SHEETBILL_CACHE=off``.
    """

    def __init__(self, path: Path, *, force: bool = False, cache: bool = True):
        self.path, self.force, self.cache = Path(path), force, cache
        self._seen: FileVersion | None = None
        self._written: tuple[dict, FileVersion] | None = None

    def _remember(self) -> None:
        """Note the file as first seen: a write checks that it is still that file."""
        if self._seen is None:
            self._seen = file_version(self.path)

    @contextmanager
    def read(self) -> Iterator[Mapping[str, RawSheet]]:
        """The sheets a run reads (inputs and history), each parsed when first asked for."""
        self._remember()
        with open_workbook(self.path, contract.sheets_a_run_reads(), known=True) as sheets:
            yield sheets

    def write(self, outputs: Sequence[OutputSheet], *, stamp: str | None) -> bool:
        """Replace sheetbill's own sheets; everything else in the file is copied byte for byte.

        Raises WorkbookChangedError, writing nothing, when the file changed since the run read it.
        """
        rendered: dict = {}
        changed = write_output_sheets(self.path, outputs, force=self.force, stamp=stamp, expect=self._seen,
                                      rendered=rendered)
        self._written = (rendered, file_version(self.path))
        return changed

    @contextmanager
    def written(self) -> Iterator[Mapping[str, RawSheet]]:
        """The sheets as the last :meth:`write` left the file, each sheet part it wrote with the rows it
        appended as a read would give them (:mod:`.written`); no sheets when there was no write or the
        file changed since."""
        if self._written is None or file_version(self.path) != self._written[1]:
            yield {}
            return
        with open_workbook(self.path, contract.sheets_a_run_reads(), known=True) as sheets:
            yield WrittenSheets(sheets, self._written[0], sheets.date1904)

    def input_stamp(self, context: str) -> str | None:
        """A fingerprint of the input sheets' stored bytes and ``context``."""
        self._remember()
        return input_stamp(self.path, contract.STAMPED_SHEETS, context)

    def stored_stamp(self) -> str | None:
        """The stamp stored by the last write, if the file still has it."""
        self._remember()
        return read_stamp(self.path)

    def memo_store(self, plugins: str) -> MemoStore | None:
        """Where this workbook's run memo is kept (``plugins``: the plugins' versions), None when off."""
        return MemoStore(self.path, plugins) if self.cache and memo_enabled() else None
