"""`rpl serve` over loopback: three ratios measured in one run (issue #16).

    python benchmarks/bench_serve.py [--seconds 4] [--rounds 3] [--count 20000]

1. Single decisions over keep-alive HTTP, against a minimal endpoint on the same framework
   (Starlette on uvicorn, the very options `rpl serve` gives uvicorn: httptools and uvloop, one
   worker, no access log) that reads the request and answers a fixed JSON body of the same size as
   the decision; and p50/p99 latency of both at about half of their maximum load. For reference,
   the same endpoints written as bare ASGI endpoints, as rpl serve's /decide is. And the same
   two servers sent a thousand different requests in turn (the generated corpus's first lines),
   the minimal endpoint answering as many bytes as rpl's answers to them on average: the one
   request again and again would let whatever the runtime keeps of a request's texts (its days
   and amounts) look better than real traffic, where requests differ.
2. NDJSON batches, against `rpl eval --jsonl` on the same lines (both with full explanations,
   both written where nothing reads them back: curl -o /dev/null, and stdout to /dev/null).
3. The decision log on (`--log-db`), against off: single decisions, and NDJSON batches.

The load generator for single requests is wrk (a C client; `apt-get install wrk`), with a Lua
script that sends the request body and, for the half-load runs, waits between requests; the
batches are sent by curl. Every server's answers are checked against `rpl eval` before anything
is timed. Loopback only; every run is bounded in time.

Two measures of each ratio. Wall-clock throughput, the median of `--rounds` rounds with the
servers measured alternately within a round. And the CPU time the server spends per request
(Linux /proc: user + system, of the server process and of those it started: the decision log's
writer), which is what bounds a single-worker server's throughput on a core of its own: on a
shared machine the wall-clock figures move with the other loads (the client itself takes one of
the cores), the CPU per request much less. For `rpl eval --jsonl`, its CPU time includes its start-up (about 0.3 s).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import shutil
import signal
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

def baseline_app(decision: bytes, outputs: bytes, varied: bytes | None = None, bare: bool = False):
    """The minimal endpoints: read the request, answer a fixed JSON body (the size of a decision at
    /decide, of its outputs only at /outputs, of rpl's answers to the varied requests at /varied,
    when given). As a Starlette user writes them, a function of a `Request` returning a `Response`;
    with `bare`, as bare ASGI endpoints that send their two messages, as rpl serve's /decide is
    written (for reference: Starlette's `Request` and `Response` are the difference)."""
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    def fixed(body: bytes):
        async def endpoint(request):
            await request.body()
            return Response(body, media_type="application/json")
        return endpoint

    class Bare:
        def __init__(self, body: bytes):
            self.body = body
            self.headers = [(b"content-length", b"%d" % len(body)), (b"content-type", b"application/json")]

        async def __call__(self, scope, receive, send):
            while (await receive()).get("more_body", False):
                pass
            await send({"type": "http.response.start", "status": 200, "headers": self.headers})
            await send({"type": "http.response.body", "body": self.body})

    endpoint = Bare if bare else fixed
    bodies = {"/decide": decision, "/outputs": outputs, "/varied": varied}
    return Starlette(routes=[Route(path, endpoint(body), methods=["POST"]) for path, body in bodies.items()
                             if body is not None])


def uvicorn_setup() -> str:
    """What uvicorn's "auto" takes here: both servers are given the same options (uvicorn_options)."""
    import importlib.metadata
    import importlib.util

    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    return f"uvicorn {importlib.metadata.version('uvicorn')} with {http} and {loop}, one worker, no access log"


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


def minimal_server(decision: Path, outputs: Path, varied: Path, bare: bool = False) -> tuple[Server, str]:
    port = _free_port()
    server = Server([sys.executable, __file__, "--baseline-server", str(port), str(decision), str(outputs),
                     str(varied), *(["--bare"] if bare else [])], port, "minimal")
    return server, f"http://127.0.0.1:{port}"


# ---- clients ----------------------------------------------------------------------------------------

WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("{body}", "rb"); wrk.body = f:read("*a"); f:close()
{delay}
"""

# The requests of a JSON lines file, one after the other, round and round.
WRK_LINES_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local bodies = {{}}
for line in io.lines("{body}") do bodies[#bodies + 1] = line end
local next_one = 0
request = function()
  next_one = next_one % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[next_one])
end
"""


def cpu_seconds(pid: int) -> float:
    """User and system CPU time so far of a process and of those it started (the decision log's
    writer), Linux."""
    total = 0.0
    for process in _process_tree(pid):
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # ended meanwhile
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _process_tree(pid: int) -> list[int]:
    found = [pid]
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in children.read_text().split():
            found += _process_tree(int(child))
    return found


def wrk(url: str, body: Path, seconds: float, folder: Path, delay_ms: int | None = None, pid: int | None = None,
        connections: int = CONNECTIONS) -> dict:
    """Requests a second, latency percentiles, and the server's CPU time a request, of a `wrk` run
    over `connections` keep-alive connections; `body` is one request, or (`.jsonl`) requests sent in
    turn."""
    script = folder / "post.lua"
    if body.suffix == ".jsonl":
        script.write_text(WRK_LINES_SCRIPT.format(body=body))
    else:
        delay = f"function delay() return {delay_ms} end" if delay_ms else ""
        script.write_text(WRK_SCRIPT.format(body=body, delay=delay))
    cpu = cpu_seconds(pid) if pid else 0.0
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--latency", "-s", str(script), url],
                         capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    cpu = cpu_seconds(pid) - cpu if pid else None
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    percentiles = {p: _ms(v) for p, v in re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M)}
    return {"rate": rate, "requests": requests, "p50_ms": percentiles["50"], "p99_ms": percentiles["99"],
            "cpu_us": 1e6 * cpu / requests if pid else None}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def half_load(url: str, body: Path, seconds: float, folder: Path, max_rate: float, connections: int,
              tries: int = 4) -> dict:
    """Latency at about half of `max_rate`. Each connection waits between its requests (wrk's
    `delay`, whole milliseconds); each run estimates what a request adds to the wait and sets the
    next wait so that the connections together send half the maximum. Stops within 15% of it, or
    after `tries` runs; the run closest to half is reported, with the rate it reached."""
    target = max_rate / 2
    delay = max(1, round(1000 * connections / target))
    runs = []
    for _ in range(tries):
        run = wrk(url, body, seconds, folder, delay_ms=delay, connections=connections)
        runs.append(run)
        if abs(run["rate"] - target) <= 0.15 * target:
            break
        added_ms = max(0.0, 1000 * connections / run["rate"] - delay)
        delay = max(1, round(1000 * connections / target - added_ms))
    return min(runs, key=lambda r: abs(r["rate"] - target))


