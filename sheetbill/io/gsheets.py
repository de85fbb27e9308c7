"""Google Sheets front end: run the billing run on a Google spreadsheet (``sheetbill sync``).

A sync reads every sheet the core needs in one ``values:batchGet`` (unformatted values, dates
as serial numbers, so text such as "00123" stays text and numbers stay numbers), runs the core,
and writes back only the output sheets whose content changed. A second sync over unchanged inputs
sends no write request at all.

Consistency. Google applies one ``spreadsheets:batchUpdate`` atomically, and the sync builds on
that: new contents first go to fresh hidden staging sheets (RAW values only, so text never turns
into a formula, in ``values:batchUpdate`` requests of at most about 2 MB), and one final
batchUpdate then publishes all of them together with their formatting and warning-only
protection. An output sheet that already exists keeps its identity (its id, and the formulas,
links and charts that point at it): the commit resizes it exactly and pastes the staged values
over it; a new output sheet is the staging sheet renamed. Until the commit the visible
spreadsheet is untouched, so a sync that fails part-way leaves every output sheet as it was and
the next sync removes the leftover staging sheets and completes the work. Just before the commit
the sync reads its inputs again; if someone edited them meanwhile it publishes nothing and says so.

Requests: 1 metadata read, 1 batchGet, 1 batchUpdate to prepare staging sheets, one values
write per ~2 MB of output, 1 batchGet to re-check the inputs and 1 batchUpdate to commit. Every
request goes through :class:`SheetsHTTPClient`: bounded retries with truncated exponential
backoff and full jitter on 408, 429, 5xx and broken connections, honouring ``Retry-After``, then
a clear :class:`SheetsUnavailable` (gspread's own BackOffHTTPClient never gives up).

Authentication asks for the spreadsheets scope only: an access token from
``SHEETBILL_GOOGLE_TOKEN``, a key file (``--credentials``, ``SHEETBILL_GOOGLE_CREDENTIALS`` or
``GOOGLE_APPLICATION_CREDENTIALS``), or else gspread's OAuth user flow. ``SHEETBILL_GOOGLE_API_URL``
replaces the API root (an API gateway, or the tests' emulator); nothing else changes. Neither
credentials nor cell contents are ever logged.
"""

from __future__ import annotations

import argparse
import datetime as dt
import email.utils
import functools
import json
import logging
import os
import random
import secrets
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

import gspread
import requests
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient
from gspread.urls import SPREADSHEETS_API_V4_BASE_URL

from .. import contract
from ..problems import Problem
from ..sheets import Column, OutputSheet, RawSheet
from ..tables import normalize

log = logging.getLogger(__name__)

#: The only OAuth scope sheetbill asks for.
SCOPE = "https://www.googleapis.com/auth/spreadsheets"
ENV_TOKEN = "SHEETBILL_GOOGLE_TOKEN"
ENV_CREDENTIALS = "SHEETBILL_GOOGLE_CREDENTIALS"
ENV_API_URL = "SHEETBILL_GOOGLE_API_URL"
GOOGLE_API_ROOT = SPREADSHEETS_API_V4_BASE_URL.split("/v4/", 1)[0]

#: Largest values:batchUpdate body sent, in bytes (Google recommends at most 2 MB per request).
MAX_REQUEST_BYTES = 2_000_000
#: Google's limits: cells in all sheets of a spreadsheet, and columns of one sheet.
MAX_CELLS = 10_000_000
MAX_COLUMNS = 18_278
#: Staging sheets are named with this prefix; leftovers of a failed sync are removed by the next.
STAGING_PREFIX = "~sheetbill staging "
#: The description of the warning-only protection on every sheet sheetbill writes; it also marks
#: the sheets sheetbill owns, so their current contents are read and compared before rewriting.
PROTECTION_NOTE = "Written by sheetbill: edits here are replaced by the next sync."

_SERIAL_EPOCH = dt.date(1899, 12, 30)
_SERIAL_EPOCH_DT = dt.datetime(1899, 12, 30)
_RETRY_STATUSES = frozenset({408, 429})
#: Number formats by Column.kind, as the xlsx writer has them ("decimal" and "text" stay General;
#: a percent column holds the percent number itself, 80 shows as 80.00%).
_NUMBER_FORMATS: dict[str, dict[str, str]] = {
    "int": {"type": "NUMBER", "pattern": "0"},
    "money": {"type": "NUMBER", "pattern": "#,##0.00"},
    "percent": {"type": "NUMBER", "pattern": '0.00"%"'},
    "date": {"type": "DATE", "pattern": "yyyy-mm-dd"},
}


