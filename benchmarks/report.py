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
import bench_per_item  # noqa: E402
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


def _plain_limit(count: int, result: dict) -> list[str]:
    """`rpl eval --jsonl --outputs-only` against a script that decides without validating."""
    ratios = bench_plain.ratios(result)
    lines = ["", f"## The plain limit (`bench_plain.py`, {count:,} requests, rounds interleaved, best of 5)",
             "", "| command | whole run s | start-up ms | µs a line |", "|---|---:|---:|---:|"]
    for name, (seconds, start) in ((k, v) for k, v in result.items() if k != "count"):
        lines.append(f"| {name} | {seconds:.2f} | {start * 1000:.0f} | {(seconds - start) / count * 1e6:.1f} |")
    lines += ["", "| ratio (time of rpl over time of the script) | measured | target |", "|---|---:|---:|"]
    lines += [f"| {name} | {value:.2f}x | {'< 2x' if 'plain' in name else ''} |" for name, value in ratios.items()]
    return lines


def _targets(rows: dict, start: dict, stream: dict, jobs: dict, plain: dict, per_item: dict) -> list[str]:
    """One table, every target of issue 22 (and issue 14's speed bullet) as a ratio of this run."""
    cli = bench_cli.ratios(start, stream)
    eval_ms = start["rpl eval (cached)"]
    explained = rows["rpl: decide + explanation"] / rows["rpl: decide from dict"]
    lines = ["", "## The targets of issue 22, from this run", "",
             "| target | measured | met |", "|---|---:|:---:|"]

    def row(target: str, measured: str, met: bool | str) -> None:
        lines.append(f"| {target} | {measured} | {met if isinstance(met, str) else 'yes' if met else 'no'} |")

    row("full explanation `decide(r).to_json()` ≤ 1.5x the outputs-only `decide(r).outputs_json()`",
        f"{explained:.2f}x", explained <= 1.5)
    name = "`rpl eval --jsonl` with explanations, throughput over the baseline script's (≥ 0.8x)"
    wall, cpu = cli[name]
    # a throughput met by the clock alone, on a loaded machine, is not met: the other
    # processes' waits fall on the longer run
    row("`rpl eval --jsonl` with explanations ≥ 0.8x the baseline script's throughput",
        f"{wall:.2f}x by the clock; {cpu:.2f}x by processor time",
        (wall >= 0.8 and cpu >= 0.8) or ("by the clock only" if wall >= 0.8 else False))
    # judged on the longer stream, the steady state: over the shorter one the start-up that one
    # process does alone (~0.2 s of ~1 s) caps the ratio near 1.7x whatever the workers do
    short, long_ = bench_cli.jobs_ratio(stream), bench_cli.jobs_ratio(jobs)
    row(f"`--jobs 2` ≥ 1.7x the throughput of `--jobs 1`, with explanations, over {jobs['count']:,} lines",
        f"{long_[0]:.2f}x by the clock ({short[0]:.2f}x over {stream['count']:,} lines); processor time of "
        f"`--jobs 1` over `--jobs 2` {long_[1]:.2f}x ({short[1]:.2f}x; 1.0 would add no work)", long_[0] >= 1.7)
    over_python = cli["cold start `rpl eval` over the interpreter's own start"][0]
    row("cold start `rpl eval aputure.rpl one.json`, policy cached, < 150 ms",
        f"{eval_ms['wall'] * 1000:.0f} ms by the clock, {eval_ms['cpu'] * 1000:.0f} ms processor "
        f"({over_python:.1f}x `python -c pass`, {start['python -c pass']['wall'] * 1000:.0f} ms)",
        eval_ms["wall"] < 0.150)
    help_ms = start["rpl --help"]
    row("`rpl --help` (issue 13: fast with real imports)",
        f"{help_ms['wall'] * 1000:.0f} ms by the clock, {help_ms['cpu'] * 1000:.0f} ms processor", True)
    plain_ratio = bench_plain.ratios(plain)["rpl / plain, whole run"]
    row("`rpl eval --jsonl --outputs-only` < 2x the time of the plain script", f"{plain_ratio:.2f}x", plain_ratio < 2)
    for name, ratio in per_item["ratio"].items():
        row(f"issue 14: Aputure's decision ({name}) ≤ 1.10x the code before per-item outcomes "
            f"({per_item['base'][:10]})", f"{ratio:.3f}x (processor time)", ratio <= bench_per_item.TARGET)
    lines.append("| each peer engine at its best slower than rpl | see the peers' table below (same run) | |")
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
        "## Deciding aputure from Python (processor time per decision, best of 5 runs over "
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
    start = bench_cli.cold_start(5 if args.quick else 15)
    stream = bench_cli.throughput(2000 if args.quick else 20000, 3 if args.quick else 5)
    jobs = bench_cli.throughput(10_000 if args.quick else 100_000, 3, only_jobs=True)
    plain_count = 2000 if args.quick else 20000
    plain = bench_plain.measure(plain_count, 5)
    per_item = bench_per_item.measure(500 if args.quick else 2000, 5 if args.quick else 15)
    base_line = stream["baseline script"]
    sizes = "10,100,1000" if args.quick else "10,100,1000,10000"
    lines += [
        "",
        "## The command line (`bench_cli.py`: each command its own process, taking turns, best round)",
        "",
        "| command | wall ms | processor ms |",
        "|---|---:|---:|",
        *[f"| {name} | {b['wall'] * 1000:.0f} | {b['cpu'] * 1000:.0f} |" for name, b in start.items()],
        "",
        f"| over {stream['count']:,} lines | wall s | processor s | lines/s | throughput over the baseline "
        "script's (wall, processor) |",
        "|---|---:|---:|---:|---:|",
        *[f"| {name} | {b['wall']:.2f} | {b['cpu']:.2f} | {stream['count'] / b['wall']:,.0f} | "
          f"{base_line['wall'] / b['wall']:.2f}x, {base_line['cpu'] / b['cpu']:.2f}x |"
          for name, b in stream.items() if name != "count"],
        "",
        f"| over {jobs['count']:,} lines | wall s | processor s | lines/s |",
        "|---|---:|---:|---:|",
        *[f"| {name} | {b['wall']:.2f} | {b['cpu']:.2f} | {jobs['count'] / b['wall']:,.0f} |"
          for name, b in jobs.items() if name != "count"],
        *_plain_limit(plain_count, plain),
        "",
        "## Per-item outcomes and Aputure (`bench_per_item.py`, issue 14)",
        "",
        f"| decision | this code µs | before per-item ({per_item['base'][:10]}) µs | ratio |",
        "|---|---:|---:|---:|",
        *[f"| {name} | {per_item['this'][name] * 1e6:.2f} | {per_item['before'][name] * 1e6:.2f} | "
          f"{ratio:.3f}x |" for name, ratio in per_item["ratio"].items()],
        *_targets(rows, start, stream, jobs, plain, per_item),
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
        "With `--jobs 2` (the main process and its workers):",
        "",
        "```",
        _run("bench_stream_memory.py", "--count", str(100_000 if args.quick else 1_000_000), "--jobs", "2").rstrip(),
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
