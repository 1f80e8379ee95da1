"""`rpl replay --jobs N` (read_workers.py): a JSON-lines or CSV input read in worker processes
gives what one process gives: the same decided rows, byte for byte the same rejects, the same
counts, the same errors, for JSON lines with malformed lines among them, CSV, a folder of two
files and keys of several kinds. The files are small, cut into many small ranges, and a batch
(the rows whose keys make the key columns' types) is a few rows."""
from __future__ import annotations

import csv
import io
import json
import os
import signal

import pyarrow.parquet as pq
import pytest

from rplang import stream_workers
from rplang.replay import read_workers
from rplang.replay import rows as replay_rows

from ..cli.conftest import run
from ..conftest import APUTURE

LINES = 300  # of the Aputure corpus and generated requests: about 40 ranges of 8 KB
RANGE_BYTES = 8 << 10


@pytest.fixture(autouse=True)
def small_ranges(monkeypatch):
    monkeypatch.setattr(stream_workers, "CHUNK_BYTES", RANGE_BYTES)
    monkeypatch.setattr(stream_workers, "MIN_CHUNK_BYTES", RANGE_BYTES)


@pytest.fixture
def small_batches(monkeypatch):
    """A batch of 5 rows: the key columns' types are those of the first 5."""
    monkeypatch.setattr(replay_rows, "BATCH", 5)
    monkeypatch.setattr(read_workers, "BATCH", 5)


@pytest.fixture
def workers_read(monkeypatch) -> list:
    """The files read in workers, as the run goes (a spy on `decide_in_workers`)."""
    read = []
    real = stream_workers.decide_in_workers

    def spy(blocks, *args, **kwargs):
        read.append(blocks.size)
        return real(blocks, *args, **kwargs)
    monkeypatch.setattr(stream_workers, "decide_in_workers", spy)
    return read


def replay(source, folder, jobs: int, *options) -> tuple:
    """(exit code, stderr with OUT's name made the same, OUT's schema and rows sorted, the rejects' lines
    sorted)."""
    out = folder / f"jobs{jobs}.parquet"
    result = run("replay", APUTURE, source, "--out", out, "--jobs", jobs, *options)
    assert "Traceback" not in result.both, result.both
    rows = (pq.read_schema(out), sorted(pq.read_table(out).to_pylist(), key=repr)) if out.exists() else None
    rejects = folder / f"jobs{jobs}.rejects.jsonl"
    refused = sorted(rejects.read_bytes().splitlines()) if rejects.exists() else []
    return result.code, result.err.replace(str(out), "OUT").replace(str(rejects), "REJECTS"), rows, refused


def assert_same(source, folder, *options) -> tuple:
    one, two = replay(source, folder, 1, *options), replay(source, folder, 2, *options)
    assert one == two
    return one


def aputure(aputure_lines, count: int = LINES) -> list[str]:
    return aputure_lines.read_text().splitlines()[:count]


def test_json_lines_with_malformed_lines_among_them(aputure_lines, tmp_path, workers_read):
    lines = [line.encode() for line in aputure(aputure_lines)]
    broken = json.loads(lines[3])
    broken["items"][0]["condition"] = "mint"  # not a Condition: the request reader refuses it
    lines[3] = json.dumps(broken).encode()
    lines[40] = b"{not json"
    lines[41] = b""
    lines[120] = lines[120].replace(b'"', b'"\xe9', 1)  # not UTF-8
    lines[250] = b"[1, 2]"
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\n".join(lines))  # the last line without its line feed
    code, err, (_, rows), rejects = assert_same(source, tmp_path)
    assert workers_read == [source.stat().st_size]
    assert code == 2 and f"{LINES} requests: {LINES - 5} decided" in err and "5 rejected -> REJECTS" in err
    assert len(rows) == LINES - 5
    assert sorted(json.loads(r)["source_row"] for r in rejects) == [4, 41, 42, 121, 251]


def test_json_lines_that_are_no_objects_are_rejects_with_their_place(aputure_lines, tmp_path, workers_read):
    """With a key (`id`), a line of JSON that is no object (`null`, a list, a text, a number) was
    a reject with neither its key nor its place; in a worker its missing key stopped the worker,
    and the replay waited for it for ever."""
    lines = [json.dumps({"id": f"R{n}", **json.loads(line)}) for n, line in enumerate(aputure(aputure_lines))]
    for at, odd in ((10, "null"), (100, "[1]"), (200, '"R7"'), (290, "3")):
        lines[at] = odd
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n")
    code, err, _, rejects = assert_same(source, tmp_path)
    assert code == 2 and "4 rejected -> REJECTS" in err, err
    assert sorted((json.loads(r)["source_row"], json.loads(r)["id"]) for r in rejects) == [
        (11, None), (101, None), (201, None), (291, None)]