class SheetsSyncError(Exception):
    """A sync that could not be done; the message says why and what state the spreadsheet is in."""


class SheetsUnavailable(SheetsSyncError):
    """Google kept failing (rate limit, server errors, broken connections) after every retry."""


class SheetsLimitError(SheetsSyncError):
    """The outputs would not fit Google's grid or 10,000,000-cell limits."""


# ---------------------------------------------------------------------------------------------
# Transport: API root override and bounded retry
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a request is retried.

    Attributes:
        attempts: tries per request, the first included.
        base_delay: the first backoff ceiling, in seconds; it doubles with each retry...
        max_delay: ...up to this ceiling (truncated exponential backoff). The delay is drawn
            uniformly below the ceiling ("full jitter"), so many clients do not retry in step.
        max_retry_after: the longest ``Retry-After`` honoured; a server asking for more makes
            the request give up at once rather than hang the sync.
    """

    attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 32.0
    max_retry_after: float = 120.0

    def delay(self, retry: int, retry_after: float | None, draw: Callable[[], float]) -> float | None:
        """Seconds to wait before retry number ``retry`` (1-based); None to give up now."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (retry - 1))
        wait = draw() * ceiling
        if retry_after is not None:
            if retry_after > self.max_retry_after:
                return None
            wait = max(wait, retry_after)
        return wait


