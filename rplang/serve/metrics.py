"""The service's Prometheus metrics, with the official client.

One process (`--workers 1`, `Metrics`): a registry of its own (nothing global). What is counted
per request (decisions, latencies, errors) is counted in plain dictionaries and given to the
client as metric families when `/metrics` is read: a labelled Counter or Histogram of the client
takes a lock, and a histogram walks its buckets in Python, on every count (about 4 µs of a single
decision's request). Those counts are made on the event loop's thread only, where every request
is answered, so they need no lock. Reloads, counted from the watcher's thread, and the gauges use
the client's own metrics.

Several worker processes (`--workers N`, `WorkerMetrics`): a scrape reaches one worker, and must
show them all. Each worker counts in the same dictionaries, and moves what it counted into the
client's multiprocess metrics every tenth of a second (`FLUSH_SECONDS`): they keep it in a
memory-mapped file of the worker's own, in the folder `rpl serve` made for this server
(`PROMETHEUS_MULTIPROC_DIR`, see `workers.py`), and the worker answering `/metrics` adds up the
files of every worker that has run with the client's `MultiProcessCollector`. Counting with the
client's multiprocess metrics on each request cost a single decision about 9 µs (a lock, the
process id checked, a memory-mapped write per value): a scrape lags the other workers' last tenth
of a second instead, and a worker killed (not stopped) loses its last tenth of a second of
counts, as the decision log its last tenth of a second of decisions. Gauges cannot take their
value from a function there (the collector reads files only): each worker sets them at each move.
Every worker reloads a policy whose files changed; the change is counted once, by the first
worker to count it (`WorkerMetrics.reloaded`).

The decision log's state (`log_health`) is a gauge too, and `/readyz` reads it here: with
`--workers N` each worker's writer has a state of its own, and the worker a load balancer asks
must answer for all of them, so it reads the others' from their files (`log_states`).
"""
from __future__ import annotations

import asyncio
import bisect
import contextlib
import glob
import hashlib
import logging
import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from .log_health import STATES

log = logging.getLogger("rpl.serve")

# A decision takes tens of microseconds; a batch, up to seconds.
BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
# the folder of the client's multiprocess mode: the client reads it when it is imported
MULTIPROCESS_FOLDER = "PROMETHEUS_MULTIPROC_DIR"
# between two moves of a worker's counts into its files (`--workers N`), as the decision log's hand-over
FLUSH_SECONDS = 0.1
# the folder, in the multiprocess folder, of the marks of the reloads counted (`WorkerMetrics.reloaded`)
RELOADS_COUNTED = "reloads-counted"

# name -> help, of the metrics both kinds of process expose
DECISIONS = "rpl_decisions", "Decisions made, by policy and outcome"
LATENCY = "rpl_decision_seconds", "Time to decide and render one HTTP request (a whole batch for NDJSON)"
ERRORS = "rpl_request_errors", "Requests answered with an error, by status"
LINE_ERRORS = "rpl_batch_line_errors", "NDJSON lines answered with an error object"
RELOADS = "rpl_policy_reloads", "Policy reloads, by policy and result (ok, failed)"
LOADED = "rpl_policies_loaded", "Policies being served"
QUEUED = ("rpl_decision_log_queued_bytes",
          "Decisions' bytes waiting for the decision log's writer (past 64 MiB, requests wait for it)")
LOG_STATE = ("rpl_decision_log_state",
             "1 for the state the decision log is in (ok, failing, written_over, stopped; with several workers, "
             "each state a worker's log is in)")
LOG_HELD = ("rpl_decision_log_held_decisions",
            "Decisions held in memory by the decision log's writer while its file cannot be written, or was "
            "written over (past 64 MiB, the oldest are lost)")
LOG_LOST = ("rpl_decision_log_lost_decisions",
            "Decisions the decision log will never record: past what is held while it cannot be written, or "
            "left to a writer that stopped")


def metrics_of_this_process():
    """`WorkerMetrics` in a worker of `rpl serve --workers N` (its parent set the folder), else `Metrics`."""
    folder = os.environ.get(MULTIPROCESS_FOLDER)
    return WorkerMetrics(folder) if folder else Metrics()