def test_csv_with_dotted_columns_and_json_lists(aputure_lines, tmp_path, small_batches, workers_read):
    requests = [json.loads(line) for line in aputure(aputure_lines, 150)]
    header = ["request_id", "request_date", "kind", "received_date"] + \
        sorted({f"order.{k}" for r in requests for k in r["order"]}) + ["items"]
    source = tmp_path / "in.csv"
    with open(source, "w", newline="", encoding="utf-8-sig") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        for number, request in enumerate(requests, 1):
            flat = {"request_id": f"R{number}", **{f"order.{k}": v for k, v in request["order"].items()},
                    **{k: v for k, v in request.items() if k != "order"}}
            writer.writerow(["" if flat.get(c) is None else json.dumps(flat[c]) if c == "items" else flat[c]
                             for c in header])
        writer.writerow(["R151", "2025-13-01", "return"])  # refused: no such day
    with open(source, "ab") as stream:
        stream.write(b"R\xe9152,2025-01-01\n")  # not UTF-8: its keys unread
        stream.write(b"R153,2025-01-01,return" + b"," * len(header) + b"\n")  # more cells than the header
    code, err, (_, rows), rejects = assert_same(source, tmp_path)
    assert workers_read == [source.stat().st_size]
    assert code == 2 and "153 requests: 150 decided" in err and len(rows) == 150
    assert sorted(((r["request_id"], r.get("source_row")) for r in map(json.loads, rejects)), key=repr) == \
        [("R151", None), ("R153", None), (None, 152)]


SUFFIXES = ("", "\nsecond line, été", "\r\nthird", "\rfourth")  # a key's, within quotes: a line, or two


def several_lines_csv(aputure_lines, path, keyed: bool) -> list[int]:
    """The Aputure requests as CSV ended by CRLF, as spreadsheets write it, some of whose rows are
    several lines (a key `R1` and a suffix, SUFFIXES; indented items' JSON), some ended by a
    carriage return alone, with blank lines between rows (no rows) and rows refused (an unknown
    kind, a cell that is not UTF-8, more cells than the header, a row ended by CR CR LF): the
    numbers of the rows refused. `keyed`: with the `request_id` column, else the rows are keyed
    by their numbers."""
    requests = [json.loads(line) for line in aputure(aputure_lines)]
    header = ["request_id"] * keyed + ["request_date", "kind", "received_date"] + \
        sorted({f"order.{k}" for r in requests for k in r["order"]}) + ["items"]
    stream = io.StringIO(newline="")
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(header)
    for number, request in enumerate(requests, 1):
        flat = {"request_id": f"R{number}" + SUFFIXES[number % 4],
                **{f"order.{k}": v for k, v in request["order"].items()},
                **{k: v for k, v in request.items() if k != "order"}}
        if number % 50 == 7:
            flat["kind"] = "swap"
        writer.writerow(["" if flat.get(c) is None else json.dumps(flat[c], indent=number % 2 or None)
                         if c == "items" else flat[c] for c in header])
        if number % 60 == 0:  # the row ended by its carriage return
            stream.seek(stream.tell() - 1)
            stream.truncate()
        if number % 40 == 0:
            stream.write("\r\n")
    tail = b"R\xe9301,2025-01-01\r\nR302,2025-01-01,return" + b"," * len(header) + b"\r\nR303,2025-01-01\r\r\n"
    path.write_bytes(stream.getvalue().encode() + (tail if keyed else tail.replace(b"R\xe9301,", b"\xe9")
                                                   .replace(b"R302,", b"").replace(b"R303,", b"")))
    return [n for n in range(1, LINES + 1) if n % 50 == 7] + [LINES + 1, LINES + 2, LINES + 3]


