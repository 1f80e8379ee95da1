"""`/metrics`: Prometheus text from the official client; decisions by policy and outcome,
latency histograms, request errors (reloads: see test_reload.py)."""
import json

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import APUTURE_REQUESTS

NDJSON = {"Content-Type": "application/x-ndjson"}


def samples(client) -> dict:
    answer = client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(answer.text) for s in family.samples}


def value(found: dict, name: str, **labels) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_decisions_by_policy_and_outcome_latency_and_errors(client):
    requests = sorted(APUTURE_REQUESTS.glob("*.json"))[:12]
    outcomes = {}
    before = samples(client)
    for path in requests:
        answer = client.post("/v1/policies/aputure/decide", content=path.read_bytes())
        if answer.status_code == 200:
            outcome = answer.json()["outputs"]["outcome"]
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    batch = (APUTURE_REQUESTS / "01-window-day-14.json").read_text().replace("\n", "") + "\n"
    answered = client.post("/v1/policies/aputure/decide", content=batch * 3 + "{oops\n", headers=NDJSON)
    batch_outcome = json.loads(answered.text.splitlines()[0])["outputs"]["outcome"]
    outcomes[batch_outcome] = outcomes.get(batch_outcome, 0) + 3
    client.post("/v1/policies/aputure/decide", content=b"{")  # 400
    client.post("/v1/policies/none/decide", content=b"{}")  # 404
    after = samples(client)

    assert len(outcomes) >= 2  # the requests chosen reach several outcomes
    for outcome, count in outcomes.items():
        assert value(after, "rpl_decisions_total", policy="aputure", outcome=outcome) - \
            value(before, "rpl_decisions_total", policy="aputure", outcome=outcome) == count
    decided = sum(outcomes.values()) - 3  # single requests decided; the others were refused (422)
    assert value(after, "rpl_decision_seconds_count", policy="aputure", format="json") - \
        value(before, "rpl_decision_seconds_count", policy="aputure", format="json") == decided
    assert value(after, "rpl_request_errors_total", status="422") - \
        value(before, "rpl_request_errors_total", status="422") == len(requests) - decided
    assert value(after, "rpl_decision_seconds_count", policy="aputure", format="ndjson") - \
        value(before, "rpl_decision_seconds_count", policy="aputure", format="ndjson") == 1
    assert value(after, "rpl_batch_line_errors_total", policy="aputure") - \
        value(before, "rpl_batch_line_errors_total", policy="aputure") == 1
    for status in ("400", "404"):
        assert value(after, "rpl_request_errors_total", status=status) - \
            value(before, "rpl_request_errors_total", status=status) == 1
    assert value(after, "rpl_policies_loaded") == 7


def test_latency_histogram_buckets_are_cumulative(client):
    client.post("/v1/policies/aputure/decide", content=(APUTURE_REQUESTS / "01-window-day-14.json").read_bytes())
    answer = client.get("/metrics")
    (family,) = [f for f in text_string_to_metric_families(answer.text) if f.name == "rpl_decision_seconds"]
    json_samples = [s for s in family.samples if s.labels.get("format") == "json" and s.labels.get("policy") == "aputure"]
    buckets = [(float(s.labels["le"]), s.value) for s in json_samples if s.name.endswith("_bucket")]
    (count,) = [s.value for s in json_samples if s.name.endswith("_count")]
    (total,) = [s.value for s in json_samples if s.name.endswith("_sum")]
    assert [b for b, _ in buckets] == sorted(b for b, _ in buckets) and buckets[-1][0] == float("inf")
    assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:]))  # each bucket holds those below it
    assert buckets[-1][1] == count >= 1 and 0 < total < count  # a decision takes well under a second
