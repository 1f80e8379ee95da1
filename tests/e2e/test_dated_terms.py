"""Terms by date: parameters with dated values, versions of a policy, `--as-of`.

The bundled `policies/aputure_holidays.rpl` is aputure with a holiday window (30 days for
purchases from 2026-11-15 to 2026-12-31) and the fee as it was before March 2026 (10%).
"""
import datetime
import json
import subprocess
import sys

import pytest

from rplang.policy_lang.errors import EvaluationError, PolicyError
from rplang.runtime import load_policy, load_policy_text
from rplang.runtime.loading import load_history
from tests.conftest import APUTURE, APUTURE_REQUESTS, POLICIES, ROOT

HOLIDAYS = POLICIES / "aputure_holidays.rpl"
CASES = ROOT / "tests" / "e2e" / "dated_cases"


def _request(name="01-window-day-14.json", **changes):
    data = json.loads((APUTURE_REQUESTS / name).read_text())
    for key, value in changes.items():
        if key in ("purchase_date", "delivery_date"):
            data["order"][key] = value
        else:
            data[key] = value
    return data


@pytest.fixture(scope="module")
def holidays():
    return load_policy(HOLIDAYS)


# ---- each side of each boundary ----------------------------------------------------------------

@pytest.mark.parametrize("purchased,delivered,requested,outcome,window", [
    ("2026-11-14", "2026-11-18", "2026-12-02", "approve", 14),   # day 14, standard window
    ("2026-11-14", "2026-11-18", "2026-12-03", "refuse", 14),    # day 15, standard window
    ("2026-11-15", "2026-11-18", "2026-12-03", "approve", 30),   # day 15, holiday window
    ("2026-11-15", "2026-11-18", "2026-12-18", "approve", 30),   # day 30
    ("2026-11-15", "2026-11-18", "2026-12-19", "refuse", 30),    # day 31
    ("2026-12-31", "2027-01-04", "2027-02-03", "approve", 30),   # last holiday purchase, day 30
    ("2027-01-01", "2027-01-04", "2027-01-18", "approve", 14),   # back to 14 days: day 14
    ("2027-01-01", "2027-01-04", "2027-01-19", "refuse", 14),    # day 15
])
def test_the_window_in_force_on_the_purchase_date(holidays, purchased, delivered, requested, outcome, window):
    decision = holidays.decide(_request(purchase_date=purchased, delivery_date=delivered, request_date=requested))
    assert decision.outcome == outcome
    (term,) = [t for t in decision.to_json()["terms"] if t["parameter"] == "return_window_length"]
    assert term["value"] == window and term["date"] == purchased
    if window == 30:
        assert term["period"] == {"from": "2026-11-15", "until": "2026-12-31", "label": "the holiday window"}
        assert term["sentence"] == (f"purchased {purchased}: the holiday window of 30 days applies, "
                                    "from 2026-11-15 to 2026-12-31")
    else:
        assert term["period"] is None and "the return window length is 14 days" in term["sentence"]


@pytest.mark.parametrize("purchased,fee,refund", [("2026-02-28", "189.00", "1652.00"),
                                                  ("2026-03-01", "283.50", "1557.50")])
def test_the_fee_in_force_on_the_purchase_date(holidays, purchased, fee, refund):
    decision = holidays.decide(_request("00-semantics-example.json", purchase_date=purchased,
                                        delivery_date="2026-03-03"))
    assert decision.outputs_json()["restocking_fee"] == fee
    assert decision.outputs_json()["refund"] == refund
    assert f"purchased {purchased}:" in decision.explain_text()


def test_the_explanation_names_the_value_used(holidays, snapshot):
    decision = holidays.decide(_request(purchase_date="2026-11-20", delivery_date="2026-11-23",
                                        request_date="2026-12-15"))
    text = decision.explain_text()
    assert "purchased 2026-11-20: the holiday window of 30 days applies, from 2026-11-15 to 2026-12-31" in text
    assert text == snapshot


def test_as_of_answers_what_if(holidays):
    late = _request(purchase_date="2026-11-01", delivery_date="2026-11-03", request_date="2026-11-25")
    assert holidays.decide(late).outcome == "refuse"
    decision = holidays.decide(late, as_of=datetime.date(2026, 12, 1))
    assert decision.outcome == "approve"
    assert "as of 2026-12-01 (asked instead of purchased 2026-11-01)" in decision.explain_text()


def test_as_of_on_the_command_line():
    path = APUTURE_REQUESTS / "00-semantics-example.json"
    run = [sys.executable, "-m", "rplang.cli", "eval", str(HOLIDAYS), str(path)]
    before = json.loads(subprocess.run(run, capture_output=True, text=True, cwd=ROOT).stdout)
    after = json.loads(subprocess.run(run + ["--as-of", "2026-03-05"], capture_output=True, text=True,
                                      cwd=ROOT).stdout)
    assert before["outputs"]["restocking_fee"] == "189.00"
    assert after["outputs"]["restocking_fee"] == "283.50"
    assert after["terms"][1]["date"] == "2026-03-05"


