"""`rpl replay` on DuckDB: the SQL path and the Python path give exactly what `rpl eval` gives."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rplang.policy_lang.errors import RplError
from rplang.replay.columns import applied_rules
from rplang.runtime import load_policy
from rplang.stream import decide_line

from ..cli.conftest import run, run_process
from ..conftest import APUTURE, POLICIES
from .conftest import assert_widest, of_two_widths, typed_rows
from .outputs import outputs_by_key

HOLIDAYS = POLICIES / "aputure_holidays.rpl"
ELECTRONICS = POLICIES / "electronics.rpl"


def expected(policy, lines: list[str]) -> dict:
    """Line number -> (outputs, rules applied), as `rpl eval` decides each line."""
    found = {}
    for number, line in enumerate(lines, 1):
        decision = policy.decide_json(line)
        found[number] = (decision.outputs_json(), applied_rules(decision))
    return found


@pytest.mark.parametrize("path", [APUTURE, HOLIDAYS], ids=["aputure", "aputure_holidays"])
@pytest.mark.parametrize("via", ["sql", "python"])
def test_every_path_decides_the_aputure_corpus_as_rpl_eval(path, via, aputure_lines, tmp_path):
    out = tmp_path / "out.parquet"
    result = run("replay", path, aputure_lines, "--out", out, "--via", via)
    assert result.code == 0, result.both
    policy = load_policy(path)
    lines = aputure_lines.read_text().splitlines()
    assert outputs_by_key(policy, out, "source_row") == expected(policy, lines)
    if via == "sql":  # and in SQL: no row needed the Python path
        assert f"{len(lines):,} decided ({len(lines):,} in SQL, 0 by the Python path)" in result.err


def test_the_sql_path_reads_typed_parquet_in_place_and_keeps_its_keys(aputure_parquet, aputure_lines, tmp_path):
    out = tmp_path / "out.parquet"
    result = run("replay", APUTURE, aputure_parquet, "--out", out)
    assert result.code == 0, result.both
    policy = load_policy(APUTURE)
    want = expected(policy, aputure_lines.read_text().splitlines())
    assert outputs_by_key(policy, out, "id") == {f"R{n:05d}": v for n, v in want.items()}
    table = pq.read_table(out)
    assert str(table.schema.field("refund").type) == "decimal128(18, 2)"
    assert str(table.schema.field("check_not_before").type) == "date32[day]"
    assert {"credit_between_from", "credit_between_to"} <= set(table.schema.names)
    assert set(table.column("policy_version").to_pylist()) == {"2026.1"}
    # a policy without tables is named by its text's SHA-256 (tests/replay/test_tables.py: with them)
    assert set(table.column("policy_hash").to_pylist()) == {hashlib.sha256(APUTURE.read_bytes()).hexdigest()}


def test_electronics_requests_in_sql_as_in_rpl_eval(tmp_path):
    lines = [json.dumps(json.loads(p.read_text())) for p in sorted((POLICIES / "electronics" / "requests").glob("*.json"))
             if p.name != "expected.json"]
    source = tmp_path / "electronics.jsonl"
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.parquet"
    result = run("replay", ELECTRONICS, source, "--out", out, "--via", "sql")
    assert result.code == 0, result.both
    policy = load_policy(ELECTRONICS)
    assert outputs_by_key(policy, out, "source_row") == expected(policy, lines)


def test_what_replay_says_comes_through_a_pipe_as_it_is(tmp_path):
    """`rpl replay` runs its own command apart from `rpl`'s: click stripped what looks like a colour
    code (`ESC [ ... m`) from what it wrote to a pipe, here the name of OUT it was given."""
    source = tmp_path / "electronics.jsonl"
    source.write_text(json.dumps(json.loads((POLICIES / "electronics" / "requests" / "01-window-day-30.json").read_text())) + "\n")
    out = tmp_path / "out-\x1b[1mbold\x1b[0m.parquet"
    result = run_process("replay", ELECTRONICS, source, "--out", out)
    assert result.code == 0, result.both
    assert result.err.endswith(f"-> {out}; none rejected\n"), result.err
    assert out.exists()


BAD_LINES = [
    "{not json",
    "",
    json.dumps({"request_date": "2025-01-10"}),
    None,  # a good request, for the count
    "[1, 2]",
]


def test_malformed_lines_go_to_the_rejects_with_the_problems_rpl_eval_reports(aputure_lines, tmp_path):
    good = aputure_lines.read_text().splitlines()[0]
    broken = json.loads(good)
    broken["order"]["shipping_paid"] = 12.5  # money as a JSON number
    broken["items"][0]["condition"] = "mint"  # not a Condition
    del broken["items"][0]["upc_intact"]  # required when returned
    lines = [good if line is None else line for line in BAD_LINES] + [json.dumps(broken)]
    source = tmp_path / "bad.jsonl"
    source.write_text("\n".join(lines) + "\n")
    policy = load_policy(APUTURE)
    for via in ("sql", "python"):
        out, rejects = tmp_path / f"{via}.parquet", tmp_path / f"{via}.rejects.jsonl"
        result = run("replay", APUTURE, source, "--out", out, "--via", via)
        assert result.code == 2, result.both
        assert f"{len(lines)} requests: 1 decided" in result.err and "5 rejected" in result.err
        found = [json.loads(line) for line in rejects.read_text().splitlines()]
        want = []
        for number, line in enumerate(lines, 1):  # what `rpl eval --jsonl` prints for the line
            printed, counted = decide_line(policy, number, line.encode() + b"\n", True, None)
            if counted.rejected or counted.faults:
                error = json.loads(printed)["error"]
                del error["line"]
                want.append({"source_row": number, "error": error})
        assert found == want


def test_rows_the_sql_finds_suspect_are_decided_or_refused_by_the_runtime(tmp_path):
    """A typed Parquet row the request reader would refuse (an enum value not of the enum, an amount
    below zero) goes to the Python path, which refuses it with the reader's own problems."""
    import pyarrow as pa

    from rplang.replay.columns import request_schema

    policy = load_policy(APUTURE)
    lines = (POLICIES / "aputure" / "corpus.jsonl").read_text().splitlines()[:3]
    rows = typed_rows(policy, lines)
    rows[1]["order"]["payment_method"] = "barter"
    rows[2]["items"][0]["price"] = __import__("decimal").Decimal("-1.00")
    table = pa.Table.from_pylist(rows, schema=request_schema(policy.checked))
    pq.write_table(table, tmp_path / "in.parquet")
    out = tmp_path / "out.parquet"
    result = run("replay", APUTURE, tmp_path / "in.parquet", "--out", out)
    assert result.code == 2, result.both
    assert "3 requests: 1 decided (1 in SQL, 0 by the Python path)" in result.err
    rejects = [json.loads(line) for line in (tmp_path / "out.rejects.jsonl").read_text().splitlines()]
    assert [r["source_row"] for r in rejects] == [2, 3]
    assert rejects[0]["error"]["problems"][0]["path"] == "$.order.payment_method"
    assert rejects[1]["error"]["problems"][0]["path"] == "$.items[0].price"


