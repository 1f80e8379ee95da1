"""The language server, over a real stdio session: diagnostics after an edit, hover, completion.

    python benchmarks/bench_lsp.py [--edits 40] [--rules 1000] [--against TREE]

Diagnostics are timed from sending `didChange` to receiving `publishDiagnostics` for that
version, with the debounce set to 0 (an editor adds its delay, 150 ms by default, on top), by the
clock and by the server process's processor time over the same interval (read from Linux's
/proc). The baseline is what `rpl check` does for the same text, in this process
(`check_policy_text`): the ratio is what the server adds to the checker, or saves by reusing the
last version's work. With `--against TREE` (say `git worktree add --detach ../rpl-before BASE`),
a second server runs from that checkout's sources and the two take turns, edit by edit.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))


from bench_cli import _FROM_TREE  # noqa: E402
from rplang.compiler.lint import check_policy_text  # noqa: E402
from tests.lsp.conftest import Session, position  # noqa: E402


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _summary(samples: list[float]) -> dict:
    return {"p50_ms": statistics.median(samples) * 1000, "p95_ms": _p95(samples) * 1000, "n": len(samples)}


def server_cpu(session: Session) -> float:
    """Processor seconds the server process has used so far (user and system, all its threads)."""
    pid = session.client._server.pid
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _edits(text: str, old: str, new: str) -> list[str]:
    """Two versions that differ by one value, to alternate between: each edit is a real change."""
    assert old in text
    return [text.replace(old, new, 1), text]


def _open(sessions: dict[str, Session], name: str, text: str) -> dict[str, str]:
    uris = {who: s.open(Path(tempfile.gettempdir()) / f"{who}-{name}", text) for who, s in sessions.items()}
    for who, s in sessions.items():
        s.wait_diagnostics(uris[who], timeout=120)
    return uris


def diagnostics_after_edit(sessions: dict[str, Session], name: str, text: str, old: str, new: str,
                           count: int) -> dict:
    uris = _open(sessions, name, text)
    versions = _edits(text, old, new)
    clock = {who: [] for who in sessions}
    cpu = {who: [] for who in sessions}
    for n in range(count):
        for who, session in sessions.items():  # taking turns, edit by edit
            start, start_cpu = time.perf_counter(), server_cpu(session)
            version = session.change(uris[who], versions[n % 2])
            session.wait_diagnostics(uris[who], version, timeout=120)
            clock[who].append(time.perf_counter() - start)
            cpu[who].append(server_cpu(session) - start_cpu)
    baseline, baseline_cpu = [], []
    for n in range(max(3, count // 4)):
        start, start_cpu = time.perf_counter(), time.process_time()
        check_policy_text(versions[n % 2], name)
        baseline.append(time.perf_counter() - start)
        baseline_cpu.append(time.process_time() - start_cpu)
    check = statistics.median(baseline)
    result = {"rpl check in process": {"clock_ms": check * 1000,
                                       "cpu_ms": statistics.median(baseline_cpu) * 1000}}
    for who in sessions:
        result[who] = _summary(clock[who]) | {
            "cpu_p50_ms": statistics.median(cpu[who]) * 1000, "cpu_p95_ms": _p95(cpu[who]) * 1000,
            "ratio_p50_to_check": statistics.median(clock[who]) / check}
    return result


def requests(sessions: dict[str, Session], name: str, text: str, hover_at, complete_at, count: int,
             old: str, new: str) -> dict:
    """Hover and completion on a version already checked, then completion asked right after an
    edit (before its diagnostics: on a small file it analyses the new version first)."""
    uris = _open(sessions, name, text)
    times = {who: {"hover": [], "completion": [], "completion right after an edit": []} for who in sessions}
    for _ in range(count):
        for who, session in sessions.items():
            start = time.perf_counter()
            assert session.hover(uris[who], hover_at) is not None
            times[who]["hover"].append(time.perf_counter() - start)
            start = time.perf_counter()
            assert session.completion(uris[who], complete_at)
            times[who]["completion"].append(time.perf_counter() - start)
    versions = _edits(text, old, new)
    for n in range(count):
        for who, session in sessions.items():
            version = session.change(uris[who], versions[n % 2])
            start = time.perf_counter()
            assert session.completion(uris[who], complete_at)
            times[who]["completion right after an edit"].append(time.perf_counter() - start)
            session.wait_diagnostics(uris[who], version, timeout=120)
    return {f"{what} ({who})": _summary(samples) for who, measured in times.items()
            for what, samples in measured.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edits", type=int, default=40)
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--against", type=Path, help="a checkout whose server takes turns with this one")
    args = parser.parse_args()
    aputure = (ROOT / "policies" / "aputure.rpl").read_text(encoding="utf-8")
    scale = subprocess.run([sys.executable, str(HERE / "gen_scale_policy.py"), str(args.rules)],
                           capture_output=True, text=True, check=True).stdout
    sessions = {"this": Session(debounce_ms=0)}
    if args.against is not None:
        sessions["against"] = Session(debounce_ms=0, command=[
            sys.executable, "-c", _FROM_TREE, str(args.against.resolve()), "lsp"])
    print(f"load average before: {os.getloadavg()}")
    try:
        results = {
            "aputure: diagnostics after an edit": diagnostics_after_edit(
                sessions, "bench-aputure.rpl", aputure, "= 14 days", "= 15 days", args.edits),
            f"{args.rules} rules: diagnostics after an edit": diagnostics_after_edit(
                sessions, "bench-scale.rpl", scale, "= 30 days", "= 31 days", max(5, args.edits // 2)),
            "aputure: hover and completion": requests(
                sessions, "bench-aputure-requests.rpl", aputure,
                position(aputure, "return_window_length", nth=3, into=2),
                position(aputure, "item.damage_cause in", into=5), args.edits, "= 14 days", "= 15 days"),
            f"{args.rules} rules: hover and completion": requests(
                sessions, "bench-scale-requests.rpl", scale, position(scale, "window", nth=2, into=2),
                position(scale, "item.", into=5), max(5, args.edits // 2), "= 30 days", "= 31 days"),
        }
    finally:
        for session in sessions.values():
            session.close()
    print(f"load average after: {os.getloadavg()}")
    for what, figures in results.items():
        print(what)
        for key, value in figures.items():
            print(f"  {key}: " + ", ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}"
                                           for k, v in value.items()))


if __name__ == "__main__":
    main()
