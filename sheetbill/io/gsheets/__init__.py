"""Google Sheets front end: run the billing run on a Google spreadsheet (``sheetbill sync``).

A sync reads the sheets a run needs in one ``values:batchGet`` (unformatted values, dates as serial
numbers, so text such as "00123" stays text and numbers stay numbers), runs the core, and writes
back only the output sheets whose content changed, all at once. A second sync over unchanged
inputs sends no write request at all.

The modules: :mod:`.transport` (the HTTP client with bounded retry, and :func:`connect`),
:mod:`.cells` (values between Google's JSON and sheetbill), :mod:`.session` (the spreadsheet's
sheets and the two reads), :mod:`.sync` (plan, stage, re-check, commit), :mod:`.updates` (the
batchUpdate requests that publish) and :mod:`.errors`. ``sheetbill sync`` itself is in the command line.
"""

from .cells import cell_json, quote_title, raw_sheet
from .errors import SheetsLimitError, SheetsSyncError, SheetsUnavailable
from .session import PROTECTION_NOTE, STAGING_PREFIX
from .sync import (
    EXIT_CONFLICT,
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_REQUEST_BYTES,
    BillingRun,
    GoogleSpreadsheet,
    SyncResult,
    sync,
    sync_with,
)
from .transport import (
    ENV_API_URL,
    ENV_CREDENTIALS,
    ENV_TOKEN,
    GOOGLE_API_ROOT,
    SCOPE,
    RetryPolicy,
    SheetsHTTPClient,
    connect,
)

__all__ = [
    "ENV_API_URL",
    "ENV_CREDENTIALS",
    "ENV_TOKEN",
    "EXIT_CONFLICT",
    "GOOGLE_API_ROOT",
    "MAX_CELLS",
    "MAX_COLUMNS",
    "MAX_REQUEST_BYTES",
    "PROTECTION_NOTE",
    "SCOPE",
    "STAGING_PREFIX",
    "BillingRun", "GoogleSpreadsheet",
    "RetryPolicy",
    "SheetsHTTPClient",
    "SheetsLimitError",
    "SheetsSyncError",
    "SheetsUnavailable",
    "SyncResult",
    "cell_json",
    "connect",
    "quote_title",
    "raw_sheet",
    "sync",
    "sync_with",
]
