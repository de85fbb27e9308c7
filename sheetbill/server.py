"""``sheetbill serve``: the HTTP back end for xlwings' own spreadsheet clients (no Python on the office PCs).

Excel's ``RunServerPython`` (the xlwings add-in, VBA) and Google Sheets' ``runPython`` (Apps Script
``xlwings.js``) post the workbook to a URL and apply the actions they get back. This server answers
at the URL shape xlwings' own server uses, one endpoint per button on an explicit allow-list::

    POST /xlwings/custom-scripts-call/bill        (also overdue, check, documents, statement, import-bank)
    GET  /health                                  (no authentication; for load balancers)

Anything else is 404. Requests carry ``Authorization: <token>`` or ``Authorization: Bearer <token>``
(the clients' ``auth`` option), compared in constant time with the tokens from the environment
variable ``SHEETBILL_API_TOKENS`` (comma-separated) or the ``api_tokens`` list of a TOML config file
(``SHEETBILL_SERVER_CONFIG`` or ``--config``). The server refuses to start without a token.

Every refusal is a short plain-text message, because that is what the clients show the clerk
(Apps Script throws the body, VBA puts it in a message box). Errors inside a run are answered with
a reference number, never a stack trace; the log names the button, client, sizes and timing, never
cell contents or the workbook's name (customer data stays out of logs).

The run itself is synchronous and CPU-bound: the body is parsed and the run made in a worker thread,
at most ``max_concurrent_runs`` at once, so the event loop keeps answering (health checks, refusals).

Limits against slow or greedy clients (``docs/apps-script.md``, *Server limits*, lists the defaults):
a connection must send its request line and headers within ``header_timeout`` seconds (also a new
connection that sends nothing, and the next request on a kept-alive one); a body that pauses longer
than ``body_timeout`` or arrives slower than ``min_body_rate`` once ``body_timeout`` has passed is cut
off (408); at most ``max_queued_runs`` requests wait for a run and at most ``max_pending_mb`` of bodies
are held at once, beyond which the answer is 503 with ``Retry-After``; uvicorn answers 503 itself
past ``max_connections`` open connections and keeps ``backlog`` connections waiting to be accepted.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
import json
import logging
import os
import secrets
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from . import __version__, contract_bank
from .buttons import BUTTONS, FILE_BUTTONS, ButtonResult, needed_sheet, press
from .io.xlwings_json import ClientBook, PayloadError, alert_only, decode_payload, encode_response, raw_sheets

log = logging.getLogger("sheetbill.server")

TOKENS_ENV = "SHEETBILL_API_TOKENS"
CONFIG_ENV = "SHEETBILL_SERVER_CONFIG"
#: Tokens shorter than this are refused at start: they could be guessed.
MIN_TOKEN_LENGTH = 16
#: The largest body by default: a workbook of the documented maximum size (32,767 charges with their
#: billed history, 12 MiB as the clients send it) with room to spare for longer texts and wider sheets.
DEFAULT_MAX_BODY = 32 * 1024 * 1024
#: An over-long body is drained up to this many times the limit so the client can read the 413.
DRAIN_FACTOR = 4


class ServerConfigError(Exception):
    """The server cannot start as configured; the message says what to set."""


@dataclass(frozen=True)
class ServerConfig:
    """How the server runs (the TOML keys are in :data:`LIMIT_KEYS`).

    Attributes:
        tokens: the accepted API tokens.
        max_body: the largest request body accepted, in bytes (413 above it).
        max_concurrent_runs: billing runs at once; further requests wait their turn.
        max_queued_runs: requests that may wait for a run; beyond, 503 with ``Retry-After``.
        max_pending: bytes of request bodies held at once (waiting or running); beyond, 503.
        header_timeout: seconds a connection has to send its request line and headers.
        body_timeout: the longest pause in a body, in seconds, and the time after which the body must
            have come at ``min_body_rate`` bytes per second on average; else 408 and the connection closes.
        keep_alive: seconds an idle kept-alive connection stays open.
        max_connections: open connections (and requests) at once; uvicorn answers 503 beyond.
        backlog: connections the operating system keeps waiting to be accepted.
        retry_after: seconds a 503 answer asks the client to wait.
    """

    tokens: tuple[str, ...]
    max_body: int = DEFAULT_MAX_BODY
    max_concurrent_runs: int = 4
    buttons: tuple[str, ...] = field(default=(*BUTTONS, *FILE_BUTTONS))
    max_queued_runs: int = 256
    max_pending: int = 64 * 2**20
    header_timeout: float = 10.0
    body_timeout: float = 10.0
    min_body_rate: int = 16 * 1024
    keep_alive: int = 5
    max_connections: int = 512
    backlog: int = 128
    retry_after: int = 5


#: The limits a config file may set: TOML key -> (ServerConfig field, factor to the field's unit, type).
LIMIT_KEYS: dict[str, tuple[str, float, type]] = {
    "max_body_mb": ("max_body", 2**20, int), "max_concurrent_runs": ("max_concurrent_runs", 1, int),
    "max_queued_runs": ("max_queued_runs", 1, int), "max_pending_mb": ("max_pending", 2**20, int),
    "header_timeout_s": ("header_timeout", 1, float), "body_timeout_s": ("body_timeout", 1, float),
    "min_body_rate_kb": ("min_body_rate", 1024, int), "keep_alive_s": ("keep_alive", 1, int),
    "max_connections": ("max_connections", 1, int), "backlog": ("backlog", 1, int),
    "retry_after_s": ("retry_after", 1, int),
}


def load_config(path: Path | None = None, environ: dict[str, str] | None = None) -> ServerConfig:
    """Tokens and limits from ``SHEETBILL_API_TOKENS`` and/or a TOML file.

    The file (``path``, else ``$SHEETBILL_SERVER_CONFIG``) may hold ``api_tokens = ["..."]`` and the
    limits of :data:`LIMIT_KEYS` (``max_body_mb = 32``, ``max_concurrent_runs = 4``, ...); tokens from
    the environment are added.

    :raises ServerConfigError: without any token, with a token shorter than 16 characters, for an
        unreadable file, or for a limit that is not a positive number.
    """
    env = os.environ if environ is None else environ
    tokens: list[str] = [t.strip() for t in env.get(TOKENS_ENV, "").split(",") if t.strip()]
    settings: dict = {}
    path = path or (Path(env[CONFIG_ENV]) if env.get(CONFIG_ENV) else None)
    if path is not None:
        try:
            settings = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as err:
            raise ServerConfigError(f"cannot read the server config {path}: {err}") from err
        file_tokens = settings.get("api_tokens", [])
        if not isinstance(file_tokens, list) or not all(isinstance(t, str) for t in file_tokens):
            raise ServerConfigError(f"{path}: api_tokens must be a list of strings")
        tokens += [t.strip() for t in file_tokens if t.strip()]
    if not tokens:
        raise ServerConfigError(f"no API token configured: set {TOKENS_ENV} (comma-separated tokens of "
                                f"{MIN_TOKEN_LENGTH}+ characters) or api_tokens in the config file, e.g. "
                                f"export {TOKENS_ENV}=$(python -c \"import secrets; "
                                f"print(secrets.token_urlsafe(32))\")")
    short = [t for t in tokens if len(t) < MIN_TOKEN_LENGTH]
    if short:
        raise ServerConfigError(f"{len(short)} API token(s) shorter than {MIN_TOKEN_LENGTH} characters; "
                                f"use long random tokens")
    limits = {}
    for key, (name, factor, kind) in LIMIT_KEYS.items():
        if key not in settings:
            continue
        value = settings[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1e6:
            raise ServerConfigError(f"{path}: {key} must be a positive number (got {value!r})")
        limits[name] = max(1, kind(value * factor)) if kind is int else kind(value * factor)
    return ServerConfig(tuple(dict.fromkeys(tokens)), **limits)


def token_matches(header: str | None, tokens: Iterable[str]) -> bool:
    """Whether an ``Authorization`` header (bare token or ``Bearer <token>``) carries a known token.

    Every configured token is compared with :func:`hmac.compare_digest`, without stopping at the
    first match, so the time taken does not tell which token (or how much of one) matched.
    """
    if not header:
        return False
    value = header.strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    given = value.encode("utf-8")
    matched = False
    for token in tokens:
        matched |= hmac.compare_digest(given, token.encode("utf-8"))
    return matched


def _text(message: str, status: int) -> PlainTextResponse:
    return PlainTextResponse(message, status_code=status)


class _Budget:
    """Bytes of request bodies held at once, across requests (the event loop is the only user)."""

    def __init__(self, limit: int):
        self.limit, self.held = limit, 0

    def take(self, size: int) -> bool:
        """Hold ``size`` more bytes if the budget allows it."""
        if self.held + size > self.limit:
            return False
        self.held += size
        return True

    def give(self, size: int) -> None:
        """Release ``size`` bytes."""
        self.held -= size


async def _read_body(request: Request, config: ServerConfig, budget: _Budget, held: list[int]) -> bytes:
    """The request body, or :class:`PayloadError`: 413 past ``max_body``, 408 for a body that pauses
    longer than ``body_timeout`` or comes slower than ``min_body_rate`` after it, 503 when the bodies
    held at once would pass ``max_pending`` (what this request holds is added to ``held[0]``).

    A body over the limit, or one there is no room for, is still read (and dropped) up to
    :data:`DRAIN_FACTOR` times the limit before answering: clients such as WinHTTP and UrlFetchApp send
    the whole body before reading the answer, and would report a broken connection instead of the
    message otherwise.
    """
    limit = config.max_body
    chunks, size, busy = [], 0, False
    started = time.monotonic()
    stream = request.stream().__aiter__()
    while True:
        try:
            async with asyncio.timeout(config.body_timeout):
                chunk = await stream.__anext__()
        except StopAsyncIteration:
            break
        except TimeoutError:
            raise PayloadError(_too_slow(config), 408) from None
        size += len(chunk)
        elapsed = time.monotonic() - started
        if elapsed > config.body_timeout and size < config.min_body_rate * elapsed:
            raise PayloadError(_too_slow(config), 408)
        if busy or size > limit:
            if size > DRAIN_FACTOR * limit:
                break
            continue
        if not budget.take(len(chunk)):  # no room: read the rest and drop it, then answer 503
            busy = True
            chunks.clear()
            budget.give(held[0])
            held[0] = 0
            continue
        held[0] += len(chunk)
        chunks.append(chunk)
    if size > limit:
        raise PayloadError(_too_large(limit), 413)
    if busy:
        raise PayloadError(_busy(config), 503)
    return b"".join(chunks)


def _too_slow(config: ServerConfig) -> str:
    return (f"The workbook arrived too slowly (a pause over {config.body_timeout:g} s, or less than "
            f"{config.min_body_rate // 1024} KB/s). Nothing was written; please try again.")


def _busy(config: ServerConfig) -> str:
    return (f"The sheetbill server is busy with other workbooks. Nothing was written; please press the button "
            f"again in {config.retry_after} seconds.")


def _out_of_range(err: BaseException) -> bool:
    """Whether ``err`` (or what caused it) says a value is too large or too deep to compute with: the
    request's fault, not the server's."""
    while err is not None:
        if isinstance(err, (OverflowError, ArithmeticError, RecursionError)):
            return True
        err = err.__cause__
    return False


def _too_large(limit: int) -> str:
    return (f"The workbook is too large for this sheetbill server (more than {limit // 2**20} MB of cells). "
            f"Use the sheetbill command line on this workbook, or ask your administrator to raise max_body_mb.")


def parse(body: bytes) -> object:
    """The JSON of a request body, or :class:`PayloadError` (400) for anything that is not plain JSON:
    invalid text, nesting too deep to decode, an integer too long to convert."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise PayloadError("The request is not valid JSON; is this an xlwings client?") from err
    except (RecursionError, ValueError) as err:
        raise PayloadError("The request holds JSON nested too deeply or a number too long to read; is this an "
                           "xlwings client?") from err


