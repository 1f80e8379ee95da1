"""`rpl eval --jsonl --jobs N`: the output of one process, byte for byte, whatever the input is (a
path, stdin redirected from a file, a pipe), with bad, empty and too-long lines; and a run that
ends early (its reader gone, Ctrl-C, a worker killed) ends cleanly, leaving no process behind."""
from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import threading
import time

import pytest

from rplang import stream_workers

from ..conftest import APUTURE, APUTURE_REQUESTS
from .conftest import RPL, run

CORPUS = (APUTURE_REQUESTS.parent / "corpus.jsonl").read_bytes().splitlines(keepends=True)  # 500 lines
EXAMPLE = json.dumps(json.loads((APUTURE_REQUESTS / "00-semantics-example.json").read_text())).encode()


def _mixed(copies: int = 3) -> bytes:
    """The corpus `copies` times, with lines that cannot be decided among the others: broken JSON,
    an empty line, a line over `--max-request-bytes 20000`, one longer than a whole block of a
    file, and a last line without its line feed."""
    lines = CORPUS * copies
    lines[7] = b"{broken\n"
    lines[300] = b"\n"
    lines[650] = b'{"request_date": "' + b"x" * 30_000 + b'"}\n'
    lines[900] = b'{"a": "' + b"y" * (stream_workers.CHUNK_BYTES + 5) + b'"}\n'
    return b"".join(lines) + EXAMPLE