def test_rows_the_sql_hands_back_are_decided_by_the_runtime_into_the_same_file(tmp_path):
    """A row the query cannot vouch for but the request reader accepts (an inspection field out of
    its enum on an item not returned, which the reader ignores) is decided by the runtime, called
    by DuckDB as it writes: the same Parquet file holds it, decided as `rpl eval` decides it."""
    import pyarrow as pa

    from rplang.replay.columns import request_schema, to_request

    policy = load_policy(APUTURE)
    rows = typed_rows(policy, (POLICIES / "aputure" / "corpus.jsonl").read_text().splitlines())
    odd = 0
    for row in rows:
        for item in row["items"]:
            if not item["returned"]:
                item["condition"], odd = "broken", odd + 1
    assert odd > 0
    table = pa.Table.from_pylist([{"id": n, **row} for n, row in enumerate(rows, 1)],
                                 schema=pa.schema([pa.field("id", pa.int64()), *request_schema(policy.checked)]))
    pq.write_table(table, tmp_path / "in.parquet")
    out = tmp_path / "out.parquet"
    result = run("replay", APUTURE, tmp_path / "in.parquet", "--out", out)
    assert result.code == 0, result.both
    handed = sum(any(not item["returned"] for item in row["items"]) for row in rows)
    assert f"{len(rows)} requests: {len(rows)} decided ({len(rows) - handed} in SQL, {handed} by the Python path)" \
        in result.err
    assert outputs_by_key(policy, out, "id") == expected(policy, [json.dumps(to_request(row)) for row in rows])


def test_the_elements_of_a_list_are_checked_whether_or_not_each_value_is_given(tmp_path):
    """Within the check of a list's elements the query does not first ask whether each value is
    given: a value left out where the request reader allows it (`bundled_with`, an item's
    inspection facts where it was not returned) is decided in SQL, and a bad value inside an
    element (a NULL mark, a cause out of its enum) still hands the row to the runtime, which
    refuses it with the reader's own problems."""
    import pyarrow as pa

    from rplang.replay.columns import request_schema, to_request

    policy = load_policy(APUTURE)
    lines = (POLICIES / "aputure" / "corpus.jsonl").read_text().splitlines()
    rows = typed_rows(policy, [lines[6], lines[9], lines[0], lines[0]])
    assert rows[0]["items"][2]["condition"] is None and rows[1]["items"][0]["bundled_with"] is None
    rows[2]["items"][0]["marks"] = ["dent", None]
    rows[3]["items"][0]["damage_cause"] = "hail"
    table = pa.Table.from_pylist(rows, schema=request_schema(policy.checked))
    pq.write_table(table, tmp_path / "in.parquet")
    out = tmp_path / "out.parquet"
    result = run("replay", APUTURE, tmp_path / "in.parquet", "--out", out)
    assert result.code == 2, result.both
    assert "4 requests: 2 decided (2 in SQL, 0 by the Python path)" in result.err, result.err
    rejects = [json.loads(line) for line in (tmp_path / "out.rejects.jsonl").read_text().splitlines()]
    assert sorted((r["source_row"], r["error"]["problems"][0]["path"]) for r in rejects) == \
        [(3, "$.items[0].marks[1]"), (4, "$.items[0].damage_cause")]
    assert outputs_by_key(policy, out, "source_row") == expected(policy, [json.dumps(to_request(r)) for r in rows[:2]])


DIVIDING = """policy "Dividing"
version "1"
currency USD
parameter share = 3
enum Outcome2: a
request:
  total: money
outcomes:
  approve "APPROVED"
rule split:
  cites "Split."
  when true
  then add round(total / share) to part
  because "split"
output outcome
output part: money total
"""


def test_a_construct_the_sql_cannot_lower_is_named_and_the_python_path_decides(tmp_path):
    policy = tmp_path / "dividing.rpl"
    policy.write_text(DIVIDING)
    source = tmp_path / "in.jsonl"
    source.write_text('{"total": "10.00"}\n')
    result = run("replay", policy, source, "--via", "sql", "--out", tmp_path / "o.parquet")
    assert result.code == 64
    assert "the SQL compiler cannot lower a division (`/`) yet" in result.err
    assert "--via python" in result.err
    result = run("replay", policy, source, "--out", tmp_path / "o.parquet")
    assert result.code == 0, result.both
    assert "note: the SQL compiler cannot lower a division" in result.err
    assert pq.read_table(tmp_path / "o.parquet").column("part").to_pylist() == [
        __import__("decimal").Decimal("3.33")]