def statement_files(payload: object, book: ClientBook | None = None) -> list[tuple[str, bytes]]:
    """The statement files an ``import-bank`` request carries beside the workbook: ``"files": [{"name":
    ..., "content": <base64>}]`` (a client that can add to the request), and the rows of the sheet
    :data:`sheetbill.contract_bank.STATEMENT_FILES_SHEET` in ``book`` (Excel's macro, whose add-in sends only
    the workbook). The name is only shown in messages, never used as a path.

    :raises PayloadError: for a list that is not of that shape or content that is not base64.
    """
    files = payload.get("files", []) if isinstance(payload, Mapping) else []
    if not isinstance(files, list):
        raise PayloadError("files must be a list of {name, content} with the content in base64")
    sent = []
    for item in files:
        if not isinstance(item, Mapping) or not isinstance(item.get("content"), str):
            raise PayloadError("each file needs a name and its content in base64")
        sent.append((item.get("name"), item["content"]))
    sheet = book.find(contract_bank.STATEMENT_FILES_SHEET) if book is not None else None
    for row in sheet.values if sheet is not None and sheet.sent else ():
        if row and any(cell not in (None, "") for cell in row):
            sent.append((row[0], "".join(cell for cell in row[1:] if isinstance(cell, str))))
    result = []
    for name, content in sent:
        try:
            data = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError) as err:
            raise PayloadError("a statement file's content is not base64") from err
        result.append((str(name or "statement")[:120], data))
    return result


