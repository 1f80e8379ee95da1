"""A fault of rpl's own ends with its own exit code (70, EX_SOFTWARE) and a message asking for a
report, never a bare traceback (issue 15, 12); a stream's reader or main process going away ends
the run quietly (issue 15, 8)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time

from tests.cli.conftest import RPL, run
from tests.conftest import APUTURE, APUTURE_REQUESTS

EXAMPLE = APUTURE_REQUESTS / "00-semantics-example.json"
LINE = json.dumps(json.loads(EXAMPLE.read_text())).encode() + b"\n"


def _planted(monkeypatch):
    from rplang.runtime.decide import CompiledPolicy

    def fault(self, data, as_of=None):
        raise ZeroDivisionError("planted")

    monkeypatch.setattr(CompiledPolicy, "decide", fault)


def test_an_internal_error_has_its_own_exit_code_and_asks_for_a_report(monkeypatch):
    _planted(monkeypatch)
    monkeypatch.delenv("RPL_DEBUG", raising=False)
    result = run("explain", APUTURE, EXAMPLE)
    assert result.code == 70
    assert result.err.startswith("rpl: internal error: ZeroDivisionError: planted\n")
    assert "please report it" in result.err and "RPL_DEBUG=1" in result.err
    assert "Traceback" not in result.err


def test_rpl_debug_prints_the_traceback_for_the_report(monkeypatch):
    _planted(monkeypatch)
    monkeypatch.setenv("RPL_DEBUG", "1")
    result = run("eval", APUTURE, EXAMPLE)
    assert result.code == 70
    assert "Traceback" in result.err and "ZeroDivisionError: planted" in result.err


def _env():
    return dict(os.environ, PYTHONIOENCODING="utf-8")


def test_a_reader_that_goes_away_ends_the_stream_quietly(tmp_path):
    lines = tmp_path / "many.jsonl"
    lines.write_bytes(LINE * 5_000)
    process = subprocess.Popen(RPL + ["eval", str(APUTURE), "--jsonl", str(lines)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    assert process.stdout.readline().startswith(b'{"outputs"')
    process.stdout.close()  # as `| head -1` does
    err = process.stderr.read()
    assert process.wait(timeout=60) == 1  # click's answer to a closed pipe: quietly, exit 1
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()


def test_killing_the_main_process_of_a_jobs_run_leaves_no_traceback(tmp_path):
    lines = tmp_path / "many.jsonl"
    lines.write_bytes(LINE * 20_000)
    process = subprocess.Popen(RPL + ["eval", str(APUTURE), "--jsonl", str(lines), "--jobs", "2"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(),
                               start_new_session=True)
    assert process.stdout.readline().startswith(b'{"outputs"')  # the workers are deciding
    process.send_signal(signal.SIGKILL)  # the main process only: the workers are left alone
    process.wait(timeout=30)
    deadline = time.monotonic() + 60
    err = b""
    while time.monotonic() < deadline:  # stderr closes when the last worker has gone
        chunk = process.stderr.read1(65536)
        if not chunk:
            break
        err += chunk
    else:
        os.killpg(process.pid, signal.SIGKILL)
        raise AssertionError("the workers outlived their main process by a minute")
    process.stdout.close()
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
