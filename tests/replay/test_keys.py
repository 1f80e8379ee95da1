"""Key columns of every kind kept in OUT as the input holds them, and matched by `--compare`: JSON
lines' objects, lists and numbers, CSV's texts, and the records and maps of Parquet rows the driver
reads again; keys of several types refused naming the row."""
from __future__ import annotations

import csv
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ..cli.conftest import run
from ..conftest import APUTURE
from .conftest import CORPUS

LINES = CORPUS.read_text().splitlines()
CHANGED = [99, 101]  # corpus rows whose decision a 30-day window changes (test_compare)


@pytest.fixture(scope="module")
def thirty_days(tmp_path_factory):
    path = tmp_path_factory.mktemp("keys") / "aputure30.rpl"
    path.write_text(APUTURE.read_text().replace("parameter return_window_length = 14 days",
                                                "parameter return_window_length = 30 days"))
    return path


def keyed_lines(path, keys: list, rows: list[int] | None = None):
    """Corpus requests (the first, or those at `rows`) as JSON lines, each with its key `k`."""
    chosen = [LINES[n] for n in rows] if rows else [LINES[0]] * len(keys)
    path.write_text("".join(json.dumps({"k": key, **json.loads(line)}) + "\n" for key, line in zip(keys, chosen)))
    return path


# each case: the keys of the lines, OUT's column type, its values
JSON_KEYS = {
    "objects": ([{"a": 1, "b": "x"}, {"b": "y", "a": 2}], pa.struct([("a", pa.int64()), ("b", pa.string())]),
                [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]),
    # a struct of every field any object has: a field left out is null
    "objects_of_other_fields": ([{"a": 1}, {"b": "y"}, {}], pa.struct([("a", pa.int64()), ("b", pa.string())]),
                                [{"a": 1, "b": None}, {"a": None, "b": "y"}, {"a": None, "b": None}]),
    "lists": ([[1, 2], [], [3]], pa.list_(pa.int64()), [[1, 2], [], [3]]),
    "nested_lists": ([[[1], [2, 3]], [[]], [[4.5]]], pa.list_(pa.list_(pa.float64())), [[[1], [2, 3]], [[]], [[4.5]]]),
    "whole_and_not": ([1, 2.5, 3], pa.float64(), [1.0, 2.5, 3.0]),
    "nulls": ([None, {"a": [1]}, None], pa.struct([("a", pa.list_(pa.int64()))]), [None, {"a": [1]}, None]),
    "fields_always_null": ([{"a": None}, {"a": None}], pa.struct([("a", pa.string())]), [{"a": None}, {"a": None}]),
    "only_nulls": ([None, None], pa.string(), [None, None]),
}


@pytest.mark.parametrize("via", ["sql", "python"])
@pytest.mark.parametrize("case", sorted(JSON_KEYS))
def test_json_keys_are_kept_with_one_type_for_every_line(case, via, tmp_path):
    keys, arrow_type, values = JSON_KEYS[case]
    out = tmp_path / "o.parquet"
    result = run("replay", APUTURE, keyed_lines(tmp_path / "in.jsonl", keys), "--key", "k", "--out", out, "--via", via)
    assert result.code == 0, result.both
    table = pq.read_table(out)
    assert table.schema.field("k").type == arrow_type
    assert sorted(table.column("k").to_pylist(), key=repr) == sorted(values, key=repr)


@pytest.mark.parametrize("case", ["objects_of_other_fields", "nested_lists", "whole_and_not"])
def test_compare_matches_rows_by_json_keys_of_every_kind(case, thirty_days, tmp_path):
    keys = JSON_KEYS[case][0][:2] + [JSON_KEYS[case][0][-1]]
    source = keyed_lines(tmp_path / "in.jsonl", keys, rows=CHANGED + [0])
    result = run("replay", thirty_days, source, "--key", "k", "--out", tmp_path / "new.parquet",
                 "--compare", APUTURE, "--format", "json", "--show", "5")
    assert result.code == 0, result.both
    report = json.loads(result.out)
    assert report["changed"] == 2
    # the changed rows found again in the input by their keys, and explained
    assert sorted(e["line"] for e in report["examples"]) == sorted(f"k={k!r}" for k in keys[:2])


def test_objects_that_differ_only_by_a_field_left_out_are_one_key_to_compare(thirty_days, tmp_path):
    source = keyed_lines(tmp_path / "in.jsonl", [{"a": 1}, {"a": 1, "b": None}, {"a": 2}], rows=CHANGED + [0])
    result = run("replay", thirty_days, source, "--key", "k", "--out", tmp_path / "new.parquet", "--compare", APUTURE)
    assert result.code == 64, result.both
    assert result.err.splitlines()[-1] == (
        "error: --compare joins the decisions on their keys (k), and 1 key is a key of more than one row "
        "(k={'a': 1, 'b': None}); name columns that tell every row apart with --key")


