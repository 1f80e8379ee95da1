"""`rpl replay`'s command line."""
from __future__ import annotations

import os

import pytest

from ..cli.conftest import run
from ..conftest import APUTURE


@pytest.mark.parametrize("given", [("",), ("in.parquet", "--out", ""), ("in.parquet", "--rejects", "")],
                         ids=["INPUT", "--out", "--rejects"])
def test_an_empty_input_out_or_rejects_is_a_bad_command_line(aputure_parquet, given, tmp_path, monkeypatch):
    """`rpl replay p.rpl "$EXPORT"` with EXPORT unset replayed every file of the current folder
    (Python reads "" as `.`); `--out "$OUT"` wrote the default OUT, an earlier one replaced."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.parquet").write_bytes(aputure_parquet.read_bytes())
    result = run("replay", APUTURE, *given)
    assert (result.code, result.out) == (64, "")
    assert "an empty path" in result.err, result.err
    assert os.listdir(tmp_path) == ["in.parquet"]


@pytest.mark.parametrize("option, name, said", [
    ("--out", "decided.csv", "a name of CSV, and OUT is Parquet; name it .parquet"),
    ("--out", "decided.jsonl", "a name of JSON lines, and OUT is Parquet; name it .parquet"),
    ("--rejects", "rejects.parquet", "a name of Parquet, and the rejects are JSON lines; name it .jsonl"),
])
def test_out_and_rejects_named_as_another_format_are_refused(aputure_parquet, option, name, said, tmp_path):
    """`--out decided.csv` wrote Parquet that a spreadsheet, or the next replay of the folder (as CSV), could not read."""
    given = {"--out": tmp_path / "o.parquet", option: tmp_path / name}
    result = run("replay", APUTURE, aputure_parquet, *[x for pair in given.items() for x in pair])
    assert (result.code, result.out, result.err) == (64, "", f"error: {option} {tmp_path / name}: {said}\n")
    assert os.listdir(tmp_path) == []


def test_out_named_without_an_ending_is_parquet(aputure_parquet, tmp_path):
    result = run("replay", APUTURE, aputure_parquet, "--out", tmp_path / "decided")
    assert result.code == 0, result.both
    assert (tmp_path / "decided").read_bytes()[:4] == b"PAR1"
