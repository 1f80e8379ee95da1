"""Where the processor work of `rpl eval --jsonl --jobs N` goes: the main process and its workers
against one process deciding the same lines, in processor seconds and page faults.

    python benchmarks/bench_jobs_work.py [--count 20000] [--rounds 3] [--jobs 2]

Each run decides aputure's generated corpus (with explanations) in a process of its own, writing
to /dev/null; the runs take turns, and the best round of each is shown. On a loaded machine the
clock says little about two processes against one: the processor time says what work the workers
add (1.0x would be none).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
POLICY = HERE.parent / "policies" / "aputure.rpl"

# one run, in a fresh interpreter: the main process's own usage and that of its (waited) workers
_RUN = """import json, os, resource, sys, time
from rplang.runtime import load_policy
from rplang.stream import decide_stream
policy = load_policy(sys.argv[1])
def usage():
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, workers.ru_utime + workers.ru_stime, own.ru_minflt, workers.ru_minflt
before, start = usage(), time.perf_counter()
with open(sys.argv[2], "rb") as lines, open(os.devnull, "wb") as out:
    decide_stream(policy, lines, out, jobs=int(sys.argv[3]))
wall, after = time.perf_counter() - start, usage()
print(json.dumps({"wall": wall, "main": after[0] - before[0], "workers": after[1] - before[1],
                  "main faults": after[2] - before[2], "workers faults": after[3] - before[3]}))
"""


def run(corpus: Path, jobs: int) -> dict:
    done = subprocess.run([sys.executable, "-c", _RUN, str(POLICY), str(corpus), str(jobs)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        corpus = Path(folder) / "corpus.jsonl"
        with open(corpus, "w") as out:
            subprocess.run([sys.executable, str(HERE / "gen_corpus.py"), "--count", str(args.count), "--seed", "1"],
                           stdout=out, check=True)
        best: dict[int, dict] = {}
        for _ in range(args.rounds):
            for jobs in (1, args.jobs):
                result = run(corpus, jobs)
                total = result["main"] + result["workers"]
                if jobs not in best or total < best[jobs]["main"] + best[jobs]["workers"]:
                    best[jobs] = result
    print(f"{args.count:,} lines with explanations, best of {args.rounds} rounds taking turns "
          f"(load average {', '.join(f'{x:.2f}' for x in os.getloadavg())})")
    for jobs, r in best.items():
        print(f"  --jobs {jobs}: {r['wall']:.2f} s wall; processor {r['main']:.2f} s main process + "
              f"{r['workers']:.2f} s workers; page faults {r['main faults']:,} + {r['workers faults']:,}")
    one, many = best[1], best[args.jobs]
    work = (many["main"] + many["workers"]) / (one["main"] + one["workers"])
    print(f"work of --jobs {args.jobs} over one process: {work:.2f}x (processor time; 1.0x adds none); "
          f"clock: --jobs 1 over --jobs {args.jobs} {one['wall'] / many['wall']:.2f}x")


if __name__ == "__main__":
    main()