class Counts:
    """What is counted per request, in dictionaries, on the event loop's thread; and the reloads,
    from the watcher's thread, with the client's counter `reloads` that each kind of process makes."""

    def __init__(self):
        self.decisions: dict[tuple[str, str], int] = {}  # (policy, outcome) -> decisions
        # (policy, format) -> [count in each bucket, the last one past BUCKETS' last bound], seconds in all
        self.latency: dict[tuple[str, str], tuple[list[int], list[float]]] = {}
        self.errors: dict[str, int] = {}  # status -> answers
        self.line_errors: dict[str, int] = {}  # policy -> lines answered with an error object

    def decided(self, policy: str, outcome: str) -> None:
        key = policy, outcome
        self.decisions[key] = self.decisions.get(key, 0) + 1

    def timed(self, policy: str, form: str, seconds: float) -> None:
        try:
            buckets, total = self.latency[policy, form]
        except KeyError:
            buckets, total = self.latency[policy, form] = [0] * (len(BUCKETS) + 1), [0.0]
        buckets[bisect.bisect_left(BUCKETS, seconds)] += 1  # a bucket holds what is <= its bound
        total[0] += seconds

    def request_error(self, status: int) -> None:
        key = str(status)
        self.errors[key] = self.errors.get(key, 0) + 1

    def line_error(self, policy: str) -> None:
        self.line_errors[policy] = self.line_errors.get(policy, 0) + 1

    def reloaded(self, policy: str, ok: bool, change: str) -> None:
        """A reload of `policy`'s files, which worked or not, counted once per `change`
        (`registry._change`: what told this change from the others): a policy that fails is
        compiled again at each reload of the folder, its files unchanged, and with `--workers N`
        each worker reloads each change."""
        key = hashlib.sha256(f"{policy}\0{ok}\0{change}".encode("utf-8", "surrogateescape")).hexdigest()
        if self._first_to_count(key):
            self.reloads.labels(policy, "ok" if ok else "failed").inc()


class Metrics(Counts):
    """The metrics of a server that is one process."""

    def __init__(self):
        super().__init__()
        self.registry = CollectorRegistry()
        self.reloads = Counter(*RELOADS, ["policy", "result"], registry=self.registry)
        self.loaded = Gauge(*LOADED, registry=self.registry)
        self.registry.register(_Counts(self))
        self._reloads_counted: set[str] = set()  # the keys of the changes counted, from the watcher's thread

    def _first_to_count(self, key: str) -> bool:
        if key in self._reloads_counted:
            return False
        self._reloads_counted.add(key)
        return True

    @contextlib.asynccontextmanager
    async def gauges(self, policies, decision_log):
        """While the server serves: the number of `policies()`, and when the service keeps a
        decision log its queue (an operator sees the writer fall behind before requests wait), its
        state, and the decisions it holds and lost."""
        self.loaded.set_function(policies)
        if decision_log is not None:
            Gauge(*QUEUED, registry=self.registry).set_function(lambda: decision_log.queued_bytes)
            self.registry.register(_LogState(decision_log))
        yield

    def log_states(self, decision_log) -> set[str]:
        """The decision log's state, in a set as `WorkerMetrics.log_states` gives its workers'."""
        return {decision_log.state}

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class _Counts(Collector):
    """The counts of `Metrics` as the client's metric families, made when they are read."""

    def __init__(self, metrics: Metrics):
        self.metrics = metrics

    def collect(self):
        m = self.metrics
        decisions = CounterMetricFamily(*DECISIONS, labels=["policy", "outcome"])
        for labels, count in list(m.decisions.items()):
            decisions.add_metric(labels, count)
        latency = HistogramMetricFamily(*LATENCY, labels=["policy", "format"])
        for labels, (buckets, total) in list(m.latency.items()):
            cumulative, counted = [], 0
            for bound, count in zip((*map(floatToGoString, BUCKETS), "+Inf"), buckets):
                counted += count
                cumulative.append((bound, counted))
            latency.add_metric(labels, cumulative, total[0])
        errors = CounterMetricFamily(*ERRORS, labels=["status"])
        for status, count in list(m.errors.items()):
            errors.add_metric([status], count)
        line_errors = CounterMetricFamily(*LINE_ERRORS, labels=["policy"])
        for policy, count in list(m.line_errors.items()):
            line_errors.add_metric([policy], count)
        return [decisions, latency, errors, line_errors]


class _LogState(Collector):
    """The decision log's state, held and lost decisions, read when they are."""

    def __init__(self, decision_log):
        self.log = decision_log

    def collect(self):
        state = GaugeMetricFamily(*LOG_STATE, labels=["state"])
        now = self.log.state
        for name in STATES:
            state.add_metric([name], float(name == now))
        held = GaugeMetricFamily(*LOG_HELD, value=self.log.held)
        lost = CounterMetricFamily(*LOG_LOST, value=self.log.lost)
        return [state, held, lost]


