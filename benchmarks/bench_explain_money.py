"""What showing money with Babel (runtime/money.py) costs `explain_text`: the explanations of the
bundled Aputure requests with Babel's formatting against the same explanations with the former
fixed formatting (`1,890.00`, runtime.explain.human_money), taking turns in one run.

    python benchmarks/bench_explain_money.py [--rounds 30]

Both sides keep Babel's cache of shown amounts as it would be in a running service: warm after the
first round. The cold side clears it before every explanation (each amount formatted by Babel).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from rplang.runtime import load_policy, money
from rplang.runtime.explain import human_money

ROOT = Path(__file__).resolve().parents[1]


def _decisions():
    policy = load_policy(ROOT / "policies" / "aputure.rpl")
    files = sorted(f for f in (ROOT / "policies" / "aputure" / "requests").glob("*.json") if f.name != "expected.json")
    return [policy.decide(json.loads(f.read_text())) for f in files]


def _round(decisions, before=None) -> float:
    start = time.perf_counter()
    for decision in decisions:
        if before is not None:
            before()
        decision.explain_text()
    return (time.perf_counter() - start) / len(decisions)


def measure(rounds: int = 30) -> dict:
    decisions = _decisions()
    babel_text, babel_amount = money.MoneyFormat.text, money.MoneyFormat.amount

    def fixed():  # the formatting before Babel: two decimals and commas, whatever the currency
        money.MoneyFormat.text = lambda self, text: human_money(text)
        money.MoneyFormat.amount = lambda self, value: f"{value:,.2f}"

    def babel():
        money.MoneyFormat.text, money.MoneyFormat.amount = babel_text, babel_amount

    best = {"fixed": float("inf"), "babel": float("inf"), "babel, cold cache": float("inf")}
    for _ in range(rounds):
        fixed()
        best["fixed"] = min(best["fixed"], _round(decisions))
        babel()
        best["babel, cold cache"] = min(best["babel, cold cache"], _round(decisions, money._shown.cache_clear))
        _round(decisions)  # the cold round left the cache empty: fill it again, untimed
        best["babel"] = min(best["babel"], _round(decisions))
    babel()
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    best = measure(parser.parse_args().rounds)
    for name, seconds in best.items():
        print(f"{name:<18} {seconds * 1e6:8.0f} µs per explanation   {seconds / best['fixed']:.2f}x the fixed formatting")


if __name__ == "__main__":
    main()