def test_a_policy_without_dated_values_says_nothing_of_terms():
    decision = load_policy(APUTURE).decide(_request())
    assert "terms" not in decision.to_json() and "Terms:" not in decision.explain_text()


# ---- malformed periods: rejected by rpl check, with their location ----------------------------

BROKEN = sorted(CASES.glob("*.rpl"))


@pytest.mark.parametrize("case", BROKEN, ids=[c.stem for c in BROKEN])
def test_malformed_periods_are_located(case, snapshot):
    text = case.read_text()
    expected = [line.split("# error:")[1].split() for line in text.splitlines() if "# error:" in line]
    with pytest.raises(PolicyError) as caught:
        load_policy_text(text, f"{case.parent.name}/{case.name}")
    found = [(d.code, f"{d.span.line}:{d.span.column}") for d in caught.value.diagnostics]
    assert found == [(code, where.lstrip("@")) for code, where in expected]
    assert caught.value.render() == snapshot


def test_there_are_malformed_period_cases():
    assert {c.stem.split("-", 1)[1] for c in BROKEN} >= {
        "overlapping", "ends-before-it-starts", "gap", "not-a-real-date", "no-terms-date",
        "no-value-before", "no-value-after", "values-of-two-kinds", "terms-date-not-a-date"}


# ---- versions of a policy ------------------------------------------------------------------------

def _version(folder, name, effective, window, version):
    text = APUTURE.read_text()
    text = text.replace('version "2026.1"', f'version "{version}"\neffective {effective}\nterms by order.purchase_date')
    text = text.replace("parameter return_window_length = 14 days", f"parameter return_window_length = {window} days")
    (folder / name).write_text(text)


@pytest.fixture
def versions(tmp_path):
    _version(tmp_path, "2026-01.rpl", "2026-01-01", 14, "2026.1")
    _version(tmp_path, "2026-07.rpl", "2026-07-01", 21, "2026.2")
    return tmp_path


@pytest.mark.parametrize("purchased,version,outcome", [
    ("2026-06-30", "2026.1", "refuse"),    # day 18 after delivery: 14 days
    ("2026-07-01", "2026.2", "approve"),   # 21 days from 2026-07-01
])
def test_the_version_in_force_on_the_purchase_date_decides(versions, purchased, version, outcome):
    history = load_history(versions)
    decision = history.decide(_request(purchase_date=purchased, delivery_date="2026-07-02",
                                       request_date="2026-07-20"))
    assert decision.outcome == outcome
    note = decision.to_json()["terms"][0]
    assert note["version"] == version
    until = " until 2026-06-30" if version == "2026.1" else ""
    effective = "2026-01-01" if version == "2026.1" else "2026-07-01"
    assert note["sentence"] == f"{purchased}: version {version} applies, in force from {effective}{until}"


def test_a_date_before_every_version_is_a_clear_error(versions):
    history = load_history(versions)
    with pytest.raises(EvaluationError, match=r"no version of the policy is in force on 2025-12-31: "
                                              r"the versions are 2026.1 from 2026-01-01; 2026.2 from 2026-07-01"):
        history.decide(_request(purchase_date="2025-12-31"))


def test_versions_need_dates_of_their_own(versions):
    text = (versions / "2026-07.rpl").read_text().replace("effective 2026-07-01", "effective 2026-01-01")
    (versions / "2026-07.rpl").write_text(text)
    with pytest.raises(PolicyError) as caught:
        load_history(versions)
    assert [d.code for d in caught.value.diagnostics] == ["RPL056"]


def test_a_version_without_an_effective_date(tmp_path):
    (tmp_path / "a.rpl").write_text(APUTURE.read_text())
    with pytest.raises(PolicyError) as caught:
        load_history(tmp_path)
    assert "RPL055" in [d.code for d in caught.value.diagnostics]