@pytest.mark.parametrize("via", ["sql", "python"])
def test_json_keys_of_several_types_are_refused_naming_the_line(via, tmp_path):
    source, out = tmp_path / "in.jsonl", tmp_path / "o.parquet"
    refused = {
        "an object, then a number": ([{"a": 1}, None, 5], "the key `k` holds values of more than one type: line 3 "
                                     f"of {source} holds 5, where the rows before it hold objects with the fields a"),
        "lists of objects, then of texts": ([[{"a": 1}], ["x"]], "the key `k` holds values of more than one type: "
                                            f"line 2 of {source} holds [\"x\"], where the rows before it hold lists "
                                            "of objects with the fields a"),
        "true, then a number": ([True, 1], "the key `k` holds values of more than one type: line 2 of "
                                f"{source} holds 1, where the rows before it hold true or false"),
    }
    to_do = "; give it values of one type in every row (objects may leave fields out, numbers may be whole in " \
            "some rows), or name another with --key\n"
    for keys, said in refused.values():
        result = run("replay", APUTURE, keyed_lines(source, keys), "--key", "k", "--out", out, "--via", via)
        assert (result.code, result.err) == (64, f"error: {said}{to_do}")
    result = run("replay", APUTURE, keyed_lines(source, ["A1", [1, "x"]]), "--key", "k", "--out", out, "--via", via)
    assert (result.code, result.err) == (64, f"error: the key `k` holds values of more than one type: line 2 of "
                                             f"{source} holds [1, \"x\"], where the rows before it hold text{to_do}")
    result = run("replay", APUTURE, keyed_lines(source, [[1, "x"]]), "--key", "k", "--out", out, "--via", via)
    assert (result.code, result.err) == (64, f"error: the key `k` holds [1, \"x\"] (line 1 of {source}), which no "
                                             "column holds: a list of values of several types, or a whole number "
                                             "past 64 bits; give it values of one type, or name another with --key\n")


@pytest.mark.parametrize("via", ["sql", "python"])
def test_a_key_past_the_rows_that_make_its_column_is_checked_against_them(via, tmp_path, monkeypatch):
    # Arrow would drop the field `b` the first rows never had, silently; or refuse 2.5 without a row
    monkeypatch.setattr("rplang.replay.rows.BATCH", 2)
    source, out = tmp_path / "in.jsonl", tmp_path / "o.parquet"
    for keys, said in (([{"a": 1}, {"a": 2}, {"a": 3, "b": 4}], '{"a": 3, "b": 4}, where the first 2 rows, which '
                        "make its column, hold objects with the fields a"),
                       ([1, 2, 2.5], "2.5, where the first 2 rows, which make its column, hold whole numbers"),
                       ([None, None, {"a": 1}], '{"a": 1}, where the first 2 rows, which make its column, hold text')):
        result = run("replay", APUTURE, keyed_lines(source, keys), "--key", "k", "--out", out, "--via", via)
        assert (result.code, result.err) == (64, f"error: the key `k` holds values of more than one type: line 3 "
                                                 f"of {source} holds {said}; give it values of one type in every row "
                                                 "(objects may leave fields out, numbers may be whole in some rows), "
                                                 "or name another with --key\n")
    result = run("replay", APUTURE, keyed_lines(source, [{"a": 1}, {"b": 2}, {"b": 3}]), "--key", "k", "--out", out,
                 "--via", via)  # the fields of the first rows' objects, in every later one
    assert result.code == 0, result.both
    assert sorted(pq.read_table(out).column("k").to_pylist(), key=repr) == [
        {"a": 1, "b": None}, {"a": None, "b": 2}, {"a": None, "b": 3}]


@pytest.mark.parametrize("via", ["sql", "python"])
def test_a_whole_number_a_double_cannot_hold_exactly_is_refused_among_numbers_not_whole(via, tmp_path, monkeypatch):
    # 2**53 + 1 in a DOUBLE column would be written 2**53: two keys made one, silently
    source, out = tmp_path / "in.jsonl", tmp_path / "o.parquet"
    past = 2 ** 53 + 1
    said = (f"error: the key `k` holds {{}} (line {{}} of {source}), a whole number past 2**53 among numbers that "
            "are not whole: their column (DOUBLE) would not hold it exactly; give the key's numbers as text, or "
            "name another with --key\n")
    for keys, shown, line in (([2.5, past], past, 2), ([past, 0.5], past, 1), ([{"a": 0.5}, {"a": -past}], f'{{"a": {-past}}}', 2)):
        result = run("replay", APUTURE, keyed_lines(source, keys), "--key", "k", "--out", out, "--via", via)
        assert (result.code, result.err) == (64, said.format(shown, line))
    monkeypatch.setattr("rplang.replay.rows.BATCH", 2)  # a later row, checked against the first rows' DOUBLE
    result = run("replay", APUTURE, keyed_lines(source, [1, 2.5, past]), "--key", "k", "--out", out, "--via", via)
    assert (result.code, result.err) == (64, said.format(past, 3))
    result = run("replay", APUTURE, keyed_lines(source, [1, 2.5, 2 ** 53]), "--key", "k", "--out", out, "--via", via)
    assert result.code == 0, result.both  # 2**53 itself is a DOUBLE's
    assert sorted(pq.read_table(out).column("k").to_pylist()) == [1.0, 2.5, float(2 ** 53)]  # OUT's rows: any order


