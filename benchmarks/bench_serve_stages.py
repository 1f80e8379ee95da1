"""Where the processor time of one `rpl serve` decision goes, under the load of `bench_serve.py`.

    python benchmarks/bench_serve_stages.py [--seconds 5] [--rounds 3]

`rpl serve` is started with timers around its stages (this file, `--server`); wrk sends single
decisions over 8 keep-alive connections at the maximum rate, with and without `?explain=false`;
and each stage's processor time a request (the thread's CPU clock, so that the machine's other
loads do not count) is printed, the whole request's being the server's (Linux /proc). The
runtime's stages are timed in one run, the layers around them in another, so that few timers
run inside others; the two runs take turns, `--rounds` times, and each part is the median of its
rounds:

- runtime: reading the request (`line_request`), deciding (`CompiledPolicy.decide`), the
  explanation with the outputs written as JSON text (`decision_bytes`: `Decision.to_json_bytes`),
  or the outputs alone (`_outputs_only`) and their encoding (`dumps`);
- service: rpl's own code around them: the endpoint (`Handlers.decision`), and the dispatch that
  answers decisions before the middleware and Starlette's stack (`DecisionsFirst`: the request id,
  the token, the answer's two messages);
- framework: uvicorn (parsing, the ASGI messages, the socket writes, the event loop): the whole
  request less all of the above.

The minimal endpoint of `bench_serve.py` (Starlette on uvicorn, a fixed answer of the decision's
size) is split the same way, taking turns with rpl serve: Starlette's part (its stack, the
endpoint, its `Request` and `Response`) and uvicorn's, the rest of its request.

Two servers without timers take turns with them: rpl serve itself, and the runtime alone, a bare
ASGI application that reads the request, decides it and writes the answer with the runtime's same
functions, and sends it with rpl serve's own headers (a fixed request id). The first's whole
request less the second's is what the service costs around a decision, its effect on uvicorn's
work included, with no timer in either.

Each timer's own cost is measured on functions that do nothing, in the server before it starts,
and taken out of what it times and of what holds it. Timers change what the processor's caches
hold: read the figures as a split of the whole, to about a microsecond.
"""
from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import bench_serve
from bench_serve import CONNECTIONS, POLICY, REQUEST, Server, _free_port, cpu_seconds, wrk

# stage -> (module, class or None, attributes): the runtime's parts of a decision
STAGES = {
    "read": ("rplang.serve.routes", None, "line_request"),
    "decide": ("rplang.runtime.decide", "CompiledPolicy", "decide"),
    "explanation": ("rplang.serve.routes", None, "decision_bytes"),
    "outputs": ("rplang.serve.routes", None, "_outputs_only"),
    "encode": ("rplang.serve.routes", None, "dumps"),
}
# uvicorn's part of what the service holds: its `receive` (in the endpoint) and `send` (in the
# dispatch), timed with the stages
_CYCLE = "uvicorn.protocols.http.httptools_impl", "RequestResponseCycle"
UVICORN_IO = {"uvicorn_receive": (*_CYCLE, "receive"), "uvicorn_send": (*_CYCLE, "send")}
# the layers around them, outermost first, each timed whole: its own time is what it holds less
LAYERS = {
    "dispatch": ("rplang.serve.dispatch", "DecisionsFirst", "__call__"),
    "endpoint": ("rplang.serve.routes", "Handlers", "decision"),
}
# the minimal endpoint's one layer, Starlette's whole application with the endpoint in it, and
# uvicorn's `receive` and `send` that it holds
MINIMAL = {"starlette": ("starlette.applications", "Starlette", "__call__")} | UVICORN_IO


# ---- the server, with its timers --------------------------------------------------------------------