class WorkerMetrics(Counts):
    """The metrics of one worker of several: counted as `Metrics` counts them, and moved into the
    client's multiprocess metrics (files under `folder`) every `FLUSH_SECONDS` on the event loop
    (where the counts are made, so that no lock is needed), before this worker answers a scrape,
    and when it stops. The metrics are in no registry: what they count is read back from the
    files by the collector, the only one the registry of `/metrics` holds."""

    def __init__(self, folder: str):
        super().__init__()
        self.registry = CollectorRegistry()
        MultiProcessCollector(self.registry, path=folder)
        self.reloads = Counter(*RELOADS, ["policy", "result"], registry=None)
        self._decisions = Counter(*DECISIONS, ["policy", "outcome"], registry=None)
        self._latency = Histogram(*LATENCY, ["policy", "format"], buckets=BUCKETS, registry=None)
        self._errors = Counter(*ERRORS, ["status"], registry=None)
        self._line_errors = Counter(*LINE_ERRORS, ["policy"], registry=None)
        self._reload_marks = os.path.join(folder, RELOADS_COUNTED)
        os.makedirs(self._reload_marks, exist_ok=True)
        self._folder = folder

    def _first_to_count(self, key: str) -> bool:
        """Across the workers: each worker reloads the files that changed, and the first to count
        a change with its result leaves a mark of it in the shared folder (a file made only if it
        is not there, which no other worker can make at the same time); the others see the mark
        and count nothing. A reload that fails in one worker and works in another (a file read
        half written) is counted as each, as it happened."""
        try:
            os.close(os.open(os.path.join(self._reload_marks, key), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return False  # this worker, or another, counted this change
        except OSError:  # a full disk: counted more than once rather than not at all
            log.exception("a reload's mark could not be left for the other workers")
        return True

    def flush(self) -> None:
        """Add the counts made since the last flush to the files, and start counting from nothing
        (first: counts that fail to be written are lost, never added twice)."""
        decisions, latency, errors, line_errors = self.decisions, self.latency, self.errors, self.line_errors
        self.decisions, self.latency, self.errors, self.line_errors = {}, {}, {}, {}
        for (policy, outcome), count in decisions.items():
            self._decisions.labels(policy, outcome).inc(count)
        for status, count in errors.items():
            self._errors.labels(status).inc(count)
        for policy, count in line_errors.items():
            self._line_errors.labels(policy).inc(count)
        for labels, (buckets, total) in latency.items():
            histogram = self._latency.labels(*labels)
            # `observe` adds one time; the values it adds to, the client's own attributes (one a
            # bound, not cumulative, as ours, and the sum), take the counts of many
            for value, count in zip(histogram._buckets, buckets):
                if count:
                    value.inc(count)
            histogram._sum.inc(total[0])

    @contextlib.asynccontextmanager
    async def gauges(self, policies, decision_log):
        """`Metrics.gauges`, sampled with each flush. The policies loaded are the fewest any live
        worker serves (the workers serve the same files: they differ only while they reload, or
        while one has lost a policy); the queued bytes and the decisions held, sums of the live
        workers'; a state of the decision log, 1 when any live worker's log is in it. A worker's
        gauges stay until its process is gone (`workers.py` then drops them)."""
        sampled = [(Gauge(*LOADED, registry=None, multiprocess_mode="livemin"), policies)]
        if decision_log is not None:
            queued = Gauge(*QUEUED, registry=None, multiprocess_mode="livesum")
            sampled.append((queued, lambda: decision_log.queued_bytes))
            # a state is 1 when any live worker's log is in it
            state = Gauge(*LOG_STATE, ["state"], registry=None, multiprocess_mode="livemax")
            sampled.extend((state.labels(name), lambda name=name: float(decision_log.state == name))
                           for name in STATES)
            held = Gauge(*LOG_HELD, registry=None, multiprocess_mode="livesum")
            sampled.append((held, lambda: decision_log.held))
            lost, counted = Counter(*LOG_LOST, registry=None), [0]

            def count_lost():
                now = decision_log.lost
                lost.inc(now - counted[0])
                counted[0] = now

        async def flushing():
            while True:
                try:
                    for gauge, value in sampled:
                        gauge.set(value())
                    if decision_log is not None:
                        count_lost()
                    self.flush()
                except Exception:  # a full disk: say so, and go on counting
                    log.exception("the metrics of this worker could not be written for the other workers")
                await asyncio.sleep(FLUSH_SECONDS)

        task = asyncio.create_task(flushing())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self.flush()  # the server has answered its last request

    def log_states(self, decision_log) -> set[str]:
        """The states of every live worker's decision log: this worker's as it is, the others' as
        they last set their gauge (at most FLUSH_SECONDS before). A dead worker's gauge goes with
        it (`workers.py`); a worker started since has set its own within FLUSH_SECONDS."""
        others = [file for file in glob.glob(os.path.join(self._folder, "gauge_livemax_*.db"))
                  if file != os.path.join(self._folder, f"gauge_livemax_{os.getpid()}.db")]
        states = {decision_log.state}
        for family in MultiProcessCollector.merge(others, accumulate=False):
            if family.name == LOG_STATE[0]:
                states.update(sample.labels["state"] for sample in family.samples if sample.value == 1)
        return states

    def exposition(self) -> tuple[bytes, str]:
        self.flush()  # this worker's counts exact; the others' at most FLUSH_SECONDS old
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