@pytest.mark.parametrize("keyed", [True, False], ids=["keyed", "numbered"])
def test_a_csv_whose_rows_are_several_lines_is_cut_where_rows_start(keyed, aputure_lines, tmp_path, workers_read):
    source = tmp_path / "in.csv"
    refused = several_lines_csv(aputure_lines, source, keyed)
    code, err, (_, rows), rejects = assert_same(source, tmp_path)
    assert workers_read == [source.stat().st_size]
    assert code == 2 and f"{LINES + 3} requests: {LINES + 3 - len(refused)} decided" in err
    if keyed:
        assert sorted(r["request_id"] for r in rows) == \
            sorted(f"R{n}" + SUFFIXES[n % 4] for n in range(1, LINES + 1) if n not in refused)
        assert sorted(((r["request_id"], r.get("source_row")) for r in map(json.loads, rejects)), key=repr) == \
            sorted([(f"R{n}" + SUFFIXES[n % 4], None) for n in refused[:-3]] +
                   [(None, LINES + 1), ("R302", None), ("R303", None)], key=repr)  # not UTF-8: its keys unread
    else:  # each row numbered as one process numbers it, blank lines and lines within rows aside
        assert sorted(r["source_row"] for r in rows) == [n for n in range(1, LINES + 1) if n not in refused]
        assert sorted(json.loads(r)["source_row"] for r in rejects) == refused


def test_the_places_a_csv_file_is_cut_are_where_rows_start(aputure_lines, tmp_path):
    source = tmp_path / "in.csv"
    several_lines_csv(aputure_lines, source, keyed=True)
    header, places = read_workers._csv_places(str(source))
    data = source.read_bytes()
    assert header[0] == "request_id" and places[0] == (data.index(b"\r\n") + 2, 1) and len(places) > 10
    keys = [f"R{n}" + SUFFIXES[n % 4] for n in range(1, LINES + 1)] + ["R\udce9301", "R302", "R303"]
    before = places[0][0]
    for offset, number in places[1:-1]:
        assert offset - before >= RANGE_BYTES
        first = next(csv.DictReader(io.StringIO(data[offset:].decode("utf-8", "surrogateescape"), newline=""),
                                    fieldnames=header))
        assert first["request_id"] == keys[number - 1]
        before = offset
    assert places[-1] == (len(data), LINES + 4)
    source.write_bytes(b'\xef\xbb\xbf"request\n_id",kind\r\nA,return\r\n\r\nB,return\r\n')  # a header of two lines
    assert read_workers._csv_places(str(source)) == (["request\n_id", "kind"], [(23, 1), (45, 3)])


def test_a_csv_row_ended_by_a_carriage_return_alone_is_cut_as_csv_reads_it(tmp_path, workers_read, monkeypatch):
    """csv, reading a file, ends a line (and a row) at a carriage return alone too: the main
    process's pass, given the lines one by one, cuts them there as well (csv refused the line
    `A,return\\rB,return`: "new-line character seen in unquoted field")."""
    monkeypatch.setattr(stream_workers, "MIN_CHUNK_BYTES", 1)  # a place at every row
    source = tmp_path / "in.csv"
    source.write_bytes(b"request_id,kind\r\nA,return\rB,return\r\r\nC,return\r")
    assert read_workers._csv_places(str(source)) == (["request_id", "kind"], [(17, 1), (26, 2), (35, 3), (37, 3), (46, 4)])
    code, err, (_, rows), rejects = assert_same(source, tmp_path)
    assert workers_read == [46] and "3 requests: 0 decided" in err
    assert sorted(json.loads(r)["request_id"] for r in rejects) == ["A", "B", "C"]


@pytest.fixture
def callers_cap():
    """The caller's own cap on csv's cells (a notebook's), set back after the test."""
    previous = csv.field_size_limit(1_000)
    yield 1_000
    csv.field_size_limit(previous)


@pytest.mark.parametrize("via", ["sql", "python"])
def test_a_long_csv_cell_is_read_and_the_caller_s_cap_left_as_it_was(via, tmp_path, workers_read, callers_cap):
    """csv refuses a cell past 128 KiB unless told otherwise (that stopped the replay as a bug); it
    has its cap only as a global: set for the replay's reading, and back between its rows."""
    long = "R" * 200_000
    source = tmp_path / "in.csv"
    source.write_text(f"request_id,kind\nA,return\n{long},return\n")
    code, err, _, rejects = assert_same(source, tmp_path, "--via", via)
    assert code == 2 and err.startswith("2 requests: 0 decided")
    assert sorted(json.loads(r)["request_id"] for r in rejects) == ["A", long]
    assert csv.field_size_limit() == callers_cap
    caps = [csv.field_size_limit() for _ in replay_rows.csv_rows(csv.reader(io.StringIO(f"a\n{long}\nb\n")))]
    assert caps == [callers_cap] * 3 and csv.field_size_limit() == callers_cap