def answer(button: str, payload: object, run: Callable[..., ButtonResult] = press) -> tuple[dict, dict]:
    """Decode ``payload`` (parsed JSON, or the raw body as bytes), press ``button`` over its sheets and
    encode the client's actions.

    Returns the answer and facts for the log (no cell contents). Raises :class:`PayloadError` for
    requests to refuse, among them (400) a workbook with a value too large to compute with.
    """
    if isinstance(payload, bytes):
        payload = parse(payload)
    try:
        book = decode_payload(payload)
        sheets = raw_sheets(book, needed_sheet)
        result = run(button, sheets, files=statement_files(payload, book)) if button == "import-bank" else \
            run(button, sheets)
    except PayloadError:
        raise
    except Exception as err:
        if not _out_of_range(err):
            raise
        raise PayloadError("sheetbill cannot bill this workbook: a number or date in it is too large to compute "
                           "with (for example a price of 1e308 or a term of a billion days). Nothing was written; "
                           "correct the value and press the button again.") from err
    facts = {"client": book.client, "version": book.version, "sheets": len(book.sheets),
             "rows_in": sum(len(s.rows) for s in sheets.values()),
             "rows_out": sum(len(o.rows) for o in result.outputs), "ok": result.ok}
    if not result.outputs:
        return alert_only(result.message, title=result.title, ok=result.ok), facts
    return encode_response(book, result.outputs, result.message, title=result.title, ok=result.ok), facts


