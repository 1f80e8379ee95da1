"""Policy examples: the `example` declarations, `rpl test` with coverage, and the pytest plugin."""
import json
import subprocess
import sys

import pytest

from rplang.policy_lang.errors import PolicyError
from rplang.runtime.testing import coverage, coverage_percent, failure_text, load_suite, run_suite

SHOP = '''policy "Shop"
currency USD
clause window: "Returns within 30 days."
enum Kind: return, exchange
request:
  days: integer
  kind: Kind = return
  price: money
outcomes:
  refuse "REFUSED" overrides all other rules
  approve "APPROVED"
rule late:
  cites window
  when days > 30
  then refuse
  because "{days} days"
rule refund:
  cites window
  when kind is return
  then add price to refund
  because "refund {price}"
output outcome
output refund: money total
'''

GOOD = '''
example "in time":
  request {"days": 3, "price": "10.00"}
  expect outcome = approve
  expect refund = 10.00
  expect rules refund

example "late":
  request {"days": 31, "price": "10.00"}
  expect outcome = refuse
  expect refund = 0.00
  expect rules late

example "an exchange refunds nothing":
  request {"days": 3, "kind": "exchange", "price": "10.00"}
  expect refund = 0.00
  expect rules
'''


def _rpl(*args, cwd):
    return subprocess.run([sys.executable, "-m", "rplang.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd)


@pytest.fixture
def shop(tmp_path):
    (tmp_path / "shop.rpl").write_text(SHOP + GOOD)
    return tmp_path


# ---- the library ----------------------------------------------------------------------------------

def test_examples_run_and_cover_every_rule_both_ways(shop):
    suite = load_suite(shop / "shop.rpl")
    results = run_suite(suite)
    assert [r.passed for r in results] == [True, True, True]
    rows = coverage(suite, results)
    assert [(r.rule, r.fired, r.seen_true, r.seen_false) for r in rows] == [
        ("late", True, True, True), ("refund", True, True, True)]
    assert coverage_percent(rows) == 100.0


def test_a_failing_example_says_what_differs_and_how_it_was_decided(shop):
    (shop / "shop.rpl").write_text(SHOP + GOOD.replace("expect refund = 10.00", "expect refund = 12.00"))
    (failed, _, _) = run_suite(load_suite(shop / "shop.rpl"))
    assert not failed.passed
    assert [(m.output, m.expected, m.actual) for m in failed.mismatches] == [("refund", "12.00", "10.00")]


def test_a_failure_shows_expected_and_actual_in_columns(shop):
    (shop / "shop.rpl").write_text(SHOP + GOOD.replace("expect outcome = refuse\n  expect refund = 0.00",
                                                       "expect outcome = approve\n  expect refund = 1.00"))
    (_, failed, _) = run_suite(load_suite(shop / "shop.rpl"))
    assert failure_text(failed).splitlines()[1:4] == [
        "  output   expected   →  actual",
        '  outcome  "approve"  →  "refuse"',
        '  refund   "1.00"     →  "0.00"',
    ]


def test_examples_in_a_sibling_file_with_a_request_file_and_changes(shop):
    (shop / "shop.rpl").write_text(SHOP)
    (shop / "shop").mkdir()
    (shop / "shop" / "late.json").write_text(json.dumps({"days": 31, "price": "5.00"}))
    (shop / "shop" / "examples.rpl").write_text(
        'example "late, from a file":\n  request "late.json"\n  expect outcome = refuse\n\n'
        'example "in time, changed":\n  request "late.json" with days = 2, kind = "exchange"\n'
        '  expect outcome = approve\n  expect refund = 0.00\n')
    results = run_suite(load_suite(shop / "shop.rpl"))
    assert [r.passed for r in results] == [True, True]


def test_a_request_written_in_an_example_reads_as_the_same_json_in_a_file(shop):
    """JSON's escapes mean in an example what they mean in a request file: `exch\\u0061nge` is
    `exchange` in both (it was `exchu0061nge` written in the example, and failed to decide)."""
    (shop / "shop.rpl").write_text(SHOP)
    (shop / "shop").mkdir()
    request = '{"days": 3, "price": "10.00", "kind": "exch\\u0061nge"}'
    assert json.loads(request)["kind"] == "exchange"
    (shop / "shop" / "x.json").write_text(request)
    (shop / "shop" / "examples.rpl").write_text(
        f'example "written":\n  request {request}\n  expect refund = 0.00\n\n'
        'example "from a file":\n  request "x.json"\n  expect refund = 0.00\n')
    results = run_suite(load_suite(shop / "shop.rpl"))
    assert [(r.passed, r.error) for r in results] == [(True, None), (True, None)]


@pytest.mark.parametrize("example,code", [
    ('example "x":\n  request {"days": 1, "price": "1.00"}\n  expect refnd = 1.00\n', "RPL025"),
    ('example "x":\n  request {"days": 1, "price": "1.00"}\n  expect refund = 14 days\n', "RPL030"),
    ('example "x":\n  request {"days": 1, "price": "1.00"}\n  expect outcome = aprove\n', "RPL030"),
    ('example "x":\n  request {"days": 1, "price": "1.00"}\n  expect rules lat\n', "RPL029"),
    ('example "x":\n  expect outcome = approve\n', "RPL012"),
    ('example "x":\n  request {}\nexample "x":\n  request {}\n', "RPL010"),
    ('example "x":\n  request {"days": 1, "price": "1.00", "days": 2}\n', "RPL001"),  # which days?
    ('example "x":\n  request {"days": 1, "price": "1\\q.00"}\n', "RPL001"),  # no escape of JSON's
])
def test_a_broken_example_is_a_located_error(tmp_path, example, code):
    (tmp_path / "shop.rpl").write_text(SHOP + example)
    with pytest.raises(PolicyError) as caught:
        load_suite(tmp_path / "shop.rpl")
    assert code in [d.code for d in caught.value.diagnostics]
    assert all(d.span is not None for d in caught.value.diagnostics)


def test_an_examples_file_holds_only_examples(shop):
    (shop / "shop").mkdir()
    (shop / "shop" / "examples.rpl").write_text('let x = 1\n')
    with pytest.raises(PolicyError) as caught:
        load_suite(shop / "shop.rpl")
    assert [d.code for d in caught.value.diagnostics] == ["RPL013"]


def test_a_request_file_that_is_missing_is_the_example_failing(shop):
    (shop / "shop.rpl").write_text(SHOP + 'example "x":\n  request "nope.json"\n  expect outcome = approve\n')
    (result,) = run_suite(load_suite(shop / "shop.rpl"))
    assert not result.passed and "cannot read the request" in result.error


def test_a_request_file_that_is_a_pipe_is_the_example_failing_unread(shop):
    """Read, a pipe waits for a writer: `rpl test`, and the editor's code lens, hung for ever."""
    from tests.conftest import unblocked_pipe

    (shop / "shop.rpl").write_text(SHOP + 'example "x":\n  request "r.json"\n  expect outcome = approve\n')
    with unblocked_pipe(shop / "r.json"):
        (result,) = run_suite(load_suite(shop / "shop.rpl"))
    assert not result.passed and result.error.endswith("cannot read the request r.json: it is a pipe, not a file")


def test_a_change_to_a_place_the_request_does_not_have(shop):
    (shop / "shop.rpl").write_text(SHOP + 'example "x":\n  request {"days": 1}\n  with items[0].price = "1.00"\n'
                                   '  expect outcome = approve\n')
    (result,) = run_suite(load_suite(shop / "shop.rpl"))
    assert "no such place" in result.error


# ---- rpl test -------------------------------------------------------------------------------------

def test_rpl_test_passes_with_a_summary_line(shop):
    result = _rpl("test", "--coverage", "--fail-under", "100", cwd=shop)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().splitlines()[-1] == "3 passed, 0 failed"
    assert "total: 2/2 rules fired and seen both ways: 100.0%" in result.stdout


def test_rpl_test_fails_and_shows_the_difference(shop):
    (shop / "shop.rpl").write_text(SHOP + GOOD.replace("expect outcome = refuse", "expect outcome = approve"))
    result = _rpl("test", "shop.rpl", cwd=shop)
    assert result.returncode == 1
    assert 'example "late"' in result.stdout
    assert '"approve"  →  "refuse"' in result.stdout
    assert "REFUSED — 1 reason" in result.stdout  # the explanation of the actual decision
    assert result.stdout.rstrip().splitlines()[-1] == "2 passed, 1 failed"


def test_rpl_test_fails_under_the_coverage_asked(shop):
    (shop / "shop.rpl").write_text(SHOP + GOOD.split('example "late"')[0])
    result = _rpl("test", "--coverage", "--fail-under", "100", cwd=shop)
    assert result.returncode == 1
    assert "late    NO     NO    yes" in result.stdout  # never applied, never seen true
    assert "refund  yes    yes   NO" in result.stdout   # never seen false
    assert "coverage 0.0% is under 100%" in result.stderr


def test_rpl_test_with_a_broken_policy(shop):
    (shop / "shop.rpl").write_text(SHOP.replace("when days > 30", "when dayz > 30") + GOOD)
    result = _rpl("test", cwd=shop)
    assert result.returncode == 1
    assert "shop.rpl:14:8" in result.stderr and "Traceback" not in result.stderr


def test_rpl_test_without_any_policy(tmp_path):
    result = _rpl("test", tmp_path, cwd=tmp_path)
    assert result.returncode == 64


def test_rpl_test_with_policies_but_no_example_fails(tmp_path):
    """`opa test` with no tests fails: a CI step that ran nothing (the wrong folder, examples lost)
    passed with `0 passed, 0 failed`."""
    from tests.cli.conftest import run

    (tmp_path / "shop.rpl").write_text(SHOP)
    result = run("test", tmp_path, "--format", "junit")
    assert result.code == 1
    assert f"error: no examples under {tmp_path}: write `example` blocks" in result.err
    assert 'tests="0"' in result.out  # the report is written all the same


def test_rpl_test_runs_only_the_examples_run_names(shop):
    from tests.cli.conftest import run

    result = run("test", shop, "--run", "^(late|in time)$", "--format", "json")
    assert result.code == 0, result.both
    assert [e["example"] for e in json.loads(result.out)["examples"]] == ["in time", "late"]
    text = run("test", shop, "--run", "exchange")
    assert text.code == 0 and text.out.rstrip().splitlines()[-1] == "1 passed, 0 failed"
    assert "no examples" not in text.out


def test_rpl_test_fails_when_run_matches_no_example(shop):
    from tests.cli.conftest import run

    result = run("test", shop, "--run", "nothing such")
    assert result.code == 1
    assert "error: no example matches --run nothing such" in result.err


def test_rpl_test_run_that_is_no_regular_expression_is_a_usage_error(shop):
    from tests.cli.conftest import run

    result = run("test", shop, "--run", "late(")
    assert result.code == 64
    assert "Invalid value for '--run': `late(` is no regular expression: missing )" in result.err


@pytest.mark.parametrize("value", ["nan", "NaN", "101", "-1"])
def test_rpl_test_fail_under_that_is_no_percentage_is_a_usage_error(shop, value):
    """`--fail-under nan` passed click's range (no comparison with nan is true) and every run with it."""
    from tests.cli.conftest import run

    result = run("test", shop, "--fail-under", value)
    assert result.code == 64 and "--fail-under" in result.err


def test_rpl_test_coverage_is_never_shown_as_reaching_a_threshold_it_is_under(shop):
    """2 of 3 rules read "66.7%", and failed with `coverage 66.7% is under 66.7%`."""
    from tests.cli.conftest import run

    (shop / "shop.rpl").write_text(SHOP + 'rule dear:\n  cites window\n  when price > 1000.00\n  then refuse\n'
                                   '  because "dear"\n' + GOOD)
    result = run("test", shop, "--fail-under", "66.7")
    assert result.code == 1
    assert "rule coverage: 66.6%" in result.out
    assert "coverage 66.6% is under 66.7%" in result.err
    assert run("test", shop, "--fail-under", "66.6").code == 0


# ---- the pytest plugin ------------------------------------------------------------------------------

def test_pytest_collects_examples_as_items(shop):
    (shop / "broken_data.rpl").write_text("this is not a policy\n")  # no examples: not collected
    run = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA"]
    result = subprocess.run(run, capture_output=True, text=True, cwd=shop)
    assert result.returncode == 0, result.stdout
    assert "PASSED shop.rpl::in time" in result.stdout and "PASSED shop.rpl::late" in result.stdout
    selected = subprocess.run(run + ["-k", "late"], capture_output=True, text=True, cwd=shop)
    assert "1 passed, 2 deselected" in selected.stdout


def test_a_failing_example_fails_pytest_with_the_difference(shop):
    (shop / "shop.rpl").write_text(SHOP + GOOD.replace("expect refund = 10.00", "expect refund = 9.00"))
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"],
                            capture_output=True, text=True, cwd=shop)
    assert result.returncode == 1
    assert '"9.00"    →  "10.00"' in result.stdout
    assert "FAILED shop.rpl::in time" in result.stdout


def test_an_example_reads_requests_only_from_the_policys_folder(shop, tmp_path):
    outside = tmp_path.parent / "outside.json"
    outside.write_text('{"days": 1, "price": "1.00"}')
    (shop / "shop.rpl").write_text(SHOP + f'example "x":\n  request "../{outside.name}"\n  expect outcome = approve\n')
    (result,) = run_suite(load_suite(shop / "shop.rpl"))
    assert not result.passed and "outside" in result.error


# ---- the pytest plugin: where failures are, and how they look -----------------------------------

def _pytest(project, *args, env=None, terminal=False):
    """pytest in `project`; with `terminal`, its output goes to a pseudo-terminal, as at a desk."""
    import os

    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args]
    env = {**os.environ, **(env or {})}
    if not terminal:
        return subprocess.run(command, capture_output=True, text=True, cwd=project, env=env)
    import pty

    leader, follower = pty.openpty()
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower,
                               cwd=project, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process ended
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    code = process.wait(timeout=120)
    return subprocess.CompletedProcess(command, code, b"".join(chunks).decode("utf-8", "replace"), "")


