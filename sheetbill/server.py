"""``sheetbill serve``: the HTTP back end for xlwings' own spreadsheet clients (no Python on the office PCs).

Excel's ``RunServerPython`` (the xlwings add-in, VBA) and Google Sheets' ``runPython`` (Apps Script
``xlwings.js``) post the workbook to a URL and apply the actions they get back. This server answers
at the URL shape xlwings' own server uses, one endpoint per button on an explicit allow-list::

    POST /xlwings/custom-scripts-call/bill        (also overdue, check, documents, statement)
    GET  /health                                  (no authentication; for load balancers)

Anything else is 404. Requests carry ``Authorization: <token>`` or ``Authorization: Bearer <token>``
(the clients' ``auth`` option), compared in constant time with the tokens from the environment
variable ``SHEETBILL_API_TOKENS`` (comma-separated) or the ``api_tokens`` list of a TOML config file
(``SHEETBILL_SERVER_CONFIG`` or ``--config``). The server refuses to start without a token.

Every refusal is a short plain-text message, because that is what the clients show the clerk
(Apps Script throws the body, VBA puts it in a message box). Errors inside a run are answered with
a reference number, never a stack trace; the log names the button, client, sizes and timing, never
cell contents or the workbook's name (customer data stays out of logs).

The run itself is synchronous and CPU-bound; it runs in a worker thread, at most
``max_concurrent_runs`` at once, so the event loop keeps answering (health checks, refusals).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
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

from . import __version__
from .buttons import BUTTONS, FILE_BUTTONS, ButtonResult, needed_sheet, press
from .io.xlwings_json import PayloadError, alert_only, decode_payload, encode_response, raw_sheets

log = logging.getLogger("sheetbill.server")

TOKENS_ENV = "SHEETBILL_API_TOKENS"
CONFIG_ENV = "SHEETBILL_SERVER_CONFIG"
#: Tokens shorter than this are refused at start: they could be guessed.
MIN_TOKEN_LENGTH = 16
DEFAULT_MAX_BODY = 64 * 1024 * 1024
#: An over-long body is drained up to this many times the limit so the client can read the 413.
DRAIN_FACTOR = 4


class ServerConfigError(Exception):
    """The server cannot start as configured; the message says what to set."""


@dataclass(frozen=True)
class ServerConfig:
    """How the server runs.

    Attributes:
        tokens: the accepted API tokens.
        max_body: the largest request body accepted, in bytes (413 above it).
        max_concurrent_runs: billing runs at once; further requests wait their turn.
    """

    tokens: tuple[str, ...]
    max_body: int = DEFAULT_MAX_BODY
    max_concurrent_runs: int = 4
    buttons: tuple[str, ...] = field(default=(*BUTTONS, *FILE_BUTTONS))


def load_config(path: Path | None = None, environ: dict[str, str] | None = None) -> ServerConfig:
    """Tokens and limits from ``SHEETBILL_API_TOKENS`` and/or a TOML file.

    The file (``path``, else ``$SHEETBILL_SERVER_CONFIG``) may hold ``api_tokens = ["..."]``,
    ``max_body_mb = 64`` and ``max_concurrent_runs = 4``; tokens from the environment are added.

    :raises ServerConfigError: without any token, with a token shorter than 16 characters, or for an
        unreadable file.
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
        raise ServerConfigError(f"no API token configured: set {TOKENS_ENV} (comma-separated) or api_tokens in "
                                f"the config file; make one with: python -c \"import secrets; "
                                f"print(secrets.token_urlsafe(32))\"")
    short = [t for t in tokens if len(t) < MIN_TOKEN_LENGTH]
    if short:
        raise ServerConfigError(f"{len(short)} API token(s) shorter than {MIN_TOKEN_LENGTH} characters; "
                                f"use long random tokens")
    max_body = int(float(settings.get("max_body_mb", DEFAULT_MAX_BODY / 2**20)) * 2**20)
    runs = int(settings.get("max_concurrent_runs", 4))
    return ServerConfig(tuple(dict.fromkeys(tokens)), max_body=max_body, max_concurrent_runs=max(1, runs))


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


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, or :class:`PayloadError` (413) past ``limit`` bytes.

    A body over the limit is still read (and dropped) up to :data:`DRAIN_FACTOR` times the limit
    before answering: clients such as WinHTTP and UrlFetchApp send the whole body before reading
    the answer, and would report a broken connection instead of the message otherwise.
    """
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            if size > DRAIN_FACTOR * limit:
                break
            chunks.clear()
            continue
        chunks.append(chunk)
    if size > limit:
        raise PayloadError(_too_large(limit), 413)
    return b"".join(chunks)


def _too_large(limit: int) -> str:
    return (f"The workbook is too large for this sheetbill server (more than {limit // 2**20} MB of cells). "
            f"Use the sheetbill command line on this workbook, or ask your administrator to raise max_body_mb.")


def statement_files(payload: object) -> list[tuple[str, bytes]]:
    """The statement files an ``import-bank`` request carries beside the workbook: ``"files": [{"name":
    ..., "content": <base64>}]``. The name is only shown in messages, never used as a path.

    :raises PayloadError: for a list that is not of that shape or content that is not base64.
    """
    files = payload.get("files", []) if isinstance(payload, Mapping) else []
    if not isinstance(files, list):
        raise PayloadError("files must be a list of {name, content} with the content in base64")
    result = []
    for item in files:
        if not isinstance(item, Mapping) or not isinstance(item.get("content"), str):
            raise PayloadError("each file needs a name and its content in base64")
        try:
            data = base64.b64decode(item["content"], validate=True)
        except (binascii.Error, ValueError) as err:
            raise PayloadError("a statement file's content is not base64") from err
        result.append((str(item.get("name") or "statement")[:120], data))
    return result


def answer(button: str, payload: object, run: Callable[..., ButtonResult] = press) -> tuple[dict, dict]:
    """Decode ``payload``, press ``button`` over its sheets and encode the client's actions.

    Returns the answer and facts for the log (no cell contents). Raises :class:`PayloadError` for
    requests to refuse.
    """
    book = decode_payload(payload)
    sheets = raw_sheets(book, needed_sheet)
    result = run(button, sheets, files=statement_files(payload)) if button == "import-bank" else run(button, sheets)
    facts = {"client": book.client, "version": book.version, "sheets": len(book.sheets),
             "rows_in": sum(len(s.rows) for s in sheets.values()),
             "rows_out": sum(len(o.rows) for o in result.outputs), "ok": result.ok}
    if not result.outputs:
        return alert_only(result.message, title=result.title, ok=result.ok), facts
    return encode_response(book, result.outputs, result.message, title=result.title, ok=result.ok), facts


def create_app(config: ServerConfig, *, run: Callable[..., ButtonResult] = press) -> Starlette:
    """The ASGI application (``run`` is replaceable in tests)."""
    slots = asyncio.Semaphore(config.max_concurrent_runs)
    allowed = frozenset(config.buttons)

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
        started = time.perf_counter()
        reference = secrets.token_hex(4)
        try:
            body = await _read_body(request, config.max_body)
            try:
                payload = json.loads(body)
            except (UnicodeDecodeError, json.JSONDecodeError) as err:
                raise PayloadError("The request is not valid JSON; is this an xlwings client?") from err
            async with slots:
                response, facts = await run_in_threadpool(answer, name, payload, run)
        except PayloadError as err:
            log.info("button=%s status=%d ref=%s refused: %s", name, err.status, reference, _category(err))
            return _text(err.message, err.status)
        except Exception as err:  # never a stack trace to the client; the log gets the type only
            log.error("button=%s status=500 ref=%s error=%s", name, reference, type(err).__name__)
            return _text(f"sheetbill could not finish this run (reference {reference}). Nothing was written. "
                         f"Please tell your administrator the reference.", 500)
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
    return {413: "too large", 400: "bad request"}.get(err.status, str(err.status))


def serve(host: str = "127.0.0.1", port: int = 8000, *, config_path: Path | None = None,
          log_level: str = "info", ssl_certfile: str | None = None, ssl_keyfile: str | None = None) -> None:
    """Run the server with uvicorn until interrupted.

    :raises ServerConfigError: when no usable token is configured.
    """
    import uvicorn

    config = load_config(config_path)
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(create_app(config), host=host, port=port, log_level=log_level, ssl_certfile=ssl_certfile,
                ssl_keyfile=ssl_keyfile)


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
