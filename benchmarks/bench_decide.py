"""Deciding aputure: rpl against the hand-written baseline, as ratios measured in the same run.

    python benchmarks/bench_decide.py [--count 2000] [--repeat 5]

Every request is first decided by both and the outputs compared: a benchmark of wrong answers
measures nothing.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _module(name: str):
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _best(rows: dict, repeat: int) -> dict:
    """Best-of-`repeat` seconds per item of each (fn, items) row: the least disturbed run on a
    shared machine. The rows take turns, round after round, so that a busy spell of the machine
    falls on all of them alike rather than on the one measured then."""
    best = dict.fromkeys(rows, float("inf"))
    for _ in range(repeat):
        for name, (fn, items) in rows.items():
            start = time.perf_counter()
            for x in items:
                fn(x)
            best[name] = min(best[name], (time.perf_counter() - start) / len(items))
    return best


def measure(count: int, repeat: int) -> dict:
    sys.path.insert(0, str(ROOT))
    from rplang.runtime import load_policy

    baseline = _module("baseline_aputure")
    corpus = _module("gen_corpus")
    requests = [json.loads(line) for line in corpus.generate_lines(count, 1)]
    policy = load_policy(ROOT / "policies" / "aputure.rpl")

    for r in requests:
        if policy.decide(r).outputs_json() != baseline.decide_request(r):
            raise SystemExit(f"rpl and the baseline disagree on {json.dumps(r)}")
    parsed_base = [baseline.parse(r) for r in requests]
    parsed_rpl = [policy.read_request(r) for r in requests]

    return _best({
        "baseline: parse + decide": (baseline.decide_request, requests),
        "baseline: decide (parsed)": (baseline.decide, parsed_base),
        "rpl: decide from dict": (lambda r: policy.decide(r).outputs_json(), requests),
        "rpl: decide (validated)": (lambda r: policy.decide_checked(r).outputs_json(), parsed_rpl),
        "rpl: decide + explanation": (lambda r: policy.decide(r).to_json(), requests),
    }, repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = measure(args.count, args.repeat)
    base_full = rows["baseline: parse + decide"]
    base_decide = rows["baseline: decide (parsed)"]
    ratios = {
        "rpl: decide from dict": (base_full, 2.0),
        "rpl: decide (validated)": (base_decide, 1.5),
        "rpl: decide + explanation": (base_full, 3.0),
    }
    print(f"{'measure':30} {'µs/decision':>12} {'ratio':>7} {'target':>7}")
    for name, seconds in rows.items():
        ref = ratios.get(name)
        ratio = f"{seconds / ref[0]:.2f}x" if ref else ""
        target = f"≤{ref[1]}x" if ref else ""
        print(f"{name:30} {seconds * 1e6:12.2f} {ratio:>7} {target:>7}")


if __name__ == "__main__":
    main()
