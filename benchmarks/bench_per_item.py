"""What per-item outcomes cost Aputure's decision (issue 14: at most 10% slower).

    python benchmarks/bench_per_item.py [--count 2000] [--repeat 15]

Aputure decides nothing item by item, so it should pay (almost) nothing for the feature. This
checks out the commit before per-item outcomes came in (the parent of the first commit that made
`runtime/items.py`) in a temporary detached `git worktree`, and decides the same requests under
that commit's aputure.rpl with that code and with this one, in two processes taking turns
(`bench_decide.py --against`); the ratio is this code's best round over the older code's, in
processor time. The outputs of both must agree. The worktree is removed afterwards.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import bench_decide  # noqa: E402

TARGET = 1.10


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True).stdout.strip()


def before_per_item() -> str:
    """The commit before `runtime/items.py` first appeared: the parent of its first commit."""
    first = _git("log", "--format=%H", "--", "runtime/items.py").splitlines()[-1]
    return _git("rev-parse", f"{first}^")


def measure(count: int, repeat: int) -> dict:
    """{"base": commit, "this"/"before": {row: seconds}, "ratio": {row: this / before}}."""
    base = before_per_item()
    with tempfile.TemporaryDirectory() as folder:
        tree = Path(folder) / "before-per-item"
        _git("worktree", "add", "--detach", str(tree), base)
        try:
            # both decide the older aputure.rpl, which both read: the code differs, not the policy
            best = bench_decide.against(tree, count, repeat, tree / "policies" / "aputure.rpl")
        finally:
            _git("worktree", "remove", "--force", str(tree))
    return {"base": base, "this": best["this"], "before": best["against"],
            "ratio": {row: best["this"][row] / best["against"][row] for row in bench_decide.TREE_ROWS}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    result = measure(args.count, args.repeat)
    print(f"aputure decided by this code and by {result['base'][:10]} (before per-item outcomes), "
          f"{args.count} requests, best of {args.repeat} rounds taking turns; target ≤ {TARGET:.2f}x")
    for row, ratio in result["ratio"].items():
        print(f"  {row:20} {result['this'][row] * 1e6:8.2f} µs against {result['before'][row] * 1e6:8.2f} µs: "
              f"{ratio:.3f}x")


if __name__ == "__main__":
    main()
