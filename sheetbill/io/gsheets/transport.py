"""Every request to Google goes through :class:`SheetsHTTPClient`: bounded retries with truncated
exponential backoff and full jitter on 408, 429, 5xx and broken connections, honouring
``Retry-After``, then a clear :class:`~.errors.SheetsUnavailable` (gspread's own BackOffHTTPClient
never gives up).

Authentication asks for the spreadsheets scope only: an access token from
``SHEETBILL_GOOGLE_TOKEN``, a key file (``--credentials``, ``SHEETBILL_GOOGLE_CREDENTIALS`` or
``GOOGLE_APPLICATION_CREDENTIALS``), or else gspread's OAuth user flow (:func:`connect`).
``SHEETBILL_GOOGLE_API_URL`` replaces the API root (an API gateway, or the tests' emulator); nothing
else changes. Neither credentials nor cell contents are ever logged.
"""

from __future__ import annotations

import email.utils
import functools
import json
import logging
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import gspread
import requests
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient
from gspread.urls import SPREADSHEETS_API_V4_BASE_URL

from .errors import SheetsSyncError, SheetsUnavailable

log = logging.getLogger(__name__)

#: The only OAuth scope sheetbill asks for.
SCOPE = "https://www.googleapis.com/auth/spreadsheets"
ENV_TOKEN = "SHEETBILL_GOOGLE_TOKEN"
ENV_CREDENTIALS = "SHEETBILL_GOOGLE_CREDENTIALS"
ENV_API_URL = "SHEETBILL_GOOGLE_API_URL"
GOOGLE_API_ROOT = SPREADSHEETS_API_V4_BASE_URL.split("/v4/", 1)[0]


_RETRY_STATUSES = frozenset({408, 429})


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
        """``endpoint`` with the Google API root replaced by ``api_root``, when one is set."""
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
    try:
        return gspread.oauth(scopes=[SCOPE], http_client=http_client)
    except FileNotFoundError as err:
        raise SheetsSyncError(
            "no Google credentials: pass a service-account key with --credentials KEY.json (or set "
            f"{ENV_CREDENTIALS} or GOOGLE_APPLICATION_CREDENTIALS), or put an OAuth client file at "
            f"{err.filename or '~/.config/gspread/credentials.json'} to sign in as yourself; "
            "docs/google-sheets.md ('Set-up with a service account') shows how to make a key"
        ) from None