def _rpl(*args: str, stdin=subprocess.DEVNULL, input: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(RPL + ["eval", str(APUTURE), *args], stdin=None if input is not None else stdin,
                          input=input, capture_output=True, timeout=300)


ARGS = ("--max-request-bytes", "20000")


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """The mixed stream as a file, and what one process writes for it."""
    path = tmp_path_factory.mktemp("jobs") / "mixed.jsonl"
    path.write_bytes(_mixed())
    alone = _rpl("--jsonl", str(path), *ARGS)
    assert alone.returncode == 2 and alone.stderr == b""
    return path, alone.stdout


def test_one_process_numbers_the_bad_lines(mixed):
    _, alone = mixed
    lines = alone.splitlines()
    assert len(lines) == 3 * len(CORPUS) + 1
    errors = {json.loads(line)["error"]["line"]: json.loads(line)["error"] for line in lines if b'"error"' in line}
    assert sorted(errors) == [8, 301, 651, 901]
    assert "longer than the limit of 20,000 bytes" in errors[651]["problems"][0]["message"]
    assert "longer than the limit" in errors[901]["problems"][0]["message"]
    assert json.loads(lines[-1])["outputs"]["refund"] == "1557.50"


@pytest.mark.parametrize("jobs", ["2", "3"])
def test_a_file_by_its_path(mixed, jobs):
    path, alone = mixed
    together = _rpl("--jsonl", str(path), *ARGS, "--jobs", jobs)
    assert (together.returncode, together.stderr) == (2, b"")
    assert together.stdout == alone


def test_stdin_redirected_from_a_file(mixed):
    path, alone = mixed
    with open(path, "rb") as stdin:
        together = _rpl("--jsonl", "-", *ARGS, "--jobs", "2", stdin=stdin)
    assert (together.returncode, together.stdout) == (2, alone)


def test_stdin_redirected_from_the_middle_of_a_file(mixed):
    """The lines start where stdin stands (as after `read` in a shell), numbered from 1 there."""
    path, _ = mixed
    skipped = len(b"".join(CORPUS[:100]))
    outputs = []
    for jobs in ("1", "2"):
        with open(path, "rb") as stdin:
            stdin.seek(skipped)
            outputs.append(_rpl("--jsonl", "-", *ARGS, "--jobs", jobs, stdin=stdin))
    alone, together = outputs
    assert together.stdout == alone.stdout
    assert json.loads(together.stdout.splitlines()[200])["error"]["line"] == 201  # line 301 of the file


def test_a_pipe(mixed):
    path, alone = mixed
    together = _rpl("--jsonl", "-", *ARGS, "--jobs", "2", input=path.read_bytes())
    assert (together.returncode, together.stdout) == (2, alone)


def test_a_buffer_for_stdout_and_small_blocks(mixed, monkeypatch):
    """In-process, stdout is a buffer (no descriptor to splice to): the main process moves the
    output itself; blocks of a few lines each, so that every block boundary is crossed."""
    monkeypatch.setattr(stream_workers, "CHUNK_BYTES", 2000)
    monkeypatch.setattr(stream_workers, "MIN_CHUNK_BYTES", 2000)
    path, alone = mixed
    together = run("eval", APUTURE, "--jsonl", path, *ARGS, "--jobs", "2")
    assert together.code == 2
    assert together.out.encode() == alone


def test_the_ranges_of_a_file_cover_it_and_end_on_line_feeds(tmp_path, monkeypatch):
    monkeypatch.setattr(stream_workers, "CHUNK_BYTES", 100)
    monkeypatch.setattr(stream_workers, "MIN_CHUNK_BYTES", 10)
    lines = [b"a" * (n * 7 % 23) + b"\n" for n in range(200)] + [b"b" * 500 + b"\n", b"\n", b"c" * 250]
    path = tmp_path / "lines"
    path.write_bytes(b"".join(lines))
    with open(path, "rb") as f:
        ranges = stream_workers.FileRanges(f.fileno(), 0, 2)
        blocks = list(iter(ranges.take, None))
    assert ranges.done()
    data = path.read_bytes()
    assert len(blocks) > 20
    position, number = 0, 1
    for first, (start, end) in blocks:
        assert (first, start) == (number, position)
        assert data[end - 1:end] == b"\n" or end == len(data)
        number += data.count(b"\n", start, end)
        position = end
    assert position == len(data)
    assert blocks[-1][0] == len(lines)


def test_the_first_decisions_come_before_the_input_ends():
    """From a pipe still open, the first block's decisions are written while more input may come."""
    process = subprocess.Popen(RPL + ["eval", str(APUTURE), "--jsonl", "-", "--outputs-only", "--jobs", "2"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    def write() -> None:  # by a thread: the decisions are read meanwhile, as a pipeline would
        process.stdin.write(b"".join(CORPUS * 3))
        process.stdin.flush()

    rest = []
    # the decisions after the first are read while the lines are still written: a run that
    # cannot write its output stops reading its input (as any filter does), and a reader that
    # waited for the writer first would wait forever once the output's pipe is full
    reader = threading.Thread(target=lambda: rest.append(process.stdout.read()))
    writer = threading.Thread(target=write)
    writer.start()
    try:
        ready, _, _ = select.select([process.stdout], [], [], 120)
        assert ready, "no decision within two minutes of 1,500 lines"
        assert process.stdout.readline().startswith(b'{"outputs"')
        assert process.poll() is None  # its input still open, the run waits for more lines
    finally:
        reader.start()
        writer.join()
        process.stdin.close()
        reader.join()
        process.wait(timeout=60)
    assert process.returncode == 0
    assert 1 + rest[0].count(b"\n") == len(CORPUS) * 3  # the first decision and the rest: every line


def _as_from_a_terminal() -> None:
    """Ctrl-C's default action in the child, as a shell with job control gives it. A shell without
    job control (`pytest &` in a script) starts its background commands with SIGINT ignored; they
    and their children, rpl among them, rightly keep it so, and would not be stopped by one."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _started(args: list[str], path) -> subprocess.Popen:
    process = subprocess.Popen(RPL + ["eval", str(APUTURE), "--jsonl", str(path), *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, start_new_session=True, preexec_fn=_as_from_a_terminal)
    assert process.stdout.readline().startswith(b'{"')  # the workers are deciding
    return process


def _workers(process: subprocess.Popen) -> list[int]:
    with open(f"/proc/{process.pid}/task/{process.pid}/children") as f:
        return [int(pid) for pid in f.read().split()]


def _none_left(process: subprocess.Popen) -> bool:
    """No process of the run's session is left (the workers have gone with their main process)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    return False


@pytest.fixture
def long_file(tmp_path):
    path = tmp_path / "long.jsonl"
    path.write_bytes(b"".join(CORPUS * 40))  # 20,000 lines: seconds of work
    return path


def test_a_worker_killed_ends_the_run_with_a_message(long_file):
    process = _started(["--jobs", "2"], long_file)
    os.kill(_workers(process)[0], signal.SIGKILL)
    process.stdout.read()
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 70
    assert "a worker process ended before its lines were decided (killed by signal 9)" in err
    assert "Traceback" not in err
    assert _none_left(process)


def test_ctrl_c_stops_the_workers(long_file):
    process = _started(["--jobs", "2"], long_file)
    process.send_signal(signal.SIGINT)
    process.stdout.read()
    err = process.stderr.read().decode()
    code = process.wait(timeout=60)
    assert (code, "Traceback" in err) == (130, False), err
    assert _none_left(process)


def test_a_reader_that_goes_away_ends_the_run_quietly(long_file):
    process = _started(["--jobs", "2"], long_file)
    process.stdout.close()  # as `| head -1` does
    err = process.stderr.read()
    assert process.wait(timeout=60) == 1  # click's answer to a closed pipe, as with one process
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
    assert _none_left(process)