def test_keys_columns_and_inputs_are_checked_before_any_row(aputure_parquet, tmp_path):
    result = run("replay", APUTURE, aputure_parquet, "--key", "idd", "--out", tmp_path / "o.parquet")
    assert result.code == 64 and "--key `idd`: the input has no such column; did you mean `id`?" in result.err
    result = run("replay", APUTURE, tmp_path / "missing.parquet")
    assert result.code == 64 and "missing.parquet: no such file or folder" in result.err
    (tmp_path / "notes.txt").write_text("x")
    result = run("replay", APUTURE, tmp_path / "notes.txt")
    assert result.code == 64 and "cannot tell its format" in result.err


@pytest.mark.parametrize("via", ["sql", "python"])
# `Outcome`: DuckDB's names are blind to case, so it is the decision's `outcome` there (it was an engine error)
@pytest.mark.parametrize("name", ["outcome", "refund", "credit_between_to", "rules_applied", "policy_hash", "error",
                                  "Outcome", "Policy_Hash"])
def test_a_key_named_as_a_column_of_the_decision_is_refused_by_name(aputure_parquet, name, via, tmp_path):
    table = pq.read_table(aputure_parquet).slice(0, 3)
    source = tmp_path / "in.parquet"
    pq.write_table(table.rename_columns([name if n == "id" else n for n in table.schema.names]), source)
    result = run("replay", APUTURE, source, "--key", name, "--out", tmp_path / "o.parquet", "--via", via)
    assert result.code == 64 and "Traceback" not in result.both, result.both
    assert f"the key `{name}` has the name of a column of the decision; rename it in the input" in result.err


@pytest.mark.parametrize("via", ["sql", "python"])
def test_a_key_named_twice_is_kept_once(aputure_parquet, via, tmp_path):
    result = run("replay", APUTURE, aputure_parquet, "--key", "id", "--key", "id", "--out", tmp_path / "o.parquet",
                 "--via", via)
    assert result.code == 0, result.both
    assert pq.read_schema(tmp_path / "o.parquet").names[:2] == ["id", "outcome"]


@pytest.mark.parametrize("via", ["sql", "python"])
def test_a_key_named_as_the_querys_own_columns_is_refused_by_name(aputure_parquet, via, tmp_path):
    table = pq.read_table(aputure_parquet).slice(0, 3)
    pq.write_table(table.rename_columns(["__python" if n == "id" else n for n in table.schema.names]),
                   tmp_path / "in.parquet")
    result = run("replay", APUTURE, tmp_path / "in.parquet", "--key", "__python", "--out", tmp_path / "o.parquet",
                 "--via", via)
    assert result.code == 64 and "Traceback" not in result.both, result.both
    assert "the key `__python`: a name starting with `__` is the query's own; rename it in the input" in result.err


@pytest.mark.parametrize("via", ["sql", "python"])
def test_an_input_with_its_own_source_row_is_keyed_by_it(aputure_parquet, via, tmp_path):
    # as `write_requests` writes requests read without keys: their place in the file they came from
    table = pq.read_table(aputure_parquet).slice(0, 3)
    places = pa.array([7, 8, 9], pa.int64())
    pq.write_table(table.set_column(0, "source_row", places), tmp_path / "in.parquet")
    result = run("replay", APUTURE, tmp_path / "in.parquet", "--out", tmp_path / "o.parquet", "--via", via)
    assert result.code == 0, result.both
    assert sorted(pq.read_table(tmp_path / "o.parquet").column("source_row").to_pylist()) == [7, 8, 9]
    pq.write_table(table.append_column("source_row", places), tmp_path / "in.parquet")  # beside an id
    result = run("replay", APUTURE, tmp_path / "in.parquet", "--out", tmp_path / "o.parquet", "--via", via)
    assert result.code == 0 and pq.read_table(tmp_path / "o.parquet").schema.names[:2] == ["id", "source_row"]
    result = run("replay", APUTURE, tmp_path / "in.parquet", "--key", "id", "--out", tmp_path / "o.parquet", "--via", via)
    assert result.code == 64 and "the column `source_row` is not a field of the request" in result.err, result.both


@pytest.mark.parametrize("via", ["sql", "python"])
@pytest.mark.parametrize("content", [b"", b"PAR1 not a Parquet file PAR1"], ids=["empty", "damaged"])
def test_a_file_that_is_not_parquet_is_named(content, via, tmp_path):
    (tmp_path / "in.parquet").write_bytes(content)
    result = run("replay", APUTURE, tmp_path / "in.parquet", "--out", tmp_path / "o.parquet", "--via", via)
    assert result.code == 64 and "Traceback" not in result.both, result.both
    assert f"error: {tmp_path / 'in.parquet'}: not a Parquet file" in result.err


@pytest.mark.parametrize("via", ["sql", "python"])
def test_a_file_whose_pages_are_spoilt_is_named(aputure_parquet, via, tmp_path):
    # its footer is read, its rows not: an engine error reported as a bug in rpl (--via sql), or
    # pyarrow's OSError reported as OUT's, exit 73 (--via python)
    folder = tmp_path / "in"
    folder.mkdir()
    pq.write_table(pq.read_table(aputure_parquet).slice(0, 3), folder / "a.parquet")
    spoilt = folder / "b.parquet"
    pq.write_table(pq.read_table(aputure_parquet).slice(0, 200), spoilt, use_dictionary=False, compression="snappy")
    chunk = pq.ParquetFile(spoilt).metadata.row_group(0).column(0)
    data = bytearray(spoilt.read_bytes())
    for at in range(chunk.data_page_offset + 40, chunk.data_page_offset + chunk.total_compressed_size - 8):
        data[at] ^= 0x5A
    spoilt.write_bytes(data)
    result = run("replay", APUTURE, folder, "--out", tmp_path / "o.parquet", "--via", via)
    assert result.code == 64, result.both
    assert result.err.startswith(f"error: {spoilt}: its rows cannot be read ("), result.err


