"""The ``sheetbill`` command line: billing runs on an .xlsx workbook.

Exit codes: 0 when the run had no errors, 1 when some rows were skipped as Problems, 2 when the run
could not happen at all (broken configuration, a locked or unreadable workbook). Nothing is written
when the exit code is 2, or with ``--dry-run``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from . import __version__
from .problems import ConfigurationError, Problem

EXIT_OK, EXIT_PROBLEMS, EXIT_FAILED = 0, 1, 2

#: The optional extra that brings each third-party package a command may need.
_EXTRAS = {"fpdf": "documents", "segno": "documents", "pypdf": "documents", "gspread": "google",
           "google": "google", "starlette": "server", "uvicorn": "server", "xlwings": "excel",
           "xlsxwriter": "excel"}
PROBLEMS_SHOWN = 20


class Progress:
    """A one-line progress bar on stderr when it is a terminal; silent otherwise (pipes, CI, --json)."""

    def __init__(self, steps: Sequence[str], enabled: bool):
        self.steps, self.enabled, self.done = list(steps), enabled, 0
        self.started = time.monotonic()

    def step(self, name: str) -> None:
        """Show that ``name`` is now running."""
        if not self.enabled:
            return
        width = 24
        filled = width * self.done // max(1, len(self.steps))
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {name:<24}")
        sys.stderr.flush()
        self.done += 1

    def finish(self) -> None:
        """Clear the bar."""
        if self.enabled:
            sys.stderr.write("\r" + " " * 60 + "\r")
            sys.stderr.flush()


def _date(text: str) -> dt.date:
    """A date in any form a workbook's date cells accept (2026-06-30, 30.06.2026)."""
    from .cells import CellError, to_date

    try:
        return to_date(text)
    except CellError as err:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-01-31 or 31.01.2026") from err


WORKBOOK_HELP = "the .xlsx or .xlsm workbook"


def _command(commands, name: str, help_text: str) -> argparse.ArgumentParser:
    """A subcommand whose one-line help is also its description (``sheetbill NAME --help``)."""
    return commands.add_parser(name, help=help_text, description=help_text)


def _document_commands(commands) -> None:
    """``documents``, ``statements`` and ``send``: the commands that make and deliver PDF documents."""
    documents = _command(commands, "documents", "render every invoice, credit note and reminder not rendered yet")
    documents.add_argument("workbook", type=Path, help=WORKBOOK_HELP)
    documents.add_argument("--out", type=Path, help="folder for the PDFs (default: '<workbook name> documents')")
    documents.add_argument("--as-of", type=_date, help="the run's date (default: Settings As Of Date, else today)")
    documents.set_defaults(run=cmd_documents)

    statements = _command(commands, "statements", "render a statement of account per customer with items in the "
                                                  "period, open items or credit")
    statements.add_argument("workbook", type=Path, help=WORKBOOK_HELP)
    statements.add_argument("--as-of", type=_date, help="the statement's date, the period's last day (default: "
                                                        "Settings As Of Date, else today)")
    statements.add_argument("--from", dest="start", type=_date, help="the period's first day (default: the first "
                                                                     "day of the as-of month)")
    statements.add_argument("--customer", help="only this Customer ID")
    statements.add_argument("--out", type=Path, help="folder for the PDFs (default: '<workbook name> documents')")
    statements.set_defaults(run=cmd_statements)

    send = _command(commands, "send", "email each unsent invoice, reminder and statement, or put it in the "
                                      "letters file")
    send.add_argument("workbook", type=Path, help=WORKBOOK_HELP)
    send.add_argument("--as-of", type=_date, help="the run's date (default: Settings As Of Date, else today)")
    send.add_argument("--dry-run", action="store_true", help="say what would be sent, send nothing")
    send.set_defaults(run=cmd_send)


