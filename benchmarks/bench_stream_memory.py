"""Memory while `rpl eval --jsonl` decides a long stream: it must stay flat.

    python benchmarks/bench_stream_memory.py [--count 1000000] [--jobs 1]

Requests are generated on the fly into the command's stdin (nothing is held in memory or on
disk); the command's resident memory is sampled as it goes (with `--jobs N`, its workers' added:
pages they share with it counted twice, so an upper bound).
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]


def _resident_mb(pid: int) -> float:
    """The resident memory of the process and of its children (the `--jobs` workers)."""
    with open(f"/proc/{pid}/statm") as f:
        own = int(f.read().split()[1]) * 4096 / 2**20
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = [int(child) for child in f.read().split()]
    except OSError:
        children = []
    return own + sum(_resident_mb(child) for child in children)


def main() -> None:
    import gen_corpus

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    rpl = shutil.which("rpl", path=str(Path(sys.executable).parent)) or "rpl"
    process = subprocess.Popen([rpl, "eval", str(HERE.parent / "policies" / "aputure.rpl"), "--jsonl", "-",
                                "--jobs", str(args.jobs)],
                               stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    samples: list[tuple[int, float]] = []
    fed = [0]

    def sample():
        while process.poll() is None:
            try:
                samples.append((fed[0], _resident_mb(process.pid)))
            except OSError:
                break
            time.sleep(1)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    # many distinct requests, repeated with other seeds, so the stream is long without a big corpus
    chunk = 10_000
    for seed in range(1, args.count // chunk + 1):
        for line in gen_corpus.generate_lines(chunk, seed):
            process.stdin.write(line + "\n")
        fed[0] += chunk
    process.stdin.close()
    process.wait()
    watcher.join(timeout=2)
    print(f"{'requests fed':>14} {'resident MB':>12}")
    step = max(1, len(samples) // 12)
    for count, mb in samples[::step] + samples[-1:]:
        print(f"{count:>14,} {mb:>12.1f}")
    later = [mb for count, mb in samples if count >= args.count // 10]
    if later:
        print(f"after the first tenth: min {min(later):.1f} MB, max {max(later):.1f} MB")


if __name__ == "__main__":
    main()