@pytest.mark.parametrize("via", ["sql", "python"])
def test_every_file_of_a_folder_has_the_keys_and_no_other_column(aputure_parquet, via, tmp_path):
    # the columns of each file, not only the first's: a key left out or a column too many in
    # another file is named, never a NULL key, an engine error, or a column read by one path only
    table = pq.read_table(aputure_parquet).slice(0, 3)
    pq.write_table(table, tmp_path / "a.parquet")
    for name, other in {"no_key": table.drop_columns(["id"]),
                        "extra": table.append_column("note", pa.array(["x"] * 3))}.items():
        folder = tmp_path / name
        folder.mkdir()
        pq.write_table(table, folder / "a.parquet")
        pq.write_table(other, folder / "b.parquet")
        result = run("replay", APUTURE, folder, "--out", tmp_path / "o.parquet", "--via", via)
        assert result.code == 64 and "Traceback" not in result.both, result.both
        assert {"no_key": f"error: {folder / 'b.parquet'}: no column `id`, a key of {folder / 'a.parquet'}",
                "extra": f"error: {folder / 'b.parquet'}: the column `note` is not a field of the request"}[name] \
            in result.err


@pytest.mark.parametrize("via", ["sql", "python"])
def test_names_duckdb_cannot_tell_apart_are_named_as_the_file_has_them(aputure_parquet, via, tmp_path):
    # DuckDB reads `ID` beside `id` as `ID_1`, a column without a name as `C6`: the errors named
    # columns no file has
    table = pq.read_table(aputure_parquet).slice(0, 3)
    order = table.column("order").combine_chunks()
    source = tmp_path / "in.parquet"
    for columns, said in (({"ID": pa.array(range(3))}, "the columns `id` and `ID` differ only in case"),
                          ({"Kind": pa.array(["x"] * 3)}, "the columns `kind` and `Kind` differ only in case"),
                          ({"": pa.array(range(3))}, "its column 7 has no name; name it in the input"),
                          ({"order": pa.StructArray.from_arrays([*order.flatten(), order.field("currency")],
                                                                [*(f.name for f in order.type), "Currency"])},
                           "the fields `currency` and `Currency` of its column `order` differ only in case")):
        written = table
        for name, values in columns.items():
            written = written.drop_columns([name]) if name in written.column_names else written
            written = written.append_column(name, values)
        pq.write_table(written, source)
        result = run("replay", APUTURE, source, "--out", tmp_path / "o.parquet", "--via", via)
        assert result.code == 64, result.both
        assert result.err == f"error: {source}: {said}" + (
            "" if "no name" in said else ", which DuckDB's names do not tell apart; rename one in the input") + "\n"
    # DuckDB folds the case of ASCII letters alone: `é` and `É` are two names, both kept
    pq.write_table(table.append_column("É", pa.array(["a", "b", "c"])).append_column("é", pa.array([1, 2, 3])), source)
    result = run("replay", APUTURE, source, "--key", "id", "--key", "É", "--key", "é", "--out", tmp_path / "o.parquet",
                 "--via", via)
    assert result.code == 0, result.both
    decided = pq.read_table(tmp_path / "o.parquet").sort_by("id")
    assert decided.column_names[:3] == ["id", "É", "é"] and decided.column("É").to_pylist() == ["a", "b", "c"]


@pytest.mark.parametrize("via", ["sql", "python"])
def test_a_decimal_past_38_digits_is_refused_by_name(aputure_parquet, via, tmp_path):
    # DuckDB reads it as a DOUBLE: five keys 10**40 + n were written as one, 1e+40 (--via sql),
    # and an amount was said to be a DOUBLE where the file has a DECIMAL
    table = pq.read_table(aputure_parquet).slice(0, 5)
    source = tmp_path / "in.parquet"
    pq.write_table(table.append_column("k", pa.array([Decimal(10**40 + n) for n in range(5)], pa.decimal256(50, 0))),
                   source)
    result = run("replay", APUTURE, source, "--key", "id", "--key", "k", "--out", tmp_path / "o.parquet", "--via", via)
    assert (result.code, result.err) == (64, f"error: {source}: `k` is DECIMAL(50, 0), past the 38 digits DuckDB's "
                                             "decimals hold, which it would read as a DOUBLE, rounded; export it as "
                                             "CAST(k AS DECIMAL(38, 0)) if it fits, else as text\n")
    order = table.schema.field("order").type
    wide = pa.struct([pa.field(f.name, pa.decimal256(50, 2)) if f.name == "shipping_paid" else f for f in order])
    pq.write_table(table.cast(table.schema.set(table.schema.get_field_index("order"), pa.field("order", wide))), source)
    result = run("replay", APUTURE, source, "--out", tmp_path / "o.parquet", "--via", via)
    assert (result.code, result.err) == (64, f"error: {source}: `shipping_paid` of its column `order` is DECIMAL(50, "
                                             "2), past the 38 digits DuckDB's decimals hold, which it would read as a "
                                             "DOUBLE, rounded; export it as CAST(shipping_paid AS DECIMAL(38, 2)) if "
                                             "it fits, else as text\n")


@pytest.mark.parametrize("via", ["sql", "python"])
def test_the_files_of_a_folder_may_hold_numbers_of_other_widths(aputure_parquet, via, tmp_path):
    # DuckDB reads every file as the first is typed: a later file's wider key or amount read as the
    # first's narrower type was an engine error, reported as a bug in rpl
    folder, alone = of_two_widths(aputure_parquet, tmp_path)
    out = tmp_path / "o.parquet"
    result = run("replay", APUTURE, folder, "--out", out, "--via", via)
    assert result.code == 0, result.both
    assert run("replay", APUTURE, alone, "--out", tmp_path / "alone.decided.parquet", "--via", via).code == 0
    assert_widest(pq.read_table(out), pq.read_table(tmp_path / "alone.decided.parquet"))


