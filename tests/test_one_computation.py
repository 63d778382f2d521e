"""A worker's threads asking for the same answer at once compute it once; different answers still in parallel.

Under load a worker's threads asked for the first area profiles of a store state together (a table of every
indicator on every level: seconds and hundreds of MB at 12 M values) and each computed it: four at once.
`Atlas.cached`, `Atlas.remembered` and `Atlas.remembered_by_size` let one thread compute a key while the
others wait for its answer.
"""
from __future__ import annotations

import threading
import time

import pytest

from atlas.services import context


def ask_together(ask, n: int = 4) -> list:
    """`ask()` in n threads released at the same moment; their answers."""
    start, answers = threading.Barrier(n), [None] * n

    def one(i: int) -> None:
        start.wait()
        answers[i] = ask()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return answers


@pytest.mark.parametrize("way", ["cached", "remembered", "remembered_by_size"])
def test_the_same_key_is_computed_once(scratch_atlas, way):
    calls = []

    def compute():
        calls.append(threading.get_ident())
        time.sleep(0.3)  # long enough for every other thread to arrive while it runs
        return {"answer": len(calls)}
    more = (lambda answer: 100,) if way == "remembered_by_size" else ()
    answers = ask_together(lambda: getattr(scratch_atlas, way)(("one-flight", way), compute, *more))
    assert len(calls) == 1
    assert all(a is answers[0] for a in answers) and answers[0] == {"answer": 1}


def test_different_keys_are_not_made_to_wait_for_each_other(scratch_atlas):
    """Two keys computed at once: each computation waits for the other to have started (a barrier), which
    would time out if the second key had to wait for the first's computation."""
    both = threading.Barrier(2, timeout=5)

    def compute(key):
        def run():
            both.wait()  # raises BrokenBarrierError if the other key's computation never starts
            return key
        return run
    answers = [None, None]

    def ask(i):
        answers[i] = scratch_atlas.cached(("parallel", i), compute(i))
    threads = [threading.Thread(target=ask, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert answers == [0, 1]


def test_a_waiter_gives_up_and_computes_itself(scratch_atlas, monkeypatch):
    """No wait lasts for ever: past FLIGHT_WAIT_S a waiting thread computes the answer itself."""
    monkeypatch.setattr(context, "FLIGHT_WAIT_S", 0.1)
    release, calls = threading.Event(), []

    def slow():
        calls.append("slow")
        release.wait(timeout=10)
        return "slow"
    first = threading.Thread(target=lambda: scratch_atlas.cached(("stuck",), slow))
    first.start()
    while not calls:
        time.sleep(0.01)
    assert scratch_atlas.cached(("stuck",), lambda: "own") == "own"  # did not wait for the stuck one
    release.set()
    first.join(timeout=10)
    assert calls == ["slow"]
