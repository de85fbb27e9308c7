"""Load: 20 clerks press buttons at the same time, each on their own workbook, against one server.

Loopback only, a fixed number of requests and a deadline. Every answer must equal the answer computed
locally for that clerk's workbook (so no clerk ever gets another clerk's sheets), and the latency
percentiles are printed (docs/apps-script.md quotes a run of this test).
"""

from __future__ import annotations

import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from sheetbill.server import ServerConfig, answer

from .support import TOKEN, demo_workbook, payload, post, running_server, tiny_workbook

CLERKS = 20
PRESSES = ("bill", "overdue", "check") * 3
DEADLINE_S = 60


def clerk_workbook(clerk: int) -> dict:
    """The demo workbook (or the tiny one) with this clerk's mark on every customer name."""
    workbook = demo_workbook() or tiny_workbook()
    customers = workbook["Customers"]
    name = [str(h).strip().casefold() for h in customers[0]].index("name")
    for row in customers[1:]:
        if len(row) > name and row[name]:
            row[name] = f"{row[name]} (clerk {clerk})"
    return workbook


def test_twenty_clerks_pressing_buttons_at_once_each_get_their_own_correct_answer():
    bodies = {clerk: payload(clerk_workbook(clerk)) for clerk in range(CLERKS)}
    expected = {(clerk, button): answer(button, json.loads(json.dumps(body)))[0]
                for clerk, body in bodies.items() for button in set(PRESSES)}
    started = time.monotonic()

    def clerk_session(clerk: int) -> list[tuple[str, float, int, str]]:
        results = []
        for button in PRESSES:
            if time.monotonic() - started > DEADLINE_S:
                break
            t0 = time.perf_counter()
            status, text = post(f"{base}/xlwings/custom-scripts-call/{button}", bodies[clerk], TOKEN, timeout=60)
            results.append((button, time.perf_counter() - t0, status, text))
        return results

    with running_server(ServerConfig((TOKEN,), max_concurrent_runs=4)) as base:
        with ThreadPoolExecutor(max_workers=CLERKS) as pool:
            sessions = dict(zip(range(CLERKS), pool.map(clerk_session, range(CLERKS)), strict=True))
    elapsed = time.monotonic() - started
    latencies = []
    for clerk, results in sessions.items():
        assert len(results) == len(PRESSES), "the load test ran out of time"
        for button, seconds, status, text in results:
            assert status == 200, text
            assert json.loads(text) == expected[(clerk, button)], f"clerk {clerk} {button}: wrong answer"
            assert f"(clerk {clerk})" in text or button == "check"
            assert not any(f"(clerk {other})" in text for other in range(CLERKS) if other != clerk)
            latencies.append(seconds * 1000)
    latencies.sort()
    p50 = statistics.median(latencies)
    p95 = latencies[max(0, int(round(0.95 * len(latencies))) - 1)]
    print(f"\nload: {len(latencies)} presses by {CLERKS} clerks in {elapsed:.1f} s; "
          f"latency p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {latencies[-1]:.0f} ms")
