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