def _retry_after(value: str | None) -> float | None:
    """A Retry-After header (seconds or an HTTP date) in seconds from now."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())


class SheetsHTTPClient(HTTPClient):
    """gspread's HTTP client with sheetbill's transport.

    Requests for ``https://sheets.googleapis.com`` go to ``api_root`` when one is given (the
    same code path otherwise), failures worth retrying are retried under ``policy`` with the
    injectable ``sleep``, and :attr:`requests_sent` counts every HTTP request, retries included.
    """

    def __init__(
        self,
        auth: Any,
        session: requests.Session | None = None,
        *,
        api_root: str | None = None,
        policy: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
        draw: Callable[[], float] = random.random,
    ) -> None:
        super().__init__(auth, session)
        self.api_root = api_root.rstrip("/") if api_root else None
        self.policy = policy
        self.sleep = sleep
        self.draw = draw
        self.requests_sent = 0

    def _redirect(self, endpoint: str) -> str:
        if self.api_root and endpoint.startswith(GOOGLE_API_ROOT):
            return self.api_root + endpoint[len(GOOGLE_API_ROOT) :]
        return endpoint

    def request(
        self,
        method: str,
        endpoint: str,
        params: Any = None,
        data: bytes | None = None,
        json: Mapping[str, Any] | None = None,
        files: Any = None,
        headers: Any = None,
    ) -> requests.Response:
        """Send one API request, retrying what is worth retrying; raise APIError for other errors."""
        url = self._redirect(endpoint)
        what = f"{method.upper()} {urlsplit(endpoint).path}"
        failure = ""
        for attempt in range(1, self.policy.attempts + 1):
            self.requests_sent += 1
            retry_after = None
            try:
                response = self.session.request(
                    method=method,
                    url=url,
                    json=json,
                    params=params,
                    data=data,
                    files=files,
                    headers=headers,
                    timeout=self.timeout,
                )
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
            ) as err:
                failure = f"the connection failed ({type(err).__name__})"
            else:
                if response.ok:
                    return response
                if response.status_code not in _RETRY_STATUSES and response.status_code < 500:
                    raise APIError(response)
                failure = f"HTTP {response.status_code} {response.reason}"
                retry_after = _retry_after(response.headers.get("Retry-After"))
            if attempt == self.policy.attempts:
                break
            wait = self.policy.delay(attempt, retry_after, self.draw)
            if wait is None:
                failure += f", and Google asked to wait {retry_after:.0f} s"
                break
            log.info(
                "%s: %s; retry %d of %d in %.1f s", what, failure, attempt, self.policy.attempts - 1, wait
            )
            self.sleep(wait)
        raise SheetsUnavailable(
            f"Google Sheets did not complete {what} after {attempt} attempt(s); last: {failure}. "
            "Try again later."
        )


def connect(
    *,
    credentials_file: str | os.PathLike[str] | None = None,
    token: str | None = None,
    api_root: str | None = None,
    policy: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], None] = time.sleep,
    environ: Mapping[str, str] = os.environ,
) -> gspread.Client:
    """A gspread client for the spreadsheets scope, using sheetbill's transport.

    Credentials, first found wins: ``token`` or ``SHEETBILL_GOOGLE_TOKEN`` (a ready access
    token); ``credentials_file``, ``SHEETBILL_GOOGLE_CREDENTIALS`` or
    ``GOOGLE_APPLICATION_CREDENTIALS`` (a service-account key, or an authorized-user file);
    otherwise gspread's OAuth user flow (a browser window, then a cached token).
    ``api_root`` or ``SHEETBILL_GOOGLE_API_URL`` replaces https://sheets.googleapis.com.
    """
    from google.oauth2 import credentials as user_credentials
    from google.oauth2 import service_account

    factory = functools.partial(
        SheetsHTTPClient, api_root=api_root or environ.get(ENV_API_URL) or None, policy=policy, sleep=sleep
    )
    http_client = cast("type[HTTPClient]", factory)
    token = token or environ.get(ENV_TOKEN)
    if token:
        return gspread.Client(auth=user_credentials.Credentials(token=token), http_client=http_client)
    path = credentials_file or environ.get(ENV_CREDENTIALS) or environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if path:
        try:
            info = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise SheetsSyncError(f"cannot read the Google credentials file {path}: {err}") from None
        if info.get("type") == "service_account":
            auth: Any = service_account.Credentials.from_service_account_info(info, scopes=[SCOPE])
        elif info.get("type") == "authorized_user":
            auth = user_credentials.Credentials.from_authorized_user_info(info, scopes=[SCOPE])
        else:
            raise SheetsSyncError(
                f"{path} is not a service-account key or authorized-user file "
                f"(its type is {info.get('type')!r})"
            )
        return gspread.Client(auth=auth, http_client=http_client)
    return gspread.oauth(scopes=[SCOPE], http_client=http_client)


# ---------------------------------------------------------------------------------------------
# Cells
# ---------------------------------------------------------------------------------------------


def quote_title(title: str) -> str:
    """A sheet title quoted for A1 notation ("It's" -> "'It''s'")."""
    return "'" + title.replace("'", "''") + "'"


def _serial(value: dt.date | dt.datetime) -> int | float:
    if isinstance(value, dt.datetime):
        days = (value.replace(tzinfo=None) - _SERIAL_EPOCH_DT) / dt.timedelta(days=1)
        return int(days) if days.is_integer() else days
    return (value - _SERIAL_EPOCH).days


def cell_json(value: object) -> Any:
    """An output value as written with valueInputOption=RAW, and as Google then reads it back.

    Text stays text (a leading "=" included), numbers are JSON numbers (whole ones as integers,
    the way Google returns them), dates are serial day numbers shown by a date format, and an
    empty cell is "".
    """
    if value is None:
        return ""
    if isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, (dt.date, dt.datetime)):
        return _serial(value)
    if isinstance(value, dt.time):
        return (value.hour * 3600 + value.minute * 60 + value.second) / 86400
    return str(value)


def _trimmed(rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """Rows without trailing empty cells or trailing empty rows: how Google returns values."""
    out = []
    for row in rows:
        end = len(row)
        while end and row[end - 1] == "":
            end -= 1
        out.append(list(row[:end]))
    while out and not out[-1]:
        out.pop()
    return out


def raw_sheet(title: str, values: Sequence[Sequence[Any]]) -> RawSheet:
    """A sheet's values (as batchGet returns them from A1) as a RawSheet for the core.

    Empty cells become None; numbers stay numbers (date columns hold serial numbers, which the
    core's coercion turns into dates) and text stays text. Leading empty rows and columns are
    dropped, and ``first_row``/``first_col`` say where the block starts.
    """
    rows = [[None if cell == "" else cell for cell in row] for row in values]
    first_row = 1
    while rows and all(cell is None for cell in rows[0]):
        rows.pop(0)
        first_row += 1
    skip = min(
        (next((i for i, c in enumerate(row) if c is not None), len(row)) for row in rows if row), default=0
    )
    if skip:
        rows = [row[skip:] for row in rows]
    return RawSheet(title, rows, first_row, skip + 1, title)


# ---------------------------------------------------------------------------------------------
# The sync
# ---------------------------------------------------------------------------------------------


class BillingRun(Protocol):
    """What the core's run returns (:class:`sheetbill.run.RunResult` fits)."""

    outputs: list[OutputSheet]
    problems: list[Problem]
    summary: dict

    @property
    def exit_code(self) -> int: ...


@dataclass(frozen=True)
class SyncResult:
    """What a sync did.

    Attributes:
        spreadsheet_id: the spreadsheet synced.
        run: the core's result (outputs, problems, summary).
        written: output sheets rewritten, in output order.
        unchanged: output sheets whose content was already current (not written).
        conflicts: input sheets someone changed during the sync; when not empty nothing was published.
        dry_run: nothing was written because the sync was a dry run (``written`` then lists the
            sheets that would have been).
        requests: HTTP requests sent, retries included.
    """

    spreadsheet_id: str
    run: BillingRun
    written: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    dry_run: bool = False
    requests: int = 0

    @property
    def exit_code(self) -> int:
        """The core's exit code (0 clean, 1 rows skipped as Problems), or 3 after a conflict."""
        return EXIT_CONFLICT if self.conflicts else self.run.exit_code


#: Exit code of a sync that published nothing because inputs changed while it ran.
EXIT_CONFLICT = 3


@dataclass
class _Sheet:
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
        return self.rows * self.columns


@dataclass
class _Planned:
    """An output sheet to publish: its encoded values and where they go."""

    output: OutputSheet
    values: list[list[Any]]
    rows: int
    columns: int
    old: _Sheet | None
    staging_id: int = 0
    staging_title: str = ""

    @property
    def cells(self) -> int:
        return self.rows * self.columns


@dataclass
class _Session:
    """The state of one sync against one spreadsheet."""

    client: gspread.Client
    spreadsheet_id: str
    sheets: list[_Sheet] = field(default_factory=list)

    @property
    def http(self) -> HTTPClient:
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
                _Sheet(
                    props["sheetId"],
                    props["title"],
                    props.get("index", 0),
                    grid.get("rowCount", 0),
                    grid.get("columnCount", 0),
                    owned,
                    bool(sheet.get("charts")),
                )
            )

    def sheet(self, title: str) -> _Sheet | None:
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


