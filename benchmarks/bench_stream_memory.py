"""Memory while `rpl eval --jsonl` decides a long stream: it must stay flat.

    python benchmarks/bench_stream_memory.py [--count 1000000]

Requests are generated on the fly into the command's stdin (nothing is held in memory or on
disk); the command's resident memory is sampled as it goes.
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
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def main() -> None:
    import gen_corpus

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    args = parser.parse_args()
    rpl = shutil.which("rpl", path=str(Path(sys.executable).parent)) or "rpl"
    process = subprocess.Popen([rpl, "eval", str(HERE.parent / "policies" / "aputure.rpl"), "--jsonl", "-"],
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
