"""Where the processor work of `rpl eval --jsonl --jobs N` goes: the main process and its workers
against one process deciding the same lines, in processor seconds and page faults.

    python benchmarks/bench_jobs_work.py [--count 20000] [--rounds 3] [--jobs 2] [--pipe]

Each run decides aputure's generated corpus (with explanations) in a process of its own, writing
to /dev/null; the runs take turns, and the best round of each is shown. The file is the run's
stdin (as `rpl eval --jsonl - < FILE`: the workers read it by ranges), or with `--pipe` a pipe
this script feeds (the main process reads the lines and hands them out). Start-up (imports, the
policy) is left out: this is the stream's own work. On a loaded machine the clock says little
about two processes against one: the processor time says what work the workers add (1.0x would
be none).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
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
with open(os.devnull, "wb") as out:
    decide_stream(policy, sys.stdin.buffer, out, jobs=int(sys.argv[2]))
wall, after = time.perf_counter() - start, usage()
print(json.dumps({"wall": wall, "main": after[0] - before[0], "workers": after[1] - before[1],
                  "main faults": after[2] - before[2], "workers faults": after[3] - before[3]}))
"""


def run(corpus: Path, jobs: int, pipe: bool = False) -> dict:
    command = [sys.executable, "-c", _RUN, str(POLICY), str(jobs)]
    if not pipe:
        with open(corpus, "rb") as lines:
            done = subprocess.run(command, stdin=lines, capture_output=True, text=True, check=True)
        return json.loads(done.stdout)
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    feeder = threading.Thread(target=_feed, args=(corpus, process.stdin))
    feeder.start()
    out = process.stdout.read()
    feeder.join()
    if process.wait():
        raise SystemExit(f"the run failed with exit code {process.returncode}")
    return json.loads(out)


def _feed(corpus: Path, pipe) -> None:
    with open(corpus, "rb") as lines, pipe:
        shutil.copyfileobj(lines, pipe, 1 << 16)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--pipe", action="store_true", help="feed the lines through a pipe, not a file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        corpus = Path(folder) / "corpus.jsonl"
        with open(corpus, "w") as out:
            subprocess.run([sys.executable, str(HERE / "gen_corpus.py"), "--count", str(args.count), "--seed", "1"],
                           stdout=out, check=True)
        best: dict[int, dict] = {}
        for _ in range(args.rounds):
            for jobs in (1, args.jobs):
                result = run(corpus, jobs, args.pipe)
                total = result["main"] + result["workers"]
                if jobs not in best or total < best[jobs]["main"] + best[jobs]["workers"]:
                    best[jobs] = result
    print(f"{args.count:,} lines with explanations from {'a pipe' if args.pipe else 'a file'}, best of "
          f"{args.rounds} rounds taking turns "
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
