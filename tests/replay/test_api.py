"""The replay from Python: an Arrow table, a DuckDB relation, a pandas (or Polars) DataFrame in,
the same kind out, with the decisions `rpl eval` makes and the rejects beside them."""
from __future__ import annotations

import json
import os

import pyarrow as pa
import pytest

from rplang.replay.api import decide
from rplang.replay.columns import applied_rules
from rplang.replay.errors import ReplayError
from rplang.runtime import load_policy

from ..conftest import APUTURE
from .conftest import CORPUS, requests_table  # noqa: F401 (a fixture)


def expected():
    policy = load_policy(APUTURE)
    found = {}
    for n, line in enumerate(CORPUS.read_text().splitlines()[:40], 1):
        if n != 6:
            decision = policy.decide_json(line)
            found[n] = (decision.outputs_json()["outcome"], decision.outputs_json()["refund"], applied_rules(decision))
    return found


def summary(rows: list[dict]) -> tuple[dict, list]:
    decided = {r["id"]: (r["outcome"], f"{r['refund']:.2f}", list(r["rules_applied"])) for r in rows if r["error"] is None}
    refused = [(r["id"], json.loads(r["error"])["problems"][0]["path"]) for r in rows if r["error"] is not None]
    return decided, refused


@pytest.mark.parametrize("via", ["sql", "python"])
def test_an_arrow_table(requests_table, via):
    result = decide(APUTURE, requests_table, via=via)
    assert isinstance(result, pa.Table)
    assert summary(result.to_pylist()) == (expected(), [(6, "$.kind")])


def test_a_duckdb_relation(requests_table):
    import duckdb

    relation = duckdb.from_arrow(requests_table)
    result = decide(APUTURE, relation)
    assert isinstance(result, duckdb.DuckDBPyRelation)
    assert summary(result.to_arrow_table().to_pylist()) == (expected(), [(6, "$.kind")])


def test_a_pandas_dataframe(requests_table):
    pandas = pytest.importorskip("pandas")
    result = decide(APUTURE, requests_table.to_pandas())
    assert isinstance(result, pandas.DataFrame)
    rows = [{k: (None if k == "error" and v is None else v) for k, v in r.items()}
            for r in pa.Table.from_pandas(result).to_pylist()]
    assert summary(rows) == (expected(), [(6, "$.kind")])


def test_a_polars_dataframe(requests_table):
    polars = pytest.importorskip("polars")
    result = decide(APUTURE, polars.from_arrow(requests_table))
    assert isinstance(result, polars.DataFrame)
    assert summary(result.to_arrow().to_pylist()) == (expected(), [(6, "$.kind")])


def test_a_pandas_dataframe_indexed_by_its_key(requests_table):
    # the index was dropped: the decisions came back without the key that tells which row is which
    pytest.importorskip("pandas")
    result = decide(APUTURE, requests_table.to_pandas().set_index("id"))
    rows = [{k: (None if k == "error" and v is None else v) for k, v in r.items()}
            for r in pa.Table.from_pandas(result).to_pylist()]
    assert summary(rows) == (expected(), [(6, "$.kind")])


def test_a_polars_lazyframe(requests_table):
    polars = pytest.importorskip("polars")
    result = decide(APUTURE, polars.from_arrow(requests_table).lazy())  # was an AttributeError
    assert isinstance(result, polars.LazyFrame)
    assert summary(result.collect().to_arrow().to_pylist()) == (expected(), [(6, "$.kind")])


@pytest.mark.parametrize("via", ["sql", "python"])
def test_keys_named_are_columns_of_the_table_and_the_others_are_left_out(requests_table, via):
    from rplang.replay.errors import ReplayError

    # each was a KeyError from Arrow, or (a field of the request) rows refused by one path only
    with pytest.raises(ReplayError) as error:
        decide(APUTURE, requests_table, keys=("idd",), via=via)
    assert str(error.value) == "keys: `idd`: the input has no such column; did you mean `id`?"
    with pytest.raises(ReplayError) as error:
        decide(APUTURE, requests_table, keys=("kind",), via=via)
    assert str(error.value) == "keys: `kind` is a field of the request; name a column of its own"
    with pytest.raises(TypeError) as error:
        decide(APUTURE, requests_table, keys="id", via=via)
    assert str(error.value) == "keys is a tuple of column names: give ('id',), not 'id'"
    # a column that is no key nor field is left out on both paths (the Python path refused every row)
    result = decide(APUTURE, requests_table.append_column("note", pa.array(["x"] * 40)), keys=("id",), via=via)
    assert result.column_names[0:2] == ["id", "outcome"]
    assert summary(result.to_pylist()) == (expected(), [(6, "$.kind")])