@pytest.mark.parametrize("via", ["sql", "python"])
def test_a_key_of_another_kind_in_a_later_file_is_named(aputure_parquet, via, tmp_path):
    table = pq.read_table(aputure_parquet).slice(0, 4)
    pq.write_table(table.slice(0, 2).set_column(0, "id", pa.array(range(2), pa.int32())), tmp_path / "a.parquet")
    pq.write_table(table.slice(2), tmp_path / "b.parquet")  # ids as text, R00003
    result = run("replay", APUTURE, tmp_path, "--out", tmp_path / "o.parquet", "--via", via)
    assert (result.code, result.out) == (64, "")
    assert result.err == (f"error: {tmp_path / 'b.parquet'}: the key `id` is VARCHAR here, and INTEGER in "
                          f"{tmp_path / 'a.parquet'}; give it one type in every file, or name another key with --key\n")


@pytest.mark.parametrize("via", ["sql", "python"])
def test_out_and_rejects_are_checked_before_any_row_and_never_overwrite_the_input(aputure_parquet, via, tmp_path):
    source = tmp_path / "in.parquet"
    source.write_bytes(aputure_parquet.read_bytes())
    (tmp_path / "folder").mkdir()
    cases = {("--out", source): f"--out {source}: a file of the input; name another",
             ("--rejects", source): f"--rejects {source}: a file of the input; name another",
             ("--out", tmp_path): f"--out {tmp_path}: a folder holding the input; name another",
             ("--out", tmp_path / "no" / "o.parquet"): f"--out {tmp_path / 'no' / 'o.parquet'}: no folder {tmp_path / 'no'}",
             ("--rejects", tmp_path / "no" / "r.jsonl"): f"--rejects {tmp_path / 'no' / 'r.jsonl'}: no folder "
                                                         f"{tmp_path / 'no'}",
             ("--out", tmp_path / "folder"): f"--out {tmp_path / 'folder'}: a folder; name a file",
             ("--rejects", tmp_path / "folder"): f"--rejects {tmp_path / 'folder'}: a folder; name a file",
             ("--rejects", tmp_path / "o.parquet"): f"--rejects {tmp_path / 'o.parquet'}: the same file as --out",
             ("--out", tmp_path / "link"): f"--out {tmp_path / 'link'}: a link to {tmp_path / 'no' / 'o.parquet'}, "
                                           f"in no folder {tmp_path / 'no'}"}
    (tmp_path / "link").symlink_to(tmp_path / "no" / "o.parquet")  # its own folder is there, and was named
    for (option, path), message in cases.items():
        given = {"--out": tmp_path / "o.parquet", option: path}
        result = run("replay", APUTURE, source, *[x for pair in given.items() for x in pair], "--via", via)
        assert result.code == 64 and "Traceback" not in result.both, (option, path, result.both)
        assert f"error: {message}" in result.err, (option, path, result.err)
        assert source.read_bytes() == aputure_parquet.read_bytes()


@pytest.mark.parametrize("via", ["sql", "python"])
@pytest.mark.parametrize("option", ["--out", "--rejects"])
def test_out_and_rejects_are_never_a_hard_link_to_the_input(aputure_parquet, option, via, tmp_path):
    """Another name of the input's file: the Python path's writer replaced the input with the
    decisions (--out), and rejects would have been written over it."""
    source, link = tmp_path / "in.parquet", tmp_path / "other-name.parquet"
    source.write_bytes(aputure_parquet.read_bytes())
    os.link(source, link)
    given = {"--out": tmp_path / "o.parquet", option: link}
    result = run("replay", APUTURE, source, *[x for pair in given.items() for x in pair], "--via", via)
    assert (result.code, result.err) == (64, f"error: {option} {link}: a file of the input; name another\n")
    assert source.read_bytes() == aputure_parquet.read_bytes()


@pytest.mark.parametrize("option", ["--out", "--rejects"])
def test_out_and_rejects_are_never_a_policy_of_the_replay(aputure_parquet, option, tmp_path):
    """A run without rejects removed the file named as --rejects, the policy itself; --out
    overwrote it with Parquet. --compare's policy is read too."""
    policy, old = tmp_path / "aputure.rpl", tmp_path / "old.rpl"
    for path in (policy, old):
        path.write_bytes(APUTURE.read_bytes())
    for named, args in ((policy, ()), (old, ("--compare", old))):
        given = {"--out": tmp_path / "o.parquet", option: named}
        result = run("replay", policy, aputure_parquet, *[x for pair in given.items() for x in pair], *args)
        assert (result.code, result.out) == (64, ""), result.both
        assert result.err == f"error: {option} {named}: the policy {named}, which this replay reads; name another\n"
        assert named.read_bytes() == APUTURE.read_bytes()


@pytest.mark.parametrize("via", ["sql", "python"])
def test_out_a_link_writes_the_file_it_names_and_stays_a_link(aputure_parquet, via, tmp_path):
    """DuckDB's writer replaced the link with a file, the file it named left as it was; pyarrow's
    wrote through it: both paths write as the shell's `>` does."""
    target, link = tmp_path / "decided.parquet", tmp_path / "link.parquet"
    target.write_text("an earlier run's")
    link.symlink_to(target.name)
    result = run("replay", APUTURE, aputure_parquet, "--out", link, "--via", via)
    assert result.code == 0, result.both
    assert link.is_symlink() and os.readlink(link) == target.name
    assert pq.read_table(target).num_rows == pq.read_table(aputure_parquet).num_rows


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="a device that is always full")
@pytest.mark.parametrize("via", ["sql", "python"])
@pytest.mark.parametrize("option", ["--out", "--rejects"])
def test_a_file_that_cannot_be_written_is_named(option, via, tmp_path):
    # a full disk: the checks before the run cannot know it
    from .test_dates import _far_date_table

    lines = (POLICIES / "aputure" / "corpus.jsonl").read_text().splitlines()[:3]
    pq.write_table(_far_date_table(lines), tmp_path / "in.parquet")  # one row rejected
    given = {"--out": tmp_path / "o.parquet", option: "/dev/full"}
    result = run("replay", APUTURE, tmp_path / "in.parquet", *[x for pair in given.items() for x in pair], "--via", via)
    assert (result.code, result.err) == (73, "error: /dev/full: No space left on device\n")  # the same on each path


