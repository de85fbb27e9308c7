"""The sync: read the sheets a run needs, run the core, stage the changed outputs, re-check the
inputs, and publish everything in one atomic request (:func:`sync_with`, :func:`sync`).

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
write per ~2 MB of output, 1 batchGet to re-check the inputs and 1 batchUpdate to commit.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import random
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import gspread
from gspread.exceptions import APIError

from ... import contract
from ...cells import normalize
from ...problems import Problem
from ...sheets import OutputSheet, RawSheet
from .cells import cell_json, quote_title, raw_sheet, same_types, trimmed
from .errors import SheetsLimitError, SheetsUnavailable
from .session import STAGING_PREFIX, StagedOutput, SyncSession
from .transport import connect
from .updates import commit_requests

log = logging.getLogger(__name__)

#: Largest values:batchUpdate body sent, in bytes (Google recommends at most 2 MB per request).
MAX_REQUEST_BYTES = 2_000_000
#: Google's limits: cells in all sheets of a spreadsheet, and columns of one sheet.
MAX_CELLS = 10_000_000
MAX_COLUMNS = 18_278


class BillingRun(Protocol):
    """What the core's run returns (:class:`sheetbill.run.RunResult` fits)."""

    outputs: list[OutputSheet]
    problems: list[Problem]
    summary: dict

    @property
    def exit_code(self) -> int:
        """The run's exit code."""
        ...


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


def _run_reads(title: str, extra: frozenset[str]) -> bool:
    """Whether the run reads the sheet ``title``: the one rule every front end follows
    (:func:`sheetbill.contract.run_reads`), plus the extra input sheets a caller names (``extra``,
    normalized like headers)."""
    return contract.run_reads(title) or normalize(title) in extra


def _wanted_titles(session: SyncSession, extra: frozenset[str]) -> list[str]:
    """The sheets to read: those the run reads, and the sheets sheetbill owns (their current
    contents are compared with the new ones, so an unchanged output is not rewritten)."""
    return [
        sheet.title
        for sheet in session.sheets
        if not sheet.title.startswith(STAGING_PREFIX) and (_run_reads(sheet.title, extra) or sheet.owned)
    ]


def _changed_outputs(
    session: SyncSession, outputs: Sequence[OutputSheet], current: Mapping[str, list[list[Any]]]
) -> tuple[list[StagedOutput], list[str]]:
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
            and trimmed(current[old.title]) == trimmed(values)
            and same_types(current[old.title], values)
        ):
            unchanged.append(output.name)
            continue
        changed.append(StagedOutput(output, values, rows, columns, old))
    return changed, unchanged


def _check_limits(session: SyncSession, planned: Sequence[StagedOutput]) -> None:
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


def _prepare(session: SyncSession, planned: Sequence[StagedOutput], token: str) -> None:
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
    """A random sheet id not in ``taken`` (and now taken)."""
    while True:
        candidate = random.randrange(1, 2**31 - 1)
        if candidate not in taken:
            taken.add(candidate)
            return candidate


def _write_values(session: SyncSession, planned: Sequence[StagedOutput], max_bytes: int) -> None:
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


def _range_data(plan: StagedOutput, start: int, rows: list[list[Any]]) -> dict[str, Any]:
    """One value range of a values:batchUpdate: ``rows`` written from row ``start`` of the staging sheet."""
    return {
        "range": f"{quote_title(plan.staging_title)}!A{start + 1}",
        "majorDimension": "ROWS",
        "values": rows,
    }


def _commit(session: SyncSession, planned: Sequence[StagedOutput]) -> None:
    """Publish every staged output at once (1 request, atomic; see :func:`.updates.commit_requests`)."""
    requests_ = commit_requests(planned)
    try:
        session.http.batch_update(session.spreadsheet_id, {"requests": requests_})
    except APIError:
        # Applied with only the answer lost, then retried? Then no staging sheet is left.
        session.load_metadata()
        if any(session.sheet(p.staging_title) for p in planned):
            raise
        log.info("the commit went through on an earlier attempt")


def _discard(session: SyncSession, planned: Sequence[StagedOutput]) -> None:
    """Delete this sync's staging sheets (after a conflict); the visible spreadsheet stays as it was."""
    session.http.batch_update(
        session.spreadsheet_id, {"requests": [{"deleteSheet": {"sheetId": p.staging_id}} for p in planned]}
    )


