"""Snapshots of every bundled request's decision and explanation, one line per policy.

Change a policy, run pytest, read which requests changed and how; accept with `--snapshot-update`.
"""
from rplang.pytest_plugin import snapshot_requests

test_aputure = snapshot_requests("../../policies/aputure.rpl", "../../policies/aputure/requests")
test_electronics = snapshot_requests("../../policies/electronics.rpl", "../../policies/electronics/requests")
test_mixed_store = snapshot_requests("../../policies/mixed_store.rpl", "../../policies/mixed_store/requests")
test_bestbuy = snapshot_requests("../../policies/bestbuy.rpl", "../../policies/bestbuy/requests")
test_hm = snapshot_requests("../../policies/hm.rpl", "../../policies/hm/requests")
test_ikea = snapshot_requests("../../policies/ikea.rpl", "../../policies/ikea/requests")
