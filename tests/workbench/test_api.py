"""The workbench's HTTP API over a real socket: each answer is the library's, paths stay inside
the folder, hostile bodies get a clear error, and saving loses nothing."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from rplang.policy_lang.format import format_policy
from tests.conftest import ROOT

WINDOW_14 = "parameter return_window_length = 14 days"
WINDOW_30 = "parameter return_window_length = 30 days"


def read(workbench, name="aputure.rpl") -> str:
    return (workbench.folder / name).read_text(encoding="utf-8")


def post(workbench, route, **body):
    return workbench.client.post(route, json=body)


def test_files_lists_the_policies_and_corpora(workbench):
    answer = workbench.client.get("/api/files").json()
    assert answer["policies"] == ["aputure.rpl", "aputure_holidays.rpl", "bestbuy.rpl", "electronics.rpl", "hm.rpl",
                                  "ikea.rpl", "mixed_store.rpl"]
    assert answer["corpora"] == ["aputure/corpus.jsonl"]


def test_opening_a_policy_gives_its_text_version_requests_and_corpus(workbench):
    answer = workbench.client.get("/api/file", params={"path": "aputure.rpl"}).json()
    assert answer["text"] == read(workbench)
    assert answer["corpus"] == "aputure/corpus.jsonl"
    assert answer["requests"][0] == "aputure/requests/00-semantics-example.json"
    mtime, size, digest = answer["version"].split(":")
    assert int(size) == len(read(workbench).encode()) and len(digest) == 64
    request = workbench.client.get("/api/request", params={"path": answer["requests"][0]}).json()
    assert json.loads(request["text"])["kind"] == "return"


# ---- paths outside the folder -------------------------------------------------------------------

OUTSIDE = ["../secret.rpl", "aputure/../../secret.rpl", "/etc/passwd", "", "aputure.rpl\0.rpl"]


@pytest.mark.parametrize("path", OUTSIDE)
def test_a_path_outside_the_folder_is_refused_everywhere(workbench, path):
    for response in (
        workbench.client.get("/api/file", params={"path": path}),
        post(workbench, "/api/check", path=path, text="policy \"x\"\n"),
        post(workbench, "/api/save", path=path, text="policy \"x\"\n", version=None),
    ):
        assert response.status_code == 403, response.text
        assert response.json()["error"]["kind"] == "outside_folder"
    assert (workbench.outside / "secret.rpl").read_text() == 'policy "not yours"\n'


def test_a_symbolic_link_out_of_the_folder_is_refused(workbench):
    link = workbench.folder / "link.rpl"
    link.symlink_to(workbench.outside / "secret.rpl")
    try:
        response = workbench.client.get("/api/file", params={"path": "link.rpl"})
        assert response.status_code == 403
        assert "not inside the folder" in response.json()["error"]["message"]
    finally:
        link.unlink()


def test_a_file_that_is_not_there_or_not_text(workbench):
    response = workbench.client.get("/api/file", params={"path": "nowhere.rpl"})
    assert response.status_code == 404 and response.json()["error"]["message"] == "`nowhere.rpl` does not exist"
    (workbench.folder / "binary.rpl").write_bytes(b"\xff\xfe policy")
    try:
        response = workbench.client.get("/api/file", params={"path": "binary.rpl"})
        assert response.status_code == 404 and "is not UTF-8 text" in response.json()["error"]["message"]
    finally:
        (workbench.folder / "binary.rpl").unlink()


def test_a_policy_saved_with_a_byte_order_mark_opens_and_checks(workbench):
    (workbench.folder / "bom.rpl").write_bytes(b"\xef\xbb\xbf" + read(workbench).encode())
    try:
        answer = workbench.client.get("/api/file", params={"path": "bom.rpl"}).json()
        assert answer["text"] == read(workbench)
        checked = post(workbench, "/api/check", path="bom.rpl", text=answer["text"]).json()
        assert not [d for d in checked["diagnostics"] if d["severity"] == "error"]
    finally:
        (workbench.folder / "bom.rpl").unlink()


def test_requests_and_corpora_outside_the_folder_are_refused(workbench):
    response = workbench.client.get("/api/request", params={"path": "../secret.json"})
    assert response.status_code == 403
    text = read(workbench)
    response = post(workbench, "/api/impact", path="aputure.rpl", text=text, corpus="../secret.jsonl")
    assert response.status_code == 403
    response = workbench.client.get("/api/request", params={"path": "aputure.rpl"})
    assert response.status_code == 403 and "not a .json file" in response.json()["error"]["message"]


# ---- hostile requests ---------------------------------------------------------------------------

def test_bodies_that_are_not_the_expected_json_get_a_clear_error(workbench):
    client = workbench.client
    cases = [
        (client.post("/api/check", content=b"{not json", headers={"Content-Type": "application/json"}),
         "not valid JSON"),
        (client.post("/api/check", content=b"\xff\xfe", headers={"Content-Type": "application/json"}),
         "not valid JSON"),
        (client.post("/api/check", json=["aputure.rpl"]), "must be a JSON object"),
        (client.post("/api/check", json={"path": "aputure.rpl", "text": 3}), "`text` must be a string"),
        (client.post("/api/decide", json={"path": "aputure.rpl", "text": "", "request": {}}),
         "`request` must be a string or null"),
        (client.post("/api/check", content=json.dumps({"path": "aputure.rpl", "text": ""}),
                     headers={"Content-Type": "text/plain"}), "Content-Type: application/json"),
        (client.post("/api/check", content=b"[" * 100_000, headers={"Content-Type": "application/json"}),
         "not valid JSON: nested too deeply"),
        (client.post("/api/check", content=b'{"edit": ' + b"1" * 5000 + b"}", headers={"Content-Type": "application/json"}),
         "not valid JSON: a number of more than 4,300 digits"),
        (client.post("/api/check", content=b" " * (9 * 1024 * 1024), headers={"Content-Type": "application/json"}),
         "larger than 8 MB"),
    ]
    for response, words in cases:
        assert response.status_code == 400, response.text
        assert words in response.json()["error"]["message"]
        assert "sys." not in response.json()["error"]["message"]  # no advice to call Python's functions


def test_a_lone_surrogate_in_a_body_is_refused_not_a_server_error(workbench):
    """JSON may escape half of a UTF-16 pair, `"\\ud800"`; no path or file holds one."""
    def send(route, body: str):
        return workbench.client.post(route, content=body.encode(), headers={"Content-Type": "application/json"})

    assert send("/api/check", '{"path": "\\ud800.rpl", "text": ""}').status_code == 403
    before = read(workbench)
    text = json.dumps(before.replace('policy "', 'policy "\ud800', 1))
    checked = send("/api/check", f'{{"path": "aputure.rpl", "text": {text}}}').json()
    assert [d["code"] for d in checked["diagnostics"]] == ["RPL008"]
    assert send("/api/document", f'{{"path": "aputure.rpl", "text": {text}}}').json()["status"] == "policy_error"
    saved = send("/api/save", f'{{"path": "aputure.rpl", "text": {text}, "version": null, "overwrite": true, '
                              '"with_errors": true}')
    assert saved.status_code == 409 and "lone surrogate" in saved.json()["error"]["message"]
    assert read(workbench) == before


def test_a_host_other_than_the_loopback_is_refused(workbench):
    response = workbench.client.get("/api/files", headers={"Host": "attacker.example"})
    assert response.status_code == 400


def test_junk_typed_in_the_editor_gets_diagnostics_not_a_crash(workbench):
    for junk in ["", "\0\0\0", "rule rule rule", "policy \"x\n" * 50, "{" * 5000, "💥 when then"]:
        answer = post(workbench, "/api/check", path="aputure.rpl", text=junk).json()
        assert answer["errors"] >= 1
        decided = post(workbench, "/api/decide", path="aputure.rpl", text=junk, request="{}").json()
        assert decided["status"] == "policy_error"


# ---- diagnostics ------------------------------------------------------------------------------

def test_diagnostics_are_those_of_rpl_check_with_editor_offsets(workbench, tmp_path, snapshot):
    text = read(workbench).replace("when request_date > last_request_day",
                                   "when request_date > last_request_dya")
    text = text.replace("policy \"Aputure", "policy \"Aputure 💡")  # an astral character before the error
    answer = post(workbench, "/api/check", path="aputure.rpl", text=text).json()
    file = tmp_path / "aputure.rpl"
    file.write_text(text, encoding="utf-8")
    cli = subprocess.run([sys.executable, "-m", "rplang.cli", "check", "--format", "json", "aputure.rpl"],
                         cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    expected = json.loads(cli.stdout)
    assert [{k: v for k, v in d.items() if k not in ("from", "to")} for d in answer["diagnostics"]] == expected
    (d,) = answer["diagnostics"]
    # the browser counts UTF-16 code units: the emoji before the error counts twice
    utf16 = text.encode("utf-16-le")
    assert utf16[2 * d["from"]:2 * d["to"]].decode("utf-16-le") == "last_request_dya"
    assert answer == snapshot


def test_warnings_of_the_static_checks_are_diagnostics_too(workbench):
    text = read(workbench) + "\nparameter never_used = 3 days\n"
    answer = post(workbench, "/api/check", path="aputure.rpl", text=text).json()
    assert answer["errors"] == 0
    assert [(d["code"], d["severity"]) for d in answer["diagnostics"]] == [("RPL101", "warning")]


def test_an_error_code_links_to_its_entry_in_docs_errors(workbench):
    page = workbench.client.get("/errors/RPL020")
    assert page.status_code == 200 and "unknown name" in page.text
    assert "see docs/errors.md" in workbench.client.get("/errors/<script>").text
    assert "<script>" not in workbench.client.get("/errors/<script>").text


# ---- Try ----------------------------------------------------------------------------------------

def request_text(workbench, name="00-semantics-example.json") -> str:
    return (workbench.folder / "aputure" / "requests" / name).read_text(encoding="utf-8")


def test_a_decision_with_its_explanation(workbench, snapshot):
    answer = post(workbench, "/api/decide", path="aputure.rpl", text=read(workbench),
                  request=request_text(workbench)).json()
    assert answer["status"] == "decided" and answer["final"] is True
    assert answer["decision"]["outputs"]["refund"] == "1557.50"
    assert answer == snapshot


def test_a_residual_decision_when_inspection_facts_are_left_out(workbench, snapshot):
    request = json.loads(request_text(workbench))
    del request["items"][0]["condition"]
    answer = post(workbench, "/api/decide", path="aputure.rpl", text=read(workbench),
                  request=json.dumps(request)).json()
    assert answer["final"] is False and answer["decision"]["outputs"]["outcome"] == "pending"
    assert answer["explanation"].startswith("PENDING")
    assert answer == snapshot


def test_a_broken_request_gets_its_problems(workbench):
    request = json.loads(request_text(workbench))
    request["order"]["shipping_paid"] = 30
    del request["request_date"]
    answer = post(workbench, "/api/decide", path="aputure.rpl", text=read(workbench),
                  request=json.dumps(request)).json()
    assert answer["status"] == "request_error"
    assert {p["path"] for p in answer["error"]["problems"]} == {"$.request_date", "$.order.shipping_paid"}
    answer = post(workbench, "/api/decide", path="aputure.rpl", text=read(workbench), request="{oops").json()
    assert answer["status"] == "request_error" and "not valid JSON" in answer["error"]["problems"][0]["message"]


def test_the_decision_follows_the_edited_text(workbench):
    request = request_text(workbench, "02-window-day-15-refused.json")
    before = post(workbench, "/api/decide", path="aputure.rpl", text=read(workbench), request=request).json()
    after = post(workbench, "/api/decide", path="aputure.rpl", text=read(workbench).replace(WINDOW_14, WINDOW_30),
                 request=request).json()
    assert (before["decision"]["outputs"]["outcome"], after["decision"]["outputs"]["outcome"]) == ("refuse", "approve")


# ---- Examples -------------------------------------------------------------------------------------

def test_examples_run_on_the_edited_text_failures_first_with_coverage(workbench):
    saved = post(workbench, "/api/examples", path="aputure.rpl", text=read(workbench)).json()
    assert (saved["passed"], saved["failed"], saved["coverage_percent"]) == (16, 0, 100.0)
    lines = read(workbench).splitlines()
    for row in saved["coverage"]:
        assert lines[row["line"] - 1].startswith(f"rule {row['rule']}")
    edited = post(workbench, "/api/examples", path="aputure.rpl", text=read(workbench).replace(WINDOW_14, WINDOW_30)).json()
    assert (edited["passed"], edited["failed"]) == (14, 2)
    first, second = edited["examples"][:2]
    assert not first["passed"] and not second["passed"] and edited["examples"][2]["passed"]
    assert first["name"] == "day 15 after delivery is too late"
    assert (first["file"], first["line"], first["from"]) == ("aputure/examples.rpl", 20, None)
    assert first["source"].startswith('example "day 15 after delivery is too late"')
    assert first["report"].startswith("aputure/examples.rpl:20:1:")  # no machine path
    assert str(workbench.folder) not in json.dumps(edited)


def test_an_example_in_the_policy_itself_can_be_jumped_to(workbench):
    text = read(workbench) + '\nexample "inline":\n  request "aputure/requests/01-window-day-14.json"\n  expect outcome = refuse\n'
    answer = post(workbench, "/api/examples", path="aputure.rpl", text=text).json()
    (inline,) = [e for e in answer["examples"] if e["name"] == "inline"]
    assert not inline["passed"] and inline["file"] == "aputure.rpl"
    assert text[inline["from"]:].startswith('example "inline"')


# ---- Impact --------------------------------------------------------------------------------------

def test_impact_of_the_edited_text_against_the_saved_file(workbench):
    same = post(workbench, "/api/impact", path="aputure.rpl", text=read(workbench)).json()
    assert (same["status"], same["requests"], same["changed"]) == ("compared", 500, 0)
    answer = post(workbench, "/api/impact", path="aputure.rpl", text=read(workbench).replace(WINDOW_14, WINDOW_30)).json()
    assert (answer["requests"], answer["changed"]) == (500, 15)
    assert answer["outcomes"] == [{"from": "refuse", "to": "approve", "count": 11},
                                  {"from": "refuse", "to": "approve_with_fee", "count": 4}]
    assert answer["money"]["refund"]["changed"] == 14
    lines = (workbench.folder / "aputure" / "corpus.jsonl").read_text().splitlines()
    for changed in answer["examples"]:
        assert changed["request"] == lines[changed["line"] - 1]
        assert changed["outputs_before"]["outcome"] == "refuse"
        assert changed["explanation_before"].startswith("REFUSED")
    assert len(answer["examples"]) == 15


def test_the_impact_reads_a_corpus_as_rpl_diff_does(workbench):
    """A request's text may hold U+2028 or U+0085 raw (JSON allows them): one line, one request."""
    lines = (workbench.folder / "aputure" / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[:3]
    lines[1] = lines[1].replace('"sku":"', '"sku":"\u2028\x85', 1)
    assert "\u2028" in lines[1]
    (workbench.folder / "odd.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        answer = post(workbench, "/api/impact", path="aputure.rpl", corpus="odd.jsonl",
                      text=read(workbench).replace(WINDOW_14, WINDOW_30)).json()
        assert (answer["requests"], answer["rejected"]) == (3, 0)
    finally:
        (workbench.folder / "odd.jsonl").unlink()


def test_the_impact_follows_the_saved_file_when_it_changes_on_disk(workbench):
    """The saved side's decisions are kept from one impact to the next, for the text saved then."""
    path = workbench.folder / "aputure.rpl"
    saved = read(workbench)
    wider = saved.replace(WINDOW_14, WINDOW_30)
    assert post(workbench, "/api/impact", path="aputure.rpl", text=wider).json()["changed"] == 15
    try:
        path.write_text(wider, encoding="utf-8")
        assert post(workbench, "/api/impact", path="aputure.rpl", text=wider).json()["changed"] == 0
        back = post(workbench, "/api/impact", path="aputure.rpl", text=saved).json()
        assert back["changed"] == 15 and back["outcomes"][0]["from"] == "approve"
    finally:
        path.write_text(saved, encoding="utf-8")


def test_an_impact_for_an_older_edit_stops_for_the_newer_one(workbench):
    """The page numbers its edits: a keystroke's check says a newer text exists, and the impact of
    the older text stops instead of holding the server while the owner types."""
    text = read(workbench, "aputure_holidays.rpl")
    assert post(workbench, "/api/check", path="aputure_holidays.rpl", text=text, edit=10).status_code == 200
    older = post(workbench, "/api/impact", path="aputure_holidays.rpl", text=text, edit=9,
                 corpus="aputure/corpus.jsonl").json()
    assert older == {"status": "superseded"}
    newer = post(workbench, "/api/impact", path="aputure_holidays.rpl", text=text, edit=10,
                 corpus="aputure/corpus.jsonl").json()
    assert (newer["status"], newer["requests"], newer["changed"]) == ("compared", 500, 0)
    unnumbered = post(workbench, "/api/impact", path="aputure_holidays.rpl", text=text,
                      corpus="aputure/corpus.jsonl").json()
    assert unnumbered["status"] == "compared"
    for bad in (-1, 1.5, "7", True):
        response = post(workbench, "/api/check", path="aputure_holidays.rpl", text=text, edit=bad)
        assert response.status_code == 400 and "`edit` must be a whole number" in response.text


def test_a_text_older_than_the_latest_edit_is_not_compiled(workbench):
    """Keys held down send a text per repeat: one the page has already replaced is answered
    `superseded` (the page drops it) instead of being compiled ahead of the latest."""
    text = read(workbench, "aputure_holidays.rpl")
    latest = post(workbench, "/api/check", path="aputure_holidays.rpl", text=text + "\n# 2\n", edit=102).json()
    assert latest["errors"] == 0 and "status" not in latest
    for route in ("/api/check", "/api/decide", "/api/examples", "/api/document"):
        older = post(workbench, route, path="aputure_holidays.rpl", text=text + "\n# 1\n", edit=101, request="{}")
        assert older.json() == {"status": "superseded"}, route
    # a text already compiled costs nothing: answered, even for an older edit
    again = post(workbench, "/api/check", path="aputure_holidays.rpl", text=text + "\n# 2\n", edit=101).json()
    assert again == latest
    other = post(workbench, "/api/check", path="electronics.rpl", text=read(workbench, "electronics.rpl") + "\n#\n",
                 edit=1).json()
    assert other["errors"] == 0 and "status" not in other  # edits are counted per policy


def test_impact_against_a_policy_without_corpus(workbench):
    text = read(workbench, "electronics.rpl")
    assert post(workbench, "/api/impact", path="electronics.rpl", text=text).json()["status"] == "no_corpus"


# ---- Graph and document ---------------------------------------------------------------------------

def test_the_graph_with_the_requests_path(workbench):
    answer = post(workbench, "/api/graph", path="aputure.rpl", text=read(workbench),
                  request=request_text(workbench)).json()
    assert answer["status"] == "drawn"
    if answer["format"] == "svg":
        assert answer["svg"].lstrip().startswith(("<?xml", "<svg", "<!DOCTYPE"))
        assert "rule restocking_fee" in answer["svg"] and "#1b5e20" in answer["svg"]  # the path's colour
    else:
        assert "Graphviz is not installed" in answer["note"] and "==>" in answer["mermaid"]
    refused = post(workbench, "/api/graph", path="aputure.rpl", text=read(workbench), request="{").json()
    assert refused["status"] == "drawn" and refused["note"].startswith("no path drawn")


def test_the_graph_without_graphviz_is_mermaid_text(tmp_path, monkeypatch):
    """Where Graphviz is not installed (in-process: `dot` hidden from the PATH)."""
    from rplang.workbench.analysis import Analysis
    from rplang.workbench.folder import Folder
    from tests.conftest import POLICIES

    monkeypatch.setenv("PATH", str(tmp_path))
    text = (POLICIES / "aputure.rpl").read_text(encoding="utf-8")
    answer = Analysis(Folder(POLICIES)).graph(text, "aputure.rpl", "{")
    assert answer["format"] == "mermaid" and answer["mermaid"].startswith("%% Aputure")
    assert answer["note"].startswith("no path drawn: the request is not decided")
    assert "Graphviz is not installed" in answer["note"]


def test_the_customer_document_follows_the_edit(workbench):
    answer = post(workbench, "/api/document", path="aputure.rpl", text=read(workbench).replace(WINDOW_14, WINDOW_30)).json()
    assert answer["status"] == "rendered"
    assert "within 30 days of the delivery date" in answer["html"]


# ---- Saving --------------------------------------------------------------------------------------

@pytest.fixture
def scratch(workbench):
    """A policy of its own for each save test: aputure's text as `scratch.rpl`, opened."""
    file = workbench.folder / "scratch.rpl"
    file.write_text(read(workbench), encoding="utf-8")
    yield workbench.client.get("/api/file", params={"path": "scratch.rpl"}).json()
    for leftover in (file, file.with_name("scratch.rpl~")):
        leftover.unlink(missing_ok=True)


def test_save_formats_and_keeps_a_backup(workbench, scratch):
    original = scratch["text"]
    edited = original.replace(WINDOW_14, "parameter   return_window_length=30   days")
    answer = post(workbench, "/api/save", path="scratch.rpl", text=edited, version=scratch["version"]).json()
    on_disk = read(workbench, "scratch.rpl")
    assert answer["status"] == "saved" and answer["text"] == on_disk == format_policy(edited)
    assert WINDOW_30 in on_disk
    assert answer["backup"] == "scratch.rpl~" and read(workbench, "scratch.rpl~") == original
    # the new version saves again without a conflict
    again = post(workbench, "/api/save", path="scratch.rpl", text=on_disk, version=answer["version"])
    assert again.status_code == 200


def test_a_file_changed_on_disk_is_not_overwritten_unless_asked(workbench, scratch):
    file = workbench.folder / "scratch.rpl"
    file.write_text(scratch["text"] + "# changed by someone else\n", encoding="utf-8")
    edited = scratch["text"].replace(WINDOW_14, WINDOW_30)
    refused = post(workbench, "/api/save", path="scratch.rpl", text=edited, version=scratch["version"])
    assert refused.status_code == 409
    assert refused.json()["error"]["kind"] == "conflict"
    assert "changed on disk since it was opened" in refused.json()["error"]["message"]
    assert file.read_text().endswith("# changed by someone else\n")
    forced = post(workbench, "/api/save", path="scratch.rpl", text=edited, version=scratch["version"], overwrite=True)
    assert forced.status_code == 200 and WINDOW_30 in file.read_text()
    assert read(workbench, "scratch.rpl~").endswith("# changed by someone else\n")


def test_a_file_touched_but_not_changed_is_no_conflict(workbench, scratch):
    file = workbench.folder / "scratch.rpl"
    stat = file.stat()
    os.utime(file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    answer = post(workbench, "/api/save", path="scratch.rpl", text=scratch["text"], version=scratch["version"])
    assert answer.status_code == 200


def test_a_file_deleted_on_disk_is_a_conflict(workbench, scratch):
    (workbench.folder / "scratch.rpl").unlink()
    refused = post(workbench, "/api/save", path="scratch.rpl", text=scratch["text"], version=scratch["version"])
    assert refused.status_code == 409 and "deleted on disk" in refused.json()["error"]["message"]


def test_a_policy_with_errors_is_saved_only_when_insisted(workbench, scratch):
    broken = scratch["text"].replace("then refuse", "then refus", 1)
    refused = post(workbench, "/api/save", path="scratch.rpl", text=broken, version=scratch["version"])
    assert refused.status_code == 409 and refused.json()["error"]["kind"] == "errors"
    assert read(workbench, "scratch.rpl") == scratch["text"]
    saved = post(workbench, "/api/save", path="scratch.rpl", text=broken, version=scratch["version"],
                 with_errors=True).json()
    assert saved["with_errors"] == 1 and read(workbench, "scratch.rpl") == format_policy(broken)
    unparsable = "policy \"x\n  when when\n"
    saved = post(workbench, "/api/save", path="scratch.rpl", text=unparsable, version=saved["version"],
                 with_errors=True).json()
    assert read(workbench, "scratch.rpl") == unparsable  # cannot be laid out: kept as typed


def test_examples_files_are_not_written(workbench):
    response = post(workbench, "/api/save", path="aputure/examples.rpl", text="", version=None)
    assert response.status_code == 403


# ---- the command ---------------------------------------------------------------------------------

def run_rpl(*args, code=None):
    program = code or "from rplang.cli import main; main()"
    return subprocess.run([sys.executable, "-c", program, *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_without_the_extra_the_command_says_what_to_install():
    blocked = "import sys; sys.modules['uvicorn'] = None; from rplang.cli import main; main()"
    done = run_rpl("workbench", "--no-browser", ".", code=blocked.replace("main()", "main(sys.argv[1:])"))
    assert done.returncode == 64
    assert "install rplang[workbench]" in done.stderr


def test_a_port_in_use_is_said_plainly(workbench):
    port = workbench.url.rsplit(":", 1)[1]
    done = run_rpl("workbench", "--no-browser", "--port", port, str(workbench.folder),
                   code="import sys; from rplang.cli import main; main(sys.argv[1:])")
    assert done.returncode == 69
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
