"""``sheetbill sync``: the command around :func:`~.sync.sync`, printing counts only."""

from __future__ import annotations

import argparse
import json
import sys

from gspread.exceptions import APIError

from .errors import SheetsSyncError
from .sync import SyncResult, sync


def main_sync(args: argparse.Namespace) -> int:
    """``sheetbill sync SPREADSHEET_ID [--as-of DATE] [--dry-run] [--credentials FILE] [--json]``.

    Reads ``args.spreadsheet_id`` and the optional ``as_of``, ``dry_run``, ``credentials`` and
    ``json`` attributes, syncs, and prints counts only (never cell contents: scheduled runs
    keep their output in logs). Returns the exit code: 0 clean, 1 rows were skipped as Problems
    (see the Problems sheet), 2 the sync could not run, 3 inputs changed during the sync and
    nothing was published. A broken workbook raises the core's ConfigurationError for the CLI.
    """
    from google.auth.exceptions import GoogleAuthError

    from ...billing import summarize

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
    report = _report(result, summarize(result.run))  # type: ignore[arg-type]  # sync() runs the core
    if getattr(args, "json", False):
        print(json.dumps(report, indent=2))
        return result.exit_code
    _print_report(result, report)
    return result.exit_code


def _report(result: SyncResult, summary: dict) -> dict:
    """What a sync did, in counts and sheet names only (``--json`` prints it as it is)."""
    return {
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


def _print_report(result: SyncResult, report: dict) -> None:
    """Print the report for a person."""
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