def test_a_failing_example_is_reported_at_its_own_file_and_line(tmp_path):
    (tmp_path / "shop.rpl").write_text(SHOP)
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "examples.rpl").write_text("\n\n" + GOOD.replace("expect refund = 10.00",
                                                                         "expect refund = 12.00"))
    result = _pytest(tmp_path, "shop.rpl", "-o", "junit_family=xunit1", "--junitxml", "report.xml")
    assert result.returncode == 1
    import xml.etree.ElementTree as ET

    cases = {c.get("name"): c for c in ET.parse(tmp_path / "report.xml").iter("testcase")}
    failing = cases["in time"]
    assert failing.get("file") == "shop/examples.rpl" and failing.get("line") == "3"


def _snapshot_project(tmp_path):
    from tests.conftest import APUTURE, APUTURE_REQUESTS

    project = tmp_path / "shop"
    (project / "requests").mkdir(parents=True)
    name = "00-semantics-example.json"
    (project / "requests" / name).write_text((APUTURE_REQUESTS / name).read_text())
    (project / "aputure.rpl").write_text(APUTURE.read_text())
    (project / "test_decisions.py").write_text(
        "from rplang.pytest_plugin import snapshot_requests\n"
        "test_aputure = snapshot_requests('aputure.rpl', 'requests')\n")
    assert _pytest(project, "test_decisions.py", "--snapshot-update").returncode == 0
    (project / "aputure.rpl").write_text(APUTURE.read_text().replace(
        "parameter restocking_fee_rate  = 15%", "parameter restocking_fee_rate  = 10%"))
    return project