def _wanted_titles(session: _Session, input_names: Sequence[str]) -> list[str]:
    """The sheets to read: inputs (names matched like headers), history and sheets sheetbill owns."""
    wanted = {normalize(name) for name in input_names}
    for spec in contract.INPUT_TABLES:
        wanted.update(normalize(alias) for alias in spec.aliases)
    history = {normalize(name) for name in contract.HISTORY_SHEETS}
    titles = []
    for sheet in session.sheets:
        key = normalize(sheet.title)
        continued = key.rstrip("0123456789")
        if sheet.title.startswith(STAGING_PREFIX):
            continue
        if key in wanted or key in history or (continued != key and continued in history) or sheet.owned:
            titles.append(sheet.title)
    return titles


def _plan(
    session: _Session, outputs: Sequence[OutputSheet], current: Mapping[str, list[list[Any]]]
) -> tuple[list[_Planned], list[str]]:
    """Which outputs changed (to publish) and which are already current."""
    changed, unchanged = [], []
    for output in outputs:
        values = [[cell_json(h) for h in output.headers]]
        values += [[cell_json(v) for v in row] for row in output.rows]
        columns = len(output.columns)
        if columns > MAX_COLUMNS:
            raise SheetsLimitError(
                f"output sheet {output.name!r} has {columns} columns; Google Sheets allows {MAX_COLUMNS}"
            )
        # A sheet must keep a row below the frozen header, so an empty output still has 2 rows.
        rows = max(2, len(values))
        old = session.sheet(output.name)
        if (
            old is not None
            and (old.rows, old.columns) == (rows, columns)
            and old.title in current
            and _trimmed(current[old.title]) == _trimmed(values)
            and _same_types(current[old.title], values)
        ):
            unchanged.append(output.name)
            continue
        changed.append(_Planned(output, values, rows, columns, old))
    return changed, unchanged


