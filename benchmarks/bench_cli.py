"""The command line: cold start of `rpl eval` and `rpl --help`, and `rpl eval --jsonl` throughput.

    python benchmarks/bench_cli.py [--count 20000] [--rounds 5] [--start-rounds 15] [--jobs-count 100000]
    python benchmarks/bench_cli.py --against TREE [--start-rounds 15]   # against a checkout: cold start,
                                                                         # and --jsonl with explanations

Every command runs as its own process, the commands taking turns round after round (as hyperfine
does one command at a time, but interleaved, so that a busy spell of this shared machine falls
on all of them alike). Each is reported by its best wall-clock time and by its best processor
time (user + system, its worker processes included, from `wait4`), which moves less with the
machine's other loads.

`--jobs 2` is compared with `--jobs 1` over `--count` lines and again over `--jobs-count` lines,
the steady state: the fixed start-up (imports, the policy, the holiday calendar: ~0.2 s in one
process) is not parallel work, and over 20,000 lines (~1 s) it alone caps the possible ratio
near 1.7x.

Throughput is compared with a hand-written script that reads the same JSON lines, decides them
with the baseline and writes JSON lines (`python benchmarks/baseline_aputure.py < FILE`).
The cold start is compared with the interpreter's own start (`python -c pass`).

Python caches compiled modules (`__pycache__`) as any installed package has them: the variable
PYTHONDONTWRITEBYTECODE is removed from the commands' environment, and each command runs once
before the timed rounds.
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


def _environment(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra)
    return env


def run_once(command: list[str], stdin: Path | None = None, env=None) -> tuple[float, float]:
    """(wall seconds, processor seconds) of one run, its child processes included."""
    with open(stdin, "rb") if stdin is not None else open(os.devnull, "rb") as source:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdin=source, stdout=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 2):  # 2: some line refused, which the corpus does on purpose
        raise SystemExit(f"{' '.join(map(str, command))} failed with exit code {process.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def interleaved(commands: dict, rounds: int, env=None) -> dict[str, dict[str, float]]:
    """Each command `rounds` times, taking turns; best wall and best processor time of each."""
    for command, stdin in commands.values():  # once untimed: bytecode and policy caches filled
        run_once(command, stdin, env)
    best = {name: {"wall": float("inf"), "cpu": float("inf")} for name in commands}
    for _ in range(rounds):
        for name, (command, stdin) in commands.items():
            wall, cpu = run_once(command, stdin, env)
            best[name]["wall"] = min(best[name]["wall"], wall)
            best[name]["cpu"] = min(best[name]["cpu"], cpu)
    return best


def cold_start(rounds: int = 15) -> dict:
    """`rpl eval POLICY REQUEST` with the compiled policy cached, `rpl --help`, and the bare
    interpreter, taking turns; and the first run after an edit (an empty cache)."""
    with tempfile.TemporaryDirectory() as cache:
        env = _environment(RPL_CACHE_DIR=cache)
        first = run_once(_rpl() + ["eval", str(POLICY), str(REQUEST)], env=env)
        best = interleaved({
            "python -c pass": ([sys.executable, "-c", "pass"], None),
            "rpl --help": (_rpl() + ["--help"], None),
            "rpl eval (cached)": (_rpl() + ["eval", str(POLICY), str(REQUEST)], None),
        }, rounds, env)
    best["rpl eval (first run after an edit)"] = {"wall": first[0], "cpu": first[1]}
    return best


# `rpl ARGS` run from a checkout (argv[1]) rather than the installed package, as
# bench_decide.py's `--against` imports it: the checkout's `rplang/` is the namespace root and its
# `policy_lang/`, `compiler/`, `runtime/` folders the subpackages (pyproject's package-dir).
_FROM_TREE = """import importlib.util, sys
tree = sys.argv[1]
spec = importlib.util.spec_from_file_location("rplang", tree + "/rplang/__init__.py",
                                              submodule_search_locations=[tree + "/rplang", tree])