@pytest.mark.parametrize("via", ["sql", "python"])
def test_a_run_without_rejects_removes_an_earlier_rejects_file_and_nothing_else(aputure_parquet, via, tmp_path):
    # /dev/full named as the rejects of a run that had none was removed (as root), and the next
    # run's rejects were written into a file of that name
    stale, pipe, target = tmp_path / "stale.jsonl", tmp_path / "pipe", tmp_path / "kept.jsonl"
    stale.write_text('{"id": "R1", "error": {}}\n')
    os.mkfifo(pipe)
    target.write_text("kept\n")
    (tmp_path / "link").symlink_to(target)
    source = tmp_path / "in.parquet"
    pq.write_table(pq.read_table(aputure_parquet).slice(0, 3), source)
    for rejects in (stale, pipe, tmp_path / "link"):
        result = run("replay", APUTURE, source, "--out", tmp_path / "o.parquet", "--rejects", rejects, "--via", via)
        assert result.code == 0, result.both
    assert not stale.exists()
    assert pipe.is_fifo() and (tmp_path / "link").is_symlink() and target.read_text() == "kept\n"


@pytest.mark.parametrize("via", ["sql", "python"])
def test_keys_of_any_type_name_their_rejects_in_json(aputure_parquet, via, tmp_path):
    import duckdb

    source = tmp_path / "in.parquet"
    keys = {"k_struct": ("{'amount': 1.50::DECIMAL(5, 2), 'day': DATE '2025-01-02'}", {"amount": "1.50", "day": "2025-01-02"}),
            "k_list": ("[DATE '2025-01-02', NULL]", ["2025-01-02", None]),
            "k_time": ("TIME '12:30:00'", "12:30:00"),
            "k_uuid": ("'00000000-0000-0000-0000-00000000002a'::UUID", "00000000-0000-0000-0000-00000000002a"),
            "k_nan": ("'NaN'::DOUBLE", "nan")}
    duckdb.execute(f"COPY (SELECT {', '.join(f'{sql} AS {k}' for k, (sql, _) in keys.items())}, * EXCLUDE (id, kind), "
                   f"'swap' AS kind FROM '{aputure_parquet}' LIMIT 2) TO '{source}' (FORMAT parquet)")
    result = run("replay", APUTURE, source, *[x for k in keys for x in ("--key", k)], "--out", tmp_path / "o.parquet",
                 "--via", via)
    assert result.code == 2 and "Traceback" not in result.both, result.both
    rejects = [json.loads(line) for line in (tmp_path / "o.rejects.jsonl").read_text().splitlines()]
    assert [{k: r[k] for k in keys} for r in rejects] == [{k: value for k, (_, value) in keys.items()}] * 2


