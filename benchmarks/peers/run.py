"""rpl against peer rule engines on the Aputure decision: same answers first, then speed.

    pip install -e '.[bench]'
    nice python benchmarks/peers/run.py [--count 2000] [--seed 1] [--repeat 3] [--only NAME ...]

1. Every request of the corpus (benchmarks/gen_corpus.py) is decided by rpl and by every peer;
   the outcome, the set of refusal reasons and, where the peer computes them, the refund, the
   restocking fee and the free-items deduction must equal rpl's. Any disagreement is printed
   with its request and the run stops (exit 1): a benchmark of wrong answers measures nothing.
2. Each engine is timed over the whole corpus, best of --repeat runs (the least disturbed run
   on a shared machine), per decision, marshalling in and out included.

rpl is timed twice: `decide(dict).outputs_json()` on policies/aputure.rpl (the full decision:
seven outputs, the business-day calendar included) and `decide(dict).outcome` on
aputure_eligibility.rpl (outcome and refusal reasons only, what Cedar computes). Both include
rpl's strict validation of the request, which no peer does.
A peer that is not installed is reported and skipped.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from datetime import date
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
ROOT = BENCH.parent
for path in (str(ROOT), str(BENCH), str(HERE)):
    if path not in sys.path:
        sys.path.insert(0, path)

import gen_corpus  # noqa: E402
from engines import FULL, PEERS  # noqa: E402
from runtime import load_policy  # noqa: E402

AMOUNTS = ("refund", "restocking_fee", "free_items_deduction")
REFUSING = {"window", "proof", "misuse", "external_damage", "tampering", "condition"}


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


def verify(peers, full, eligibility, requests) -> None:
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
        print(f"DISAGREEMENT: {len(problems)} decision(s) differ from rpl; no timing is done.")
        shown = {}
        for name, diff, request in problems:
            shown[name] = shown.get(name, 0) + 1
            if shown[name] <= 3:
                print(f"- {name}: {'; '.join(diff)}\n  request: {json.dumps(request)}")
        for name, n in shown.items():
            print(f"  {name}: {n} disagreement(s)")
        raise SystemExit(1)
    refused = sum(1 for e in expected if e["outcome"] == "refuse")
    with_fee = sum(1 for e in expected if e["outcome"] == "approve_with_fee")
    print(f"verified: {len(requests)} requests ({refused} refused, {with_fee} approved with a fee), "
          f"every engine agrees with rpl")


def best(fn, items, repeat: int) -> float:
    """Best-of-`repeat` seconds per item."""
    result = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for x in items:
            fn(x)
        result = min(result, time.perf_counter() - start)
    return result / len(items)


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

    peers = []
    for cls in PEERS:
        if args.only and not any(word.lower() in cls.name.lower() for word in args.only):
            continue
        try:
            peers.append(cls())
        except ImportError as error:
            print(f"skipped {cls.name}: not installed ({error}); pip install -e '.[bench]'")
    verify(peers, full, eligibility, requests)

    rows = [("rpl full: decide(dict).outputs_json()", version("rpl"), "all 7 outputs",
             best(lambda r: full.decide(r).outputs_json(), requests, args.repeat)),
            ("rpl eligibility: decide(dict).outcome", version("rpl"), "outcome + reasons",
             best(lambda r: eligibility.decide(r).outcome, requests, args.repeat))]
    for peer in peers:
        rows.append((peer.name, peer.version, peer.computes, best(peer.decide, requests, args.repeat)))

    rpl_full, rpl_elig = rows[0][3], rows[1][3]
    print(f"\n{args.count} requests (gen_corpus seed {args.seed}), best of {args.repeat}, "
          f"Python {platform.python_version()}, {date.today()}")
    print("| engine | version | computes | µs/decision | decisions/s | ÷ rpl full | ÷ rpl eligibility |")
    print("|---|---|---|---:|---:|---:|---:|")
    for name, ver, computes, seconds in rows:
        print(f"| {name} | {ver} | {computes} | {seconds * 1e6:.1f} | {1 / seconds:,.0f} "
              f"| {seconds / rpl_full:.2f}× | {seconds / rpl_elig:.2f}× |")
    faster = [name for name, _, computes, s in rows[2:]
              if s < (rpl_full if computes == FULL else rpl_elig)]
    if faster:
        print(f"\nfaster than rpl at the same scope: {', '.join(faster)}")
    else:
        print("\nrpl is faster per decision than every peer at the same scope")
    return 0


if __name__ == "__main__":
    sys.exit(main())
