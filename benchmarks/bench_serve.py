"""`rpl serve` over loopback: three ratios measured in one run (issue #16).

    python benchmarks/bench_serve.py [--seconds 4] [--rounds 3] [--count 20000]

1. Single decisions over keep-alive HTTP, against a minimal endpoint on the same framework
   (Starlette on uvicorn, same settings) that reads the request and answers a fixed JSON body of the
   same size as the decision; and p50/p99 latency of both at half of their maximum load.
2. NDJSON batches, against `rpl eval --jsonl` on the same lines (both with full explanations,
   both written where nothing reads them back: curl -o /dev/null, and stdout to /dev/null).
3. The decision log on (`--log-db`), against off: single decisions, and NDJSON batches.

The load generator for single requests is wrk (a C client; `apt-get install wrk`), with a Lua
script that sends the request body and, for the half-load runs, waits between requests; the
batches are sent by curl. Both server and client run on this machine's cores, and on a shared
machine the figures move between runs: each measure is the median of `--rounds` rounds, the
servers measured alternately within a round. Every server's answers are checked against
`rpl eval` before anything is timed. Loopback only; every run is bounded in time.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
POLICY = ROOT / "policies" / "aputure.rpl"
REQUEST = ROOT / "policies" / "aputure" / "requests" / "00-semantics-example.json"
CONNECTIONS = 8


# ---- servers ----------------------------------------------------------------------------------------

def baseline_app(body: bytes):
    """The minimal endpoint: reads the request, answers a fixed JSON body."""
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    async def decide(request):
        await request.body()
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/decide", decide, methods=["POST"])])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, command: list[str], port: int, name: str):
        self.name, self.port = name, port
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{name} did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def rpl_server(*args: str) -> tuple[Server, str]:
    port = _free_port()
    server = Server([sys.executable, "-m", "rplang.cli", "serve", str(POLICY), "--port", str(port),
                     "--no-watch", *args], port, "rpl serve")
    return server, f"http://127.0.0.1:{port}/v1/policies/aputure/decide"


def minimal_server(body_file: Path) -> tuple[Server, str]:
    port = _free_port()
    server = Server([sys.executable, __file__, "--baseline-server", str(port), str(body_file)], port, "minimal")
    return server, f"http://127.0.0.1:{port}/decide"


# ---- clients ----------------------------------------------------------------------------------------

WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("{body}", "rb"); wrk.body = f:read("*a"); f:close()
{delay}
"""


def wrk(url: str, body: Path, seconds: float, folder: Path, delay_ms: int | None = None) -> dict:
    """Requests a second and latency percentiles of `wrk` over CONNECTIONS keep-alive connections."""
    script = folder / "post.lua"
    delay = f"function delay() return {delay_ms} end" if delay_ms else ""
    script.write_text(WRK_SCRIPT.format(body=body, delay=delay))
    out = subprocess.run(["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{int(seconds)}s", "--latency", "-s", str(script), url],
                         capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    percentiles = {p: _ms(v) for p, v in re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M)}
    return {"rate": rate, "p50_ms": percentiles["50"], "p99_ms": percentiles["99"]}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def half_load(url: str, body: Path, seconds: float, folder: Path, max_rate: float, tries: int = 4) -> dict:
    """Latency at about half of `max_rate`. Each connection waits between its requests (wrk's
    `delay`, whole milliseconds); each run estimates what a request adds to the wait and sets the
    next wait so that the connections together send half the maximum. Stops within 15% of it, or
    after `tries` runs; the run closest to half is reported, with the rate it reached."""
    target = max_rate / 2
    delay = max(1, round(1000 * CONNECTIONS / target))
    runs = []
    for _ in range(tries):
        run = wrk(url, body, seconds, folder, delay_ms=delay)
        runs.append(run)
        if abs(run["rate"] - target) <= 0.15 * target:
            break
        added_ms = max(0.0, 1000 * CONNECTIONS / run["rate"] - delay)
        delay = max(1, round(1000 * CONNECTIONS / target - added_ms))
    return min(runs, key=lambda r: abs(r["rate"] - target))


def batch_seconds(url: str, corpus: Path) -> float:
    start = time.perf_counter()
    subprocess.run(["curl", "-sS", "--fail", "-X", "POST", "-H", "Content-Type: application/x-ndjson",
                    "--data-binary", f"@{corpus}", "-o", os.devnull, url], check=True, timeout=600)
    return time.perf_counter() - start


def eval_jsonl_seconds(corpus: Path) -> float:
    start = time.perf_counter()
    with open(os.devnull, "w") as out:
        subprocess.run([sys.executable, "-m", "rplang.cli", "eval", str(POLICY), "--jsonl", str(corpus)],
                       stdout=out, check=False, timeout=600)
    return time.perf_counter() - start


# ---- checks ------------------------------------------------------------------------------------------