def create_app(config: ServerConfig, *, run: Callable[..., ButtonResult] = press) -> Starlette:
    """The ASGI application (``run`` is replaceable in tests)."""
    slots = asyncio.Semaphore(config.max_concurrent_runs)
    budget = _Budget(config.max_pending)
    admitted = [0]  # requests reading their body, waiting for a run or running
    allowed = frozenset(config.buttons)
    retry = {"Retry-After": str(config.retry_after)}

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "sheetbill": __version__})

    async def call(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in allowed:
            return _text(f"There is no sheetbill button {name!r}. Buttons: {', '.join(sorted(allowed))}.", 404)
        if not token_matches(request.headers.get("authorization"), config.tokens):
            log.info("button=%s status=401", name)
            return _text("sheetbill refused the request: the API token is missing or wrong. Set the token in "
                         "the button's script (auth) or ask your administrator for one.", 401)
        if admitted[0] >= config.max_concurrent_runs + config.max_queued_runs:
            log.info("button=%s status=503 busy", name)
            with contextlib.suppress(PayloadError):  # read and drop the body so the client sees the answer
                await _read_body(request, config, _Budget(0), [0])
            return PlainTextResponse(_busy(config), status_code=503, headers=retry)
        started = time.perf_counter()
        reference = secrets.token_hex(4)
        admitted[0] += 1
        held = [0]
        try:
            body = await _read_body(request, config, budget, held)
            async with slots:
                response, facts = await run_in_threadpool(answer, name, body, run)
        except PayloadError as err:
            log.info("button=%s status=%d ref=%s refused: %s", name, err.status, reference, _category(err))
            headers = retry if err.status == 503 else ({"Connection": "close"} if err.status == 408 else None)
            return PlainTextResponse(err.message, status_code=err.status, headers=headers)
        except Exception as err:  # never a stack trace to the client; the log gets the type only
            log.error("button=%s status=500 ref=%s error=%s", name, reference, type(err).__name__)
            return _text(f"sheetbill could not finish this run (reference {reference}). Nothing was written. "
                         f"Please tell your administrator the reference.", 500)
        finally:
            admitted[0] -= 1
            budget.give(held[0])
        elapsed = (time.perf_counter() - started) * 1000
        log.info("button=%s status=200 ref=%s client=%s version=%s sheets=%d rows_in=%d rows_out=%d ok=%s "
                 "ms=%.0f", name, reference, facts["client"], facts["version"], facts["sheets"], facts["rows_in"],
                 facts["rows_out"], facts["ok"], elapsed)
        return JSONResponse(response)

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/xlwings/custom-scripts-call/{name}", call, methods=["POST"]),
    ]
    return Starlette(routes=routes)