def test_a_folder_is_decided_beside_it_and_a_file_of_decisions_in_it_is_named(aputure_parquet, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    pq.write_table(pq.read_table(aputure_parquet).slice(0, 3), folder / "a.parquet")
    for _ in range(2):  # the output left beside the folder: a second run reads the same input
        result = run("replay", APUTURE, folder)
        assert result.code == 0 and f"-> {tmp_path / 'exports.decided.parquet'}" in result.err, result.both
    assert sorted(p.name for p in folder.iterdir()) == ["a.parquet"]
    (tmp_path / "exports.decided.parquet").rename(folder / "a.decided.parquet")
    result = run("replay", APUTURE, folder)
    assert result.code == 64 and f"error: {folder / 'a.decided.parquet'}: decided rows (its columns rules_applied " \
        "and policy_hash), not requests; move it out of the input" in result.err, result.both


@pytest.mark.parametrize("via", ["sql", "python"])
def test_inputs_without_requests(aputure_parquet, via, tmp_path):
    result = run("replay", APUTURE, tmp_path / "nothing-*.parquet", "--via", via)
    assert result.code == 64 and "nothing-*.parquet: no Parquet, JSON lines or CSV file found" in result.err
    (tmp_path / "mixed").mkdir()
    (tmp_path / "mixed" / "a.jsonl").write_text("")
    (tmp_path / "mixed" / "b.csv").write_text("")
    result = run("replay", APUTURE, tmp_path / "mixed", "--via", via)
    assert result.code == 64 and "files of several formats (csv, jsonl); replay one at a time" in result.err
    pq.write_table(pq.read_table(aputure_parquet).slice(0, 0), tmp_path / "none.parquet")
    for source in (tmp_path / "mixed" / "a.jsonl", tmp_path / "none.parquet"):  # empty, and no rows
        result = run("replay", APUTURE, source, "--out", tmp_path / "o.parquet", "--via", via)
        assert result.code == 0 and "0 requests: 0 decided" in result.err, result.both
        assert pq.read_table(tmp_path / "o.parquet").num_rows == 0


def test_csv_rows_with_dotted_columns_and_json_lists(tmp_path):
    policy = load_policy(APUTURE)
    line = (POLICIES / "aputure" / "corpus.jsonl").read_text().splitlines()[0]
    data = json.loads(line)
    header = ["id", "request_date", "kind", "received_date"] + [f"order.{k}" for k in data["order"]] + ["items"]
    cells = ["A1", data["request_date"], data["kind"], data.get("received_date", "")] + \
        [str(v) for v in data["order"].values()] + [json.dumps(data["items"])]
    import csv
    with open(tmp_path / "in.csv", "w", newline="") as stream:
        csv.writer(stream).writerows([header, cells])
    result = run("replay", APUTURE, tmp_path / "in.csv", "--out", tmp_path / "o.parquet")
    assert result.code == 0, result.both
    assert outputs_by_key(policy, tmp_path / "o.parquet", "id") == {"A1": expected(policy, [line])[1]}
    # as a spreadsheet saves it: a byte order mark before the header, a list's JSON over lines
    cells[-1] = json.dumps(data["items"], indent=1)
    with open(tmp_path / "in.csv", "w", newline="", encoding="utf-8-sig") as stream:
        csv.writer(stream).writerows([header, cells, ["A2", *cells[1:]]])
    result = run("replay", APUTURE, tmp_path / "in.csv", "--out", tmp_path / "o.parquet")
    assert result.code == 0, result.both
    assert outputs_by_key(policy, tmp_path / "o.parquet", "id") == dict.fromkeys(["A1", "A2"], expected(policy, [line])[1])


@pytest.mark.parametrize("via", ["sql", "python"])
def test_a_csv_row_that_is_not_utf8_or_has_more_cells_than_the_header_is_a_reject(via, tmp_path):
    policy = load_policy(APUTURE)
    line = (POLICIES / "aputure" / "corpus.jsonl").read_text().splitlines()[0]
    data = json.loads(line)
    header = ["id", "request_date", "kind", "received_date"] + [f"order.{k}" for k in data["order"]] + ["items"]
    cells = [data["request_date"], data["kind"], data["received_date"]] + [str(v) for v in data["order"].values()]

    def row(key: bytes) -> bytes:
        return key + ",".join(["", *cells, '"' + json.dumps(data["items"]).replace('"', '""') + '"']).encode()
    (tmp_path / "in.csv").write_bytes(b"\n".join([",".join(header).encode(), row(b"A1"), row(b"A\xe92"),
                                                   row(b"A3") + b",extra", row(b"A4")]) + b"\n")
    result = run("replay", APUTURE, tmp_path / "in.csv", "--out", tmp_path / "o.parquet", "--via", via)
    assert result.code == 2 and "Traceback" not in result.both, result.both
    assert "4 requests: 2 decided" in result.err and "2 rejected" in result.err
    assert outputs_by_key(policy, tmp_path / "o.parquet", "id") == dict.fromkeys(["A1", "A4"], expected(policy, [line])[1])
    rejects = [json.loads(line) for line in (tmp_path / "o.rejects.jsonl").read_text().splitlines()]
    # a row whose keys cannot be read is named by its place in the file
    assert [(r["id"], r.get("source_row"), [(p["path"], p["message"]) for p in r["error"]["problems"]])
            for r in rejects] == [(None, 2, [("$", "not valid UTF-8: invalid continuation byte in the column `id`")]),
                                  ("A3", None, [("$", f"1 cell more than the header's {len(header)}")])]
    # a column named twice: which cell is the field's? (csv.DictReader keeps the last, silently)
    (tmp_path / "in.csv").write_bytes(b",".join([b"request_date", *(h.encode() for h in header)]) + b"\n" + row(b"A1"))
    result = run("replay", APUTURE, tmp_path / "in.csv", "--out", tmp_path / "o.parquet", "--via", via)
    assert result.code == 64 and f"error: {tmp_path / 'in.csv'}: the column `request_date` twice in the header" \
        in result.err, result.both


@pytest.mark.parametrize("via", ["sql", "python"])
def test_the_lines_of_each_file_of_a_folder_are_numbered_from_1(via, tmp_path):
    # source_row is a row's place in its own file, as for Parquet, so that a reject can be found
    lines = (POLICIES / "aputure" / "corpus.jsonl").read_text().splitlines()
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_text("\n".join(lines[:2]) + "\n")
    (folder / "b.jsonl").write_text(lines[2] + "\n{not json\n")
    result = run("replay", APUTURE, folder, "--out", tmp_path / "o.parquet", "--via", via)
    assert result.code == 2, result.both
    table = pq.read_table(tmp_path / "o.parquet")
    assert sorted(zip(table.column("source_file").to_pylist(), table.column("source_row").to_pylist())) == [
        (str(folder / "a.jsonl"), 1), (str(folder / "a.jsonl"), 2), (str(folder / "b.jsonl"), 1)]
    [reject] = [json.loads(line) for line in (tmp_path / "o.rejects.jsonl").read_text().splitlines()]
    assert (reject["source_file"], reject["source_row"]) == (str(folder / "b.jsonl"), 2)


@pytest.mark.parametrize("via", ["sql", "python"])
def test_json_keys_of_one_type_missing_from_the_first_lines_or_of_several_types(via, tmp_path):
    line = json.loads((POLICIES / "aputure" / "corpus.jsonl").read_text().splitlines()[0])
    source, out = tmp_path / "in.jsonl", tmp_path / "o.parquet"
    source.write_text("".join(json.dumps({"id": key, **line}) + "\n" for key in [None] * 1000 + ["A3"]))
    result = run("replay", APUTURE, source, "--out", out, "--via", via)  # the key's type seen in the first 1,000
    assert result.code == 0, result.both
    assert set(pq.read_table(out).column("id").to_pylist()) == {None, "A3"}
    source.write_text("".join(json.dumps({"id": key, **line}) + "\n" for key in [1, "A2"]))
    result = run("replay", APUTURE, source, "--out", out, "--via", via)
    assert result.code == 64 and "internal error" not in result.both, result.both
    assert f"error: the key `id` holds values of more than one type: line 2 of {source} holds \"A2\", where " \
        "the rows before it hold whole numbers; " in result.err
    source.write_text("".join(json.dumps({"id": key, **line}) + "\n" for key in [1, 10 ** 20]))
    result = run("replay", APUTURE, source, "--out", out, "--via", via)
    assert (result.code, result.err) == (64, "error: the key `id` holds a whole number too large for a 64-bit "
                                             f"integer column (line 2 of {source}); give it as text "
                                             "(\"100000000000000000000\"), or name another with --key\n")


@pytest.mark.parametrize("via", ["sql", "python"])
def test_a_json_key_left_out_of_the_first_line_is_still_the_key(via, tmp_path):
    line = json.loads((POLICIES / "aputure" / "corpus.jsonl").read_text().splitlines()[0])
    source, out = tmp_path / "in.jsonl", tmp_path / "o.parquet"
    source.write_text(json.dumps(line) + "\n" + "".join(json.dumps({"id": f"R{n}", **line}) + "\n" for n in (2, 3)))
    result = run("replay", APUTURE, source, "--out", out, "--via", via)  # the later lines' id was an unknown field
    assert result.code == 0, result.both
    assert sorted(pq.read_table(out).column("id").to_pylist(), key=str) == [None, "R2", "R3"]


def test_replay_without_its_extra_says_what_to_install(tmp_path):
    code = ("import sys; sys.modules['duckdb'] = None\n"
            "from rplang.cli import main\n"
            f"main(['replay', {str(APUTURE)!r}, {str(tmp_path)!r}])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 64
    assert "install rplang[replay]" in done.stderr


def test_a_bad_command_line_exits_64_with_usage():
    result = run("replay")
    assert result.code == 64 and "Missing argument 'POLICY'" in result.err
    result = run("replay", APUTURE, "x.parquet", "--via", "sq")
    assert result.code == 64 and "'sq' is not one of 'sql', 'python'" in result.err



LAYERS = Path(__file__).parent / "layers.rpl"


def test_layers_of_the_query_decide_as_rpl_eval(tmp_path):
    # a rule over each item reading business days counted from the request (the calendar joined
    # before the kept elements), a value over a list read per item, and `item.damaged` and
    # `item.repair`, given `when opened`, read after `item.opened`: given or not where not opened
    def item(price, opened, shipped, **inspection):
        return {"price": price, "opened": opened, "shipped": shipped, **inspection}
    requests = [
        {"request_date": "2025-12-23", "items": [item("10.00", False, "2025-12-26")]},
        {"request_date": "2025-12-23", "items": [item("10.00", False, "2025-12-30")]},  # after the 29th
        {"request_date": "2025-07-01", "items": [item("20.00", True, "2025-07-01", damaged=True, repair="5.50"),
                                                  item("7.00", False, "2025-07-02", damaged=True, repair="1.00")]},
        {"request_date": "2025-07-01", "items": [item("20.00", True, "2025-07-01", damaged=False, repair="5.50")]},
        {"request_date": "2025-07-01", "items": [item("20.00", True, "2025-07-01", repair="5.50")]},  # refused
        {"request_date": "2025-07-01", "items": []},
    ]
    lines = [json.dumps(r) for r in requests]
    source = tmp_path / "layers.jsonl"
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.parquet"
    result = run("replay", LAYERS, source, "--out", out, "--via", "sql")
    assert result.code == 2, result.both  # the request without `damaged` is rejected, as by rpl eval
    assert "5 decided (5 in SQL, 0 by the Python path)" in result.err, result.err
    policy = load_policy(LAYERS)
    decided = outputs_by_key(policy, out, "source_row")
    with pytest.raises(RplError):
        policy.decide_json(lines[4])
    want = expected(policy, lines[:4] + lines[5:])  # the 5th line left out: numbers after it move
    assert decided == {n if n < 5 else n + 1: outputs for n, outputs in want.items()}
    assert [decided[n][0]["outcome"] for n in (1, 2)] == ["approve", "refuse"]
    assert decided[3][0]["refund"] == "21.50"


@pytest.mark.parametrize("looked_up", [64, 0], ids=["looked-up", "filtered"])
def test_the_rules_applied_are_those_of_rpl_eval_looked_up_or_filtered(looked_up, aputure_lines, monkeypatch):
    # up to 64 rules the names are looked up four flags at a time; past that, a list of every
    # name or NULL is filtered: both give the rules `rpl eval` reports, in the policy's order
    import pyarrow as pa

    from rplang.replay import sql
    from rplang.replay.api import decide_arrow
    from rplang.replay.columns import request_schema

    monkeypatch.setattr(sql, "NAMES_LOOKED_UP", looked_up)
    policy = load_policy(APUTURE)
    lines = aputure_lines.read_text().splitlines()[:600]
    rows = [{"id": n, **row} for n, row in enumerate(typed_rows(policy, lines), 1)]
    table = pa.Table.from_pylist(rows, schema=pa.schema([pa.field("id", pa.int64()), *request_schema(policy.checked)]))
    decided = decide_arrow(policy, APUTURE.read_text(), table, keys=("id",))
    applied = dict(zip(decided.column("id").to_pylist(), decided.column("rules_applied").to_pylist()))
    want = expected(policy, lines)
    assert applied == {n: rules for n, (_, rules) in want.items()}
    assert len({tuple(rules) for rules in applied.values()}) > 10  # many different lists met


@pytest.mark.parametrize("via", ["sql", "python"])
def test_money_stored_with_ten_places_is_decided_as_with_two(via, aputure_parquet, tmp_path):
    """A warehouse's money as DECIMAL(38,10): 549.0000000000 is 549.00, on both paths, and a row
    is decided as it is with the amounts in DECIMAL(18,2)."""
    import duckdb

    wide = tmp_path / "wide.parquet"
    con = duckdb.connect()
    types = {row[0]: row[1] for row in con.sql(f"DESCRIBE SELECT \"order\", items FROM '{aputure_parquet}'").fetchall()}
    cast = {name: types[name].replace("DECIMAL(18,2)", "DECIMAL(38,10)") for name in ("order", "items")}
    assert all("DECIMAL(38,10)" in t for t in cast.values())
    con.sql(f"COPY (SELECT * REPLACE (CAST(\"order\" AS {cast['order']}) AS \"order\", "
            f"CAST(items AS {cast['items']}) AS items) FROM '{aputure_parquet}') TO '{wide}'")
    decided = {}
    for name, source in (("two", aputure_parquet), ("ten", wide)):
        out = tmp_path / f"{name}.parquet"
        result = run("replay", APUTURE, source, "--out", out, "--via", via)
        assert result.code in (0, 2), result.both
        decided[name] = (outputs_by_key(load_policy(APUTURE), out, "id"), result.err.split(" -> ")[0])
    assert decided["ten"] == decided["two"]
    assert len(decided["ten"][0]) > 3000