def _same_types(left: Sequence[Sequence[Any]], right: Sequence[Sequence[Any]]) -> bool:
    """True unless a yes/no cell equals a number cell (Python's True == 1) somewhere."""
    for row_l, row_r in zip(left, right, strict=False):
        for a, b in zip(row_l, row_r, strict=False):
            if (a.__class__ is bool) != (b.__class__ is bool):
                return False
    return True


def _check_limits(session: _Session, planned: Sequence[_Planned]) -> None:
    """Refuse, before writing anything, outputs that cannot fit Google's 10,000,000 cells."""
    now = sum(s.cells for s in session.sheets)
    stale = sum(s.cells for s in session.sheets if s.title.startswith(STAGING_PREFIX))
    staging = sum(p.cells for p in planned)
    peak = now - stale + staging
    final = now - stale + sum(p.cells - (p.old.cells if p.old else 0) for p in planned)
    if final > MAX_CELLS:
        raise SheetsLimitError(
            f"the spreadsheet would have {final:,} cells after the sync; Google Sheets allows {MAX_CELLS:,} "
            "per spreadsheet. Delete unused rows and columns (empty grid cells count too) or archive old "
            "history to another spreadsheet. Nothing was written."
        )
    if peak > MAX_CELLS:
        raise SheetsLimitError(
            f"the sync needs room for {staging:,} cells of new output next to the current {now - stale:,} "
            f"(it publishes all outputs at once), {peak:,} in all, but Google Sheets allows {MAX_CELLS:,} "
            "per spreadsheet. Delete unused rows and columns (empty grid cells count too). "
            "Nothing was written."
        )


def _prepare(session: _Session, planned: Sequence[_Planned], token: str) -> None:
    """Remove stale staging sheets and add a hidden, exactly sized one per changed output (1 request)."""
    taken = {s.sheet_id for s in session.sheets}
    requests_: list[dict[str, Any]] = [
        {"deleteSheet": {"sheetId": s.sheet_id}} for s in session.sheets if s.title.startswith(STAGING_PREFIX)
    ]
    for number, plan in enumerate(planned, start=1):
        plan.staging_id = _fresh_id(taken)
        plan.staging_title = f"{STAGING_PREFIX}{token} {number}"
        grid = {"rowCount": plan.rows, "columnCount": plan.columns, "frozenRowCount": 1}
        requests_.append(
            {
                "addSheet": {
                    "properties": {
                        "sheetId": plan.staging_id,
                        "title": plan.staging_title,
                        "hidden": True,
                        "gridProperties": grid,
                    }
                }
            }
        )
    try:
        session.http.batch_update(session.spreadsheet_id, {"requests": requests_})
    except APIError:
        # The request may have been applied with only its answer lost, and then retried: check.
        session.load_metadata()
        if not all(session.sheet(p.staging_title) for p in planned):
            raise
        log.info("staging sheets exist already: an earlier attempt of this request went through")


def _fresh_id(taken: set[int]) -> int:
    while True:
        candidate = random.randrange(1, 2**31 - 1)
        if candidate not in taken:
            taken.add(candidate)
            return candidate


def _write_values(session: _Session, planned: Sequence[_Planned], max_bytes: int) -> None:
    """Write staged values, RAW, in values:batchUpdate requests of at most ``max_bytes`` each."""
    envelope = len(json.dumps({"valueInputOption": "RAW", "data": []}))
    budget = max_bytes - envelope - 200
    data: list[dict[str, Any]] = []
    size = 0

    def flush() -> None:
        nonlocal data, size
        if data:
            session.http.values_batch_update(
                session.spreadsheet_id, {"valueInputOption": "RAW", "data": data}
            )
        data, size = [], 0

    for plan in planned:
        piece: list[list[Any]] = []
        start = 0
        head = len(json.dumps({"range": f"{quote_title(plan.staging_title)}!A{plan.rows}", "values": []})) + 2
        for number, row in enumerate(plan.values):
            row_size = len(json.dumps(row)) + 2
            if head + row_size > budget:
                raise SheetsLimitError(f"a row of {plan.output.name!r} is larger than {max_bytes:,} bytes")
            if size + head + row_size > budget:
                if piece:
                    data.append(_range_data(plan, start, piece))
                flush()
                piece, start = [], number
            if not piece:
                size += head
            piece.append(row)
            size += row_size
        if piece:
            data.append(_range_data(plan, start, piece))
    flush()


