"""Run every benchmark and write benchmarks/RESULTS.md: one command regenerates the table.

    python benchmarks/report.py            # about ten minutes on 2 cores
    python benchmarks/report.py --quick    # smaller counts, no 10,000-rule policy

Ratios are measured in the same run as their baselines; absolute times depend on the machine and
on what else runs on it (the report records the machine, the date and the load).
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import bench_cli  # noqa: E402
import bench_decide  # noqa: E402
import bench_plain  # noqa: E402


def _run(script: str, *args: str) -> str:
    return subprocess.run([sys.executable, str(HERE / script), *args],
                          capture_output=True, text=True, check=True).stdout


def _peers(count: int) -> str:
    """The peers' table, or why there is none (they are an optional extra)."""
    result = subprocess.run([sys.executable, str(HERE / "peers" / "run.py"), "--count", str(count),
                             "--repeat", "5"], capture_output=True, text=True)
    if result.returncode != 0:
        return f"the peer benchmark failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
    return result.stdout


def _plain_limit(count: int) -> list[str]:
    """`rpl eval --jsonl --outputs-only` against a script that decides without validating."""
    result = bench_plain.measure(count, 5)
    ratios = bench_plain.ratios(result)
    lines = ["", f"## The plain limit (`bench_plain.py`, {count:,} requests, rounds interleaved, best of 5)",
             "", "| command | whole run s | start-up ms | µs a line |", "|---|---:|---:|---:|"]
    for name, (seconds, start) in ((k, v) for k, v in result.items() if k != "count"):
        lines.append(f"| {name} | {seconds:.2f} | {start * 1000:.0f} | {(seconds - start) / count * 1e6:.1f} |")
    lines += ["", "| ratio (time of rpl over time of the script) | measured | target |", "|---|---:|---:|"]
    lines += [f"| {name} | {value:.2f}x | {'< 2x' if 'plain' in name else ''} |" for name, value in ratios.items()]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    count = 500 if args.quick else 2000
    lines = [
        "# Benchmark results",
        "",
        f"- date: {datetime.date.today().isoformat()}",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}",
        f"- load average when started: {', '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"- command: `python benchmarks/report.py{' --quick' if args.quick else ''}`",
        "",
        "## Deciding aputure from Python (per decision, best of 5 runs over "
        f"{count:,} generated requests)",
        "",
        "| measure | µs/decision | ratio | target |",
        "|---|---:|---:|---:|",
    ]
    rows = bench_decide.measure(count, 5)
    base_full, base_decide = rows["baseline: parse + decide"], rows["baseline: decide (parsed)"]
    targets = {"rpl: decide from dict": (base_full, "≤ 2x"), "rpl: decide (validated)": (base_decide, "≤ 1.5x"),
               "rpl: decide + explanation": (base_full, "≤ 3x")}
    for name, seconds in rows.items():
        ratio, target = ("", "")
        if name in targets:
            ratio, target = f"{seconds / targets[name][0]:.2f}x", targets[name][1]
        lines.append(f"| {name} | {seconds * 1e6:.2f} | {ratio} | {target} |")
    start = bench_cli.cold_start()
    t = bench_cli.throughput(2000 if args.quick else 20000)
    sizes = "10,100,1000" if args.quick else "10,100,1000,10000"
    lines += [
        "",
        "## The command line",
        "",
        "| measure | value | target |",
        "|---|---:|---:|",
        f"| cold start `rpl eval aputure.rpl one-request.json`, first run after an edit | "
        f"{start['first_run_s'] * 1000:.0f} ms | |",
        f"| cold start, every run after | {start['warm_s'] * 1000:.0f} ms | < 300 ms |",
        f"| `rpl eval --jsonl` ({t['count']:,} requests), with explanations | "
        f"{t['baseline_s'] / t['rpl_s']:.2f}x the baseline script's throughput | ≥ 0.5x |",
        f"| `rpl eval --jsonl --outputs-only` | {t['baseline_s'] / t['rpl_outputs_only_s']:.2f}x | ≥ 0.5x |",
        f"| `rpl eval --jsonl --jobs 2`, with explanations, in 2 processes | "
        f"{t['baseline_s'] / t['rpl_jobs_2_s']:.2f}x (the baseline script runs in one) | |",
        f"| baseline script | {t['count'] / t['baseline_s']:,.0f} decisions/s | |",
        *_plain_limit(2000 if args.quick else 20000),
        "",
        "## Policies of many rules (one process per size)",
        "",
        "One rule per SKU (`bench_scale.py --kind skus`), found by the value it tests:",
        "",
        "```",
        _run("bench_scale.py", "--sizes", sizes, "--kind", "skus").rstrip(),
        "```",
        "",
        "One rule per price band (`bench_scale.py --kind bands`), found by the range it tests:",
        "",
        "```",
        _run("bench_scale.py", "--sizes", sizes, "--kind", "bands").rstrip(),
        "```",
        "",
        "## Memory over a long stream (`bench_stream_memory.py`)",
        "",
        "```",
        _run("bench_stream_memory.py", "--count", str(100_000 if args.quick else 1_000_000)).rstrip(),
        "```",
        "",
        "## Peer engines (`peers/run.py`, needs `pip install -e '.[bench]'`)",
        "",
        _peers(500 if args.quick else 2000).rstrip(),
        "",
    ]
    (HERE / "RESULTS.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