@pytest.mark.parametrize("via", ["sql", "python"])
def test_names_duckdb_cannot_tell_apart_are_refused_by_name(requests_table, via):
    from rplang.replay.errors import ReplayError

    # each was a KeyError from Arrow, DuckDB having read `ID` as `ID_1`
    twice = pa.Table.from_arrays([requests_table.column("id"), *requests_table.columns],
                                 names=["id", *requests_table.column_names])
    for table, said in ((requests_table.append_column("ID", pa.array(range(40))),
                         "the columns `id` and `ID` differ only in case, which DuckDB's names do not tell apart"),
                        (twice, "the column `id` twice")):
        with pytest.raises(ReplayError) as error:
            decide(APUTURE, table, via=via)
        assert str(error.value) == f"the table: {said}; rename one in the input"


def test_a_pandas_name_twice_is_refused_by_name(requests_table):
    """Two columns of one name, or a column of the index's name, were pyarrow's ValueError
    ("Duplicate column names found") or pandas' ("cannot insert id, already exists")."""
    frame = requests_table.slice(0, 3).to_pandas()
    twice = pytest.importorskip("pandas").concat([frame, frame[["id"]]], axis=1)
    for data in (twice, frame.set_index("id").assign(id=1)):
        with pytest.raises(ReplayError) as error:
            decide(APUTURE, data)
        assert str(error.value) == "the table: the column `id` twice; rename one in the input"


def test_a_way_to_decide_that_is_neither_is_refused(requests_table):
    """`via="spark"` (or a typo) decided with the Python path, and said nothing."""
    with pytest.raises(ValueError) as error:
        decide(APUTURE, requests_table, via="spark")
    assert str(error.value) == "via is 'sql' or 'python', not 'spark'"


def test_write_requests_checks_its_keys(tmp_path):
    # each key named was taken as it came: a missing column, a field of the request or a text
    # read letter by letter made every row a reject, counted only
    from rplang.replay.api import write_requests
    from rplang.replay.errors import ReplayError

    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"id": n, **json.loads(line)}) + "\n"
                              for n, line in enumerate(CORPUS.read_text().splitlines()[:3])))
    policy, text, out = load_policy(APUTURE), APUTURE.read_text(), str(tmp_path / "o.parquet")
    for keys, said in ((("idd",), "--key `idd`: the input has no such column; did you mean `id`?"),
                       (("kind",), "--key `kind` is a field of the request; name a column of its own")):
        with pytest.raises(ReplayError) as error:
            write_requests(policy, text, str(source), out, keys)
        assert str(error.value) == said
    with pytest.raises(TypeError) as error:
        write_requests(policy, text, str(source), out, "id")
    assert str(error.value) == "keys is a tuple of column names: give ('id',), not 'id'"
    assert write_requests(policy, text, str(source), out, ("id",)).rejected == 0
    with pytest.raises(ReplayError) as error:  # a Parquet file's key left out
        write_requests(policy, text, out, str(tmp_path / "again.parquet"))
    assert str(error.value) == (f"{out}: the column `id` is not a field of the request; "  # `id` is no `kind`
                                "keep it with --key if it identifies a row")


def test_write_requests_never_writes_over_its_input_and_is_told_where_it_cannot_write(tmp_path):
    """An `out` or `rejects` naming the input (or by a hard link) had the Parquet, or the rejects,
    written over it; a folder not there, or a folder named, was pyarrow's FileNotFoundError or
    IsADirectoryError."""
    from rplang.replay.api import write_requests

    source = tmp_path / "in.jsonl"
    lines = "".join(json.dumps({"id": n, **json.loads(line)}) + "\n"
                    for n, line in enumerate(CORPUS.read_text().splitlines()[:3]))
    source.write_text(lines)
    (tmp_path / "other-name.jsonl").hardlink_to(source)
    (tmp_path / "folder").mkdir()
    policy, text, out = load_policy(APUTURE), APUTURE.read_text(), tmp_path / "o.parquet"
    for given, said in (({"out": source}, f"out {source}: a file of the input; name another"),
                        ({"out": tmp_path / "other-name.jsonl"},
                         f"out {tmp_path / 'other-name.jsonl'}: a file of the input; name another"),
                        ({"rejects": source}, f"rejects {source}: a file of the input; name another"),
                        ({"out": tmp_path / "no" / "o.parquet"}, f"out {tmp_path / 'no' / 'o.parquet'}: no folder "
                                                                 f"{tmp_path / 'no'}"),
                        ({"out": tmp_path / "folder"}, f"out {tmp_path / 'folder'}: a folder; name a file")):
        named = {"out": out, **given}
        with pytest.raises(ReplayError) as error:
            write_requests(policy, text, str(source), str(named["out"]), ("id",), rejects=named.get("rejects"))
        assert str(error.value) == said
        assert source.read_text() == lines