def test_a_folder_of_versions_on_the_command_line(versions):
    path = tmp_request = versions / "request.json"
    tmp_request.write_text(json.dumps(_request(purchase_date="2026-07-01", delivery_date="2026-07-02",
                                               request_date="2026-07-20")))
    run = [sys.executable, "-m", "rplang.cli"]
    checked = subprocess.run(run + ["check", str(versions)], capture_output=True, text=True, cwd=ROOT)
    assert checked.returncode == 0, checked.stderr
    result = subprocess.run(run + ["explain", str(versions), str(path)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "2026-07-01: version 2026.2 applies, in force from 2026-07-01" in result.stdout
    what_if = subprocess.run(run + ["eval", str(versions), str(path), "--as-of", "2026-06-30"],
                             capture_output=True, text=True, cwd=ROOT)
    assert json.loads(what_if.stdout)["outputs"]["outcome"] == "refuse"


def test_rpl_diff_compares_two_versions(versions, tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text((POLICIES / "aputure" / "corpus.jsonl").read_text())
    result = subprocess.run([sys.executable, "-m", "rplang.cli", "diff", str(versions / "2026-01.rpl"),
                             str(versions / "2026-07.rpl"), "--requests", str(corpus), "--format", "json"],
                            capture_output=True, text=True, cwd=ROOT)
    report = json.loads(result.stdout)
    assert report["changed"] > 0
    assert all(row["from"] == "refuse" for row in report["outcomes"])


# ---- ranges of dates as values: `parameter season = A through B`, `day in season` ---------------

SEASON = '''policy "Season"
request:
  purchase_date: date
parameter holiday_season = 2026-11-15 through 2026-12-31
outcomes:
  approve_with_fee "HOLIDAY"
  approve "APPROVED"
rule holiday:
  cites "Holiday orders."
  when purchase_date in holiday_season
  then approve_with_fee
  because "bought {purchase_date}, in {holiday_season}"
output outcome
'''


@pytest.mark.parametrize("day,outcome", [("2026-11-14", "approve"), ("2026-11-15", "approve_with_fee"),
                                         ("2026-12-31", "approve_with_fee"), ("2027-01-01", "approve")])
def test_a_day_in_a_range_of_dates(day, outcome):
    decision = load_policy_text(SEASON, "season.rpl").decide({"purchase_date": day})
    assert decision.outcome == outcome
    if outcome != "approve":
        assert decision.explanation()[0]["sentence"] == f"bought {day}, in 2026-11-15 to 2026-12-31"


def test_a_day_in_a_range_agrees_with_the_reference_and_the_residual_evaluator():
    from rplang.runtime.reference import decide as reference_decide

    policy = load_policy_text(SEASON.replace("purchase_date: date", "purchase_date: date at checkout"), "s.rpl")
    for day in ("2026-11-14", "2026-11-15", "2026-12-31", "2027-01-01"):
        request = {"purchase_date": day}
        expected = policy.decide(request)
        assert reference_decide(policy.checked, policy.read_request(request)).outputs == expected.outputs_json()
        assert policy.decide_partial(request).outcome == expected.outcome
    assert policy.decide_partial({}).outcome == "pending"


def test_a_range_that_ends_before_it_starts():
    with pytest.raises(PolicyError) as caught:
        load_policy_text(SEASON.replace("2026-11-15 through 2026-12-31", "2026-12-31 through 2026-11-15"), "s.rpl")
    assert [d.code for d in caught.value.diagnostics] == ["RPL051"]


def test_a_request_cannot_hold_a_range_of_dates():
    with pytest.raises(PolicyError) as caught:
        load_policy_text("request:\n  stay: date range\n", "r.rpl")
    (problem,) = caught.value.diagnostics
    assert (problem.code, problem.span.text) == ("RPL023", "date range")


def test_rpl_check_says_how_it_read_a_folder(versions, tmp_path):
    from tests.cli.conftest import run

    versions_reading = run("check", versions)
    assert versions_reading.code == 0, versions_reading.err
    assert "a folder of versions of one policy (every file says `effective`), checked together" in versions_reading.out
    assert "2 policies checked" in versions_reading.out
    same_day = (versions / "2026-07.rpl").read_text().replace("effective 2026-07-01", "effective 2026-01-01")
    (versions / "2026-07.rpl").write_text(same_day)
    clash = run("check", versions)
    assert clash.code == 1 and "RPL056" in clash.err  # checked together, as versions

    policies_reading = run("check", ROOT / "policies")
    assert policies_reading.code == 0, policies_reading.err
    assert "a folder of policies, each checked on its own" in policies_reading.out
    assert "RPL055" not in policies_reading.both


def test_a_folder_with_one_file_that_has_no_date_is_a_folder_of_policies(versions):
    from tests.cli.conftest import run

    text = (versions / "2026-07.rpl").read_text().replace("effective 2026-07-01\n", "")
    (versions / "2026-07.rpl").write_text(text)
    result = run("check", versions)
    assert "a folder of policies, each checked on its own" in result.out


def test_a_version_saved_with_a_byte_order_mark_still_says_effective(versions):
    """Notepad begins the file with one: `effective` on the first line follows it."""
    from tests.cli.conftest import run

    for path in versions.glob("*.rpl"):
        text = path.read_text(encoding="utf-8")
        effective = next(line for line in text.splitlines() if line.startswith("effective "))
        path.write_bytes(b"\xef\xbb\xbf" + (effective + "\n" + text.replace(effective + "\n", "")).encode())
    result = run("check", versions)
    assert result.code == 0, result.err
    assert "a folder of versions of one policy" in result.out
