"""Deciding aputure: rpl against the hand-written baseline, as ratios measured in the same run.

    python benchmarks/bench_decide.py [--count 2000] [--repeat 5]
    python benchmarks/bench_decide.py --against ../rpl-base [--count 2000] [--repeat 15]

Every request is first decided by both and the outputs compared: a benchmark of wrong answers
measures nothing. Times are processor time (`time.process_time`), best round of each row.

`--against TREE` compares this code with another checkout of the repository (say the commit
before a change, from `git worktree add ../rpl-base BASE`): each tree decides the same requests in
a process of its own, the two taking turns round after round, and the ratio of their best rounds
is printed; the outputs of both must agree. From the command line it also times `rpl serve`'s single decision (the
request `bench_serve.py` sends) stage by stage over new decisions, reading the body
(`line_request`), deciding, and the explanation as JSON text (`to_json_bytes`), and the same with
8 MB written between two requests, which empties the processor's caches as the server's other
work does (more than it does: read those rows as a bound); the explanations of both must agree
byte for byte.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _module(name: str):
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _best(rows: dict, repeat: int, clock=time.perf_counter) -> dict:
    """Best-of-`repeat` seconds per item of each (fn, items) row: the least disturbed run on a
    shared machine. The rows take turns, round after round, so that a busy spell of the machine
    falls on all of them alike rather than on the one measured then."""
    best = dict.fromkeys(rows, float("inf"))
    for _ in range(repeat):
        for name, (fn, items) in rows.items():
            start = clock()
            for x in items:
                fn(x)
            best[name] = min(best[name], (clock() - start) / len(items))
    return best


def measure(count: int, repeat: int) -> dict:
    sys.path.insert(0, str(ROOT))
    import orjson

    from rplang.runtime import load_policy

    baseline = _module("baseline_aputure")
    corpus = _module("gen_corpus")
    requests = [json.loads(line) for line in corpus.generate_lines(count, 1)]
    policy = load_policy(ROOT / "policies" / "aputure.rpl")

    for r in requests:
        if policy.decide(r).outputs_json() != baseline.decide_request(r):
            raise SystemExit(f"rpl and the baseline disagree on {json.dumps(r)}")
    parsed_base = [baseline.parse(r) for r in requests]
    parsed_rpl = [policy.read_request(r) for r in requests]

    # processor time: on a shared machine, the time spent waiting for a core is not the code's
    return _best({
        "baseline: parse + decide": (baseline.decide_request, requests),
        "baseline: decide (parsed)": (baseline.decide, parsed_base),
        "rpl: decide from dict": (lambda r: policy.decide(r).outputs_json(), requests),
        "rpl: decide (validated)": (lambda r: policy.decide_checked(r).outputs_json(), parsed_rpl),
        "rpl: decide + explanation": (lambda r: policy.decide(r).to_json(), requests),
        # what `rpl eval --jsonl` writes, with and without the explanation
        "rpl: outputs as JSON bytes": (lambda r: orjson.dumps({"outputs": policy.decide(r).outputs_json()}), requests),
        "rpl: explanation as JSON bytes": (lambda r: policy.decide(r).to_json_bytes(), requests),
    }, repeat, time.process_time)


# ---- this code against another checkout of it, in the same run ----------------------------------

TREE_ROWS = ("decide from dict", "decide (validated)", "decide + explanation")
# `rpl serve`'s single decision (bench_serve.py's request, as it is sent), stage by stage over new
# decisions: reading the body, deciding, the explanation as JSON text; and the same with the
# processor's caches emptied between two requests (CACHE_BYTES written), as uvicorn, the kernel
# and wrk leave them in the server
STAGES = ("read", "decide", "explain")
STAGE_ROWS = tuple(f"{stage}{flushed}" for flushed in ("", ", caches emptied") for stage in STAGES + ("all three",))
# with `stages` (code that writes JSON bytes: not bench_per_item.py's older tree)
SERVED_ROWS = ("decide + JSON bytes", "the served request, new decisions:") + STAGE_ROWS
SERVE_REQUEST = ROOT / "policies" / "aputure" / "requests" / "00-semantics-example.json"
CACHE_BYTES = 8 << 20
FLUSHED_SHARE = 8  # the caches emptied for one request in this many: each emptying takes ~1 ms


def _import_tree(tree: Path):
    """`rplang` from a checkout, not installed: its `rplang/` is the namespace root and its
    `policy_lang/`, `compiler/`, `runtime/` folders are the subpackages (pyproject's package-dir)."""
    spec = importlib.util.spec_from_file_location("rplang", tree / "rplang" / "__init__.py",
                                                  submodule_search_locations=[str(tree / "rplang"), str(tree)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["rplang"] = module
    spec.loader.exec_module(module)
    from rplang.runtime import load_policy

    return load_policy


def worker(tree: Path, count: int, policy_file: Path | None = None, stages: bool = False) -> None:
    """Decide the corpus with the code of `tree`, one timed round per `go` read on stdin."""
    import os

    os.environ["RPL_NO_CACHE"] = "1"
    load_policy = _import_tree(tree)
    corpus = _module("gen_corpus")
    requests = [json.loads(line) for line in corpus.generate_lines(count, 1)]
    # by default the tree's own aputure.rpl: older code may not read what the language has since
    # gained (the outputs of both trees are compared before anything is timed)
    policy = load_policy(policy_file or tree / "policies" / "aputure.rpl")
    outputs = [policy.decide(r).outputs_json() for r in requests]
    parsed = [policy.read_request(r) for r in requests]
    rows = {"decide from dict": (lambda r: policy.decide(r).outputs_json(), requests),
            "decide (validated)": (lambda r: policy.decide_checked(r).outputs_json(), parsed),
            "decide + explanation": (lambda r: policy.decide(r).to_json(), requests)}
    first = {"outputs": outputs}
    if stages:
        from rplang.stream import line_request

        rows["decide + JSON bytes"] = (lambda r: policy.decide(r).to_json_bytes(), requests)
        body = SERVE_REQUEST.read_bytes()
        first["served"] = policy.decide(line_request(body)).to_json_bytes().decode()
    print(json.dumps(first), flush=True)
    for _ in sys.stdin:  # processor time: waiting for a core, on a shared machine, is not counted
        best = _best(rows, 1, time.process_time)
        if stages:
            best.update(_stages(policy, line_request, body, count))
        print(json.dumps(best), flush=True)


def _stages(policy, line_request, body: bytes, count: int) -> dict[str, float]:
    """Processor seconds a request of each stage of a single decision, each decision new (read
    from the body, decided and explained once), and again with the caches emptied before each."""
    clock = time.process_time_ns
    filler, written = bytes(CACHE_BYTES), bytearray(CACHE_BYTES)
    result = {}
    for flushed, n in (("", count), (", caches emptied", max(1, count // FLUSHED_SHARE))):
        spent = [0, 0, 0]
        for _ in range(n):
            if flushed:
                written[:] = filler
            start = clock()
            request = line_request(body)
            read = clock()
            decision = policy.decide(request)
            decided = clock()
            decision.to_json_bytes()
            explained = clock()
            spent[0] += read - start
            spent[1] += decided - read
            spent[2] += explained - decided
        for stage, ns in zip(STAGES + ("all three",), spent + [sum(spent)]):
            result[stage + flushed] = ns / n / 1e9
    return result


def against(tree: Path, count: int, repeat: int, policy_file: Path | None = None,
            stages: bool = False) -> dict[str, dict[str, float]]:
    """Best processor seconds per decision of each row, for "this" code and the code "against",
    taking turns; both decide `policy_file` if given, else each its own aputure.rpl."""
    import subprocess

    here = Path(__file__).resolve()
    workers = {}
    for name, code in (("this", ROOT), ("against", tree.resolve())):
        workers[name] = subprocess.Popen(
            [sys.executable, str(here), "--worker", str(code), "--count", str(count)]
            + (["--policy", str(policy_file)] if policy_file is not None else [])
            + (["--stages"] if stages else []),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    first = {name: json.loads(w.stdout.readline()) for name, w in workers.items()}
    if first["this"] != first["against"]:
        raise SystemExit("the two trees decide the corpus, or explain the served request, differently")
    rows = TREE_ROWS + (("decide + JSON bytes",) + STAGE_ROWS if stages else ())
    best = {name: dict.fromkeys(rows, float("inf")) for name in workers}
    for turn in range(repeat):  # turns, first one then the other first: a busy spell falls on both alike
        for name, w in (list(workers.items()) if turn % 2 == 0 else list(workers.items())[::-1]):
            w.stdin.write("go\n")
            w.stdin.flush()
            for row, seconds in json.loads(w.stdout.readline()).items():
                best[name][row] = min(best[name][row], seconds)
    for w in workers.values():
        w.stdin.close()
        w.wait(timeout=60)
    return best


def print_against(best: dict, count: int, repeat: int) -> None:
    print(f"aputure, {count} requests, best of {repeat} rounds each, taking turns")
    print(f"{'measure':32} {'this µs':>9} {'against µs':>11} {'ratio':>7}")
    for row in TREE_ROWS + SERVED_ROWS:
        if row not in best["this"]:
            if row.endswith(":") and STAGE_ROWS[0] in best["this"]:
                print(row)
            continue
        a, b = best["this"][row], best["against"][row]
        print(f"{row:32} {a * 1e6:9.2f} {b * 1e6:11.2f} {a / b:6.3f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--against", type=Path, help="another checkout of the repository to compare with")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--policy", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--stages", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        return worker(args.worker, args.count, args.policy, args.stages)
    if args.against is not None:
        return print_against(against(args.against, args.count, args.repeat, stages=True), args.count, args.repeat)
    rows = measure(args.count, args.repeat)
    base_full = rows["baseline: parse + decide"]
    base_decide = rows["baseline: decide (parsed)"]
    ratios = {
        "rpl: decide from dict": (base_full, 2.0),
        "rpl: decide (validated)": (base_decide, 1.5),
        "rpl: decide + explanation": (base_full, 3.0),
    }
    explained = rows["rpl: decide + explanation"] / rows["rpl: decide from dict"]
    print(f"{'measure':30} {'µs/decision':>12} {'ratio':>7} {'target':>7}")
    for name, seconds in rows.items():
        ref = ratios.get(name)
        ratio = f"{seconds / ref[0]:.2f}x" if ref else ""
        target = f"≤{ref[1]}x" if ref else ""
        print(f"{name:30} {seconds * 1e6:12.2f} {ratio:>7} {target:>7}")
    print(f"the full explanation over the outputs only (both from a request dict): {explained:.2f}x (target ≤ 1.5x)")
    as_bytes = rows["rpl: explanation as JSON bytes"] / rows["rpl: outputs as JSON bytes"]
    print(f"as JSON bytes, as `rpl eval --jsonl` writes them (to_json_bytes over the outputs' orjson.dumps): "
          f"{as_bytes:.2f}x")


if __name__ == "__main__":
    main()
