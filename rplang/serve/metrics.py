"""The service's Prometheus metrics, in a registry of its own (nothing global), with the official client.

With `--workers N`, each worker process counts its own requests: scrape each, or run one worker
per instance behind the load balancer.
"""
from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# A decision takes tens of microseconds; a batch, up to seconds.
BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        self.decisions = Counter("rpl_decisions", "Decisions made, by policy and outcome",
                                 ["policy", "outcome"], registry=self.registry)
        self.latency = Histogram("rpl_decision_seconds", "Time to decide and render one HTTP request "
                                 "(a whole batch for NDJSON)", ["policy", "format"], buckets=BUCKETS,
                                 registry=self.registry)
        self.errors = Counter("rpl_request_errors", "Requests answered with an error, by status",
                              ["status"], registry=self.registry)
        self.line_errors = Counter("rpl_batch_line_errors", "NDJSON lines answered with an error object",
                                   ["policy"], registry=self.registry)
        self.reloads = Counter("rpl_policy_reloads", "Policy reloads, by policy and result (ok, failed)",
                               ["policy", "result"], registry=self.registry)
        self.loaded = Gauge("rpl_policies_loaded", "Policies being served", registry=self.registry)
        self._children: dict = {}  # (metric, labels) -> the labelled child, looked up once

    def _child(self, metric, *labels):
        try:
            return self._children[metric, labels]
        except KeyError:
            child = self._children[metric, labels] = metric.labels(*labels)
            return child

    def decided(self, policy: str, outcome: str) -> None:
        self._child(self.decisions, policy, outcome).inc()

    def timed(self, policy: str, form: str, seconds: float) -> None:
        self._child(self.latency, policy, form).observe(seconds)

    def reloaded(self, policy: str, ok: bool) -> None:
        self.reloads.labels(policy, "ok" if ok else "failed").inc()

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