def test_snapshot_failures_are_plain_when_piped_and_coloured_only_when_asked(tmp_path):
    project = _snapshot_project(tmp_path)
    piped = _pytest(project, "test_decisions.py")
    assert piped.returncode == 1 and "\x1b[" not in piped.stdout
    # syrupy's own diff: its header, and the changed lines of the explanation only
    assert "[- snapshot] == [+ received]" in piped.stdout
    assert "-     APPROVED WITH A RESTOCKING FEE — refund 1,557.50 USD" in piped.stdout
    assert "+     APPROVED WITH A RESTOCKING FEE — refund 1,652.00 USD" in piped.stdout

    def diff_of(run):
        return run.stdout.split("received]", 1)[1].split("snapshot report summary", 1)[0]

    coloured = _pytest(project, "test_decisions.py", terminal=True)
    assert coloured.returncode == 1 and "\x1b[" in diff_of(coloured)
    for plain in (_pytest(project, "test_decisions.py", "--snapshot-no-colors", terminal=True),
                  _pytest(project, "test_decisions.py", terminal=True, env={"NO_COLOR": "1"}),
                  _pytest(project, "test_decisions.py", "--color=no", terminal=True)):
        assert plain.returncode == 1 and "\x1b[" not in diff_of(plain)
    assert len(diff_of(piped)) < 2000


