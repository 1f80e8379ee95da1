"""`rpl replay` against `rpl eval --jsonl`: the same Aputure requests, ratios measured in one run.

    nice python benchmarks/bench_replay.py --sizes 10000,100000,1000000 [--spark-max 100000] [--rounds 3]

For each size: generated requests (gen_corpus.py) as JSON lines and as typed Parquet with an
`id` column (the export `rpl replay` reads in place; converting is not timed). Every command runs
as its own process; its wall time and peak RSS (the largest resident set of the process and its
children) are reported.

    duckdb sql      rpl replay aputure.rpl requests.parquet                (Parquet -> Parquet)
    duckdb sql cold the same with an empty user cache: what a first run after installing does
                    (the policy checked, the holidays read from their package, the query lowered)
    request only    rpl replay request_only.rpl requests.parquet: a policy of Aputure's request
                    and one rule that approves it, so the reading, the request reader's checks and
                    the writing with no rules to apply: the least any policy of this request costs
    eval jobs 2     rpl eval aputure.rpl --jsonl requests.jsonl --outputs-only --jobs 2
    duckdb python   rpl replay ... --via python                            (up to --python-max)
    eval            rpl eval aputure.rpl --jsonl requests.jsonl --outputs-only
    spark sql       rpl replay ... --engine spark (local[*], JVM start included; up to --spark-max)

Every run but `duckdb sql cold` finds the user's cache as a run before left it (a cache of this
benchmark's own, warmed by one untimed run of each command on a few requests): the checked
policy, the holidays, and the query `rpl replay` lowered (rplang/replay/plans.py). With
`--rounds N`, the commands of a size take turns N times: the least wall and CPU seconds are
kept, and the largest peak RSS.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import gen_corpus  # noqa: E402

POLICY = ROOT / "policies" / "aputure.rpl"
REQUEST_SECTION = ("# ---- The request", "# ---- Derived values")  # aputure.rpl's comments around it


def measure(args: list[str], cache: Path) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS in MB) of a command and its children, its output
    thrown away. CPU seconds are what a shared machine's load does not inflate.

    Spark's JVM is a child the command never waits for, so the command's resource usage leaves it
    out: the process tree is also sampled from /proc while it runs, and the larger figures kept
    (CPU: the last sample of each process; memory: the largest sum of the tree's resident sets)."""
    start = time.perf_counter()
    with open(os.devnull, "w") as sink, tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(args, stdout=sink, stderr=errors, env={**os.environ, "RPL_CACHE_DIR": str(cache)})
        cpu, peak, done = {}, [0], threading.Event()

        def sample():
            while not done.wait(0.2):
                peak[0] = max(peak[0], sample_tree(process.pid, cpu))
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        done.set()
        sampler.join()
        seconds = time.perf_counter() - start
        errors.seek(0)
        error = errors.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{error[-2000:]}")
    return (seconds, max(usage.ru_utime + usage.ru_stime, sum(cpu.values())),
            max(usage.ru_maxrss / 1024, peak[0] / 2**20))


def sample_tree(root: int, cpu: dict) -> int:
    """The resident bytes of `root` and its descendants now; their CPU seconds so far into `cpu`."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = (int(fields[1]), fields)
    tree, grew = {root}, True
    while grew:
        found = {pid for pid, (parent, _) in parents.items() if parent in tree}
        grew = not found <= tree
        tree |= found
    resident, tick, page = 0, os.sysconf("SC_CLK_TCK"), os.sysconf("SC_PAGE_SIZE")
    for pid in tree & parents.keys():
        fields = parents[pid][1]
        cpu[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        resident += int(fields[21]) * page  # rss, in pages
    return resident


def prepare(size: int, folder: Path) -> tuple[Path, Path]:
    """The requests as JSON lines and as Parquet, written by a process of its own: a command's
    ru_maxrss counts the memory of the process it was forked from (Linux keeps the high-water
    mark across exec), so the benchmark's own process stays small."""
    subprocess.run([sys.executable, __file__, "--prepare", str(size), str(folder)], check=True)
    return folder / f"requests-{size}.jsonl", folder / f"requests-{size}.parquet"


def write_requests_files(size: int, folder: Path) -> None:
    from rplang.replay.api import write_requests
    from rplang.runtime import load_policy_text

    lines, keyed = folder / f"requests-{size}.jsonl", folder / f"keyed-{size}.jsonl"
    with open(lines, "w") as plain, open(keyed, "w") as with_id:
        for n, line in enumerate(gen_corpus.generate_lines(size, seed=1), 1):
            plain.write(line + "\n")
            with_id.write(f'{{"id":{n},' + line[1:] + "\n")
    parquet = folder / f"requests-{size}.parquet"
    text = POLICY.read_text()
    counts = write_requests(load_policy_text(text, str(POLICY)), text, str(keyed), str(parquet), keys=("id",))
    assert counts.rejected == 0
    keyed.unlink()