def test_write_requests_that_fails_leaves_an_earlier_out_as_it_was(tmp_path):
    """Its rejects could not be written (their error came as they were closed): the earlier `out`
    had been written over with the rows read."""
    from rplang.replay.api import write_requests

    source, out = tmp_path / "in.jsonl", tmp_path / "o.parquet"
    source.write_text("".join(json.dumps({"id": n, **json.loads(line)}) + "\n"
                              for n, line in enumerate(CORPUS.read_text().splitlines()[:3])) + '{"id": 9}\n')
    out.write_bytes(b"an earlier export")
    if not os.path.exists("/dev/full"):
        pytest.skip("a device that is always full")
    with pytest.raises(OSError) as error:
        write_requests(load_policy(APUTURE), APUTURE.read_text(), str(source), str(out), ("id",), rejects="/dev/full")
    assert (error.value.filename, error.value.strerror) == ("/dev/full", "No space left on device")
    assert out.read_bytes() == b"an earlier export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "o.parquet"]


def _mixed(requests_table, column: str, values: list):
    """The table's first rows as a pandas DataFrame, `column` holding `values` (of several types)."""
    frame = requests_table.slice(0, len(values)).to_pandas()
    frame[column] = pytest.importorskip("pandas").Series(values, dtype=object)
    return frame


KIND = "make them a Kind (return, exchange), as the field `kind` is, before deciding"


@pytest.mark.parametrize("column, values, said", [
    ("id", [1, "R-2"], "the column `id` holds values of 2 types (int, str): make them of one type a table holds, like "
                       "df['id'].astype(str), before deciding"),
    ("kind", ["return", 3], f"the column `kind` holds values of 2 types (int, str): {KIND}"),
    ("id", [object(), object()], "the column `id` holds object values, which a table cannot hold: make them of one "
                                 "type a table holds, like df['id'].astype(str), before deciding"),
    ("id", [1.5, "R-2"], "the column `id` holds values of 2 types (float, str): make them of one type a table "
                         "holds, like df['id'].astype(str), before deciding"),
])
def test_a_pandas_column_of_several_types_is_named_with_its_types(requests_table, column, values, said):
    """pyarrow's ArrowInvalid or ArrowTypeError came out, in its own words."""
    with pytest.raises(ReplayError) as error:
        decide(APUTURE, _mixed(requests_table, column, values))
    assert str(error.value) == said
    with pytest.raises(ReplayError) as error:  # a named index is a column too
        decide(APUTURE, _mixed(requests_table, column, values).set_index(column))
    assert str(error.value) == said


def test_a_polars_column_of_python_objects_is_named_with_its_types(requests_table):
    """Arrow read a Polars `Object` column as the objects' addresses: keys of eight bytes each."""
    polars = pytest.importorskip("polars")
    frame = polars.from_arrow(requests_table.slice(0, 2))
    for column, values, said in (
            ("id", [1, "R-2"], "the column `id` holds values of 2 types (int, str): make them of one type a "
                               "table holds, like pl.col('id').cast(pl.String), before deciding"),
            ("kind", ["return", 3], f"the column `kind` holds values of 2 types (int, str): {KIND}")):
        mixed = frame.with_columns(polars.Series(column, values, dtype=polars.Object))
        for data in (mixed, mixed.lazy()):
            with pytest.raises(ReplayError) as error:
                decide(APUTURE, data)
            assert str(error.value) == said
    ignored = frame.with_columns(polars.Series("note", [1, "a"], dtype=polars.Object))
    assert decide(APUTURE, ignored, keys=("id",)).columns[0] == "id"  # a column left out is not read


def test_anything_else_is_refused_by_name():
    with pytest.raises(TypeError, match="cannot decide a list"):
        decide(APUTURE, [])


@pytest.mark.parametrize("via", ["sql", "python"])
def test_a_date_python_has_none_of_is_refused_in_its_row(via):
    from .test_dates import _far_date_table

    lines = CORPUS.read_text().splitlines()[:3]
    result = decide(APUTURE, _far_date_table(lines), via=via).to_pylist()
    decided, refused = summary(result)
    assert sorted(decided) == [1, 3] and refused == [(2, "$.order.delivery_date")]


@pytest.mark.parametrize("via", ["sql", "python"])
@pytest.mark.parametrize("name", ["outcome", "Outcome"])  # DuckDB's names are blind to case
def test_a_column_named_as_a_column_of_the_decision_is_refused_by_name(requests_table, name, via):
    from rplang.replay.errors import ReplayError

    table = requests_table.rename_columns([name if n == "id" else n for n in requests_table.schema.names])
    with pytest.raises(ReplayError, match=f"the key `{name}` has the name of a column of the decision"):
        decide(APUTURE, table, via=via)


def test_a_policy_path_that_is_no_file_is_refused_unread(requests_table, pipe):
    """Read, a pipe would wait for a writer for ever: the one reader of policies refuses it."""
    from rplang.policy_lang.errors import PolicyError

    with pytest.raises(PolicyError, match="is a pipe, not a policy file"):
        decide(pipe, requests_table)
