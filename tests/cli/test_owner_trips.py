"""What a new policy owner tripped on (issue 14, point 7), each fixed: the command line's part.

The diagnostics' part is in tests/diagnostics/cases (82 to 85), money given as a JSON number in
tests/runtime/test_request.py, `with items[N]` adding an element in tests/cli/test_per_item.py."""
import json

from ..conftest import POLICIES
from .conftest import run

MIXED = POLICIES / "mixed_store.rpl"
LATE = POLICIES / "mixed_store" / "requests" / "02-late-refused.json"


def test_outputs_only_for_one_request():
    result = run("eval", str(MIXED), str(LATE), "--outputs-only")
    assert result.code == 0, result.both
    assert json.loads(result.out) == {"outputs": {"outcome": "refuse", "refund": "0.00", "restocking_fee": "0.00",
                                                  "label_fee": "0.00"}}


def test_outputs_only_for_a_partial_request(tmp_path):
    request = json.loads(LATE.read_text())
    del request["items"][1]["opened"]
    path = tmp_path / "r.json"
    path.write_text(json.dumps(request))
    result = run("eval", str(MIXED), str(path), "--outputs-only", "--partial")
    assert result.code == 0, result.both
    assert list(json.loads(result.out)) == ["outputs"]


def _policy_with_examples(tmp_path, examples: str):
    (tmp_path / "p.rpl").write_text(MIXED.read_text())
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "examples.rpl").write_text(examples)
    return tmp_path / "p.rpl"


def test_check_reports_broken_examples(tmp_path):
    path = _policy_with_examples(tmp_path, '''example "x":
  request {"request_date": "2026-03-20", "receipt": true, "order": {"number": "1", "delivery_date": "2026-03-02"}, "items": []}
  expect outcome = approved
  expect refunds = 1.00
''')
    result = run("check", str(path))
    assert result.code == 1
    assert "examples.rpl:3:20: error[RPL030]: `approved` is not an outcome" in result.err
    assert "help: did you mean `approve`?" in result.err
    assert "examples.rpl:4:3: error[RPL025]: there is no output `refunds`" in result.err
    assert "2 errors" in result.err


def test_check_reports_an_example_whose_request_file_is_not_there(tmp_path):
    path = _policy_with_examples(tmp_path, 'example "x":\n  request "requests/nope.json"\n  expect outcome = approve\n')
    result = run("check", str(path))
    assert result.code == 1
    assert 'error[RPL000]: the request file `requests/nope.json` of example "x" is not there' in result.err
    assert (f"help: it was looked for at {tmp_path / 'p' / 'requests' / 'nope.json'}: the path is read from the "
            "folder of the file that holds the example") in result.err


def test_check_says_a_request_file_that_is_a_folder_is_not_a_file(tmp_path):
    """It said "is not there" of a path the owner can see is there."""
    path = _policy_with_examples(tmp_path, 'example "x":\n  request "requests"\n  expect outcome = approve\n')
    (tmp_path / "p" / "requests").mkdir()
    result = run("check", str(path))
    assert result.code == 1
    assert 'error[RPL000]: the request file `requests` of example "x" is not a file' in result.err


def test_check_reports_inline_broken_examples(tmp_path):
    path = tmp_path / "p.rpl"
    path.write_text(MIXED.read_text() + '\nexample "x":\n  request {}\n  expect items[0].refunds = 0.00\n')
    result = run("check", str(path))
    assert result.code == 1 and "an item has no `refunds`" in result.err


def test_a_missing_request_file_is_said_in_words(tmp_path):
    path = _policy_with_examples(tmp_path, 'example "x":\n  request "requests/nope.json"\n')
    result = run("test", str(path))
    assert "could not decide: cannot read the request requests/nope.json: No such file or directory" in result.out
    assert "Errno" not in result.both
    result = run("explain", str(MIXED), str(tmp_path / "nope.json"))
    assert result.code == 2 and "Errno" not in result.both and "No such file or directory" in result.err


def test_diff_with_a_missing_requests_file(tmp_path):
    result = run("diff", str(MIXED), str(MIXED), "--requests", str(tmp_path / "nope.jsonl"))
    assert result.code == 2
    assert result.err.strip() == f"{tmp_path / 'nope.jsonl'}: error: cannot read the requests: No such file or directory"


def test_terms_by_without_dated_values_prints_no_empty_terms(tmp_path):
    path = tmp_path / "p.rpl"
    path.write_text(MIXED.read_text().replace('currency USD\n', 'currency USD\nterms by order.delivery_date\n'))
    result = run("explain", str(path), str(LATE))
    assert result.code == 0, result.both
    assert "Terms:" not in result.out
    check = run("check", str(path))
    assert "warning[RPL104]: `terms by` chooses nothing: no parameter has values by date" in check.err


def test_the_request_given_before_the_policy():
    result = run("explain", str(LATE), str(MIXED))
    assert result.code == 64
    assert (f"Error: `{LATE}` is JSON, not a policy (a .rpl file, or a folder of its versions); "
            "the policy comes first: `rpl explain POLICY REQUEST`") in result.err
    assert "RPL001" not in result.err
    lines = run("eval", str(LATE), "--jsonl", str(LATE))
    assert lines.code == 64 and "the policy comes first: `rpl eval POLICY --jsonl FILE`" in lines.err
    schema = run("schema", str(LATE))
    assert schema.code == 64 and schema.err.endswith("is JSON, not a policy (a .rpl file, or a folder of its versions)\n")


def test_a_file_of_json_lines_given_as_one_request(tmp_path):
    lines = tmp_path / "open.jsonl"
    lines.write_text(LATE.read_text().replace("\n", "") + "\n" + LATE.read_text().replace("\n", "") + "\n")
    result = run("eval", MIXED, lines)
    assert result.code == 2
    assert result.err.endswith(": a file of JSON lines, one request a line? "
                               "decide them with `rpl eval POLICY --jsonl FILE`\n")
    assert json.loads(result.out)["error"]["problems"][0]["message"].startswith("not valid JSON: Extra data: line 2 column 1")
    explain = run("explain", MIXED, lines)
    assert explain.err.endswith("? rpl explain takes one request; `rpl eval POLICY --jsonl FILE` decides one a line\n")
    two = tmp_path / "two.json"
    two.write_text('{"a": 1} {"b": 2}')
    assert run("eval", MIXED, two).err.endswith("not valid JSON: Extra data: line 1 column 10 (char 9)\n")