def test_snapshot_requests_with_a_wrong_path_fails_collection_not_skips(tmp_path):
    from tests.conftest import APUTURE

    (tmp_path / "aputure.rpl").write_text(APUTURE.read_text())
    (tmp_path / "requests").mkdir()
    (tmp_path / "test_decisions.py").write_text(
        "from rplang.pytest_plugin import snapshot_requests\n"
        "test_aputure = snapshot_requests('aputure.rpl', 'aputure/requests')\n")  # no such folder
    result = _pytest(tmp_path, "test_decisions.py")
    assert result.returncode == 2 and "skipped" not in result.stdout
    assert (f"snapshot_requests: no request (*.json) in {tmp_path / 'aputure' / 'requests'} (a relative path is "
            f"read from the test file's folder, {tmp_path})") in result.stdout
    (tmp_path / "test_decisions.py").write_text(
        "from rplang.pytest_plugin import snapshot_requests\n"
        "test_aputure = snapshot_requests('policies/aputure.rpl', 'requests')\n")
    result = _pytest(tmp_path, "test_decisions.py")
    assert result.returncode == 2 and f"snapshot_requests: no policy file {tmp_path / 'policies' / 'aputure.rpl'}" in result.stdout


def test_rpl_test_says_why_a_run_of_no_example_fails(shop, snapshot):
    from tests.cli.conftest import run

    (shop / "bare.rpl").write_text(SHOP)
    runs = [run("test", shop / "bare.rpl"), run("test", shop, "--run", "^nothing$", "--format", "json"),
            run("test", shop, "--run", "refund (late")]
    assert [r.code for r in runs] == [1, 1, 64]
    said = "\n".join(r.err.replace(str(shop), "SHOP") for r in runs)
    # click's advice after a usage error: before 8.4 it names the first help option (`-h`), then
    # the long one; both work (.ci/lowest runs click 8.2)
    assert said.replace("Try 'rpl test -h' for help.", "Try 'rpl test --help' for help.") == snapshot
