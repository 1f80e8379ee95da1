"""rpl against peer rule engines on the Aputure decision: same answers first, then speed.

    pip install -e '.[bench]'
    nice python benchmarks/peers/run.py [--count 2000] [--seed 1] [--repeat 3] [--only NAME ...]

1. Every request of the corpus (benchmarks/gen_corpus.py), and every hand-written edge case in
   policies/aputure/requests/ (day 14/15, each refusal cause, fee rounding, free items, refund
   floored at 0, exchanges...), is decided by rpl and by every peer in both of its encodings
   (idiomatic and lean, engines.py); the outcome, the set of refusal reasons and, where the
   peer computes them, the refund, the restocking fee and the free-items deduction must equal
   rpl's. Any disagreement is printed with its request and the run stops (exit 1): a benchmark
   of wrong answers measures nothing.
2. Each engine is timed over the whole corpus, per decision, marshalling in and out included,
   through the fastest documented API of the peer (prepared once, named in the table). The
   rounds are interleaved (every function once per round, so a busy spell of the shared
   machine hits them all alike) and the best round of each is kept. The "floor" column is the
   same marshalling and engine call on a trivial policy (for rpl: request validation and
   conversion alone): what a decision costs before any rule of the policy runs. The peers'
   other documented calls are timed in the same rounds, on both encodings.

rpl is timed twice: `decide(dict).outputs_json()` on policies/aputure.rpl (the full decision:
seven outputs, the business-day calendar included) and `decide(dict).outcome` on
aputure_eligibility.rpl (outcome and refusal reasons only, what Cedar computes). Both include
rpl's strict validation of the request, which no peer does.
A peer that is not installed is reported and skipped.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections import Counter
from datetime import date
from importlib.metadata import version
from pathlib import Path
from typing import Callable, NamedTuple, Optional

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
ROOT = BENCH.parent
for path in (str(ROOT), str(BENCH), str(HERE)):
    if path not in sys.path:
        sys.path.insert(0, path)

import gen_corpus  # noqa: E402
from engines import ELIGIBILITY, FULL, PEERS, STYLES  # noqa: E402
from marshalling import REASONS  # noqa: E402
from rplang.runtime import load_policy  # noqa: E402

AMOUNTS = ("refund", "restocking_fee", "free_items_deduction")


class Row(NamedTuple):
    """One line of the table: an engine on one encoding, called one way."""
    name: str
    encoding: str
    api: str
    version: str
    computes: str
    decide: Callable
    floor: Optional[Callable]


def edge_cases() -> list:
    """The hand-written requests of policies/aputure/requests/ (day 14/15, each refusal...)."""
    return [json.loads(path.read_text())
            for path in sorted((ROOT / "policies" / "aputure" / "requests").glob("[0-9]*.json"))]


def rpl_answer(policy, request: dict) -> dict:
    """rpl's decision in the peers' terms (reasons: the refusal rules that applied)."""
    decision = policy.decide(request)
    outputs = decision.outputs_json()
    reasons = {a.rule.rule.name for a in decision.applied if a.rule.rule.outcome == "refuse"}
    return {"outcome": outputs["outcome"], "reasons": reasons,
            **{k: outputs[k] for k in AMOUNTS}}


def differences(expected: dict, got: dict, amounts: bool) -> list[str]:
    found = []
    if got["outcome"] != expected["outcome"]:
        found.append(f"outcome {got['outcome']!r}, rpl {expected['outcome']!r}")
    if set(got["reasons"]) != expected["reasons"]:
        found.append(f"reasons {sorted(got['reasons'])}, rpl {sorted(expected['reasons'])}")
    if amounts:
        found += [f"{k} {got[k]}, rpl {expected[k]}" for k in AMOUNTS if got[k] != expected[k]]
    return found


def verify(peers, full, eligibility, requests, what: str) -> None:
    expected = [rpl_answer(full, r) for r in requests]
    problems = []
    for request, want in zip(requests, expected):
        if eligibility.decide(request).outcome != want["outcome"]:
            problems.append(("rpl eligibility policy", ["outcome differs from the full policy"], request))
    for peer in peers:
        for request, want in zip(requests, expected):
            try:
                got = peer.decide(request)
            except Exception as error:  # an engine failing on a request is a disagreement too
                problems.append((peer.name, [f"{type(error).__name__}: {error}"], request))
                continue
            diff = differences(want, got, peer.computes == FULL)
            if diff:
                problems.append((peer.name, diff, request))
    if problems:
        print(f"DISAGREEMENT: {len(problems)} decision(s) differ from rplang; no timing is done.")
        shown = {}
        for name, diff, request in problems:
            shown[name] = shown.get(name, 0) + 1
            if shown[name] <= 3:
                print(f"- {name}: {'; '.join(diff)}\n  request: {json.dumps(request)}")
        for name, n in shown.items():
            print(f"  {name}: {n} disagreement(s)")
        raise SystemExit(1)
    outcomes = Counter(e["outcome"] for e in expected)
    reasons = Counter(reason for e in expected for reason in e["reasons"])
    print(f"verified on {len(requests)} {what}: every engine agrees with rpl "
          f"({', '.join(f'{n} {o}' for o, n in sorted(outcomes.items()))}; reasons: "
          f"{', '.join(f'{r} {reasons[r]}' for r in REASONS)})")


def timed(fn, items) -> float:
    """Seconds per item for one pass over `items`."""
    start = time.perf_counter()
    for x in items:
        fn(x)
    return (time.perf_counter() - start) / len(items)


SLOW_PASS = 5.0  # seconds: a function whose pass takes longer is not passed again


def best_of(measures: dict, items, repeat: int) -> dict:
    """Best-of-`repeat` seconds per item for each function, the rounds interleaved (every
    function once per round) so that a busy spell on the shared machine hits all of them alike.
    A function whose first pass took over SLOW_PASS seconds (a pure-Python engine at a few ms
    per decision, some 100x rpl) is timed on that one pass, to keep the run short."""
    result = dict.fromkeys(measures, float("inf"))
    for round_ in range(repeat):
        for key, fn in measures.items():
            if round_ and result[key] * len(items) > SLOW_PASS:
                continue
            result[key] = min(result[key], timed(fn, items))
    return result


def load_peers(only) -> list:
    """Every installed peer in both encodings (`only`: names containing one of these words)."""
    peers = []
    for cls in PEERS:
        if only and not any(word.lower() in cls.name.lower() for word in only):
            continue
        try:
            peers += [cls(style) for style in STYLES]
        except ImportError as error:
            print(f"skipped {cls.name}: not installed ({error}); pip install -e '.[bench]'")
    return peers


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="peers whose name contains one of these")
    args = parser.parse_args(argv)

    requests = [json.loads(line) for line in gen_corpus.generate_lines(args.count, args.seed)]
    full = load_policy(ROOT / "policies" / "aputure.rpl")
    eligibility = load_policy(HERE / "aputure_eligibility.rpl")
    peers = load_peers(args.only)
    verify(peers, full, eligibility, requests, f"corpus requests (seed {args.seed})")
    verify(peers, full, eligibility, edge_cases(), "edge cases of policies/aputure/requests/")

    rpl_version = version("rplang")
    rows = [Row("rpl full", "policies/aputure.rpl", "load_policy once; decide(dict).outputs_json()",
                rpl_version, "all 7 outputs", lambda r: full.decide(r).outputs_json(), full.read_request),
            Row("rpl eligibility", "aputure_eligibility.rpl", "load_policy once; decide(dict).outcome",
                rpl_version, ELIGIBILITY, lambda r: eligibility.decide(r).outcome, eligibility.read_request)]
    rows += [Row(peer.name, f"{peer.style}: {peer.encoding}", peer.api, peer.version, peer.computes,
                 peer.decide, peer.floor()) for peer in peers]
    others = [(peer.name, api, fn, len(rows) - len(peers) + index)
              for index, peer in enumerate(peers) for api, fn in peer.other_apis().items()]
    measures = {}
    for index, row in enumerate(rows):
        measures[index, "decide"] = row.decide
        if row.floor is not None:
            measures[index, "floor"] = row.floor
    for index, (_, api, fn, _) in enumerate(others):
        measures[index, "other"] = fn
    seconds = best_of(measures, requests, args.repeat)

    rpl = {FULL: seconds[0, "decide"], ELIGIBILITY: seconds[1, "decide"]}
    scope = lambda row: FULL if row.computes in (FULL, "all 7 outputs") else ELIGIBILITY  # noqa: E731
    print(f"\n{args.count} requests (gen_corpus seed {args.seed}), rounds interleaved, best of "
          f"{args.repeat}, Python {platform.python_version()}, {date.today()}, "
          f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())} at the end")
    print("\n| engine | version | encoding | API: prepared once; the call timed | computes "
          "| µs/decision | × rpl, same scope | floor µs |")
    print("|---|---|---|---|---|---:|---:|---:|")
    for index, row in enumerate(rows):
        floor = seconds.get((index, "floor"))
        print(f"| {row.name} | {row.version} | {row.encoding} | `{row.api}` | {row.computes} "
              f"| {seconds[index, 'decide'] * 1e6:.1f} | {seconds[index, 'decide'] / rpl[scope(row)]:.2f}× "
              f"| {'' if floor is None else f'{floor * 1e6:.1f}'} |")
    print("\nfloor: rpl: read_request (validate and convert) alone; a peer: the same marshalling "
          "in and the same call, on a trivial policy. × rpl: against rpl full for a peer computing "
          "the amounts, against rpl eligibility for one that does not (Cedar).")
    if others:
        print("\nOther documented calls, in the same rounds:\n")
        print("| engine | encoding | call | µs/decision | × the API above, same encoding |")
        print("|---|---|---|---:|---:|")
        for index, (name, api, _, row) in enumerate(others):
            print(f"| {name} | {rows[row].encoding} | `{api}` | {seconds[index, 'other'] * 1e6:.1f} "
                  f"| {seconds[index, 'other'] / seconds[row, 'decide']:.2f}× |")
    print("\nEach peer at its best (the fastest of its encodings and calls above) against rpl at "
          "the same scope:\n")
    print("| engine | its fastest: encoding, call | µs/decision | rpl µs | peer's time ÷ rpl's |")
    print("|---|---|---:|---:|---:|")
    faster = []
    for name in dict.fromkeys(row.name for row in rows[2:]):
        tried = [(seconds[i, "decide"], f"{row.encoding}, `{row.api}`", rpl[scope(row)])
                 for i, row in enumerate(rows) if row.name == name]
        tried += [(seconds[i, "other"], f"{rows[row].encoding}, `{api}`", rpl[scope(rows[row])])
                  for i, (other, api, _, row) in enumerate(others) if other == name]
        best, how, mine = min(tried)
        print(f"| {name} | {how} | {best * 1e6:.1f} | {mine * 1e6:.1f} | {best / mine:.2f}× |")
        if best < mine:
            faster.append(f"{name} ({mine / best:.2f}× rpl's speed: {how})")
    if faster:
        print(f"\nFASTER than rpl at the same scope: {', '.join(faster)}")
    else:
        print("\nrpl is faster per decision than every peer at its best, at the same scope "
              "(full decision vs peers computing amounts; eligibility vs Cedar)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
