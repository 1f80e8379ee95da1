"""Long fuzzing runs, seeded, with counts and times: the robustness tests at scale.

    nice python benchmarks/fuzz.py differential --cases 100000
    nice python benchmarks/fuzz.py all --cases 100000 --seed 1

- differential: random well-typed policies and valid requests; the compiled runtime and the
  reference interpreter must agree (outcome, outputs, determining rules), or both refuse.
- explain: the same, explaining every decision (patterns of open explanation bugs left out).
- parser: random bytes, unicode, token soup and mutated policies; only located PolicyErrors.
- requests: broken Aputure requests; a RequestError, or the decision the oracle makes.
- values: random policies; their requests with a random JSON value somewhere: an rpl error or
  a decision, never a traceback.
- aputure: realistic Aputure requests against the oracle and the reference.

The first failure stops the run and prints how to reproduce it. `pytest -m fuzz` runs the same
checks (RPL_FUZZ_CASES cases each).
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.robustness.differential import Tally, compare  # noqa: E402
from tests.robustness.fuzzing import compile_or_refuse, decide_or_refuse, random_policy_text  # noqa: E402
from tests.robustness.policygen import RandomChooser, generate  # noqa: E402


def _progress(name: str, done: int, total: int, start: float) -> None:
    if done % max(1, total // 20) == 0:
        print(f"  {name}: {done:,}/{total:,} in {time.monotonic() - start:.0f} s", file=sys.stderr, flush=True)


def differential(cases: int, seed: int, explain: bool = False) -> str:
    tally, start, n = Tally(), time.monotonic(), seed
    while tally.cases < cases:
        policy, requests = generate(RandomChooser(random.Random(n)), explainable=explain)
        batch = [requests.request() for _ in range(10)]
        try:
            compare(policy.text, batch, tally, explain=explain)
        except Exception:
            traceback.print_exc()
            print(f"\nreproduce: generate(RandomChooser(random.Random({n})), explainable={explain})\n"
                  f"--- policy ---\n{policy.text}--- requests ---\n{json.dumps(batch, indent=1)}")
            raise SystemExit(1)
        n += 1
        if (n - seed) % 1000 == 0:
            print(f"  differential: {tally.cases:,}/{cases:,} in {time.monotonic() - start:.0f} s",
                  file=sys.stderr, flush=True)
    return (f"{tally.cases:,} cases ({tally.decided:,} decided alike, {tally.errors:,} refused alike) over "
            f"{tally.policies:,} random policies ({tally.rejected:,} refused by the checker)")


def parser(cases: int, seed: int) -> str:
    rng, start, compiled = random.Random(seed), time.monotonic(), 0
    for done in range(cases):
        text = random_policy_text(rng)
        try:
            compiled += compile_or_refuse(text) is not None
        except Exception:
            traceback.print_exc()
            print(f"\nreproduce: --- policy text ---\n{text!r}")
            raise SystemExit(1)
        _progress("parser", done + 1, cases, start)
    from tests.robustness.fuzzing import known_crashes

    known = known_crashes["count"]
    return (f"{cases:,} policy texts ({compiled:,} compiled, {cases - compiled - known:,} refused, each "
            f"located{f'; {known:,} hit a known bug (test_known_bugs.py)' if known else ''})")


def requests(cases: int, seed: int) -> str:
    from rplang.runtime import load_policy
    from tests.robustness.test_fuzz_requests import _agrees_with_the_oracle, broken_request_stream

    policy = load_policy(ROOT / "policies" / "aputure.rpl")
    counts, start = {"decided": 0, "refused": 0, "oracle": 0}, time.monotonic()
    for done, request in enumerate(broken_request_stream(cases, seed)):
        try:
            outcome = decide_or_refuse(policy, request)
            if outcome == "decided":
                counts["oracle"] += _agrees_with_the_oracle(policy, request)
        except Exception:
            traceback.print_exc()
            print(f"\nreproduce: --- request ---\n{json.dumps(request, default=repr)[:5000]}")
            raise SystemExit(1)
        counts[outcome] += 1
        _progress("requests", done + 1, cases, start)
    return (f"{cases:,} broken requests ({counts['refused']:,} refused with a request error, "
            f"{counts['decided']:,} decided, {counts['oracle']:,} of them also by the oracle, alike)")


def values(cases: int, seed: int) -> str:
    """Random policies, their valid requests with one field given a random JSON value."""
    from rplang.runtime import load_policy_text
    from rplang.policy_lang.errors import PolicyError
    from tests.robustness.test_fuzz_requests import _at, paths, random_json

    rng, done, counts, n = random.Random(seed), 0, {"decided": 0, "refused": 0}, seed
    while done < cases:
        policy, requests = generate(RandomChooser(random.Random(n)))
        n += 1
        try:
            compiled = load_policy_text(policy.text)
        except PolicyError:
            continue
        for _ in range(10):
            request = requests.request()
            places = list(paths(request))
            if places:
                where, key = rng.choice(places)
                _at(request, where)[key] = random_json(rng)
            try:
                counts[decide_or_refuse(compiled, request)] += 1
            except Exception:
                traceback.print_exc()
                print(f"\nreproduce: --- policy ---\n{policy.text}--- request ---\n"
                      f"{json.dumps(request, default=repr)[:5000]}")
                raise SystemExit(1)
            done += 1
    return (f"{done:,} requests with a random value somewhere, over {n - seed:,} random policies "
            f"({counts['refused']:,} refused with an rpl error, {counts['decided']:,} decided)")


def aputure(cases: int, seed: int) -> str:
    from rplang.runtime import load_policy
    from rplang.runtime.reference import decide as reference_decide
    from tests.robustness.test_aputure_properties import baseline, gen_corpus

    policy = load_policy(ROOT / "policies" / "aputure.rpl")
    start = time.monotonic()
    for done, line in enumerate(gen_corpus.generate_lines(cases, seed)):
        request = json.loads(line)
        out = policy.decide(request).outputs_json()
        reference = reference_decide(policy.checked, policy.read_request(request)).outputs
        if not out == baseline.decide_request(request) == reference:
            print(f"differ on: {line}")
            raise SystemExit(1)
        _progress("aputure", done + 1, cases, start)
    return f"{cases:,} realistic requests, the same outputs as the oracle and the reference"


RUNS = {"differential": differential, "explain": lambda c, s: differential(c, s, explain=True),
        "parser": parser, "requests": requests, "values": values, "aputure": aputure}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", choices=sorted(RUNS) + ["all"])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    for name in (sorted(RUNS) if args.run == "all" else [args.run]):
        start = time.monotonic()
        summary = RUNS[name](args.cases, args.seed)
        print(f"{name}: {summary} in {time.monotonic() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