def _range_data(plan: _Planned, start: int, rows: list[list[Any]]) -> dict[str, Any]:
    return {
        "range": f"{quote_title(plan.staging_title)}!A{start + 1}",
        "majorDimension": "ROWS",
        "values": rows,
    }


def _format_requests(sheet_id: int, plan: _Planned) -> list[dict[str, Any]]:
    """Bold header, number formats by column kind and column widths of one output sheet."""
    out: list[dict[str, Any]] = [
        {
            "repeatCell": {
                "range": {"sheetId": sheet_id, "startRowIndex": 0, "endRowIndex": 1},
                "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}},
                "fields": "userEnteredFormat.textFormat.bold",
            }
        }
    ]
    for index, column in enumerate(plan.output.columns):
        span = {"sheetId": sheet_id, "startColumnIndex": index, "endColumnIndex": index + 1}
        if column.kind in _NUMBER_FORMATS:
            out.append(
                {
                    "repeatCell": {
                        "range": {**span, "startRowIndex": 1, "endRowIndex": plan.rows},
                        "cell": {"userEnteredFormat": {"numberFormat": _NUMBER_FORMATS[column.kind]}},
                        "fields": "userEnteredFormat.numberFormat",
                    }
                }
            )
        if column.width:
            out.append(
                {
                    "updateDimensionProperties": {
                        "range": {
                            "sheetId": sheet_id,
                            "dimension": "COLUMNS",
                            "startIndex": index,
                            "endIndex": index + 1,
                        },
                        "properties": {"pixelSize": _pixels(column)},
                        "fields": "pixelSize",
                    }
                }
            )
    return out


def _pixels(column: Column) -> int:
    """An Excel column width (characters) in pixels."""
    return round((column.width or 0) * 7 + 10)


def _chart_request(sheet_id: int, output: OutputSheet) -> dict[str, Any]:
    """A clustered bar chart over whole columns (so it follows the sheet as it grows)."""
    chart = output.chart
    assert chart is not None

    def column(index: int) -> dict[str, Any]:
        return {
            "sourceRange": {
                "sources": [
                    {
                        "sheetId": sheet_id,
                        "startRowIndex": 0,
                        "startColumnIndex": index,
                        "endColumnIndex": index + 1,
                    }
                ]
            }
        }

    letters = chart.anchor.rstrip("0123456789")
    anchor_row = int(chart.anchor[len(letters) :] or 1) - 1
    anchor_col = sum((ord(c) - 64) * 26**i for i, c in enumerate(reversed(letters.upper()))) - 1
    return {
        "addChart": {
            "chart": {
                "spec": {
                    "title": chart.title,
                    "basicChart": {
                        "chartType": "BAR",
                        "legendPosition": "BOTTOM_LEGEND",
                        "headerCount": 1,
                        "domains": [{"domain": column(chart.category_column)}],
                        "series": [
                            {"series": column(i), "targetAxis": "BOTTOM_AXIS"} for i in chart.value_columns
                        ],
                    },
                },
                "position": {
                    "overlayPosition": {
                        "anchorCell": {"sheetId": sheet_id, "rowIndex": anchor_row, "columnIndex": anchor_col}
                    }
                },
            }
        }
    }