def write_request_only(folder: Path) -> Path:
    """A policy of aputure.rpl's own request declarations (its enums, records and request, cut out
    of its text, so the two cannot drift apart) and one rule approving every request."""
    text = POLICY.read_text()
    start, end = (text.index(marker) for marker in REQUEST_SECTION)
    path = folder / "request_only.rpl"
    path.write_text('policy "Aputure\'s request, no rules"\nversion "1"\ncurrency USD\n\n' + text[start:end]
                    + 'outcomes:\n  approve "APPROVED"\n\nrule approve_all:\n  cites "Every request is approved."\n'
                      '  when true\n  then approve\n  because "approved"\n\noutput outcome\n')
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--python-max", type=int, default=100_000)
    ap.add_argument("--spark-max", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=1, help="runs of each command, taking turns; the best kept")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="rpl-bench-replay-") as tmp:
        folder = Path(tmp)
        cache = folder / "cache"
        for name, command in commands(100, *prepare(100, folder), folder, args.python_max, args.spark_max).items():
            if name != "duckdb sql cold":
                measure(command, cache)  # the cache as a run before leaves it
        for size in [int(s) for s in args.sizes.split(",")]:
            runs = commands(size, *prepare(size, folder), folder, args.python_max, args.spark_max)
            best: dict[str, tuple] = {}
            for _ in range(args.rounds):
                for name, command in runs.items():
                    cold = folder / "cold"
                    shutil.rmtree(cold, ignore_errors=True)
                    found = measure(command, cold if name == "duckdb sql cold" else cache)
                    seen = best.get(name, found)  # the least time, the largest memory
                    best[name] = (min(seen[0], found[0]), min(seen[1], found[1]), max(seen[2], found[2]))
            for name, (seconds, cpu, rss) in best.items():
                rows.append({"size": size, "run": name, "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
                             "per_second": round(size / seconds), "peak_rss_mb": round(rss)})
                print(f"{size:>9,}  {name:<15} {seconds:8.2f} s  {cpu:8.2f} s CPU  {size / seconds:>10,.0f}/s"
                      f"  {rss:7.0f} MB", flush=True)
    print()
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


def commands(size: int, lines: Path, parquet: Path, folder: Path, python_max: int,
             spark_max: int) -> dict[str, list[str]]:
    """The commands run over `lines` (`size` JSON lines) and `parquet` (the same requests), by name."""
    rpl = [sys.executable, "-m", "rplang.cli"]
    out = str(folder / "out.parquet")
    duckdb = rpl + ["replay", str(POLICY), str(parquet), "--out", out]
    request_only = rpl + ["replay", str(write_request_only(folder)), str(parquet), "--out", out]
    runs = {"duckdb sql": duckdb, "duckdb sql cold": duckdb, "request only": request_only,
            "eval jobs 2": rpl + ["eval", str(POLICY), "--jsonl", str(lines), "--outputs-only", "--jobs", "2"]}
    if size <= python_max:
        runs["duckdb python"] = duckdb + ["--via", "python"]
        runs["eval"] = rpl + ["eval", str(POLICY), "--jsonl", str(lines), "--outputs-only"]
    if size <= spark_max:
        runs["spark sql"] = rpl + ["replay", str(POLICY), str(parquet), "--out", str(folder / "spark"), "--engine", "spark"]
    return runs


def table(rows: list[dict]) -> str:
    """The figures as markdown, with the ratios the issue asks for."""
    by = {(r["size"], r["run"]): r for r in rows}
    lines = ["| requests | run | wall s | CPU s | requests/s (wall) | peak RSS MB | speed against | wall ratio | CPU ratio |",
             "|---:|---|---:|---:|---:|---:|---|---:|---:|"]
    for r in rows:
        base = {"duckdb sql": "eval jobs 2", "duckdb sql cold": "eval jobs 2", "request only": "eval jobs 2",
                "duckdb python": "eval",
                "spark sql": "duckdb sql"}.get(r["run"])
        ratios = ["", "", ""]
        if base and (r["size"], base) in by:
            other = by[(r["size"], base)]
            ratios = [base, f"{other['seconds'] / r['seconds']:.2f}x", f"{other['cpu_seconds'] / r['cpu_seconds']:.2f}x"]
        lines.append(f"| {r['size']:,} | {r['run']} | {r['seconds']} | {r['cpu_seconds']} | {r['per_second']:,} | "
                     f"{r['peak_rss_mb']} | " + " | ".join(ratios) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--prepare"]:
        sys.exit(write_requests_files(int(sys.argv[2]), Path(sys.argv[3])))
    sys.exit(main())