def _bank_commands(commands) -> None:
    """``import-bank``: bank statements in, payments matched to invoices."""
    bank = commands.add_parser("import-bank", help="import bank statements: match incoming payments to invoices",
                               description="Read bank statement files (camt.052/.053/.054, MT940, CSV), post "
                                           "each matched credit to Bank Payments and leave the rest in Bank Review.")
    bank.add_argument("workbook", type=Path, help="the .xlsx or .xlsm workbook")
    bank.add_argument("files", type=Path, nargs="+", metavar="FILE", help="statement files to import")
    bank.add_argument("--as-of", type=_date, help="the day open items are taken on (default: Settings As Of "
                                                  "Date, else today)")
    bank.add_argument("--dry-run", action="store_true", help="match and report, but write nothing")
    bank.add_argument("--json", action="store_true", help="print a machine-readable summary")
    bank.add_argument("--force", action="store_true", help="write even if the workbook looks open in Excel")
    bank.set_defaults(run=cmd_import_bank)

    debit = commands.add_parser("debit", help="write SEPA direct-debit files (pain.008) for every item due",
                                description="Write one pain.008 file per collection date and scheme for every "
                                            "open customer invoice or installment with an active mandate, and "
                                            "record each debit in the Debits sheet.")
    debit.add_argument("workbook", type=Path, help="the .xlsx or .xlsm workbook")
    debit.add_argument("--collection-date", type=_date, help="collect items announced for this day or earlier "
                                                             "(default: the as-of date + 14 days)")
    debit.add_argument("--out", type=Path, help="folder for the pain.008 files (default: '<workbook name> debits')")
    debit.add_argument("--as-of", type=_date, help="the run's date (default: Settings As Of Date, else today)")
    debit.add_argument("--dry-run", action="store_true", help="say what would be debited, write nothing")
    debit.add_argument("--json", action="store_true", help="print a machine-readable summary")
    debit.add_argument("--force", action="store_true", help="write even if the workbook looks open in Excel")
    debit.set_defaults(run=cmd_debit)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="sheetbill", description="sheetbill: billing runs on a spreadsheet "
                                     "workbook (.xlsx, .xlsm) or a Google spreadsheet")
    parser.add_argument("--version", action="version", version=f"sheetbill {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback when a command fails")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def workbook_command(name: str, help_text: str, run: Callable) -> argparse.ArgumentParser:
        sub = _command(commands, name, help_text)
        sub.add_argument("workbook", type=Path, help=WORKBOOK_HELP)
        sub.add_argument("--as-of", type=_date, help="the run's date (default: Settings As Of Date, else today)")
        sub.add_argument("--json", action="store_true", help="print a machine-readable summary")
        sub.add_argument("--no-cache", action="store_true",
                         help="neither use nor keep the run memo in the cache folder (see docs/performance.md)")
        sub.set_defaults(run=run)
        return sub

    for name, help_text, run in (
        ("bill", "bill every new charge, post payments, track overdue invoices, write the results back", cmd_bill),
        ("overdue", "update overdue tracking (reminders, plans, collections) without billing new charges",
         cmd_overdue),
    ):
        sub = workbook_command(name, help_text, run)
        sub.add_argument("--dry-run", action="store_true", help="compute and report, but write nothing")
        sub.add_argument("--force", action="store_true", help="write even if the workbook looks open in Excel")
        sub.add_argument("--wait", type=float, default=0, metavar="SECONDS",
                         help="wait this long for another run on the workbook to finish (default: refuse at once)")
    workbook_command("check", "validate the workbook and report problems; writes nothing", cmd_check)

    _document_commands(commands)
    _bank_commands(commands)

    sync = _command(commands, "sync", "run the billing run on a Google spreadsheet (see docs/google-sheets.md)")
    sync.add_argument("spreadsheet_id", help="the spreadsheet's key (from its URL)")
    sync.add_argument("--as-of", type=_date, help="the run's date (default: Settings As Of Date, else today)")
    sync.add_argument("--dry-run", action="store_true", help="compute and report, but write nothing")
    sync.add_argument("--credentials", type=Path, help="service account key file (see docs/google-sheets.md)")
    sync.add_argument("--json", action="store_true", help="print a machine-readable summary")
    sync.set_defaults(run=cmd_sync)

    serve = _command(commands, "serve", "the HTTP back end for the Excel and Google Sheets buttons (needs "
                                        "SHEETBILL_API_TOKENS; see docs/apps-script.md)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    serve.add_argument("--config", type=Path, help="a file with API tokens (see docs/apps-script.md)")
    serve.set_defaults(run=cmd_serve)

    new = _command(commands, "new", "write a fresh template workbook")
    new.add_argument("workbook", type=Path, help="the file to write (.xlsx, or .xlsm with --xlsm)")
    new.add_argument("--xlsm", action="store_true", help="a macro-enabled workbook with the billing buttons")
    new.add_argument("--force", action="store_true", help="overwrite an existing file")
    new.add_argument("--parents", action="store_true", help="create the folder (and its parents) if missing")
    new.set_defaults(run=cmd_new)

    plugins = _command(commands, "plugins", "list the registered plugins and their versions")
    plugins.add_argument("--json", action="store_true", help="print the list as JSON")
    plugins.set_defaults(run=cmd_plugins)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sheetbill`` command."""
    args = build_parser().parse_args(argv)
    debug = args.debug or bool(os.environ.get("SHEETBILL_DEBUG"))
    try:
        return args.run(args)
    except ConfigurationError as err:
        _fail(args, str(err), err.problems)
    except ModuleNotFoundError as err:  # an optional part that is not installed
        extra = _EXTRAS.get((err.name or "").partition(".")[0])
        if extra is None or debug:
            raise
        _fail(args, f"'sheetbill {args.command}' needs the {extra} extra: pip install 'sheetbill[{extra}]'")
    except Exception as err:  # every other failure: one clear line and exit 2, the traceback only with --debug
        if debug:
            raise
        _fail(args, failure_message(err))
    return EXIT_FAILED


def failure_message(err: Exception) -> str:
    """One line for people saying why a command could not run (a locked, unreadable or broken workbook,
    a full disk), or, for a defect in sheetbill, what failed and how to see the details."""
    from .files import NotEnoughSpaceError, ReadOnlyError, WorkbookBusyError
    from .io.xlsx import WorkbookFormatError, WorkbookLockedError

    if isinstance(err, (WorkbookFormatError, WorkbookLockedError, WorkbookBusyError, ReadOnlyError,
                        NotEnoughSpaceError)):
        return str(err)
    if isinstance(err, FileNotFoundError):
        return f"file not found: {err.filename or err}"
    if isinstance(err, IsADirectoryError):
        return f"{err.filename} is a folder, not a workbook file"
    if isinstance(err, PermissionError):
        return f"permission denied: {err.filename or err}"
    if isinstance(err, OSError):
        return f"cannot use {err.filename or 'the file'}: {err.strerror or err}"
    return (f"internal error ({type(err).__name__}: {str(err)[:200]}); nothing was written. "
            "Run 'sheetbill --debug ...' for the details and report it")


def _fail(args: argparse.Namespace, message: str, problems: Sequence[Problem] = ()) -> None:
    if getattr(args, "json", False):
        print(json.dumps({"error": message, "problems": [_problem_json(p) for p in problems]}, indent=2))
    else:
        print(f"sheetbill: {message}", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        print("nothing was written", file=sys.stderr)


def _problem_json(problem: Problem) -> dict:
    return {"code": problem.code, "severity": problem.severity, "sheet": problem.sheet, "row": problem.row,
            "column": problem.column, "message": problem.message}


def _run(args: argparse.Namespace, command: str) -> int:
    """Run a workbook use-case (:mod:`sheetbill.app`) on the .xlsx file and present its outcome."""
    from . import app
    from .files import refuse_read_only, workbook_lock
    from .io.xlsx import XlsxWorkbook

    workbook = XlsxWorkbook(args.workbook, force=getattr(args, "force", False),
                            cache=not getattr(args, "no_cache", False))
    dry_run = getattr(args, "dry_run", False)
    writes = command != "check" and not dry_run
    if writes:
        refuse_read_only(args.workbook)
    progress = Progress(["run"], sys.stderr.isatty() and not args.json)
    progress.step(f"{command} {args.workbook.name}")
    with workbook_lock(args.workbook, args.wait) if writes else contextlib.nullcontext():
        if command == "check":
            outcome = app.check(workbook, as_of=args.as_of)
        elif command == "overdue":
            outcome = app.update_overdue(workbook, as_of=args.as_of, dry_run=dry_run)
        else:
            outcome = app.bill(workbook, as_of=args.as_of, dry_run=dry_run)
    progress.finish()
    if outcome.unchanged:
        return _report_unchanged(args, outcome.exit_code)
    summary = dict(outcome.summary, workbook=str(args.workbook), written=outcome.written)
    if args.json:
        summary["problems"] = [_problem_json(p) for p in outcome.problems]
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        _print_summary(summary, outcome.problems, not outcome.dry_run, outcome.written)
    return outcome.exit_code


def _report_unchanged(args: argparse.Namespace, exit_code: int) -> int:
    """Say that nothing changed since the last run, which is what a repeated click gets."""
    if args.json:
        print(json.dumps({"workbook": str(args.workbook), "written": False, "unchanged_since_last_run": True,
                          "exit_code": exit_code}, indent=2))
    else:
        print(f"{args.workbook}: nothing changed since the last run (same input sheets and as-of date)")
        print("  nothing changed: the workbook was left as it was")
        if exit_code:
            print("  the last run reported problems: see the Problems sheet")
    return exit_code


def _print_summary(summary: dict, problems: Sequence[Problem], write: bool, written: bool) -> None:
    currency = summary["currency"]
    print(f"{summary['workbook']} as of {summary['as_of']}")
    print(f"  invoices issued:     {summary['invoices_issued']}")
    if summary["credit_notes_issued"]:
        print(f"  credit notes issued: {summary['credit_notes_issued']}")
    for bill_to, total in summary["totals_by_bill_to_type"].items():
        print(f"  billed to {bill_to.lower() + 's':<10} {total} {currency}")
    for key in ("reminders_issued", "handed_to_collections"):
        if key in summary:
            print(f"  {key.replace('_', ' ') + ':':<20} {summary[key]}")
    if summary["advice"]:
        print(f"  advice:              {summary['advice']} (see the Advice sheet)")
    print(f"  problems:            {summary['errors']} errors, {summary['warnings']} warnings")
    for problem in list(problems)[:PROBLEMS_SHOWN]:
        print(f"    {problem}")
    if len(problems) > PROBLEMS_SHOWN:
        print(f"    ... and {len(problems) - PROBLEMS_SHOWN} more in the Problems sheet")
    if not write:
        print("  dry run: nothing was written")
    elif not written:
        print("  nothing changed: the workbook was left as it was")
    else:
        print("  written back (previous version kept as .bak)")


def cmd_bill(args: argparse.Namespace) -> int:
    """``sheetbill bill``."""
    return _run(args, "bill")


def cmd_overdue(args: argparse.Namespace) -> int:
    """``sheetbill overdue``."""
    return _run(args, "overdue")


def cmd_check(args: argparse.Namespace) -> int:
    """``sheetbill check``."""
    return _run(args, "check")


def cmd_import_bank(args: argparse.Namespace) -> int:
    """``sheetbill import-bank``: statement files into Bank Payments and Bank Review."""
    from .bank_import import StatementFile, import_bank
    from .io.xlsx import XlsxWorkbook

    files = [StatementFile(path.name, path.read_bytes()) for path in args.files]
    outcome = import_bank(XlsxWorkbook(args.workbook, force=args.force), files, as_of=args.as_of,
                          dry_run=args.dry_run)
    summary = dict(outcome.summary, workbook=str(args.workbook), written=outcome.written)
    if args.json:
        summary["problems"] = [_problem_json(p) for p in outcome.problems]
        print(json.dumps(summary, indent=2, ensure_ascii=False))
        return outcome.exit_code
    print(f"{args.workbook}: {summary['files']} statement file(s), {summary['entries_read']} entries read")
    for rule, count in summary["matched_by_rule"].items():
        if count:
            print(f"  matched by {rule + ':':<19} {count}")
    print(f"  left for review:     {summary['left_for_review']} (see the Bank Review sheet)")
    print(f"  already imported:    {summary['already_imported']}")
    if summary["outgoing_ignored"]:
        print(f"  outgoing, ignored:   {summary['outgoing_ignored']}")
    if summary["pending_not_imported"]:
        print(f"  pending, not yet:    {summary['pending_not_imported']}")
    print(f"  posted:              {summary['payments_posted']} payments, {summary['amount_posted']} "
          f"{summary['currency']}")
    for problem in outcome.problems[:PROBLEMS_SHOWN]:
        print(f"    {problem}")
    if args.dry_run:
        print("  dry run: nothing was written")
    elif outcome.written:
        print("  written back (previous version kept as .bak); run 'sheetbill overdue' or 'bill' to book them")
    else:
        print("  nothing new: the workbook was left as it was")
    return outcome.exit_code


def cmd_debit(args: argparse.Namespace) -> int:
    """``sheetbill debit``: the Debits rows are written first, then the files, so a failure can never
    leave a file behind that the workbook does not know of (it could be sent to the bank twice)."""
    from .debits import debit_run
    from .files import write_atomic
    from .io.xlsx import XlsxWorkbook

    outcome = debit_run(XlsxWorkbook(args.workbook, force=args.force), collection_date=args.collection_date,
                        as_of=args.as_of, dry_run=args.dry_run)
    out = args.out or args.workbook.with_name(f"{args.workbook.stem} debits")
    if outcome.files and not args.dry_run:
        out.mkdir(parents=True, exist_ok=True)
        for file in outcome.files:
            write_atomic(out / file.name, file.data)
    summary = dict(outcome.summary, workbook=str(args.workbook), folder=str(out), written=outcome.written)
    if args.json:
        summary["problems"] = [_problem_json(p) for p in outcome.problems]
        print(json.dumps(summary, indent=2, ensure_ascii=False))
        return outcome.exit_code
    print(f"{args.workbook}: {summary['debits']} direct debits, {summary['total']} in {len(outcome.files)} file(s)")
    for file in summary["files"]:
        print(f"  {file['name']}: {file['debits']} debits, {file['total']} on {file['collection_date']}")
    for problem in outcome.problems[:PROBLEMS_SHOWN]:
        print(f"    {problem}")
    if args.dry_run:
        print("  dry run: nothing was written")
    elif outcome.files:
        print(f"  files in {out}; hand them to your bank. Debits sheet updated (previous version kept as .bak)")
    else:
        print("  nothing due: the workbook was left as it was")
    return outcome.exit_code


def cmd_new(args: argparse.Namespace) -> int:
    """``sheetbill new``: the packaged template, or with ``--xlsm`` the workbook with buttons."""
    if args.workbook.exists() and not args.force:
        print(f"sheetbill: {args.workbook} exists; use --force to overwrite it", file=sys.stderr)
        return EXIT_FAILED
    if not args.workbook.absolute().parent.is_dir() and not args.parents:
        print(f"sheetbill: the folder {args.workbook.parent} does not exist; create it, or use --parents",
              file=sys.stderr)
        return EXIT_FAILED
    try:
        if args.xlsm:
            from .xlsm import build_xlsm

            build_xlsm(args.workbook, overwrite=args.force)
        else:
            from .workbook_template import write_template

            write_template(args.workbook, overwrite=args.force)
    except ValueError as err:
        print(f"sheetbill: {err}", file=sys.stderr)
        return EXIT_FAILED
    print(f"wrote {args.workbook}")
    return EXIT_OK


def cmd_documents(args: argparse.Namespace) -> int:
    """``sheetbill documents``: render every document that has no file yet, and say what was written."""
    from .documents import make_documents

    outcome = make_documents(args.workbook, args.out, args.as_of)
    print(f"{args.workbook}: documents in {outcome.out_dir}")
    return _print_files(outcome, "the workbook")


def _print_files(outcome, source: str) -> int:
    """What a documents or statements run wrote, kept and skipped, and its problems; its exit code."""
    print(f"  written:   {len(outcome.written)}")
    print(f"  unchanged: {len(outcome.unchanged)}")
    if outcome.kept:
        print(f"  kept ({source} now says something else): {len(outcome.kept)}")
    if outcome.skipped:
        print(f"  not made:  {len(outcome.skipped)} (see the problems)")
    if outcome.print_file is not None:
        print(f"  print file for letters: {outcome.print_file.name}")
    if getattr(outcome, "held", None):
        print(f"  not in the print file (not due to go out): {outcome.held_summary()}")
    for problem in outcome.problems:
        print(f"    {problem}")
    return outcome.exit_code


def cmd_statements(args: argparse.Namespace) -> int:
    """``sheetbill statements``: one statement of account per customer, and say what was written."""
    from .documents.statements import make_statements

    try:
        outcome = make_statements(args.workbook, args.out, args.as_of, start=args.start, customer=args.customer)
    except ValueError as err:
        print(f"sheetbill: {err}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{args.workbook}: statements of account from {outcome.start} to {outcome.end} in {outcome.out_dir}")
    print(f"  customers: {outcome.customers}")
    return _print_files(outcome, "the accounts")


def cmd_send(args: argparse.Namespace) -> int:
    """``sheetbill send``: deliver every document not sent yet (email, or the print file for letters)."""
    from .sending import send_pending

    outcome = send_pending(args.workbook, args.as_of, args.dry_run)
    if outcome.busy:
        print(f"sheetbill: another send is running for {args.workbook}; try again when it has finished",
              file=sys.stderr)
        return outcome.exit_code
    report = outcome.report
    print(f"{args.workbook}: sending")
    if args.dry_run:
        for document, channel, address in report.planned:
            print(f"  would {'email' if channel == 'email' else 'print'} {document.key} "
                  f"{'to' if channel == 'email' else 'for'} {address}")
        print(f"  dry run: {len(report.planned)} documents would go out; nothing was sent or written")
        if outcome.exit_code:
            print("  the problems below would stop the others: correct them before sending")
    else:
        print(f"  emailed: {len(report.emailed)}")
        print(f"  letters: {len(report.letters)}" + (f" (print {report.print_file.name})" if report.print_file else ""))
        if report.log_written:
            print("  Sent sheet updated")
    if report.held:
        from .documents.make import held_summary

        print(f"  not due to go out: {held_summary(report.held)}")
    for problem in report.problems:
        print(f"    {problem}")
    return outcome.exit_code


def cmd_sync(args: argparse.Namespace) -> int:
    """``sheetbill sync SPREADSHEET_ID``: the billing run on a Google spreadsheet.

    Prints counts and sheet names only, never cell contents (scheduled runs keep their output in
    logs). Exit codes: 0 clean, 1 rows were skipped as Problems, 2 the sync could not run, 3 inputs
    changed during the sync and nothing was published.
    """
    from google.auth.exceptions import GoogleAuthError
    from gspread.exceptions import APIError

    from .io.gsheets import SheetsSyncError, sync

    try:
        result = sync(args.spreadsheet_id, as_of=args.as_of, dry_run=args.dry_run, credentials=args.credentials)
    except (SheetsSyncError, APIError, GoogleAuthError) as err:
        if isinstance(err, APIError):
            message = f"Google Sheets refused a request: HTTP {err.code}: {str(err.error.get('message', ''))[:200]}"
        elif isinstance(err, GoogleAuthError):
            message = f"Google sign-in failed ({type(err).__name__}): check the token or credentials file"
        else:
            message = str(err)
        print(f"sheetbill: {message}", file=sys.stderr)
        return EXIT_FAILED
    summary = result.run.summary
    report = {"spreadsheet": result.spreadsheet_id, "as_of": summary.get("as_of"),
              "invoices_issued": summary.get("invoices_issued"), "errors": summary.get("errors"),
              "warnings": summary.get("warnings"), "written": list(result.written),
              "unchanged": list(result.unchanged), "conflicts": list(result.conflicts), "dry_run": result.dry_run,
              "requests": result.requests}
    if args.json:
        print(json.dumps(report, indent=2))
        return result.exit_code
    print(f"spreadsheet {result.spreadsheet_id} as of {report['as_of']}")
    print(f"  invoices issued:     {report['invoices_issued']}")
    print(f"  problems:            {report['errors']} errors, {report['warnings']} warnings")
    print("                       (details on the Problems sheet)")
    if result.conflicts:
        print(f"  {', '.join(result.conflicts)} changed while the sync ran: nothing was published; sync again")
    elif result.dry_run:
        print(f"  dry run: would write {', '.join(result.written) or 'nothing'}")
    else:
        print(f"  written:             {', '.join(result.written) or 'nothing (already current)'}")
    print(f"  requests:            {result.requests}")
    return result.exit_code


def cmd_serve(args: argparse.Namespace) -> int:
    """``sheetbill serve``."""
    from .server import ServerConfigError, serve

    try:
        serve(args.host, args.port, config_path=args.config)
    except ServerConfigError as err:
        print(f"sheetbill: {err}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def cmd_plugins(args: argparse.Namespace) -> int:
    """``sheetbill plugins``."""
    from .plugins.manager import Plugins

    infos = Plugins().describe()
    if args.json:
        print(json.dumps([info.__dict__ | {"payer_names": list(info.payer_names)} for info in infos], indent=2))
        return EXIT_OK
    for info in infos:
        origin = "built-in" if info.builtin else "installed"
        names = ", ".join(info.payer_names) or "-"
        print(f"{info.name:<40} {info.version:<10} {origin:<10} payers: {names}")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
