"""One compiled policy, shared by threads: every decision is the one a single thread makes."""
import json
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from rplang.runtime import load_policy
from tests.conftest import APUTURE, APUTURE_REQUESTS

THREADS = 8
REQUESTS = [json.loads(p.read_text()) for p in sorted(APUTURE_REQUESTS.glob("*.json")) if p.name != "expected.json"]


def _everything(decision) -> tuple[str, str]:
    return json.dumps(decision.to_json(), sort_keys=True), decision.explain_text()


@pytest.fixture
def fast_switching():
    """Switch threads as often as possible, so that interleavings a race needs actually happen."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def test_decisions_from_eight_threads_equal_those_of_one(fast_switching):
    expected = [_everything(d) for d in map(load_policy(APUTURE).decide, REQUESTS)]
    shared = load_policy(APUTURE)  # fresh: its lazily filled caches start empty under contention
    start = threading.Barrier(THREADS)

    def worker(offset: int) -> list[tuple[int, tuple[str, str]]]:
        start.wait()
        order = list(range(len(REQUESTS)))
        order = order[offset:] + order[:offset]  # each thread starts elsewhere in the list
        return [(i, _everything(shared.decide(REQUESTS[i]))) for _ in range(2) for i in order]

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(worker, [k * len(REQUESTS) // THREADS for k in range(THREADS)]))
    assert len(results) == THREADS
    for per_thread in results:
        assert len(per_thread) == 2 * len(REQUESTS)
        for i, got in per_thread:
            assert got == expected[i], f"request {i} decided differently in a thread"


def test_decisions_explained_each_in_its_own_thread(fast_switching):
    policy = load_policy(APUTURE)
    expected = [_everything(policy.decide(r)) for r in REQUESTS]
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        got = list(pool.map(lambda r: _everything(policy.decide(r)), REQUESTS * 2))
    assert got == expected * 2


def test_one_decision_explained_from_several_threads_at_once(fast_switching):
    decision = load_policy(APUTURE).decide(REQUESTS[0])
    expected = json.dumps(decision.to_json(), sort_keys=True)
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        for _ in range(50):  # it fails in the first round on a 2-core machine; 50 rounds to be sure
            got = list(pool.map(lambda _: json.dumps(decision.to_json(), sort_keys=True), range(64)))
            assert got == [expected] * 64
