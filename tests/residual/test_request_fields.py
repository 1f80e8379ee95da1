"""A field of the request itself (not of a record) given only `when` a fact is true, and known
only at a later stage: the residual decision guards it as the ordinary one does."""
from rplang.runtime import load_policy_text

POLICY = '''outcomes:
  refuse "REFUSED"
  approve "APPROVED"
request:
  d: date
  late: boolean
  seen: date when late at review
rule r:
  cites "Seen after the date: refused."
  when late and seen > d
  then refuse
output outcome
'''


def test_left_out_while_its_flag_is_true_it_is_open():
    policy = load_policy_text(POLICY, "seen.rpl")
    assert policy.decide_partial({"d": "2026-01-01", "late": True}).outcome == "pending"


def test_ignored_while_its_flag_is_false():
    policy = load_policy_text(POLICY, "seen.rpl")
    assert policy.decide_partial({"d": "2026-01-01", "late": False}).outcome == "approve"
    assert policy.decide({"d": "2026-01-01", "late": False}).outcome == "approve"


def test_given_it_decides():
    policy = load_policy_text(POLICY, "seen.rpl")
    assert policy.decide_partial({"d": "2026-01-01", "late": True, "seen": "2026-02-01"}).outcome == "refuse"
