"""The cyclic garbage collector during and after a run (sheetbill.run.collector_paused)."""

from __future__ import annotations

import gc
import weakref

from sheetbill.run import collector_paused


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it


def test_a_run_pauses_the_collector_and_its_objects_stay_out_of_the_next_young_collection() -> None:
    assert gc.isenabled()
    try:
        with collector_paused():
            assert not gc.isenabled()
            with collector_paused():  # nested: the outer pause decides
                made = [[n] for n in range(50_000)]
            assert not gc.isenabled()
        assert gc.isenabled()
        assert gc.get_freeze_count() >= len(made)  # (what earlier runs froze was unfrozen at the start)
        assert gc.get_count()[0] < 1_000  # nothing of the run waits in the young generation
    finally:
        gc.unfreeze()


def test_cyclic_garbage_of_a_run_is_collected_once_the_next_run_has_started() -> None:
    try:
        with collector_paused():
            node = _Node()
            alive = weakref.ref(node)
            del node
        gc.collect()
        assert alive() is not None  # frozen with the run's objects: no collection scans it
        with collector_paused():
            assert alive() is None  # the next run unfroze the last one's objects and collected once
    finally:
        gc.unfreeze()