def _commit(session: _Session, planned: Sequence[_Planned]) -> None:
    """Publish every staged output at once (1 request, atomic).

    An existing output sheet is resized exactly and the staged values are pasted over it, so it
    keeps its id and whatever points at it; a new output sheet is its staging sheet, renamed and
    shown. Each gets its formatting and, once, the warning-only protection.
    """
    requests_: list[dict[str, Any]] = []
    renamed = []
    for plan in planned:
        old = plan.old
        target = old.sheet_id if old else plan.staging_id
        if old is not None:
            requests_.append(
                {
                    "updateSheetProperties": {
                        "properties": {
                            "sheetId": old.sheet_id,
                            "gridProperties": {
                                "rowCount": plan.rows,
                                "columnCount": plan.columns,
                                "frozenRowCount": 1,
                            },
                        },
                        "fields": ",".join(
                            f"gridProperties.{name}" for name in ("rowCount", "columnCount", "frozenRowCount")
                        ),
                    }
                }
            )
            requests_.append(
                {
                    "copyPaste": {
                        "source": {
                            "sheetId": plan.staging_id,
                            "startRowIndex": 0,
                            "endRowIndex": plan.rows,
                            "startColumnIndex": 0,
                            "endColumnIndex": plan.columns,
                        },
                        "destination": {
                            "sheetId": old.sheet_id,
                            "startRowIndex": 0,
                            "endRowIndex": plan.rows,
                            "startColumnIndex": 0,
                            "endColumnIndex": plan.columns,
                        },
                        "pasteType": "PASTE_VALUES",
                    }
                }
            )
            requests_.append({"deleteSheet": {"sheetId": plan.staging_id}})
        else:
            renamed.append(plan)
        requests_ += _format_requests(target, plan)
        if old is None or not old.owned:
            requests_.append(
                {
                    "addProtectedRange": {
                        "protectedRange": {
                            "range": {"sheetId": target},
                            "description": PROTECTION_NOTE,
                            "warningOnly": True,
                        }
                    }
                }
            )
        if plan.output.chart is not None and (old is None or not old.has_chart):
            requests_.append(_chart_request(target, plan.output))
    # Renaming comes last: the new sheets then show up at the end, in output order.
    for plan in renamed:
        requests_.append(
            {
                "updateSheetProperties": {
                    "properties": {"sheetId": plan.staging_id, "title": plan.output.name, "hidden": False},
                    "fields": "title,hidden",
                }
            }
        )
    try:
        session.http.batch_update(session.spreadsheet_id, {"requests": requests_})
    except APIError:
        # Applied with only the answer lost, then retried? Then no staging sheet is left.
        session.load_metadata()
        if any(session.sheet(p.staging_title) for p in planned):
            raise
        log.info("the commit went through on an earlier attempt")


def _discard(session: _Session, planned: Sequence[_Planned]) -> None:
    """Delete this sync's staging sheets (after a conflict); the visible spreadsheet stays as it was."""
    session.http.batch_update(
        session.spreadsheet_id, {"requests": [{"deleteSheet": {"sheetId": p.staging_id}} for p in planned]}
    )


def sync_with(
    client: gspread.Client,
    spreadsheet_id: str,
    run: Callable[[Mapping[str, RawSheet]], BillingRun],
    *,
    input_names: Sequence[str] = contract.INPUT_SHEETS,
    dry_run: bool = False,
    max_request_bytes: int = MAX_REQUEST_BYTES,
) -> SyncResult:
    """Read ``spreadsheet_id``, compute with ``run`` and publish the changed outputs.

    :param client: a gspread client, normally from :func:`connect`.
    :param run: the computation: raw sheets in, a result with ``outputs`` out (the core's
        :func:`~sheetbill.run.run_billing` in :func:`sync`; tests pass their own).
    :param input_names: the input sheets to read (matched like headers); sheetbill's history
        sheets and every sheet it owns are read as well.
    :param dry_run: compute and compare, but write nothing.
    :param max_request_bytes: the largest values write request (tests lower it to get many).
    :raises SheetsSyncError: the spreadsheet cannot be reached or the outputs cannot fit; the
        message says what state the spreadsheet is in.
    """
    http = client.http_client
    sent_before = getattr(http, "requests_sent", 0)
    session = _Session(client, spreadsheet_id)
    session.load_metadata()
    titles = _wanted_titles(session, input_names)
    values = session.batch_get(titles)
    current = dict(zip(titles, values, strict=True))
    result = run({title: raw_sheet(title, rows) for title, rows in current.items()})
    planned, unchanged = _plan(session, result.outputs, current)
    stale = [s for s in session.sheets if s.title.startswith(STAGING_PREFIX)]

    def done(**kwargs: Any) -> SyncResult:
        sent = getattr(http, "requests_sent", 0) - sent_before
        return SyncResult(spreadsheet_id, result, unchanged=tuple(unchanged), requests=sent, **kwargs)

    written = tuple(p.output.name for p in planned)
    if dry_run:
        return done(written=written, dry_run=True)
    if not planned and not stale:
        return done()
    _check_limits(session, planned)
    token = secrets.token_hex(4)
    _prepare(session, planned, token)
    try:
        _write_values(session, planned, max_request_bytes)
    except SheetsUnavailable as err:
        raise SheetsUnavailable(
            f"{err} Nothing visible was changed: every output sheet still shows the previous sync; "
            "the next sync removes the unfinished hidden staging sheets and completes the work."
        ) from None
    again = session.batch_get(titles)
    conflicts = tuple(t for t, before, after in zip(titles, values, again, strict=True) if before != after)
    if conflicts:
        _discard(session, planned)
        return done(conflicts=conflicts)
    try:
        _commit(session, planned)
    except SheetsUnavailable as err:
        raise SheetsUnavailable(
            f"{err} The final step may or may not have been applied; either way each output sheet is "
            "wholly old or wholly new. Run the sync again to complete it."
        ) from None
    return done(written=written)