def half_load_connections(max_rates) -> int:
    """Connections enough for the faster server's half load with waits of at least 2 ms: a wait is
    whole milliseconds, so 8 connections cannot send more than 8,000 requests a second; both
    servers are measured over as many."""
    return max(CONNECTIONS, math.ceil(max(max_rates) / 2 * 0.002 * 1.25))


def batch(url: str, corpus: Path, pid: int) -> dict:
    """Wall-clock and server CPU seconds of one NDJSON batch sent by curl."""
    cpu, start = cpu_seconds(pid), time.perf_counter()
    subprocess.run(["curl", "-sS", "--fail", "-X", "POST", "-H", "Content-Type: application/x-ndjson",
                    "--data-binary", f"@{corpus}", "-o", os.devnull, url], check=True, timeout=600)
    return {"wall": time.perf_counter() - start, "cpu": cpu_seconds(pid) - cpu}


def eval_jsonl(corpus: Path) -> dict:
    """Wall-clock and CPU seconds of `rpl eval --jsonl` on the same lines, start-up included."""
    before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    with open(os.devnull, "w") as out:
        subprocess.run([sys.executable, "-m", "rplang.cli", "eval", str(POLICY), "--jsonl", str(corpus)],
                       stdout=out, check=False, timeout=600)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall": time.perf_counter() - start,
            "cpu": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime}


VARIED = 1000  # different requests sent in turn