class Timers:
    """Timers around functions: each call's processor time (the thread's clock), less what the
    timers that ran inside it cost; `calibrate` measures that cost on functions that do nothing."""

    def __init__(self):
        self.spent: dict[str, list[int]] = {}
        self.overhead = 0  # ns that the timers stopped so far added, in all
        self.cost = {"sync": (0.0, 0.0), "async": (0.0, 0.0)}  # ns a timer adds: within what it times, in all

    def wrap(self, name: str, function):
        records, clock = self.spent.setdefault(name, []), time.thread_time_ns
        kind = "async" if inspect.iscoroutinefunction(function) else "sync"

        def stop(started: int, before: int) -> None:
            inside, total = self.cost[kind]
            records.append(clock() - started - inside - (self.overhead - before))
            self.overhead += total

        if function.__name__ == "__call__":  # an ASGI application: uvicorn tells one by its arguments
            async def wrapper(self_, scope, receive, send):
                before, started = self.overhead, clock()
                try:
                    return await function(self_, scope, receive, send)
                finally:
                    stop(started, before)
        elif kind == "async":
            async def wrapper(*args, **kwargs):
                before, started = self.overhead, clock()
                try:
                    return await function(*args, **kwargs)
                finally:
                    stop(started, before)
        else:
            def wrapper(*args, **kwargs):
                before, started = self.overhead, clock()
                try:
                    return function(*args, **kwargs)
                finally:
                    stop(started, before)
        return wrapper

    def calibrate(self, rounds: int = 20000) -> None:
        def nothing():
            pass

        async def nothing_async():
            pass

        def calls(function) -> int:
            started = time.thread_time_ns()
            for _ in range(rounds):
                function()
            return time.thread_time_ns() - started

        async def awaits(function) -> int:
            started = time.thread_time_ns()
            for _ in range(rounds):
                await function()
            return time.thread_time_ns() - started

        kinds = (("sync", nothing, calls), ("async", nothing_async, lambda f: asyncio.run(awaits(f))))
        for kind, function, run in kinds:
            probe = Timers()
            timed = probe.wrap(kind, function)
            direct, wrapped = min(run(function) for _ in range(3)), min(run(timed) for _ in range(3))
            self.cost[kind] = (statistics.median(probe.spent[kind]), (wrapped - direct) / rounds)


def serve_with_timers(report: Path, timed: str, args: list[str]) -> None:
    import importlib

    import uvicorn.server

    timers = Timers()
    timers.calibrate()
    for name, (module, owner, attributes) in {"stages": STAGES | UVICORN_IO, "layers": LAYERS,
                                              "minimal": MINIMAL, "plain": {}, "runtime": {}}[timed].items():
        target = importlib.import_module(module)
        target = getattr(target, owner) if owner else target
        for attribute in (attributes,) if isinstance(attributes, str) else attributes:
            setattr(target, attribute, timers.wrap(name, getattr(target, attribute)))

    shutdown = uvicorn.server.Server.shutdown

    async def shutdown_and_report(self, *args, **kwargs):  # uvicorn ends by the signal: no atexit
        report.write_text(json.dumps({"spent": timers.spent, "overhead": timers.overhead}))
        return await shutdown(self, *args, **kwargs)

    uvicorn.server.Server.shutdown = shutdown_and_report
    if timed == "runtime":
        return serve_runtime_alone(*args)
    if timed == "minimal":
        sys.argv = [bench_serve.__file__, "--baseline-server", *args]
        return bench_serve.main()
    from rplang.cli import main

    main(args)


def serve_runtime_alone(port: str, headers: str) -> None:
    """The runtime's work of a decision as a bare ASGI application, answered with rpl serve's
    headers (written by `answers`); the same functions as rpl serve's endpoint."""
    import uvicorn

    from rplang.serve.commands import uvicorn_options
    from rplang.serve.registry import Registry
    from rplang.serve.render import dumps
    from rplang.serve.routes import _outputs_only
    from rplang.stream import decision_bytes, line_request

    registry = Registry(POLICY)
    registry.load()
    policy = registry.get(POLICY.stem).policy
    fixed = [tuple(header.encode() for header in pair) for pair in json.loads(Path(headers).read_text())]

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        decision = policy.decide(line_request(b"".join(chunks)))
        body = dumps(_outputs_only(decision, False)) if scope["query_string"] else decision_bytes(decision)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"%d" % len(body)), *fixed]})
        await send({"type": "http.response.body", "body": body})

    uvicorn.run(app, **uvicorn_options("127.0.0.1", int(port)))  # served as `rpl serve` is


# ---- the run ------------------------------------------------------------------------------------------

def measure(query: str, timed: str, seconds: int, folder: Path) -> dict:
    """A wrk run against a server with timers around the `timed` ("stages" or "layers" of rpl
    serve, or "minimal", the minimal endpoint answering as many bytes as rpl serve did), or
    without timers ("plain", rpl serve; "runtime", the runtime alone)."""
    report = folder / "spent.json"
    port = _free_port()
    if timed == "minimal":
        args = [str(port), str(folder / "decision.json"), str(folder / "outputs.json")]
        url = f"http://127.0.0.1:{port}/{'outputs' if query else 'decide'}"
    elif timed == "runtime":
        args = [str(port), str(folder / "headers.json")]
        url = f"http://127.0.0.1:{port}/{query}"
    else:
        args = ["serve", str(POLICY), "--port", str(port), "--no-watch"]
        url = f"http://127.0.0.1:{port}/v1/policies/aputure/decide{query}"
    server = Server([sys.executable, __file__, "--server", str(report), timed, *args], port, f"{timed} with timers")
    body = folder / "request.json"
    body.write_bytes(REQUEST.read_bytes())
    try:
        cpu = cpu_seconds(server.process.pid)
        run = wrk(url, body, seconds, folder)
        cpu = cpu_seconds(server.process.pid) - cpu
    finally:
        server.stop()
    data = json.loads(report.read_text())
    requests = run["requests"]
    return {"rate": run["rate"], "total_us": 1e6 * cpu / requests, "overhead_us": data["overhead"] / 1000 / requests,
            "spent": {name: sum(times) / 1000 / requests for name, times in data["spent"].items()}}


