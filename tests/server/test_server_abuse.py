"""The HTTP back end under abuse, through real sockets on 127.0.0.1: slow and half-open clients are cut
off after the configured timeouts, a saturated server answers 503 with Retry-After, and hostile JSON is
a 400 with a message, never a 500. The timeouts are configured small so the tests stay fast."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

from sheetbill.buttons import ButtonResult
from sheetbill.server import ServerConfig, ServerConfigError, load_config

from .support import TOKEN, payload, post, running_server, tiny_workbook

BILL = "/xlwings/custom-scripts-call/bill"
FAST = dict(header_timeout=0.5, body_timeout=0.5, min_body_rate=1024)


def connect(base: str) -> socket.socket:
    parts = urlsplit(base)
    return socket.create_connection((parts.hostname, parts.port), timeout=10)


def closed_within(sock: socket.socket, seconds: float) -> tuple[bool, bytes]:
    """Whether the server closes ``sock`` within ``seconds`` (and what it sent before)."""
    sock.settimeout(seconds)
    received = b""
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            data = sock.recv(65536)
            if not data:
                return True, received
            received += data
    except TimeoutError:
        return False, received
    except ConnectionResetError:
        return True, received
    return False, received


def request_head(length: int) -> bytes:
    return (f"POST {BILL} HTTP/1.1\r\nHost: test\r\nAuthorization: {TOKEN}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()


def test_a_half_open_connection_and_one_that_sends_nothing_are_closed_after_the_header_timeout():
    with running_server(ServerConfig((TOKEN,), **FAST)) as base:
        silent, partial = connect(base), connect(base)
        partial.sendall(f"POST {BILL} HTTP/1.1\r\nHost: test\r\n".encode())  # the headers never end
        started = time.monotonic()
        assert closed_within(silent, 5)[0] and closed_within(partial, 5)[0]
        assert time.monotonic() - started < 3
        assert post(base + "/health", b"", token=None, method="GET")[0] == 200


def test_a_trickled_body_is_cut_off_with_408():
    with running_server(ServerConfig((TOKEN,), **FAST)) as base:
        sock = connect(base)
        sock.sendall(request_head(10_000))
        started = time.monotonic()
        answer = b""
        while time.monotonic() - started < 6:
            try:
                sock.sendall(b" ")  # one byte every 0.1 s: fast enough to never pause, far too slow on average
            except OSError:
                break
            done, answer = closed_within(sock, 0.1)
            if done:
                break
        assert answer.startswith(b"HTTP/1.1 408") and b"too slowly" in answer
        assert time.monotonic() - started < 3


def test_a_body_that_stops_is_cut_off_with_408():
    with running_server(ServerConfig((TOKEN,), **FAST)) as base:
        sock = connect(base)
        sock.sendall(request_head(10_000) + b'{"client": ')
        done, answer = closed_within(sock, 5)
        assert done and answer.startswith(b"HTTP/1.1 408")


def test_idle_connections_do_not_keep_health_from_answering():
    with running_server(ServerConfig((TOKEN,), **FAST)) as base:
        idle = [connect(base) for _ in range(60)]
        time.sleep(1.0)  # past the header timeout: the server has closed them
        started = time.monotonic()
        assert post(base + "/health", b"", token=None, method="GET", timeout=5)[0] == 200
        assert time.monotonic() - started < 1
        assert all(closed_within(sock, 1)[0] for sock in idle)


class Gate:
    """A run that waits until the test opens the gate (to hold the server busy)."""

    def __init__(self):
        self.open, self.entered = threading.Event(), threading.Semaphore(0)

    def __call__(self, button, sheets):
        self.entered.release()
        self.open.wait(20)
        return ButtonResult(button, [], "done", ok=True)


def in_background(target, *args, **kwargs) -> tuple[threading.Thread, list]:
    result: list = []
    thread = threading.Thread(target=lambda: result.append(target(*args, **kwargs)), daemon=True)
    thread.start()
    return thread, result


def test_a_saturated_server_answers_503_with_retry_after_and_serves_the_admitted_requests():
    gate = Gate()
    config = ServerConfig((TOKEN,), max_concurrent_runs=1, max_queued_runs=1, retry_after=7, **FAST)
    with running_server(config, run=gate) as base:
        first, first_result = in_background(post, base + BILL, payload(tiny_workbook()))
        assert gate.entered.acquire(timeout=10)  # the only run slot is taken
        second, second_result = in_background(post, base + BILL, payload(tiny_workbook()))
        time.sleep(0.3)  # the second waits for the slot
        request = urllib.request.Request(base + BILL, data=json.dumps(payload(tiny_workbook())).encode(),
                                         headers={"Authorization": TOKEN}, method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 503 and refused.value.headers["Retry-After"] == "7"
        assert "busy" in refused.value.read().decode()
        assert post(base + "/health", b"", token=None, method="GET", timeout=5)[0] == 200
        gate.open.set()
        first.join(10)
        second.join(10)
        assert first_result[0][0] == 200 and second_result[0][0] == 200


def test_bodies_held_at_once_are_bounded_503_beyond():
    gate = Gate()
    config = ServerConfig((TOKEN,), max_concurrent_runs=1, max_pending=150_000, **FAST)
    big = payload(tiny_workbook())
    big["book"]["name"] = "x" * 100_000  # ~100 kB
    with running_server(config, run=gate) as base:
        first, first_result = in_background(post, base + BILL, big)
        assert gate.entered.acquire(timeout=10)
        bigger = payload(tiny_workbook())
        bigger["book"]["name"] = "x" * 1_500_000  # more than the socket buffers: read to the end, then 503
        status, text = post(base + BILL, bigger, timeout=10)
        assert status == 503 and "busy" in text
        gate.open.set()
        first.join(10)
        assert first_result[0][0] == 200


@pytest.fixture(scope="module")
def base():
    with running_server() as url:
        yield url


@pytest.mark.parametrize("depth", [1_000, 100_000, 1_000_000])
def test_deeply_nested_json_is_400(base, depth):
    status, text = post(base + BILL, b"[" * depth + b"]" * depth)
    assert status == 400 and ("JSON" in text or "xlwings" in text)


def test_a_100000_digit_integer_is_400(base):
    status, text = post(base + BILL, b'{"client": "Google Apps Script", "version": ' + b"9" * 100_000 + b"}")
    assert status == 400 and "number" in text


def cell_values(setter) -> dict:
    workbook = tiny_workbook()
    setter(workbook)
    return payload(workbook)


@pytest.mark.parametrize("name, setter", [
    ("price 1e308", lambda wb: wb["Services"][1].__setitem__(2, 1e308)),
    ("quantity 1e308", lambda wb: wb["Charges"][1].__setitem__(4, 1e308)),
    ("a 4,000-digit price", lambda wb: wb["Services"][1].__setitem__(2, int("9" * 4000))),
    ("payment terms of 10^12 days", lambda wb: wb["Settings"].append(["Payment Terms Days", 1e12])),
])
def test_values_too_large_to_compute_with_are_400_with_a_message_or_a_problem(base, name, setter):
    status, text = post(base + BILL, cell_values(setter))
    assert status in (200, 400), (name, status, text)
    if status == 400:
        assert "too large" in text and "Nothing was written" in text
    else:
        alert = json.loads(text)["actions"][-1]["args"][0]
        assert "error" in alert.lower()


def test_limits_come_from_the_config_file_and_bad_ones_are_refused(tmp_path):
    path = tmp_path / "server.toml"
    path.write_text(f'api_tokens = ["{TOKEN}"]\nheader_timeout_s = 2.5\nmax_pending_mb = 8\nmax_queued_runs = 3\n')
    config = load_config(path, environ={})
    assert (config.header_timeout, config.max_pending, config.max_queued_runs) == (2.5, 8 * 2**20, 3)
    assert ServerConfig((TOKEN,)).max_body == 32 * 2**20
    for bad in ("header_timeout_s = -1", "max_body_mb = 'lots'", "backlog = 0", "max_queued_runs = true"):
        path.write_text(f'api_tokens = ["{TOKEN}"]\n{bad}\n')
        with pytest.raises(ServerConfigError, match="positive number"):
            load_config(path, environ={})