def write_varied(url: str, corpus: Path, lines: Path, answer: Path) -> int:
    """The corpus's first requests that rpl decides (to `lines`), and a body as long as rpl's
    answers to them on average (to `answer`, for the minimal endpoint); that length."""
    import httpx

    chosen, sizes = [], []
    with httpx.Client() as client:
        for line in corpus.read_bytes().splitlines():
            reply = client.post(url, content=line)
            if reply.status_code == 200:
                chosen.append(line)
                sizes.append(len(reply.content))
            if len(chosen) == VARIED:
                break
    lines.write_bytes(b"\n".join(chosen) + b"\n")
    size = round(statistics.mean(sizes))
    answer.write_bytes(b'{"padding":"' + b"x" * (size - 14) + b'"}')
    return size


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
            outputs = httpx.post(url + "?explain=false", content=body.read_bytes()).content
            (folder / "decision.json").write_bytes(decision)  # the minimal endpoints answer as many bytes
            (folder / "outputs.json").write_bytes(outputs)
            varied = folder / "varied.jsonl"
            varied_size = write_varied(url, corpus, varied, folder / "varied.json")
            files = folder / "decision.json", folder / "outputs.json", folder / "varied.json"
            minimal, minimal_root = minimal_server(*files)
            bare, bare_root = minimal_server(*files, bare=True)
            try:
                check_answers(url, corpus)
                check_answers(logged_url, corpus)
                pid = {"rpl": served.process.pid, "minimal": minimal.process.pid, "logged": logged.process.pid,
                       "rpl_outputs": served.process.pid, "minimal_outputs": minimal.process.pid,
                       "bare": bare.process.pid, "bare_outputs": bare.process.pid}
                where = {"rpl": url, "minimal": f"{minimal_root}/decide", "logged": logged_url,
                         "rpl_outputs": url + "?explain=false", "minimal_outputs": f"{minimal_root}/outputs",
                         "bare": f"{bare_root}/decide", "bare_outputs": f"{bare_root}/outputs",
                         "rpl_varied": url, "minimal_varied": f"{minimal_root}/varied"}
                pid |= {"rpl_varied": served.process.pid, "minimal_varied": minimal.process.pid}
                runs: dict[str, list] = {k: [] for k in (*where, "batch", "eval", "logged_batch")}
                for _ in range(rounds):
                    for k in where:
                        runs[k].append(wrk(where[k], varied if k.endswith("_varied") else body, seconds, folder,
                                           pid=pid[k]))
                    runs["batch"].append(batch(url, corpus, pid["rpl"]))
                    runs["eval"].append(eval_jsonl(corpus))
                    runs["logged_batch"].append(batch(logged_url, corpus, pid["logged"]))
                single = {k: {m: statistics.median(r[m] for r in runs[k]) for m in ("rate", "cpu_us")}
                          for k in where}
                connections = half_load_connections(single[k]["rate"] for k in ("rpl", "minimal"))
                half = {k: half_load(where[k], body, seconds, folder, single[k]["rate"], connections)
                        for k in ("rpl", "minimal")}
                half["connections"] = connections
            finally:
                minimal.stop()
                bare.stop()
        finally:
            served.stop()
            logged.stop()
        batches = {k: {m: statistics.median(r[m] for r in runs[k]) for m in ("wall", "cpu")}
                   for k in ("batch", "eval", "logged_batch")}
    b = batches
    return {
        "server": uvicorn_setup(), "count": count, "body_bytes": len(decision), "outputs_bytes": len(outputs),
        "varied_bytes": varied_size, "single": single, "half": half, "batches": batches,
        "single_ratio": (single["rpl"]["rate"] / single["minimal"]["rate"],
                         single["minimal"]["cpu_us"] / single["rpl"]["cpu_us"]),
        "outputs_ratio": (single["rpl_outputs"]["rate"] / single["minimal_outputs"]["rate"],
                          single["minimal_outputs"]["cpu_us"] / single["rpl_outputs"]["cpu_us"]),
        "varied_ratio": (single["rpl_varied"]["rate"] / single["minimal_varied"]["rate"],
                         single["minimal_varied"]["cpu_us"] / single["rpl_varied"]["cpu_us"]),
        "bare_ratio": (single["rpl"]["rate"] / single["bare"]["rate"],
                       single["bare"]["cpu_us"] / single["rpl"]["cpu_us"]),
        "bare_outputs_ratio": (single["rpl_outputs"]["rate"] / single["bare_outputs"]["rate"],
                               single["bare_outputs"]["cpu_us"] / single["rpl_outputs"]["cpu_us"]),
        "batch_ratio": (b["eval"]["wall"] / b["batch"]["wall"], b["eval"]["cpu"] / b["batch"]["cpu"]),
        "log_ratio_single": (single["logged"]["rate"] / single["rpl"]["rate"],
                             single["rpl"]["cpu_us"] / single["logged"]["cpu_us"]),
        "log_ratio_batch": (b["batch"]["wall"] / b["logged_batch"]["wall"], b["batch"]["cpu"] / b["logged_batch"]["cpu"]),
    }