module = importlib.util.module_from_spec(spec)
sys.modules["rplang"] = module
spec.loader.exec_module(module)
from rplang.cli import main
main(sys.argv[2:])
"""


def cold_start_against(tree: Path, rounds: int = 15) -> dict:
    """`rpl eval` and `rpl --help` of this checkout and of `tree` (say the commit before a change,
    from `git worktree add --detach TREE BASE`), both run from their sources, taking turns."""
    commands = {}
    for name, code in (("this", ROOT), ("against", tree.resolve())):
        run = [sys.executable, "-c", _FROM_TREE, str(code)]
        commands[f"rpl --help ({name})"] = (run + ["--help"], None)
        commands[f"rpl eval (cached) ({name})"] = (run + ["eval", str(POLICY), str(REQUEST)], None)
    with tempfile.TemporaryDirectory() as cache:
        return interleaved(commands, rounds, _environment(RPL_CACHE_DIR=cache))


def _corpus(folder: Path, count: int) -> Path:
    """`count` generated Aputure requests as JSON lines in `folder`."""
    corpus = folder / "corpus.jsonl"
    with open(corpus, "w") as out:
        subprocess.run([sys.executable, str(HERE / "gen_corpus.py"), "--count", str(count), "--seed", "1"],
                       stdout=out, check=True)
    return corpus


def throughput_against(tree: Path, count: int, rounds: int = 5) -> dict:
    """`rpl eval --jsonl` with explanations of this checkout and of `tree`, both run from their
    sources, and the baseline script, taking turns over the same `count` lines."""
    with tempfile.TemporaryDirectory() as folder:
        corpus = _corpus(Path(folder), count)
        commands = {"baseline script": ([sys.executable, str(HERE / "baseline_aputure.py")], corpus)}
        for name, code in (("this", ROOT), ("against", tree.resolve())):
            commands[f"rpl eval --jsonl ({name})"] = (
                [sys.executable, "-c", _FROM_TREE, str(code), "eval", str(POLICY), "--jsonl", "-"], corpus)
        return interleaved(commands, rounds, _environment(RPL_CACHE_DIR=folder))


def throughput(count: int, rounds: int = 5, only_jobs: bool = False) -> dict:
    """The baseline script and `rpl eval --jsonl` in its forms over the same `count` lines of a
    file redirected to stdin; `only_jobs`: `rpl eval --jsonl` with and without `--jobs 2` alone."""
    with tempfile.TemporaryDirectory() as folder:
        corpus = _corpus(Path(folder), count)
        eval_ = _rpl() + ["eval", str(POLICY), "--jsonl", "-"]
        commands = {
            "baseline script": ([sys.executable, str(HERE / "baseline_aputure.py")], corpus),
            "rpl eval --jsonl": (eval_, corpus),
            "rpl eval --jsonl --outputs-only": (eval_ + ["--outputs-only"], corpus),
            "rpl eval --jsonl --jobs 2": (eval_ + ["--jobs", "2"], corpus),
        }
        if only_jobs:
            commands = {name: command for name, command in commands.items() if name.endswith(("--jsonl", "2"))}
        best = interleaved(commands, rounds, _environment(RPL_CACHE_DIR=folder))
    best["count"] = count
    return best


def jobs_ratio(stream: dict) -> tuple[float, float]:
    """`--jobs 2` over `--jobs 1`: (throughput by the clock, processor time of one over two)."""
    one, two = stream["rpl eval --jsonl"], stream["rpl eval --jsonl --jobs 2"]
    return one["wall"] / two["wall"], one["cpu"] / two["cpu"]


def ratios(start: dict, stream: dict) -> dict[str, tuple[float, float]]:
    """The targets' ratios, (wall, processor): throughputs as the baseline's time over rpl's."""
    def over(a: dict, b: dict) -> tuple[float, float]:
        return a["wall"] / b["wall"], a["cpu"] / b["cpu"]

    base, full = stream["baseline script"], stream["rpl eval --jsonl"]
    return {
        "`rpl eval --jsonl` with explanations, throughput over the baseline script's (≥ 0.8x)": over(base, full),
        "`rpl eval --jsonl --outputs-only`, over the baseline script's": over(base, stream["rpl eval --jsonl --outputs-only"]),
        "`--jobs 2` over `--jobs 1`, with explanations (≥ 1.7x by the clock; by processor time 1.0 means no work added)": jobs_ratio(stream),
        "cold start `rpl eval` over the interpreter's own start": over(start["rpl eval (cached)"], start["python -c pass"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--start-rounds", type=int, default=15)
    parser.add_argument("--jobs-count", type=int, default=100_000, help="lines of the longer --jobs run (0: none)")
    parser.add_argument("--against", type=Path, help="this checkout against another one: cold start and explained --jsonl")
    args = parser.parse_args()
    if args.against is not None:
        best = cold_start_against(args.against, args.start_rounds)
        print(f"cold start from the sources, best of {args.start_rounds} rounds taking turns")
        for name, b in best.items():
            print(f"  {name:32} {b['wall'] * 1000:7.0f} ms wall {b['cpu'] * 1000:7.0f} ms processor")
        for command in ("rpl --help", "rpl eval (cached)"):
            this, other = best[f"{command} (this)"], best[f"{command} (against)"]
            print(f"{command}: this / against = {this['wall'] / other['wall']:.2f}x by the clock, "
                  f"{this['cpu'] / other['cpu']:.2f}x by processor time")
        stream = throughput_against(args.against, args.count, args.rounds)
        print(f"{args.count:,} lines with explanations, best of {args.rounds} rounds taking turns")
        base = stream["baseline script"]
        for name, b in stream.items():
            print(f"  {name:32} {b['wall']:6.2f} s wall {b['cpu']:6.2f} s processor; throughput over the "
                  f"baseline script's {base['wall'] / b['wall']:.2f}x by the clock, {base['cpu'] / b['cpu']:.2f}x "
                  f"by processor time")
        return
    start = cold_start(args.start_rounds)
    print(f"cold start, best of {args.start_rounds} rounds taking turns (target: rpl eval < 150 ms)")
    for name, best in start.items():
        print(f"  {name:38} {best['wall'] * 1000:7.0f} ms wall {best['cpu'] * 1000:7.0f} ms processor")
    stream = throughput(args.count, args.rounds)
    print(f"{args.count:,} lines, best of {args.rounds} rounds taking turns")
    for name, best in ((k, v) for k, v in stream.items() if k != "count"):
        print(f"  {name:38} {best['wall']:6.2f} s wall {best['cpu']:6.2f} s processor "
              f"{args.count / best['wall']:9,.0f} lines/s")
    for name, (wall, cpu) in ratios(start, stream).items():
        print(f"{name}: {wall:.2f}x by the clock, {cpu:.2f}x by processor time")
    if args.jobs_count:
        longer = throughput(args.jobs_count, args.rounds, only_jobs=True)
        print(f"{args.jobs_count:,} lines, best of {args.rounds} rounds taking turns")
        for name, best in ((k, v) for k, v in longer.items() if k != "count"):
            print(f"  {name:38} {best['wall']:6.2f} s wall {best['cpu']:6.2f} s processor")
        wall, cpu = jobs_ratio(longer)
        print(f"`--jobs 2` over `--jobs 1` over {args.jobs_count:,} lines: {wall:.2f}x by the clock, "
              f"{cpu:.2f}x by processor time (load average {', '.join(f'{x:.2f}' for x in os.getloadavg())})")


if __name__ == "__main__":
    main()
