"""The language server, over a real stdio session: diagnostics after an edit, hover, completion.

    python benchmarks/bench_lsp.py [--edits 40] [--rules 1000]

Diagnostics are timed from sending `didChange` to receiving `publishDiagnostics` for that
version, with the debounce set to 0 (an editor adds its delay, 150 ms by default, on top). The
baseline is what `rpl check` does for the same text, in this process (`check_policy_text`): the
ratio is what the server adds to the checker (reading, JSON-RPC, positions).
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))


from rplang.compiler.lint import check_policy_text  # noqa: E402
from tests.lsp.conftest import Session, position  # noqa: E402


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _summary(samples: list[float]) -> dict:
    return {"p50_ms": statistics.median(samples) * 1000, "p95_ms": _p95(samples) * 1000, "n": len(samples)}


def _edits(text: str, old: str, new: str) -> list[str]:
    """Two versions that differ by one value, to alternate between: each edit is a real change."""
    assert old in text
    return [text.replace(old, new, 1), text]


def diagnostics_after_edit(session: Session, name: str, text: str, old: str, new: str, count: int) -> dict:
    uri = session.open(Path(tempfile.gettempdir()) / name, text)
    session.wait_diagnostics(uri, timeout=120)
    versions = _edits(text, old, new)
    samples, baseline = [], []
    for n in range(count):
        start = time.perf_counter()
        version = session.change(uri, versions[n % 2])
        session.wait_diagnostics(uri, version, timeout=120)
        samples.append(time.perf_counter() - start)
    for n in range(max(3, count // 4)):
        start = time.perf_counter()
        check_policy_text(versions[n % 2], name)
        baseline.append(time.perf_counter() - start)
    result = _summary(samples)
    result["rpl_check_in_process_p50_ms"] = statistics.median(baseline) * 1000
    result["ratio_p50"] = statistics.median(samples) / statistics.median(baseline)
    return result


def requests(session: Session, name: str, text: str, hover_at, complete_at, count: int,
             old: str, new: str) -> dict:
    """Hover and completion on a version already checked, then completion asked right after an
    edit (before its diagnostics: on a small file it analyses the new version first)."""
    uri = session.open(Path(tempfile.gettempdir()) / name, text)
    session.wait_diagnostics(uri, timeout=120)
    hovers, completions, after_edit = [], [], []
    for _ in range(count):
        start = time.perf_counter()
        assert session.hover(uri, hover_at) is not None
        hovers.append(time.perf_counter() - start)
        start = time.perf_counter()
        assert session.completion(uri, complete_at)
        completions.append(time.perf_counter() - start)
    versions = _edits(text, old, new)
    for n in range(count):
        version = session.change(uri, versions[n % 2])
        start = time.perf_counter()
        assert session.completion(uri, complete_at)
        after_edit.append(time.perf_counter() - start)
        session.wait_diagnostics(uri, version, timeout=120)
    return {"hover": _summary(hovers), "completion": _summary(completions),
            "completion right after an edit": _summary(after_edit)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edits", type=int, default=40)
    parser.add_argument("--rules", type=int, default=1000)
    args = parser.parse_args()
    aputure = (ROOT / "policies" / "aputure.rpl").read_text(encoding="utf-8")
    scale = subprocess.run([sys.executable, str(HERE / "gen_scale_policy.py"), str(args.rules)],
                           capture_output=True, text=True, check=True).stdout
    session = Session(debounce_ms=0)
    try:
        results = {
            "aputure: diagnostics after an edit": diagnostics_after_edit(
                session, "bench-aputure.rpl", aputure, "= 14 days", "= 15 days", args.edits),
            f"{args.rules} rules: diagnostics after an edit": diagnostics_after_edit(
                session, "bench-scale.rpl", scale, "= 30 days", "= 31 days", max(5, args.edits // 4)),
            "aputure: hover and completion": requests(
                session, "bench-aputure-requests.rpl", aputure,
                position(aputure, "return_window_length", nth=3, into=2),
                position(aputure, "item.damage_cause in", into=5), args.edits, "= 14 days", "= 15 days"),
            f"{args.rules} rules: hover and completion": requests(
                session, "bench-scale-requests.rpl", scale, position(scale, "window", nth=2, into=2),
                position(scale, "item.", into=5), max(5, args.edits // 4), "= 30 days", "= 31 days"),
        }
    finally:
        session.close()
    for what, figures in results.items():
        print(what)
        for key, value in figures.items():
            print(f"  {key}: " + (", ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}"
                                            for k, v in value.items()) if isinstance(value, dict)
                                  else f"{value:.2f}" if isinstance(value, float) else str(value)))


if __name__ == "__main__":
    main()