class GoogleSpreadsheet:
    """A Google spreadsheet as a :class:`sheetbill.app.Workbook`.

    :meth:`read` fetches, in one batchGet, the sheets a run reads and those sheetbill owns (to compare
    their contents with the new ones); :meth:`write` publishes only the outputs that changed, through
    hidden staging sheets and one atomic batchUpdate, and publishes nothing when someone edited an
    input meanwhile (:attr:`conflicts`). There is no stamp: an unchanged output is recognised by its
    contents and not rewritten.

    :param input_names: input sheets to read besides those :func:`sheetbill.contract.run_reads` names.
    :param max_request_bytes: the largest values write request (tests lower it to get many).
    """

    def __init__(self, client: gspread.Client, spreadsheet_id: str, *, input_names: Sequence[str] = (),
                 max_request_bytes: int = MAX_REQUEST_BYTES):
        self.client, self.spreadsheet_id, self.max_request_bytes = client, spreadsheet_id, max_request_bytes
        self.extra = frozenset(normalize(name) for name in input_names)
        self.session = SyncSession(client, spreadsheet_id)
        self.current: dict[str, list[list[Any]]] = {}
        self.written: tuple[str, ...] = ()
        self.unchanged: tuple[str, ...] = ()
        self.conflicts: tuple[str, ...] = ()
        self._sent_before = getattr(client.http_client, "requests_sent", 0)

    @contextmanager
    def read(self) -> Iterator[Mapping[str, RawSheet]]:
        """The sheets the run reads, from one batchGet."""
        self.session.load_metadata()
        titles = _wanted_titles(self.session, self.extra)
        self.current = dict(zip(titles, self.session.batch_get(titles), strict=True))
        yield {title: raw_sheet(title, rows) for title, rows in self.current.items()
               if _run_reads(title, self.extra)}

    def plan(self, outputs: Sequence[OutputSheet]) -> list[StagedOutput]:
        """The outputs whose contents differ from the spreadsheet's (:attr:`unchanged` names the rest)."""
        planned, unchanged = _changed_outputs(self.session, outputs, self.current)
        self.unchanged = tuple(unchanged)
        return planned

    def write(self, outputs: Sequence[OutputSheet], *, stamp: str | None = None) -> bool:
        """Publish the changed outputs; False when nothing changed or an input was edited meanwhile."""
        planned = self.plan(outputs)
        stale = [s for s in self.session.sheets if s.title.startswith(STAGING_PREFIX)]
        if not planned and not stale:
            return False
        self.conflicts = _publish(self.session, planned, self.current, self.max_request_bytes)
        if not self.conflicts:
            self.written = tuple(p.output.name for p in planned)
        return bool(self.written)

    def input_stamp(self, context: str) -> None:
        """None: a spreadsheet is compared by contents, not stamped."""
        return None

    def stored_stamp(self) -> None:
        """None: see :meth:`input_stamp`."""
        return None

    def result(self, run: BillingRun, *, dry_run: bool = False) -> SyncResult:
        """What this sync did, with ``run``, the core's result."""
        if dry_run:
            self.written = tuple(p.output.name for p in self.plan(run.outputs))
        sent = getattr(self.client.http_client, "requests_sent", 0) - self._sent_before
        return SyncResult(self.spreadsheet_id, run, self.written, self.unchanged, self.conflicts, dry_run, sent)


def sync_with(
    client: gspread.Client,
    spreadsheet_id: str,
    run: Callable[[Mapping[str, RawSheet]], BillingRun],
    *,
    input_names: Sequence[str] = (),
    dry_run: bool = False,
    max_request_bytes: int = MAX_REQUEST_BYTES,
) -> SyncResult:
    """Read ``spreadsheet_id``, compute with ``run`` and publish the changed outputs: the adapter on
    its own, with any computation (tests pass their own; :func:`sync` runs the billing use-case).

    :param run: raw sheets in, a result with ``outputs`` out. It gets the sheets a run reads
        (:func:`sheetbill.contract.run_reads`) and those in ``input_names``.
    :param input_names: input sheets to read besides those (matched like headers).
    :param dry_run: compute and compare, but write nothing.
    :param max_request_bytes: the largest values write request (tests lower it to get many).
    :raises SheetsSyncError: the spreadsheet cannot be reached or the outputs cannot fit; the
        message says what state the spreadsheet is in.
    """
    spreadsheet = GoogleSpreadsheet(client, spreadsheet_id, input_names=input_names,
                                    max_request_bytes=max_request_bytes)
    with spreadsheet.read() as sheets:
        result = run(sheets)
    if not dry_run:
        spreadsheet.write(result.outputs)
    return spreadsheet.result(result, dry_run=dry_run)


def _publish(
    session: SyncSession, planned: list[StagedOutput], read: Mapping[str, list[list[Any]]], max_request_bytes: int
) -> tuple[str, ...]:
    """Stage ``planned``, re-read the sheets ``read`` holds and, unless one of them changed
    meanwhile, commit; returns the sheets that changed (then nothing was published)."""
    _check_limits(session, planned)
    _prepare(session, planned, secrets.token_hex(4))
    try:
        _write_values(session, planned, max_request_bytes)
    except SheetsUnavailable as err:
        raise SheetsUnavailable(
            f"{err} Nothing visible was changed: every output sheet still shows the previous sync; "
            "the next sync removes the unfinished hidden staging sheets and completes the work."
        ) from None
    titles = list(read)
    again = session.batch_get(titles)
    conflicts = tuple(t for t, after in zip(titles, again, strict=True) if read[t] != after)
    if conflicts:
        _discard(session, planned)
        return conflicts
    try:
        _commit(session, planned)
    except SheetsUnavailable as err:
        raise SheetsUnavailable(
            f"{err} The final step may or may not have been applied; either way each output sheet is "
            "wholly old or wholly new. Run the sync again to complete it."
        ) from None
    return ()


def sync(
    spreadsheet_id: str,
    *,
    as_of: dt.date | None = None,
    dry_run: bool = False,
    client: gspread.Client | None = None,
    credentials: str | os.PathLike[str] | None = None,
) -> SyncResult:
    """The billing use-case (:func:`sheetbill.app.bill`) on a Google spreadsheet: publish the outputs
    that changed.

    :param spreadsheet_id: the id from the spreadsheet's address (``/d/<id>/edit``).
    :param as_of: the run's date (default: Settings As Of Date, else today).
    :param dry_run: compute and report, write nothing.
    :param client: a gspread client (default: :func:`connect` with ``credentials``).
    :param credentials: a service-account key file (else see :func:`connect`).
    """
    from ... import app

    spreadsheet = GoogleSpreadsheet(client or connect(credentials_file=credentials), spreadsheet_id)
    outcome = app.bill(spreadsheet, as_of=as_of, dry_run=dry_run)
    return spreadsheet.result(outcome.result, dry_run=dry_run)