def test_a_folder_of_two_files_keeps_each_rows_file(aputure_lines, tmp_path, workers_read):
    lines = aputure(aputure_lines)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_text("\n".join(lines[:200]) + "\n")
    (folder / "b.jsonl").write_text("\n".join(["{", *lines[200:]]) + "\n")
    code, err, (_, rows), rejects = assert_same(folder, tmp_path)
    assert len(workers_read) == 2 and code == 2 and f"{LINES + 1} requests: {LINES} decided" in err
    assert {(r["source_file"], r["source_row"]) for r in rows} == \
        {(str(folder / "a.jsonl"), n) for n in range(1, 201)} | {(str(folder / "b.jsonl"), n) for n in range(2, 102)}
    assert [(json.loads(r)["source_file"], json.loads(r)["source_row"]) for r in rejects] == \
        [(str(folder / "b.jsonl"), 1)]


@pytest.mark.parametrize(("at", "row"), [("b.jsonl", 2), ("b.jsonl", 40)], ids=["within the first rows", "after"])
def test_the_first_rows_that_type_the_keys_span_the_files_of_a_folder(at, row, aputure_lines, tmp_path,
                                                                       small_batches, workers_read):
    # a.jsonl's 3 rows and b.jsonl's first 2 type the key: a number where they hold text is named in b.jsonl
    lines = [json.dumps({"key": f"R{n}", **json.loads(line)}) for n, line in enumerate(aputure(aputure_lines, 60))]
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_text("\n".join(lines[:3]) + "\n")
    later = lines[3:]
    later[row - 1] = json.dumps({**json.loads(later[row - 1]), "key": 7})
    (folder / "b.jsonl").write_text("\n".join(later) + "\n")
    code, err, rows, rejects = assert_same(folder, tmp_path, "--key", "key")
    assert len(workers_read) == 2 and code == 64 and rows is None
    rows_before = "the rows before it" if row <= 2 else "the first 5 rows, which make its column,"
    assert err == other_type(row, folder / at, "7", rows_before, "text")


KEYS = {  # a key's values, row by row: those of the first 5 make its column's type
    "text": lambda n: f"R{n}",
    "whole numbers and not": lambda n: n if n % 3 else n + 0.5,
    "objects": lambda n: {"shop": "eu", "n": n} if n % 2 else {"n": n},
    "lists": lambda n: [n, None],
    "nulls then text": lambda n: None if n < 8 else str(n),
}


@pytest.mark.parametrize("kind", list(KEYS))
def test_keys_of_several_kinds(kind, aputure_lines, tmp_path, small_batches, workers_read):
    lines = [json.dumps({"key": KEYS[kind](n), **json.loads(line)}) for n, line in enumerate(aputure(aputure_lines), 1)]
    lines[9] = json.dumps({"key": KEYS[kind](10)})  # refused, with its key
    lines[199] = "{"  # not JSON: named by its place
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n")
    code, err, (_, rows), rejects = assert_same(source, tmp_path, "--key", "key")
    assert workers_read and code == 2 and len(rows) == LINES - 2
    assert sorted(([r["key"], r.get("source_row")] for r in map(json.loads, rejects)), key=repr) == \
        sorted([[KEYS[kind](10), None], [None, 200]], key=repr)


@pytest.mark.parametrize("later", ["R9", {"n": 1}, 2 ** 64], ids=["text", "object", "past 64 bits"])
def test_a_later_rows_key_of_another_type_is_named_from_a_worker(later, aputure_lines, tmp_path, small_batches,
                                                                 workers_read):
    lines = [json.dumps({"key": n, **json.loads(line)}) for n, line in enumerate(aputure(aputure_lines), 1)]
    lines[208] = json.dumps({**json.loads(lines[208]), "key": later})
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n")
    code, err, rows, rejects = assert_same(source, tmp_path, "--key", "key")
    assert workers_read and code == 64 and rows is None
    if later == 2 ** 64:
        assert err == f"error: the key `key` holds a whole number too large for a 64-bit integer column (line 209 " \
            f"of {source}); give it as text (\"{later}\"), or name another with --key\n"
    else:
        assert err == other_type(209, source, json.dumps(later), "the first 5 rows, which make its column,",
                                 "whole numbers")


def test_empty_files(tmp_path, workers_read):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_bytes(b"")
    code, err, (_, rows), rejects = assert_same(folder / "a.jsonl", tmp_path)
    assert code == 0 and "0 requests: 0 decided" in err and rows == [] and rejects == []
    (folder / "b.jsonl").write_bytes(b"")
    assert assert_same(folder, tmp_path)[:2] == (0, err)
    (tmp_path / "in.csv").write_text("request_id,kind\n")  # a header, no row
    assert assert_same(tmp_path / "in.csv", tmp_path)[:2] == (0, err)
    assert pq.read_schema(tmp_path / "jobs2.parquet").names[0] == "source_row"
    assert workers_read == [0, 0, 0, len("request_id,kind\n")]  # a.jsonl alone, then with b.jsonl; the CSV


