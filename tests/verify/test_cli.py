"""`rpl verify` on the command line: exit codes, JSON for CI, two versions compared."""
import json
import subprocess

import pytest

from tests.cli.conftest import run

from .conftest import APUTURE, ROOT

SMALL = '''policy "small"
version "1"
currency USD

request:
  amount: money

outcomes:
  refuse  "REFUSED"
  approve "APPROVED"

rule big:
  cites "big"
  when amount > 100.00
  then refuse
  because "big"

output outcome
'''


def test_refuted_exits_1_and_json_names_the_request(tmp_path):
    policy = tmp_path / "p.rpl"
    policy.write_text(SMALL + "property always_approved: outcome is approve\n", encoding="utf-8")
    result = run("verify", policy, "--format", "json")
    assert result.code == 1
    report = json.loads(result.out)
    (prop,) = report["properties"]
    assert prop["status"] == "refuted"
    assert prop["request"] == {"amount": "101.00"}  # the least round amount that breaks it
    assert prop["outputs"] == {"outcome": "refuse"}
    assert (report["max_items"], report["first_day"], report["last_day"]) == (3, "2026-01-01", "2027-12-31")


def test_proven_exits_0(tmp_path):
    policy = tmp_path / "p.rpl"
    policy.write_text(SMALL + "property small_approved: amount <= 100.00 implies outcome is approve\n",
                      encoding="utf-8")
    result = run("verify", policy)
    assert result.code == 0, result.both
    assert "proven      small_approved" in result.out


def test_a_policy_error_exits_2(tmp_path):
    policy = tmp_path / "p.rpl"
    policy.write_text(SMALL + "property broken: outcome is nothing_such\n", encoding="utf-8")
    result = run("verify", policy)
    assert result.code == 2
    assert "p.rpl:" in result.err
    assert run("verify", tmp_path / "missing.rpl").code == 2
    folder = run("verify", tmp_path)  # a folder of policies, not of one policy's versions
    assert folder.code == 2
    assert f"{tmp_path}: error: a folder cannot be verified yet; give one policy's file" in folder.err


def test_unsupported_is_reported_never_proven(tmp_path):
    policy = tmp_path / "p.rpl"
    policy.write_text(SMALL + "property later: amount > 0.00 implies amount + 0.00 >= amount\n"
                      + "property shifted: round(amount / 2) >= 0.00 or true\n", encoding="utf-8")
    result = run("verify", policy, "--format", "json")
    found = {p["property"]: p for p in json.loads(result.out)["properties"]}
    assert found["later"]["status"] == "proven"
    assert found["shifted"]["status"] == "unsupported"
    assert "property shifted cannot be checked: the operator `/` is not supported" == found["shifted"]["message"]
    assert result.code == 1


def test_window_14_to_30_days_shows_each_kind_of_change(tmp_path):
    new = tmp_path / "aputure30.rpl"
    new.write_text(APUTURE.read_text(encoding="utf-8").replace(
        "parameter return_window_length = 14 days", "parameter return_window_length = 30 days"), encoding="utf-8")
    result = run("verify", APUTURE, new, "--outputs", "outcome,refund", "--max-items", "1", "--format", "json")
    assert result.code == 1, result.both
    report = json.loads(result.out)
    kinds = {(c["output"], c["change"]) for c in report["changes"]}
    assert kinds == {("outcome", "refuse -> approve"), ("outcome", "refuse -> approve_with_fee"),
                     ("refund", "up")}
    for change in report["changes"]:  # requested 15 to 30 days after delivery: late before, in time now
        request = change["request"]
        days = (_day(request["request_date"]) - _day(request["order"]["delivery_date"])).days
        assert 14 < days <= 30
        assert change["old"]["outcome"] == "refuse"


