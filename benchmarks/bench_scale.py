"""Policies of 10 to 10,000 rules: compile time, decision time, memory.

    python benchmarks/bench_scale.py [--sizes 10,100,1000,10000] [--requests 300] [--kind skus|bands]

Each size runs in a fresh process, so that memory is the policy's own: resident memory is read
after compiling (and collecting what compiling left behind), then again after deciding.
"""
from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _resident_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    import os
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def one(size: int, requests: int, kind: str = "skus") -> dict:
    sys.path[:0] = [str(ROOT), str(HERE)]
    import gen_scale_policy
    from rplang.compiler import compile_policy
    from rplang.runtime.decide import CompiledPolicy

    text = gen_scale_policy.policy(size, kind=kind)
    before = _resident_mb()
    start = time.perf_counter()
    policy = CompiledPolicy(compile_policy(text, f"scale-{size}.rpl"))
    compile_seconds = time.perf_counter() - start
    gc.collect()
    compiled_mb = _resident_mb() - before
    data = [policy.read_request(r) for r in gen_scale_policy.requests(requests, size)]
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for r in data:
            policy.decide_checked(r).outputs_json()
        best = min(best, time.perf_counter() - start)
    return {"rules": len(policy.graph.rules), "compile_s": compile_seconds, "resident_mb": compiled_mb,
            "decide_us": best / len(data) * 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000,10000")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--kind", choices=["skus", "bands"], default="skus",
                        help="one rule per SKU (found by its value), or per price band (by a range)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(one(args.one, args.requests, args.kind)))
        return
    rows = []
    for size in map(int, args.sizes.split(",")):
        out = subprocess.run([sys.executable, __file__, "--one", str(size), "--requests", str(args.requests),
                              "--kind", args.kind], capture_output=True, text=True, check=True).stdout
        rows.append(json.loads(out))
    base = rows[0]
    print(f"{'rules':>7} {'compile s':>10} {'s/1k rules':>10} {'memory MB':>10} {'µs/decision':>12} {'× smallest':>10}")
    for r in rows:
        per_k = r["compile_s"] / r["rules"] * 1000
        print(f"{r['rules']:>7} {r['compile_s']:>10.2f} {per_k:>10.2f} {r['resident_mb']:>10.1f} "
              f"{r['decide_us']:>12.1f} {r['decide_us'] / base['decide_us']:>10.2f}")


if __name__ == "__main__":
    main()