def report(m: dict) -> str:
    s, h, b, n = m["single"], m["half"], m["batches"], m["count"]

    def ratio(pair, target):
        return f"wall clock {pair[0]:.2f}, CPU {pair[1]:.2f} (target >= {target:.2f})"

    return "\n".join([
        f"both servers: {m['server']}",
        f"single decisions, {CONNECTIONS} keep-alive connections (wrk), a {m['body_bytes']:,}-byte decision:",
        f"  rpl serve {s['rpl']['rate']:,.0f}/s, {s['rpl']['cpu_us']:.0f} us CPU a request; minimal Starlette "
        f"endpoint {s['minimal']['rate']:,.0f}/s, {s['minimal']['cpu_us']:.0f} us CPU a request",
        f"  ratio: {ratio(m['single_ratio'], 0.5)}",
        f"  outputs only (?explain=false, {m['outputs_bytes']:,} bytes): rpl serve {s['rpl_outputs']['rate']:,.0f}/s, "
        f"{s['rpl_outputs']['cpu_us']:.0f} us CPU; minimal {s['minimal_outputs']['rate']:,.0f}/s, "
        f"{s['minimal_outputs']['cpu_us']:.0f} us CPU: ratio {ratio(m['outputs_ratio'], 0.5)}",
        f"  {VARIED:,} different requests in turn (answers of {m['varied_bytes']:,} bytes on average): rpl serve "
        f"{s['rpl_varied']['rate']:,.0f}/s, {s['rpl_varied']['cpu_us']:.0f} us CPU; minimal "
        f"{s['minimal_varied']['rate']:,.0f}/s, {s['minimal_varied']['cpu_us']:.0f} us CPU: "
        f"ratio {ratio(m['varied_ratio'], 0.5)}",
        f"  for reference, the minimal endpoints written as bare ASGI endpoints (as rpl serve's /decide is): "
        f"{s['bare']['rate']:,.0f}/s, {s['bare']['cpu_us']:.0f} us CPU, ratio wall clock {m['bare_ratio'][0]:.2f}, "
        f"CPU {m['bare_ratio'][1]:.2f}; outputs only {s['bare_outputs']['rate']:,.0f}/s, "
        f"{s['bare_outputs']['cpu_us']:.0f} us CPU, ratio wall clock {m['bare_outputs_ratio'][0]:.2f}, "
        f"CPU {m['bare_outputs_ratio'][1]:.2f}",
        f"  at about half load, over {h['connections']} connections (half of the maximum: {s['rpl']['rate'] / 2:,.0f}/s and {s['minimal']['rate'] / 2:,.0f}/s): "
        f"rpl serve {h['rpl']['rate']:,.0f}/s p50 {h['rpl']['p50_ms']:.2f} ms p99 {h['rpl']['p99_ms']:.2f} ms; "
        f"minimal {h['minimal']['rate']:,.0f}/s p50 {h['minimal']['p50_ms']:.2f} ms p99 {h['minimal']['p99_ms']:.2f} ms",
        f"NDJSON, {n:,} requests with full explanations:",
        f"  rpl serve (curl) {b['batch']['wall']:.2f} s, server CPU {b['batch']['cpu']:.2f} s; "
        f"rpl eval --jsonl {b['eval']['wall']:.2f} s, CPU {b['eval']['cpu']:.2f} s",
        f"  ratio: {ratio(m['batch_ratio'], 0.8)}",
        "decision log on against off:",
        f"  single decisions {s['logged']['rate']:,.0f}/s, {s['logged']['cpu_us']:.0f} us CPU a request, against "
        f"{s['rpl']['rate']:,.0f}/s, {s['rpl']['cpu_us']:.0f} us: ratio {ratio(m['log_ratio_single'], 0.8)}",
        f"  NDJSON {b['logged_batch']['wall']:.2f} s, CPU {b['logged_batch']['cpu']:.2f} s, against "
        f"{b['batch']['wall']:.2f} s, {b['batch']['cpu']:.2f} s: ratio {ratio(m['log_ratio_batch'], 0.8)}",
    ])


def main() -> None:
    if sys.argv[1:2] == ["--baseline-server"]:
        import uvicorn

        from rplang.serve.commands import uvicorn_options

        bodies = [Path(a).read_bytes() for a in sys.argv[3:] if a != "--bare"]  # decision, outputs[, varied]
        app = baseline_app(*bodies, bare="--bare" in sys.argv)
        uvicorn.run(app, **uvicorn_options("127.0.0.1", int(sys.argv[2])))  # served as `rpl serve` is
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=4, help="each wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--count", type=int, default=20000, help="requests in the NDJSON batch")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers on the way out
    print(report(measure(args.seconds, args.rounds, args.count)))


if __name__ == "__main__":
    main()