def sync(
    spreadsheet_id: str,
    *,
    as_of: dt.date | None = None,
    dry_run: bool = False,
    client: gspread.Client | None = None,
    credentials: str | os.PathLike[str] | None = None,
) -> SyncResult:
    """Run the billing run on a Google spreadsheet and publish the outputs that changed.

    :param spreadsheet_id: the id from the spreadsheet's address (``/d/<id>/edit``).
    :param as_of: the run's date (default: Settings As Of Date, else today).
    :param dry_run: compute and report, write nothing.
    :param client: a gspread client (default: :func:`connect` with ``credentials``).
    :param credentials: a service-account key file (else see :func:`connect`).
    """
    from ..run import run_billing

    client = client or connect(credentials_file=credentials)
    return sync_with(client, spreadsheet_id, lambda sheets: run_billing(sheets, as_of=as_of), dry_run=dry_run)


def main_sync(args: argparse.Namespace) -> int:
    """``sheetbill sync SPREADSHEET_ID [--as-of DATE] [--dry-run] [--credentials FILE] [--json]``.

    Reads ``args.spreadsheet_id`` and the optional ``as_of``, ``dry_run``, ``credentials`` and
    ``json`` attributes, syncs, and prints counts only (never cell contents: scheduled runs
    keep their output in logs). Returns the exit code: 0 clean, 1 rows were skipped as Problems
    (see the Problems sheet), 2 the sync could not run, 3 inputs changed during the sync and
    nothing was published. A broken workbook raises the core's ConfigurationError for the CLI.
    """
    from google.auth.exceptions import GoogleAuthError

    from ..run import summarize

    try:
        result = sync(
            args.spreadsheet_id,
            as_of=getattr(args, "as_of", None),
            dry_run=getattr(args, "dry_run", False),
            credentials=getattr(args, "credentials", None),
        )
    except (SheetsSyncError, APIError, GoogleAuthError) as err:
        if isinstance(err, APIError):
            detail = str(err.error.get("message", ""))[:200]
            message = f"Google Sheets refused a request: HTTP {err.code}: {detail}"
        elif isinstance(err, GoogleAuthError):
            message = f"Google sign-in failed ({type(err).__name__}): check the token or credentials file"
        else:
            message = str(err)
        print(f"sheetbill: {message}", file=sys.stderr)
        return 2
    summary = summarize(result.run)  # type: ignore[arg-type]  # sync() runs the core: a RunResult
    report = {
        "spreadsheet": result.spreadsheet_id,
        "as_of": summary.get("as_of"),
        "invoices_issued": summary.get("invoices_issued"),
        "errors": summary.get("errors"),
        "warnings": summary.get("warnings"),
        "written": list(result.written),
        "unchanged": list(result.unchanged),
        "conflicts": list(result.conflicts),
        "dry_run": result.dry_run,
        "requests": result.requests,
    }
    if getattr(args, "json", False):
        print(json.dumps(report, indent=2))
        return result.exit_code
    print(f"spreadsheet {result.spreadsheet_id} as of {report['as_of']}")
    print(f"  invoices issued:     {report['invoices_issued']}")
    print(f"  problems:            {report['errors']} errors, {report['warnings']} warnings")
    print("                       (details on the Problems sheet)")
    if result.conflicts:
        print(
            f"  {', '.join(result.conflicts)} changed while the sync ran: nothing was published; sync again"
        )
    elif result.dry_run:
        print(f"  dry run: would write {', '.join(result.written) or 'nothing'}")
    else:
        print(f"  written:             {', '.join(result.written) or 'nothing (already current)'}")
    print(f"  requests:            {result.requests}")
    return result.exit_code
