"""`rpl log` on a log file made here: a --policy or --outcome that no decision has is said, not
only answered with nothing."""
import sqlite3

from rplang.serve.log_store import SCHEMA
from tests.cli.conftest import run


def _log(tmp_path, *decisions: tuple[str, str]):
    path = tmp_path / "decisions.db"
    with sqlite3.connect(path) as connection:
        connection.executescript(SCHEMA)
        connection.executemany(
            "INSERT INTO decisions (time, request_id, policy, text_hash, outcome, partial, request, outputs, rules) "
            "VALUES ('2026-03-01T09:30:00.000+00:00', 'r', ?, 'sha256:0', ?, 0, '{}', '{}', '[]')", decisions)
    return path


def test_an_outcome_no_decision_has_is_said_with_the_ones_recorded(tmp_path):
    db = _log(tmp_path, ("aputure", "refuse"), ("aputure", "approve"))
    typo = run("log", db, "--outcome", "refused")
    assert (typo.code, typo.out) == (0, "")
    assert typo.err == ("note: no decision in the log has the outcome `refused`; did you mean `refuse`? "
                        "(the log has approve, refuse)\n")
    other = run("log", db, "--policy", "electronics")
    assert other.err == "note: no decision in the log has the policy `electronics` (the log has aputure)\n"


def test_a_known_name_with_no_match_in_the_time_asked_says_nothing_more(tmp_path):
    db = _log(tmp_path, ("aputure", "refuse"))
    result = run("log", db, "--outcome", "refuse", "--until", "2026-01-01")
    assert (result.code, result.out, result.err) == (0, "", "")


def test_an_empty_log_says_it_has_no_decision(tmp_path):
    result = run("log", _log(tmp_path), "--outcome", "refuse")
    assert result.err == "note: no decision in the log has the outcome `refuse` (the log has no decision)\n"