def test_a_keyed_input_of_less_than_a_batch_is_read_in_workers_typed_by_all_its_rows(aputure_lines, tmp_path,
                                                                                   small_batches, workers_read):
    # the workers start at once: the keys are typed as they hand them back, here from all four rows
    lines = [json.dumps({"key": n if n < 4 else 4.5, **json.loads(line)})
             for n, line in enumerate(aputure(aputure_lines, 4), 1)]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n")
    code, err, (schema, rows), rejects = assert_same(source, tmp_path, "--key", "key")
    assert workers_read == [source.stat().st_size] and code == 0
    assert str(schema.field("key").type) == "double" and sorted(r["key"] for r in rows) == [1.0, 2.0, 3.0, 4.5]


@pytest.mark.parametrize("wrong", [24, 31], ids=["within the first rows", "after them"])
def test_a_keys_other_type_is_named_where_the_first_rows_span_ranges(wrong, aputure_lines, tmp_path, monkeypatch,
                                                                     workers_read):
    # 25 rows (about three ranges) type the keys: a text among them, or after them, is named by its line
    monkeypatch.setattr(replay_rows, "BATCH", 25)
    monkeypatch.setattr(read_workers, "BATCH", 25)
    lines = [json.dumps({"key": n, **json.loads(line)}) for n, line in enumerate(aputure(aputure_lines), 1)]
    lines[wrong - 1] = json.dumps({**json.loads(lines[wrong - 1]), "key": "R"})
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n")
    code, err, rows, rejects = assert_same(source, tmp_path, "--key", "key")
    assert len(workers_read) == 1 and code == 64 and rows is None
    rows_before = "the rows before it" if wrong <= 25 else "the first 25 rows, which make its column,"
    assert err == other_type(wrong, source, '"R"', rows_before, "whole numbers")


def other_type(line: int, path, value: str, rows_before: str, kind: str) -> str:
    """The error of a key (`key`) of another type than the rows before it, as rpl says it."""
    return (f"error: the key `key` holds values of more than one type: line {line} of {path} holds {value}, where "
            f"{rows_before} hold {kind}; give it values of one type in every row (objects may leave fields out, "
            "numbers may be whole in some rows), or name another with --key\n")

def test_a_worker_that_dies_is_a_clear_error_and_leaves_no_file(aputure_lines, tmp_path, monkeypatch):
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(aputure(aputure_lines)) + "\n")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(temporary))
    here = os.getpid()
    real = read_workers.typed_batch
    taken = []

    def dying(*args):
        taken.append(1)
        if os.getpid() != here and len(taken) == 3:  # a worker's third range
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args)
    monkeypatch.setattr(read_workers, "typed_batch", dying)
    result = run("replay", APUTURE, source, "--out", tmp_path / "o.parquet", "--jobs", "2")
    assert result.code == 64 and "Traceback" not in result.both, result.both
    assert result.err == f"error: a worker process reading {source} ended before its rows were read " \
        "(killed by signal 9); nothing was decided\n"
    assert list(temporary.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "tmp"]


def test_a_worker_that_fails_is_a_clear_error_not_a_wait(aputure_lines, tmp_path, monkeypatch):
    """A worker whose range raised (a bug) stayed alive, its writer thread waiting for the next
    range's output, and the replay waited for it for ever."""
    import threading

    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(aputure(aputure_lines)) + "\n")
    here = os.getpid()
    real = read_workers.typed_batch

    def failing(*args):
        if os.getpid() != here:
            raise RuntimeError("a bug")
        return real(*args)
    monkeypatch.setattr(read_workers, "typed_batch", failing)
    done = []
    replaying = threading.Thread(target=lambda: done.append(
        run("replay", APUTURE, source, "--out", tmp_path / "o.parquet", "--jobs", "2")), daemon=True)
    replaying.start()
    replaying.join(120)
    assert done, "the replay waited for its workers for ever"
    assert done[0].code == 64 and done[0].err.endswith(
        f"error: a worker process reading {source} ended before its rows were read (exit code 1); "
        "nothing was decided\n"), done[0].both
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_a_parquet_input_is_read_by_the_engine_whatever_the_jobs(aputure_parquet, tmp_path, workers_read):
    assert_same(aputure_parquet, tmp_path)
    assert workers_read == []