def test_same_policy_from_git_is_equivalent():
    committed = subprocess.run(["git", "log", "-1", "--format=%H", "--", "policies/aputure.rpl"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
    if not committed:
        import pytest
        pytest.skip("not a git checkout")
    import os
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = run("verify", f"git:{committed}:policies/aputure.rpl", "policies/aputure.rpl",
                     "--outputs", "outcome,refund", "--max-items", "1")
    finally:
        os.chdir(cwd)
    if result.code == 64 and "git" in result.err:
        import pytest
        pytest.skip("the working copy's aputure.rpl differs from the one committed")
    assert result.code == 0, result.both
    assert "decide alike (outcome, refund)" in result.out


def _day(text):
    import datetime
    return datetime.date.fromisoformat(text)


def test_without_the_solver_verify_says_what_to_install_and_check_still_works(monkeypatch, tmp_path):
    import sys

    for name in [m for m in sys.modules if m == "z3" or m.startswith(("z3.", "rplang.verify"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "z3", None)  # `import z3` now fails as if not installed
    result = run("verify", APUTURE)
    assert result.code == 64
    assert "install rplang[verify]" in result.err
    checked = run("check", APUTURE)
    assert checked.code == 0, checked.both


def test_text_report(tmp_path, snapshot):
    import re

    policy = tmp_path / "small.rpl"
    policy.write_text(SMALL + "property always_approved: outcome is approve\n"
                      + "property small_approved:\n  amount <= 100.00 implies outcome is approve\n"
                      + "property halved: round(amount / 2) >= 0.00\n", encoding="utf-8")
    result = run("verify", policy, "--max-items", "1")
    assert result.code == 1
    text = re.sub(r"\(\d+\.\d\d s\)", "(… s)", result.out.replace(str(tmp_path), "TMP"))
    assert text == snapshot

def test_a_policy_decided_item_by_item_is_verified(tmp_path):
    from tests.conftest import POLICIES

    result = run("verify", POLICIES / "mixed_store.rpl", "--max-items", "2")
    assert result.code == 0, result.out + result.err
    assert "6 of 6 properties proven" in result.out


def test_date_bounds_are_an_option(tmp_path):
    """A property that fails only in 2028: proven within the default dates, refuted with wider ones;
    the business days of the wider range are known (Christmas 2029 is a Tuesday)."""
    policy = tmp_path / "dated.rpl"
    policy.write_text(SMALL.replace("  amount: money", "  amount: money\n  day: date")
                      .replace("currency USD", "currency USD\ncalendar \"US\"")
                      + "property before_2028: day < 2028-01-01\n"
                      + "property christmas_2029: day is 2029-12-24 implies day + 1 business days is 2029-12-26\n"
                      + "property christmas_2029_wrong: day is 2029-12-24 implies day + 1 business days is 2029-12-25\n",
                      encoding="utf-8")
    default = json.loads(run("verify", policy, "--format", "json").out)
    assert {p["property"]: p["status"] for p in default["properties"]} == \
        {"before_2028": "proven", "christmas_2029": "proven", "christmas_2029_wrong": "proven"}  # no such day
    wider = run("verify", policy, "--format", "json", "--from", "2027-06-01", "--until", "2030-12-31")
    assert wider.code == 1
    report = json.loads(wider.out)
    assert (report["first_day"], report["last_day"]) == ("2027-06-01", "2030-12-31")
    found = {p["property"]: p for p in report["properties"]}
    assert found["christmas_2029"]["status"] == "proven"
    assert found["christmas_2029_wrong"]["status"] == "refuted"
    assert found["christmas_2029_wrong"]["request"]["day"] == "2029-12-24"
    assert found["before_2028"]["status"] == "refuted"
    assert found["before_2028"]["request"]["day"] == "2028-01-01"  # the earliest day that breaks it
    wrong = run("verify", policy, "--from", "2027-01-01", "--until", "2026-01-01")
    assert wrong.code == 64 and "2026-01-01 is before --from 2027-01-01" in wrong.err
    outside = run("verify", policy, "--from", "1800-01-01")
    assert outside.code == 64 and "the dates must lie from 1900-01-01 to 2999-12-31" in outside.err


def test_outputs_that_are_not_outputs_of_both_versions_are_a_usage_error(tmp_path):
    old, new = tmp_path / "old.rpl", tmp_path / "new.rpl"
    old.write_text(SMALL)
    new.write_text(SMALL.replace("amount > 100.00", "amount > 200.00"))
    typo = run("verify", old, new, "--outputs", "outcom")
    assert typo.code == 64
    assert typo.err == ("error: --outputs: `outcom` is not an output of both versions; did you mean `outcome`? "
                        "(they share outcome)\n")
    alone = run("verify", old, "--outputs", "outcome")
    assert alone.code == 64
    assert "Error: --outputs names what to compare between two versions: give OLD and NEW" in alone.err


# z3 settles no question about cubes (Fermat for n = 3) within any time a test has
CUBES = '''policy "cubes"
version "1"
currency USD

request:
  x: integer
  y: integer
  z: integer

outcomes:
  approve "APPROVED"

rule always:
  when true
  then approve

output outcome

property no_cubes_add_up: x > 0 and y > 0 and z > 0 implies x * x * x + y * y * y is not z * z * z
'''


def test_a_question_not_settled_in_time_is_unknown_with_its_reason_never_proven(tmp_path):
    policy = tmp_path / "cubes.rpl"
    policy.write_text(CUBES, encoding="utf-8")
    result = run("verify", policy, "--timeout", "0.2", "--format", "json")
    assert result.code == 1, result.both
    report = json.loads(result.out)
    assert report["holds"] is False
    (prop,) = report["properties"]
    assert prop["status"] == "unknown"
    assert prop["message"] == ("the solver did not settle it within 0.2 s; nothing is claimed "
                               "(a longer --timeout may settle it)")
    text = run("verify", policy, "--timeout", "0.2")
    assert text.code == 1
    assert "UNKNOWN     no_cubes_add_up" in text.out and "0 of 1 properties proven" in text.out


@pytest.mark.parametrize("seconds", ["0", "-1", "nan", "inf", "soon"])
def test_a_timeout_that_is_no_positive_number_is_a_usage_error(seconds):
    result = run("verify", APUTURE, "--timeout", seconds)
    assert result.code == 64 and "--timeout" in result.err


def test_ctrl_c_during_a_proof_stops_the_run_without_a_result(tmp_path):
    """Z3 catches Ctrl-C during a check and answers "unknown": the property was reported as not
    settled in time, and the run went on, for a minute per question still to ask."""
    import os
    import signal
    import time

    from tests.cli.conftest import RPL

    policy = tmp_path / "cubes.rpl"
    policy.write_text(CUBES, encoding="utf-8")
    process = subprocess.Popen(RPL + ["verify", str(policy)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=dict(os.environ, RPL_NO_CACHE="1"),
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert process.stdout.readline().startswith(f"{policy}: 1 property")  # the solver starts now
        time.sleep(1)
        pressed = time.monotonic()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=90)
    finally:
        process.kill()
    assert time.monotonic() - pressed < 20
    assert process.returncode == 130, (out, err)
    assert "UNKNOWN" not in out and "proven" not in out
    assert err.strip() == "interrupted: nothing is claimed of what was not shown"


def test_a_counterexample_the_runtime_does_not_reproduce_is_an_internal_error(tmp_path, monkeypatch):
    """Never a result: the solver and the runtime disagree, a bug of rpl verify (exit 70)."""
    from rplang.verify import replay

    monkeypatch.setattr(replay, "holds", lambda *args: True)
    policy = tmp_path / "p.rpl"
    policy.write_text(SMALL + "property always_approved: outcome is approve\n", encoding="utf-8")
    result = run("verify", policy)
    assert result.code == 70
    assert "error: the solver and the runtime disagree (a bug of rpl verify)" in result.err
    assert "REFUTED" not in result.out


def test_text_report_of_a_property_not_settled_in_time(tmp_path, snapshot):
    import re

    policy = tmp_path / "cubes.rpl"
    policy.write_text(CUBES, encoding="utf-8")
    result = run("verify", policy, "--timeout", "0.2")
    assert result.code == 1
    assert re.sub(r"\(\d+\.\d\d s\)", "(… s)", result.out.replace(str(tmp_path), "TMP")) == snapshot


def test_versions_compared_with_a_kind_of_change_not_settled_say_so(tmp_path, snapshot):
    """The header read `0 kinds of change` above the kinds it could not settle."""
    import re

    rule = ('rule cubes:\n  cites "cubes"\n  when x > 0 and y > 0 and z > 0 and x * x * x + y * y * y is z * z * z\n'
            '  then refuse\n  because "cubes"\n\noutput outcome')
    old = CUBES.replace('outcomes:\n', 'outcomes:\n  refuse "REFUSED"\n').replace("output outcome", rule)
    old = old.split("property")[0]
    (tmp_path / "old.rpl").write_text(old, encoding="utf-8")
    (tmp_path / "new.rpl").write_text(old.replace("x * x * x + y * y * y is z * z * z", "false"), encoding="utf-8")
    result = run("verify", tmp_path / "old.rpl", tmp_path / "new.rpl", "--timeout", "0.2")
    assert result.code == 1
    assert "no change found, 1 kind not settled (outcome;" in result.out
    assert re.sub(r"\d+\.\d\d s\)", "… s)", result.out.replace(str(tmp_path), "TMP")) == snapshot
    report = json.loads(run("verify", tmp_path / "old.rpl", tmp_path / "new.rpl", "--timeout", "0.2",
                            "--format", "json").out)
    assert (report["equivalent"], report["changes"], report["unknown"]) == (False, [], ["outcome: refuse -> approve"])