@pytest.mark.parametrize("via", ["sql", "python"])
@pytest.mark.parametrize("name", ["k", "ticket.no"])  # a dot names a field of a record only where a field is named
def test_csv_keys_are_kept_as_their_text(name, via, thirty_days, tmp_path):
    fields = list(json.loads(LINES[0])["order"])
    header = [name, "request_date", "kind", "received_date"] + [f"order.{k}" for k in fields] + ["items"]

    def cells(key: str, n: int) -> list[str]:
        data = json.loads(LINES[n])
        return [key, *(data.get(k, "") for k in header[1:4]), *(data["order"].get(k, "") for k in fields),
                json.dumps(data["items"])]
    source = tmp_path / "in.csv"
    with open(source, "w", newline="") as stream:  # numbers as a spreadsheet may hold them, and no key
        csv.writer(stream).writerows([header, cells("007", 99), cells("1.50", 101), cells("", 0)])
    out = tmp_path / "new.parquet"
    result = run("replay", thirty_days, source, "--key", name, "--out", out, "--via", via, "--compare", APUTURE,
                 "--format", "json")
    assert result.code == 0, result.both
    table = pq.read_table(out)
    assert table.schema.field(name).type == pa.string()
    assert sorted(table.column(name).to_pylist(), key=str) == ["007", "1.50", None]
    report = json.loads(result.out)
    assert sorted(e["line"] for e in report["examples"]) == [f"{name}=007", f"{name}=1.50"]


@pytest.mark.parametrize("via", ["sql", "python"])
@pytest.mark.parametrize("key", ["MAP {'id': n}", "{'a': n, 'n': n::INTEGER}", "[n::TINYINT, NULL]",
                                 "CASE WHEN n > 1 THEN MAP {'id': NULL, 'n': n} END"],
                         ids=["map", "struct", "list", "map_with_nulls"])
def test_parquet_keys_of_rows_read_again_keep_the_files_types(key, via, thirty_days, tmp_path):
    # money as text: the driver reads the rows again (rows.py), and took the keys' types from
    # their Python values: a map as a list of pairs, a struct's INTEGER as a BIGINT
    import duckdb

    parquet = tmp_path / "requests.parquet"
    chosen = tmp_path / "chosen.jsonl"
    chosen.write_text("\n".join(LINES[n] for n in CHANGED + [0]) + "\n")
    duckdb.sql(f"COPY (SELECT {key} AS k, * EXCLUDE (n) FROM (SELECT ROW_NUMBER() OVER () AS n, * FROM "
               f"read_json_auto('{chosen}'))) TO '{parquet}'")
    assert pa.types.is_string(pq.read_schema(parquet).field("items").type.value_type.field("price").type)
    out = tmp_path / "new.parquet"
    result = run("replay", thirty_days, parquet, "--key", "k", "--out", out, "--via", via, "--compare", APUTURE,
                 "--format", "json")
    assert result.code == 0, result.both
    written, given = pq.read_table(out), pq.read_table(parquet)
    assert written.schema.field("k").type == given.schema.field("k").type
    assert sorted(written.column("k").to_pylist(), key=repr) == sorted(given.column("k").to_pylist(), key=repr)
    report = json.loads(result.out)
    assert report["changed"] == 2 and [e["line"][:2] for e in report["examples"]] == ["k="] * 2


@pytest.mark.parametrize("via", ["sql", "python"])
def test_json_keys_duckdb_cannot_name_are_refused(via, tmp_path):
    # two keys differing only in case, a key differing only in case from a field of the request, or
    # a key without a name: DuckDB's names are blind to case and never empty, and the engine
    # stopped as for a bug in rpl (--via sql)
    source, out = tmp_path / "in.jsonl", tmp_path / "o.parquet"
    source.write_text("".join(json.dumps({"id": "A", "ID": 1, "": 2, "KIND": 3, **json.loads(line)}) + "\n"
                              for line in LINES[:3]))
    result = run("replay", APUTURE, source, "--key", "id", "--key", "ID", "--out", out, "--via", via)
    assert (result.code, result.err) == (64, "error: the keys `id` and `ID` differ only in case, which DuckDB's "
                                             "names do not tell apart; rename one in the input\n")
    result = run("replay", APUTURE, source, "--key", "id", "--key", "KIND", "--out", out, "--via", via)
    assert (result.code, result.err) == (64, "error: --key `KIND` differs only in case from the request's field "
                                             "`kind`, which DuckDB's names do not tell apart; rename it in the input\n")
    result = run("replay", APUTURE, source, "--key", "id", "--key", "", "--out", out, "--via", via)
    assert (result.code, result.err) == (64, "error: a key without a name (`--key ''`), which DuckDB's columns "
                                             "must have; name it in the input\n")
