"""What the signed cache costs a cold `rpl eval`: reading a checked policy from the cache, against
the unsigned, unrestricted pickle read it replaced (the baseline), in the same run.

    python benchmarks/bench_cache.py

Prints, in milliseconds (median of many runs): the digest of rplang's source files (once per
process), a signed and checked read of aputure's entry, the plain `pickle.loads` of the same
bytes, and the difference.
"""
from __future__ import annotations

import os
import pickle
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _median_ms(action, runs: int = 200) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    os.environ["RPL_CACHE_DIR"] = tempfile.mkdtemp(prefix="rpl-bench-cache-")
    os.environ.pop("RPL_NO_CACHE", None)
    from rplang.compiler import cache, compile_policy_cached
    from rplang.policy_lang import user_cache

    text = (ROOT / "policies" / "aputure.rpl").read_text(encoding="utf-8")
    compile_policy_cached(text, "aputure.rpl")  # stores the entry
    payload = user_cache.read(cache._key(text, "aputure.rpl"))

    def digest():
        cache._sources = None
        cache.sources_digest()

    sources = _median_ms(digest)
    signed = _median_ms(lambda: cache.load(text, "aputure.rpl"))  # digest kept: once per process
    plain = _median_ms(lambda: pickle.loads(payload))
    print(f"python {sys.version.split()[0]}; aputure entry {len(payload):,} bytes")
    print(f"source digest (once per process): {sources:.2f} ms")
    print(f"signed, restricted read of the entry: {signed:.2f} ms")
    print(f"baseline, plain pickle.loads of the same bytes: {plain:.2f} ms")
    print(f"cost per cold start: {sources + signed - plain:.2f} ms ({(signed / plain):.2f}x the read)")


if __name__ == "__main__":
    main()
