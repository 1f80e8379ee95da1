"""The plain limit: `rpl eval --jsonl --outputs-only` against a script that decides without
validating (plain_aputure.py), and against the validating baseline script, in the same rounds.

    python benchmarks/bench_plain.py [--count 20000] [--repeat 5]

Each round runs the three commands once each over the same JSON lines (interleaved, so that a
busy spell of the shared machine hits all three); the best round of each is kept. Each command
is also run on an empty input, to tell its start-up from its time per line.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_cli import POLICY, _rpl  # noqa: E402


def commands(corpus: Path) -> dict:
    return {"plain script": [sys.executable, str(HERE / "plain_aputure.py")],
            "baseline script": [sys.executable, str(HERE / "baseline_aputure.py")],
            "rpl eval --jsonl --outputs-only": _rpl() + ["eval", str(POLICY), "--jsonl", "-",
                                                         "--outputs-only"]}


def _run(command: list[str], path: Path) -> float:
    with open(path) as stdin:
        start = time.perf_counter()
        subprocess.run(command, stdin=stdin, stdout=subprocess.DEVNULL, check=True)
        return time.perf_counter() - start


def measure(count: int = 20000, repeat: int = 5) -> dict:
    """{command: (best seconds over `count` lines, best seconds on an empty input)}."""
    with tempfile.TemporaryDirectory() as folder:
        corpus, empty = Path(folder) / "corpus.jsonl", Path(folder) / "empty.jsonl"
        empty.write_text("")
        with open(corpus, "w") as out:
            subprocess.run([sys.executable, str(HERE / "gen_corpus.py"), "--count", str(count),
                            "--seed", "1"], stdout=out, check=True)
        runs = commands(corpus)
        best = {name: [float("inf"), float("inf")] for name in runs}
        for _ in range(repeat):
            for name, command in runs.items():
                best[name][0] = min(best[name][0], _run(command, corpus))
                best[name][1] = min(best[name][1], _run(command, empty))
    return {"count": count, **{name: tuple(times) for name, times in best.items()}}


def ratios(result: dict) -> dict:
    """rpl's time over the plain script's and over the baseline's: whole runs, and per line
    (the empty-input run subtracted)."""
    rpl, plain, base = (result[k] for k in ("rpl eval --jsonl --outputs-only", "plain script",
                                            "baseline script"))
    return {"rpl / plain, whole run": rpl[0] / plain[0],
            "rpl / plain, per line": (rpl[0] - rpl[1]) / (plain[0] - plain[1]),
            "rpl / baseline, whole run": rpl[0] / base[0],
            "rpl / baseline, per line": (rpl[0] - rpl[1]) / (base[0] - base[1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    result = measure(args.count, args.repeat)
    for name, (seconds, start) in ((k, v) for k, v in result.items() if k != "count"):
        per_line = (seconds - start) / result["count"] * 1e6
        print(f"{name:34} {seconds:6.2f} s, start-up {start * 1000:4.0f} ms, {per_line:5.1f} µs a line")
    for name, value in ratios(result).items():
        print(f"{name:34} {value:.2f}x the time")


if __name__ == "__main__":
    main()
