"""The command line: cold start of `rpl eval`, and `rpl eval --jsonl` throughput.

    python benchmarks/bench_cli.py [--count 20000]

Throughput is compared with a hand-written script that reads the same JSON lines, decides them
with the baseline and writes JSON lines (`python benchmarks/baseline_aputure.py < FILE`).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
POLICY = ROOT / "policies" / "aputure.rpl"
REQUEST = ROOT / "policies" / "aputure" / "requests" / "00-semantics-example.json"


def _rpl() -> list[str]:
    found = shutil.which("rpl", path=str(Path(sys.executable).parent)) or shutil.which("rpl")
    return [found] if found else [sys.executable, "-m", "rplang.cli"]


def _time(command: list[str], stdin=None, repeat: int = 3, env=None) -> float:
    best = float("inf")
    for _ in range(repeat):
        if stdin is not None:
            stdin.seek(0)
        start = time.perf_counter()
        subprocess.run(command, stdin=stdin, stdout=subprocess.DEVNULL, check=False, env=env)
        best = min(best, time.perf_counter() - start)
    return best


def cold_start() -> dict:
    """`rpl eval POLICY REQUEST` wall time: the first run after an edit, and every run after."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, RPL_CACHE_DIR=cache)
        command = _rpl() + ["eval", str(POLICY), str(REQUEST)]
        first = _time(command, repeat=1, env=env)
        warm = _time(command, repeat=5, env=env)
    return {"first_run_s": first, "warm_s": warm}


def throughput(count: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        corpus = Path(folder) / "corpus.jsonl"
        with open(corpus, "w") as out:
            subprocess.run([sys.executable, str(HERE / "gen_corpus.py"), "--count", str(count), "--seed", "1"],
                           stdout=out, check=True)
        with open(corpus) as stdin:
            baseline = _time([sys.executable, str(HERE / "baseline_aputure.py")], stdin=stdin)
        full = _time(_rpl() + ["eval", str(POLICY), "--jsonl", str(corpus)])
        outputs = _time(_rpl() + ["eval", str(POLICY), "--jsonl", str(corpus), "--outputs-only"])
        two = _time(_rpl() + ["eval", str(POLICY), "--jsonl", str(corpus), "--jobs", "2"])
    return {"count": count, "baseline_s": baseline, "rpl_s": full, "rpl_outputs_only_s": outputs,
            "rpl_jobs_2_s": two}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20000)
    args = parser.parse_args()
    start = cold_start()
    print(f"cold start, rpl eval aputure: first run {start['first_run_s'] * 1000:.0f} ms, "
          f"then {start['warm_s'] * 1000:.0f} ms (target < 300 ms)")
    t = throughput(args.count)
    for name, key in (("baseline script", "baseline_s"), ("rpl eval --jsonl", "rpl_s"),
                      ("rpl eval --jsonl --outputs-only", "rpl_outputs_only_s"),
                      ("rpl eval --jsonl --jobs 2", "rpl_jobs_2_s")):
        rate = t["count"] / t[key]
        print(f"{name:34} {t[key]:6.2f} s  {rate:9,.0f} decisions/s  "
              f"{t['baseline_s'] / t[key]:.2f}x the baseline's throughput")


if __name__ == "__main__":
    main()
