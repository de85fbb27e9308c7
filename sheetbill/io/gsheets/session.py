"""The state of one sync against one spreadsheet: its sheets as the metadata describes them, the
outputs being staged, and the two reads (metadata, values) every sync starts with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import gspread
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient

from ...sheets import OutputSheet
from .cells import quote_title
from .errors import SheetsSyncError

#: Staging sheets are named with this prefix; leftovers of a failed sync are removed by the next.
STAGING_PREFIX = "~sheetbill staging "
#: The description of the warning-only protection on every sheet sheetbill writes; it also marks
#: the sheets sheetbill owns, so their current contents are read and compared before rewriting.
PROTECTION_NOTE = "Written by sheetbill: edits here are replaced by the next sync."


@dataclass
class SheetMeta:
    """A sheet as the metadata describes it."""

    sheet_id: int
    title: str
    index: int
    rows: int
    columns: int
    owned: bool
    has_chart: bool

    @property
    def cells(self) -> int:
        """Rows times columns: what counts against Google's cell limit."""
        return self.rows * self.columns


@dataclass
class StagedOutput:
    """An output sheet to publish: its encoded values and where they go."""

    output: OutputSheet
    values: list[list[Any]]
    rows: int
    columns: int
    old: SheetMeta | None
    staging_id: int = 0
    staging_title: str = ""

    @property
    def cells(self) -> int:
        """Rows times columns: what counts against Google's cell limit."""
        return self.rows * self.columns


@dataclass
class SyncSession:
    """The state of one sync against one spreadsheet."""

    client: gspread.Client
    spreadsheet_id: str
    sheets: list[SheetMeta] = field(default_factory=list)

    @property
    def http(self) -> HTTPClient:
        """The client's HTTP client (sheetbill's transport when made by :func:`~.transport.connect`)."""
        return self.client.http_client

    def load_metadata(self) -> None:
        """Fetch the sheet list (1 request)."""
        params = {
            "fields": "sheets(properties(sheetId,title,index,gridProperties),protectedRanges,charts(chartId))"
        }
        try:
            meta = self.http.fetch_sheet_metadata(self.spreadsheet_id, params=params)
        except APIError as err:
            if err.code == 404:
                raise SheetsSyncError(
                    f"spreadsheet {self.spreadsheet_id} was not found: check the id"
                ) from None
            if err.code == 403:
                raise SheetsSyncError(
                    f"no access to spreadsheet {self.spreadsheet_id}: share it (as Editor) with the account "
                    "sheetbill signs in as, e.g. the service account's e-mail address"
                ) from None
            raise
        self.sheets = []
        for sheet in meta.get("sheets", []):
            props = sheet["properties"]
            grid = props.get("gridProperties", {})
            owned = any(p.get("description") == PROTECTION_NOTE for p in sheet.get("protectedRanges", []))
            self.sheets.append(
                SheetMeta(
                    props["sheetId"],
                    props["title"],
                    props.get("index", 0),
                    grid.get("rowCount", 0),
                    grid.get("columnCount", 0),
                    owned,
                    bool(sheet.get("charts")),
                )
            )

    def sheet(self, title: str) -> SheetMeta | None:
        """The sheet with this title (Google treats titles case-insensitively)."""
        key = title.casefold()
        return next((s for s in self.sheets if s.title.casefold() == key), None)

    def batch_get(self, titles: Sequence[str]) -> list[list[list[Any]]]:
        """The values of whole sheets, unformatted, dates as serial numbers (1 request)."""
        if not titles:
            return []
        params = {
            "valueRenderOption": "UNFORMATTED_VALUE",
            "dateTimeRenderOption": "SERIAL_NUMBER",
            "majorDimension": "ROWS",
        }
        answer = self.http.values_batch_get(
            self.spreadsheet_id, [quote_title(t) for t in titles], params=params
        )
        return [value_range.get("values", []) for value_range in answer.get("valueRanges", [])]
