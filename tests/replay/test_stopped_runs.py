"""`rpl replay` that fails or is stopped halfway (a full disk, a file it cannot write, Ctrl-C,
SIGTERM): OUT and the rejects file an earlier run left are as they were, and no file of half the
rows is left under their names or beside them."""
from __future__ import annotations

import os
import resource
import signal
import subprocess
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ..cli.conftest import RPL, run
from ..conftest import APUTURE

LIMIT = 16 * 1024  # bytes a process may write to a file: OUT of 3,500 rows is larger (the earlier, of 5, is not)


def earlier_run(aputure_parquet, tmp_path) -> tuple[Path, dict[str, bytes]]:
    """A run's OUT and rejects (two rows of another kind, rejected), as a next run finds them."""
    import duckdb

    source = tmp_path / "last-week.parquet"
    duckdb.execute(f"COPY (SELECT * REPLACE (CASE WHEN id IN ('R00001', 'R00002') THEN 'swap' ELSE kind END AS kind) "
                   f"FROM '{aputure_parquet}' LIMIT 5) TO '{source}' (FORMAT parquet)")
    out = tmp_path / "decided.parquet"
    result = run("replay", APUTURE, source, "--out", out)
    assert result.code == 2, result.both
    kept = {name: (tmp_path / name).read_bytes() for name in ("decided.parquet", "decided.rejects.jsonl")}
    return out, kept


def assert_kept(tmp_path, kept: dict[str, bytes], inputs: set[str]) -> None:
    """The earlier run's files as they were, and nothing else beside them (no temporary file)."""
    assert {name: (tmp_path / name).read_bytes() for name in kept} == kept
    assert sorted(os.listdir(tmp_path)) == sorted(set(kept) | inputs)


def replay_limited(*args) -> subprocess.CompletedProcess:
    """`rpl replay ARGS` in a process that may write no file past LIMIT bytes (a full disk)."""
    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))
    return subprocess.run(RPL + ["replay", *map(str, args)], preexec_fn=limit, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("via", ["sql", "python"])
def test_a_full_disk_leaves_the_earlier_out_and_rejects_as_they_were(aputure_parquet, via, tmp_path):
    """The Python path wrote OUT in place: the earlier OUT was cut to the limit, a file no reader
    opens; on both paths the earlier run's rejects file was removed, as a run without rejects removes it."""
    out, kept = earlier_run(aputure_parquet, tmp_path)
    done = replay_limited(APUTURE, aputure_parquet, "--out", out, "--via", via)
    assert (done.returncode, done.stderr) == (73, f"error: {out}: File too large\n")
    assert_kept(tmp_path, kept, {"last-week.parquet"})


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="a device that is always full")
@pytest.mark.parametrize("via", ["sql", "python"])
def test_rejects_that_cannot_be_written_leave_the_earlier_out_as_it_was(aputure_parquet, via, tmp_path):
    """The rejects' error came when their file was closed, after the Python path had written OUT
    over the earlier one, every row but the rejects in it: a file that looked complete."""
    out, kept = earlier_run(aputure_parquet, tmp_path)
    result = run("replay", APUTURE, tmp_path / "last-week.parquet", "--out", out, "--rejects", "/dev/full",
                 "--via", via)
    assert (result.code, result.err) == (73, "error: /dev/full: No space left on device\n")
    assert_kept(tmp_path, kept, {"last-week.parquet"})


@pytest.fixture(scope="module")
def many_requests(aputure_parquet, tmp_path_factory) -> Path:
    """The requests many times over, each with an id of its own: a run long enough to be stopped."""
    import duckdb

    path = tmp_path_factory.mktemp("many") / "many.parquet"
    duckdb.execute(f"COPY (SELECT * EXCLUDE (n) REPLACE (id || '-' || n AS id) FROM '{aputure_parquet}', range(150) AS r(n)) "
                   f"TO '{path}' (FORMAT parquet)")
    return path


@pytest.mark.parametrize("via", ["sql", "python"])
@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM"])
def test_a_run_stopped_halfway_leaves_the_earlier_out_and_rejects_as_they_were(aputure_parquet, many_requests, stop,
                                                                              via, tmp_path):
    """Ctrl-C on the SQL path was an internal error (exit 70, "a bug in rpl"), and the Python path
    left half the rows in OUT; SIGTERM killed the process, DuckDB's temporary file left beside OUT."""
    out, kept = earlier_run(aputure_parquet, tmp_path)
    process = subprocess.Popen(RPL + ["replay", str(APUTURE), str(many_requests), "--out", str(out), "--via", via],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    # stopped as it writes: rows in a file beside OUT that is none of the earlier run's
    while not writing(tmp_path, set(kept) | {"last-week.parquet"}):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.005)
    process.send_signal(getattr(signal, stop))
    stdout, stderr = process.communicate(timeout=60)
    if stop == "SIGINT":
        assert (process.returncode, stdout) == (130, ""), stderr
        assert "internal error" not in stderr
    else:
        assert (process.returncode, stdout, stderr) == (
            143, "", "error: stopped by SIGTERM; OUT and the rejects file are as they were\n")
    assert_kept(tmp_path, kept, {"last-week.parquet"})


def writing(folder: Path, kept: set[str]) -> bool:
    """Whether a file in `folder` but those `kept` holds anything (each may be gone as it is looked at)."""
    for name in set(os.listdir(folder)) - kept:
        try:
            if os.path.getsize(folder / name):
                return True
        except FileNotFoundError:
            continue
    return False


@pytest.mark.parametrize("via", ["sql", "python"])
def test_a_run_that_ends_well_replaces_out_and_its_rejects_keeping_their_permissions(aputure_parquet, via, tmp_path):
    out, _ = earlier_run(aputure_parquet, tmp_path)
    out.chmod(0o640)
    result = run("replay", APUTURE, aputure_parquet, "--out", out, "--via", via)
    assert result.code == 0, result.both
    assert pq.read_table(out).num_rows == pq.read_table(aputure_parquet).num_rows
    assert oct(out.stat().st_mode & 0o777) == "0o640"
    assert sorted(os.listdir(tmp_path)) == ["decided.parquet", "last-week.parquet"]  # no rejects: the earlier removed
