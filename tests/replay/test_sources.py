"""The files an INPUT names: a file, a folder, a glob; what is not a file is said, never left out."""
from __future__ import annotations

import os

import pyarrow.parquet as pq
import pytest

from ..cli.conftest import run
from ..conftest import APUTURE


@pytest.mark.parametrize("spec", ["*.parquet", "**/*.parquet", "exports/*"])
def test_a_folder_a_glob_matches_is_read_as_a_folder(aputure_parquet, spec, tmp_path, monkeypatch):
    """A table Spark wrote (a folder of parts named `2025.parquet`) matched by a glob was left
    out: its rows were never decided, and the counts said nothing of them."""
    exports = tmp_path / "exports"
    (exports / "2025.parquet").mkdir(parents=True)
    table = pq.read_table(aputure_parquet)
    pq.write_table(table.slice(0, 3), exports / "2024.parquet")
    pq.write_table(table.slice(3, 2), exports / "2025.parquet" / "part-0.parquet")
    pq.write_table(table.slice(5, 1), exports / "2025.parquet" / "part-1.parquet")
    monkeypatch.chdir(tmp_path if spec == "exports/*" else exports)
    result = run("replay", APUTURE, spec, "--out", tmp_path / "o.parquet")
    assert result.code == 0 and result.err.startswith("6 requests: 6 decided"), result.both
    assert sorted(pq.read_table(tmp_path / "o.parquet").column("id").to_pylist()) == \
        sorted(table.slice(0, 6).column("id").to_pylist())


def test_a_pipe_is_no_file_of_the_input(tmp_path):
    """A pipe named was "no such file or folder"; one in a folder, or a glob's, was left out."""
    (tmp_path / "in").mkdir()
    os.mkfifo(tmp_path / "in" / "requests.jsonl")
    said = f"error: {tmp_path / 'in' / 'requests.jsonl'}: not a file (a pipe, a device); replay reads files: save it to one\n"
    for spec in (tmp_path / "in" / "requests.jsonl", tmp_path / "in", tmp_path / "in" / "*.jsonl"):
        result = run("replay", APUTURE, spec, "--out", tmp_path / "o.parquet")
        assert (result.code, result.err) == (64, said), spec
    assert os.listdir(tmp_path) == ["in"]