def check_answers(url: str, corpus: Path) -> None:
    """Before timing: the server decides as `rpl eval` does, one request and a batch."""
    import httpx

    printed = subprocess.run([sys.executable, "-m", "rplang.cli", "eval", str(POLICY), str(REQUEST)],
                             capture_output=True, check=True).stdout
    assert httpx.post(url, content=REQUEST.read_bytes()).json() == json.loads(printed), "single decision differs"
    head = corpus.read_bytes().splitlines(keepends=True)[:200]
    sample = corpus.with_name("sample.jsonl")
    sample.write_bytes(b"".join(head))
    printed = subprocess.run([sys.executable, "-m", "rplang.cli", "eval", str(POLICY), "--jsonl", str(sample)],
                             capture_output=True, check=False).stdout.splitlines()
    answered = httpx.post(url, content=b"".join(head), headers={"Content-Type": "application/x-ndjson"}).text
    assert [json.loads(x) for x in answered.splitlines()] == [json.loads(x) for x in printed], "batch differs"


# ---- the run -----------------------------------------------------------------------------------------

def measure(seconds: float, rounds: int, count: int) -> dict:
    if shutil.which("wrk") is None or shutil.which("curl") is None:
        raise SystemExit("bench_serve.py needs wrk and curl (apt-get install wrk curl)")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        corpus = folder / "corpus.jsonl"
        with open(corpus, "w") as out:
            subprocess.run([sys.executable, str(HERE / "gen_corpus.py"), "--count", str(count), "--seed", "1"],
                           stdout=out, check=True)
        body = folder / "request.json"
        body.write_bytes(REQUEST.read_bytes())
        served, url = rpl_server()
        logged, logged_url = rpl_server("--log-db", str(folder / "decisions.db"))
        try:
            import httpx

            decision = httpx.post(url, content=body.read_bytes()).content
            fixed = folder / "fixed.json"
            fixed.write_bytes(decision)  # the minimal endpoint answers as many bytes
            minimal, minimal_url = minimal_server(fixed)
            try:
                check_answers(url, corpus)
                check_answers(logged_url, corpus)
                runs: dict[str, list] = {k: [] for k in ("rpl", "minimal", "logged", "batch", "eval", "logged_batch")}
                for _ in range(rounds):
                    runs["rpl"].append(wrk(url, body, seconds, folder))
                    runs["minimal"].append(wrk(minimal_url, body, seconds, folder))
                    runs["logged"].append(wrk(logged_url, body, seconds, folder))
                    runs["batch"].append(batch_seconds(url, corpus))
                    runs["eval"].append(eval_jsonl_seconds(corpus))
                    runs["logged_batch"].append(batch_seconds(logged_url, corpus))
                rate = {k: statistics.median(r["rate"] for r in runs[k]) for k in ("rpl", "minimal", "logged")}
                half = {"rpl": half_load(url, body, seconds, folder, rate["rpl"]),
                        "minimal": half_load(minimal_url, body, seconds, folder, rate["minimal"])}
            finally:
                minimal.stop()
        finally:
            served.stop()
            logged.stop()
        batch = {k: statistics.median(runs[k]) for k in ("batch", "eval", "logged_batch")}
    return {"count": count, "body_bytes": len(decision), "rate": rate, "half": half, "batch_s": batch,
            "single_ratio": rate["rpl"] / rate["minimal"], "batch_ratio": batch["eval"] / batch["batch"],
            "log_ratio_single": rate["logged"] / rate["rpl"],
            "log_ratio_batch": batch["batch"] / batch["logged_batch"]}


def report(m: dict) -> str:
    r, h, b = m["rate"], m["half"], m["batch_s"]
    lines = [
        f"single decisions, {CONNECTIONS} keep-alive connections (wrk), a {m['body_bytes']:,}-byte decision:",
        f"  rpl serve {r['rpl']:,.0f}/s, minimal Starlette endpoint {r['minimal']:,.0f}/s: "
        f"ratio {m['single_ratio']:.2f} (target >= 0.50)",
        f"  at about half load (half of the maximum: {r['rpl'] / 2:,.0f}/s and {r['minimal'] / 2:,.0f}/s): "
        f"rpl serve {h['rpl']['rate']:,.0f}/s p50 {h['rpl']['p50_ms']:.2f} ms "
        f"p99 {h['rpl']['p99_ms']:.2f} ms; minimal {h['minimal']['rate']:,.0f}/s "
        f"p50 {h['minimal']['p50_ms']:.2f} ms p99 {h['minimal']['p99_ms']:.2f} ms",
        f"NDJSON, {m['count']:,} requests with full explanations:",
        f"  rpl serve (curl) {b['batch']:.2f} s = {m['count'] / b['batch']:,.0f}/s; rpl eval --jsonl {b['eval']:.2f} s "
        f"= {m['count'] / b['eval']:,.0f}/s: ratio {m['batch_ratio']:.2f} (target >= 0.80)",
        "decision log on against off:",
        f"  single decisions {r['logged']:,.0f}/s against {r['rpl']:,.0f}/s: ratio {m['log_ratio_single']:.2f} "
        "(target >= 0.80)",
        f"  NDJSON {m['count'] / b['logged_batch']:,.0f}/s against {m['count'] / b['batch']:,.0f}/s: "
        f"ratio {m['log_ratio_batch']:.2f} (target >= 0.80)",
    ]
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--baseline-server":
        import uvicorn

        uvicorn.run(baseline_app(Path(sys.argv[3]).read_bytes()), host="127.0.0.1", port=int(sys.argv[2]),
                    log_level="warning", access_log=False)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=4, help="each wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--count", type=int, default=20000, help="requests in the NDJSON batch")
    args = parser.parse_args()
    print(report(measure(args.seconds, args.rounds, args.count)))


if __name__ == "__main__":
    main()
