"""The stand-in Book of the RunPython tests (tests/excel/fake_xlwings.py), behaving where xlwings Lite's
engine differs, as read in xlwings' Office.js engine (``xlwings/pro/_xlremote.py``, 0.37): the status
bar does not exist, screen updating can be set but not read, ``freeze_panes.freeze_at`` works (and is
recorded here). The same file runs in CPython and, copied next to fake_xlwings.py, inside Pyodide."""

from __future__ import annotations

from dataclasses import dataclass

try:
    from tests.excel.fake_xlwings import App, Book, Sheet, Sheets
except ImportError:  # inside Pyodide, where the test puts both files side by side
    from fake_xlwings import App, Book, Sheet, Sheets


class LiteApp(App):
    """An App as xlwings Lite has it: alerts, no status bar, screen updating write-only."""

    def __init__(self):
        self.alerts: list[dict] = []
        self.screen_updating_set: list[bool] = []

    @property
    def status_bar(self):
        raise NotImplementedError("App.status_bar is not supported on this engine")

    @status_bar.setter
    def status_bar(self, value) -> None:
        raise NotImplementedError("App.status_bar is not supported on this engine")

    @property
    def screen_updating(self):
        raise NotImplementedError("App.screen_updating can't be read on this engine")

    @screen_updating.setter
    def screen_updating(self, value) -> None:
        self.screen_updating_set.append(bool(value))


class LiteFreezePanes:
    """Records ``freeze_at`` on its sheet."""

    def __init__(self, sheet: LiteSheet):
        self.sheet = sheet

    def freeze_at(self, frozen_range: str) -> None:
        self.sheet.frozen = frozen_range


@dataclass
class LiteSheet(Sheet):
    """A Sheet whose header can be frozen (``frozen`` holds the range given to ``freeze_at``)."""

    frozen: str | None = None

    @property
    def freeze_panes(self) -> LiteFreezePanes:
        return LiteFreezePanes(self)


class LiteSheets(Sheets):
    """Sheets that adds LiteSheets."""

    def add(self, name=None, before=None, after=None) -> LiteSheet:
        sheet = LiteSheet(name or f"Sheet{len(self._sheets) + 1}", self.book)
        index = self._sheets.index(after) + 1 if after is not None else 0
        self._sheets.insert(index, sheet)
        self.active = sheet
        return sheet


class LiteBook(Book):
    """A Book whose App and sheets behave as in xlwings Lite."""

    def __init__(self, name: str = "billing.xlsx", fullname: str | None = None):
        super().__init__(name, fullname)
        self.app = LiteApp()
        self.sheets = LiteSheets(self)
