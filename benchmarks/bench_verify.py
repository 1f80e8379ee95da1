"""rpl verify on aputure and on mixed_store (decided item by item): seconds per property at
--max-items 1..4, and aputure's OLD/NEW equivalence of a one-parameter change, as a ratio to deciding the example request 1,000 times in the same run
(the baseline: it says how loaded the machine was). Processor seconds are shown beside wall-clock
seconds: on a shared machine the wall clock mostly measures the other processes.

    python benchmarks/bench_verify.py [--max-items 4]

Every result is checked: each property must be proven, the 14 -> 30 days comparison must find
its changes (each replayed through the runtime by rpl verify itself).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from rplang.runtime import load_policy, load_policy_text
from rplang.verify.compare import compare
from rplang.verify.domain import Bounds
from rplang.verify.prove import Session

ROOT = Path(__file__).resolve().parent.parent
APUTURE = ROOT / "policies" / "aputure.rpl"
MIXED_STORE = ROOT / "policies" / "mixed_store.rpl"  # outcomes decided item by item
EXAMPLE = ROOT / "policies" / "aputure" / "requests" / "00-semantics-example.json"


def baseline(policy) -> float:
    request = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    started = time.perf_counter()
    for _ in range(1000):
        policy.decide(request)
    return time.perf_counter() - started


def properties(policy, max_items: int) -> None:
    """Each property proven at N = 1..max_items, timed."""
    print(f"{'property':<40}" + "".join(f"{f'N={n}':>14}" for n in range(1, max_items + 1)))
    rows = {p.name: [] for p in policy.checked.properties}
    for n in range(1, max_items + 1):
        session = Session(policy, Bounds(max_items=n))
        for prop in policy.checked.properties:
            cpu = time.process_time()
            result = session.verify(prop)
            assert result.status == "proven", (prop.name, n, result)
            rows[prop.name].append((result.seconds, time.process_time() - cpu))
    for name, seconds in rows.items():
        print(f"{name:<40}" + "".join(f"{w:>7.2f} ({c:.2f})" for w, c in seconds))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-items", type=int, default=4)
    args = parser.parse_args()
    policy = load_policy(APUTURE)
    base = baseline(policy)
    print(f"baseline: 1,000 aputure decisions in {base:.3f} s")
    for checked in (policy, load_policy(MIXED_STORE)):
        print(f"{checked.checked.name}: seconds, wall (processor)")
        properties(checked, args.max_items)
    new = load_policy_text(APUTURE.read_text(encoding="utf-8").replace(
        "parameter return_window_length = 14 days", "parameter return_window_length = 30 days"), "aputure30.rpl")
    for n in range(1, min(args.max_items, 3) + 1):
        started, cpu = time.perf_counter(), time.process_time()
        result = compare(policy, new, ["outcome", "refund"], Bounds(max_items=n))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        assert not result.equivalent and not result.unknown
        kinds = ", ".join(f"{c.output} {c.kind}" for c in result.changes)
        print(f"14 -> 30 days, N={n}: {seconds:.2f} s, processor {cpu:.2f} s ({seconds / base:.1f}x baseline): {kinds}")


if __name__ == "__main__":
    main()
