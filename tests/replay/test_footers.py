"""A Parquet input's footers are read once per run: the command reads each file's columns, and the
checks, the engine and --compare's policy take what it read; a folder of parts of one schema is
judged once."""
from __future__ import annotations

from collections import Counter

import pyarrow.parquet as pq
import pytest

from rplang.replay import duckdb_types, input_types
from rplang.replay.engine_duckdb import replay_duckdb
from rplang.replay.errors import ReplayError
from rplang.replay.run import RejectsFile, Replay
from rplang.replay.sources import resolve
from rplang.runtime import load_policy

from ..cli.conftest import run
from ..conftest import APUTURE


@pytest.fixture
def parts(aputure_parquet, tmp_path):
    """A folder of three parts of one schema, as a Spark job writes them."""
    folder = tmp_path / "parts"
    folder.mkdir()
    table = pq.read_table(aputure_parquet)
    for n in range(3):
        pq.write_table(table.slice(n * 10, 10), folder / f"part-{n}.parquet")
    return folder


@pytest.fixture
def footers_read(monkeypatch) -> Counter:
    """Each file whose columns DuckDB reads from its footer, counted."""
    read, columns = Counter(), duckdb_types.parquet_columns

    def counted(con, file):
        read[file] += 1
        return columns(con, file)
    monkeypatch.setattr(duckdb_types, "parquet_columns", counted)
    return read


@pytest.mark.parametrize("options", [(), ("--via", "python"), ("--compare", APUTURE)],
                         ids=["sql", "python", "compare"])
def test_each_footer_is_read_once_by_the_command(parts, footers_read, options, tmp_path):
    result = run("replay", APUTURE, parts, "--out", tmp_path / "o.parquet", *options)
    assert result.code == 0, result.err
    assert footers_read == Counter({str(f): 1 for f in sorted(parts.iterdir())})


def test_the_engine_called_by_itself_reads_each_footer_once_and_checks_it(parts, footers_read, tmp_path):
    # a script's or notebook's replay: no command read the columns before
    job = Replay(load_policy(APUTURE), APUTURE.read_text(), resolve(str(parts)))
    counts = replay_duckdb(job, str(tmp_path / "o.parquet"), RejectsFile(None))
    assert counts.rows == 30 and footers_read == Counter({str(f): 1 for f in sorted(parts.iterdir())})
    table = pq.read_table(parts / "part-0.parquet")
    pq.write_table(table.drop_columns(["kind"]).append_column("kinds", table.column("kind")),
                   parts / "part-1.parquet")
    with pytest.raises(ReplayError, match="part-1.parquet: the column `kinds` is not a field of the request"):
        replay_duckdb(job, str(tmp_path / "o.parquet"), RejectsFile(None))


def test_the_python_path_reads_no_arrow_schema_for_keys_it_has_not(parts, monkeypatch, tmp_path):
    # without a key column the rows' places are the keys: no file's footer has their types
    table = pq.read_table(parts / "part-0.parquet").drop_columns(["id"])
    for part in parts.iterdir():
        pq.write_table(table, part)
    schemas_read = Counter()
    read_schema = pq.read_schema
    monkeypatch.setattr(pq, "read_schema", lambda source, **kw: schemas_read.update([source]) or read_schema(source, **kw))
    result = run("replay", APUTURE, parts, "--out", tmp_path / "o.parquet", "--via", "python")
    assert result.code == 0, result.err
    assert pq.read_table(tmp_path / "o.parquet").num_rows == 30 and not schemas_read


def test_files_of_one_schema_are_judged_once_and_each_named(parts, monkeypatch):
    judged = []
    problems = input_types.column_problems
    monkeypatch.setattr(input_types, "column_problems", lambda *a: judged.append(a) or problems(*a))
    files = duckdb_types.files_columns([str(f) for f in sorted(parts.iterdir())])
    input_types.check_types(files, Replay(load_policy(APUTURE), "", resolve(str(parts))).request_types)
    assert len(judged) == 1
    wrong = {"request_date": "BOOLEAN"}  # every file's `request_date` refused, each file named
    with pytest.raises(ReplayError, match=r"(?s)3 files of the input: 1 column .*\(in .*part-0.parquet and 2 more\)"):
        input_types.check_types(files, wrong)
    assert len(judged) == 2


def test_a_names_problem_of_a_later_part_names_that_part(parts, tmp_path):
    # the names of every part are listed by one query: each problem still names its own file
    table = pq.read_table(parts / "part-0.parquet")
    pq.write_table(table.append_column("ID", table.column("id")), parts / "part-2.parquet")
    result = run("replay", APUTURE, parts, "--out", tmp_path / "o.parquet")
    assert (result.code, result.err) == (64, f"error: {parts / 'part-2.parquet'}: the columns `id` and `ID` differ "
                                             "only in case, which DuckDB's names do not tell apart; rename one in "
                                             "the input\n")
