"""The service's Prometheus metrics, in a registry of its own (nothing global), with the official client.

What is counted per request (decisions, latencies, errors) is counted in plain dictionaries and
given to the client as metric families when `/metrics` is read: a labelled Counter or Histogram
of the client takes a lock, and a histogram walks its buckets in Python, on every count (about
4 µs of a single decision's request). Those counts are made on the
event loop's thread only, where every request is answered, so they need no lock. Reloads, counted
from the watcher's thread, and the gauge use the client's own metrics.

With `--workers N`, each worker process counts its own requests: scrape each, or run one worker
per instance behind the load balancer.
"""
from __future__ import annotations

import bisect

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

# A decision takes tens of microseconds; a batch, up to seconds.
BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        self.decisions: dict[tuple[str, str], int] = {}  # (policy, outcome) -> decisions
        # (policy, format) -> [count in each bucket, the last one past BUCKETS' last bound], seconds in all
        self.latency: dict[tuple[str, str], tuple[list[int], list[float]]] = {}
        self.errors: dict[str, int] = {}  # status -> answers
        self.line_errors: dict[str, int] = {}  # policy -> lines answered with an error object
        self.reloads = Counter("rpl_policy_reloads", "Policy reloads, by policy and result (ok, failed)",
                               ["policy", "result"], registry=self.registry)
        self.loaded = Gauge("rpl_policies_loaded", "Policies being served", registry=self.registry)
        self.registry.register(_Counts(self))

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

    def reloaded(self, policy: str, ok: bool) -> None:
        self.reloads.labels(policy, "ok" if ok else "failed").inc()

    def watch_log(self, decision_log) -> None:
        """The decision log's queue, when the service keeps a log: an operator sees the writer
        fall behind before requests wait for it."""
        queued = Gauge("rpl_decision_log_queued_bytes", "Decisions' bytes waiting for the decision log's writer "
                       "(past 64 MiB, requests wait for it)", registry=self.registry)
        queued.set_function(lambda: decision_log.queued_bytes)

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class _Counts(Collector):
    """The counts of `Metrics` as the client's metric families, made when they are read."""

    def __init__(self, metrics: Metrics):
        self.metrics = metrics

    def collect(self):
        m = self.metrics
        decisions = CounterMetricFamily("rpl_decisions", "Decisions made, by policy and outcome",
                                        labels=["policy", "outcome"])
        for labels, count in list(m.decisions.items()):
            decisions.add_metric(labels, count)
        latency = HistogramMetricFamily("rpl_decision_seconds", "Time to decide and render one HTTP request "
                                        "(a whole batch for NDJSON)", labels=["policy", "format"])
        for labels, (buckets, total) in list(m.latency.items()):
            cumulative, counted = [], 0
            for bound, count in zip((*map(floatToGoString, BUCKETS), "+Inf"), buckets):
                counted += count
                cumulative.append((bound, counted))
            latency.add_metric(labels, cumulative, total[0])
        errors = CounterMetricFamily("rpl_request_errors", "Requests answered with an error, by status",
                                     labels=["status"])
        for status, count in list(m.errors.items()):
            errors.add_metric([status], count)
        line_errors = CounterMetricFamily("rpl_batch_line_errors", "NDJSON lines answered with an error object",
                                          labels=["policy"])
        for policy, count in list(m.line_errors.items()):
            line_errors.add_metric([policy], count)
        return [decisions, latency, errors, line_errors]