def split(stages: dict, layers: dict, minimal: dict, plain: dict, runtime_alone: dict) -> dict[str, float]:
    """µs a request of each stage and layer, less what it holds; the rest of the request is uvicorn's
    (in the run with the layers' timers). The minimal endpoint's two parts next, and last, from the
    runs without timers, the runtime alone's whole request and rpl serve's less it."""
    runtime = {name: us for name, us in stages["spent"].items() if name in STAGES and us}
    spent, received, sent = layers["spent"], stages["spent"]["uvicorn_receive"], stages["spent"]["uvicorn_send"]
    minimal_io = minimal["spent"]["uvicorn_receive"] + minimal["spent"]["uvicorn_send"]
    return {
        **{f"runtime: {name}": us for name, us in runtime.items()},
        "service: dispatch": spent["dispatch"] - spent["endpoint"] - sent,
        "service: endpoint": spent["endpoint"] - sum(runtime.values()) - received,
        "framework: uvicorn": layers["total_us"] - layers["overhead_us"] - spent["dispatch"] + received + sent,
        "minimal: Starlette": minimal["spent"]["starlette"] - minimal_io,
        "minimal: uvicorn": minimal["total_us"] - minimal["overhead_us"] - minimal["spent"]["starlette"] + minimal_io,
        "runtime alone": runtime_alone["total_us"],
        "whole": plain["total_us"] - runtime_alone["total_us"],
    }


def main() -> None:
    if sys.argv[1:2] == ["--server"]:
        return serve_with_timers(Path(sys.argv[2]), sys.argv[3], sys.argv[4:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5, help="each wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"single decisions, {CONNECTIONS} keep-alive connections (wrk) at the maximum rate: "
          "µs of processor time a request, the timers' own cost taken out")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        answers(folder)
        timings = ("stages", "layers", "minimal", "plain", "runtime")
        for query in ("", "?explain=false"):
            rounds = [[measure(query, timed, args.seconds, folder) for timed in timings]
                      for _ in range(args.rounds)]
            splits = [split(*run) for run in rounds]
            parts = {part: statistics.median(s[part] for s in splits) for part in splits[0]}
            for timed, runs in zip(timings, zip(*rounds)):
                print(f"/decide{query}, timers of the {timed}: " + "; ".join(
                    f"{r['rate']:,.0f}/s, {r['total_us']:.1f} µs a request ({r['overhead_us']:.1f} the timers')"
                    for r in runs))
            alone, whole = parts.pop("runtime alone"), parts.pop("whole")
            for server in ("rpl serve", "minimal"):
                own = {part: us for part, us in parts.items() if part.startswith("minimal") == (server == "minimal")}
                for part, us in own.items():
                    print(f"  {part:22} {us:6.1f}")
                print(f"  {f'(sum, {server})':22} {sum(own.values()):6.1f}")
            print(f"  without timers: the runtime alone, with rpl serve's headers, {alone:.1f}; rpl serve "
                  f"less it, the service's whole cost, {whole:.1f}")


def answers(folder: Path) -> None:
    """What rpl serve answers, a decision and its outputs alone: the minimal endpoint answers as many
    bytes (as in `bench_serve.py`)."""
    import httpx

    port = _free_port()
    server = Server([sys.executable, "-m", "rplang.cli", "serve", str(POLICY), "--port", str(port), "--no-watch"],
                    port, "rpl serve")
    try:
        url = f"http://127.0.0.1:{port}/v1/policies/aputure/decide"
        (folder / "decision.json").write_bytes(httpx.post(url, content=REQUEST.read_bytes()).content)
        (folder / "outputs.json").write_bytes(httpx.post(url + "?explain=false", content=REQUEST.read_bytes()).content)
        answer = httpx.post(url, content=REQUEST.read_bytes())  # its headers, for the runtime alone
        (folder / "headers.json").write_text(json.dumps(
            [(name, value) for name, value in answer.headers.items() if name not in ("content-length", "date", "server")]))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