def _category(err: PayloadError) -> str:
    """A log-safe label for a refusal (the message itself may quote sheet names)."""
    return {413: "too large", 400: "bad request", 408: "too slow", 503: "busy"}.get(err.status, str(err.status))


def timed_protocol(header_timeout: float) -> type:
    """uvicorn's HTTP/1.1 protocol (h11) with a header timeout: a connection that has not sent a
    complete request line and headers ``header_timeout`` seconds after it opened (or after its last
    answer, on a kept-alive connection) is closed. uvicorn itself waits for headers forever."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class TimedH11Protocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def _arm(self) -> None:
            self._disarm()
            self._header_timer = self.loop.call_later(header_timeout, self._headers_too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if not self.transport.is_closing():
                self.transport.close()

        def handle_events(self) -> None:
            cycle = self.cycle
            super().handle_events()
            if self.cycle is not cycle:  # a request's headers are complete
                self._disarm()

        def on_response_complete(self) -> None:
            self._arm()  # the next request on this connection gets the same time (pipelined ones disarm it)
            super().on_response_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return TimedH11Protocol


def uvicorn_options(config: ServerConfig) -> dict:
    """The uvicorn settings that enforce ``config``'s connection limits (for :func:`serve` and tests)."""
    connections = config.max_connections
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY:
            connections = max(16, min(connections, soft - 64))  # keep file descriptors for the server itself
    except (ImportError, OSError, ValueError):  # not on Windows
        pass
    return {"http": timed_protocol(config.header_timeout), "timeout_keep_alive": config.keep_alive,
            "limit_concurrency": connections, "backlog": config.backlog}


def serve(host: str = "127.0.0.1", port: int = 8000, *, config_path: Path | None = None,
          log_level: str = "info", ssl_certfile: str | None = None, ssl_keyfile: str | None = None) -> None:
    """Run the server with uvicorn until interrupted, with the limits of the config.

    :raises ServerConfigError: when no usable token is configured.
    """
    import uvicorn

    config = load_config(config_path)
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(create_app(config), host=host, port=port, log_level=log_level, ssl_certfile=ssl_certfile,
                ssl_keyfile=ssl_keyfile, **uvicorn_options(config))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sheetbill.server [--host H] [--port N] [--config FILE]`` (``sheetbill serve`` does the same)."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="sheetbill serve", description="HTTP back end for the xlwings clients")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--config", type=Path, help=f"TOML config file (default ${CONFIG_ENV})")
    args = parser.parse_args(argv)
    try:
        serve(args.host, args.port, config_path=args.config)
    except ServerConfigError as err:
        print(f"sheetbill: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
