"""`rpl eval --jsonl FILE` shows progress on stderr at a terminal outside CI, never in a pipe unless asked."""
import os
import pty
import select
import subprocess
import sys
import tempfile
import time

from tests.conftest import APUTURE, APUTURE_REQUESTS, ROOT

CORPUS = APUTURE_REQUESTS.parent / "corpus.jsonl"


def _eval_at_a_terminal(*args: str, ci: bool = False) -> tuple[int, str, str]:
    """`rpl eval ARGS` with stderr on a pseudo-terminal and stdout on a pipe, as `rpl eval ... > out`."""
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "NO_COLOR")} | ({"CI": "true"} if ci else {})
    main, terminal = pty.openpty()
    out = tempfile.TemporaryFile()  # a file, not a pipe: nobody reads stdout while stderr is read
    process = subprocess.Popen([sys.executable, "-m", "rplang.cli", "eval", *args], stdout=out,
                               stderr=terminal, stdin=subprocess.DEVNULL, cwd=ROOT, env=env)
    os.close(terminal)
    shown = bytearray()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # read the terminal as the process writes, or it may block
        ready, _, _ = select.select([main], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the process ended and closed its side
                break
            if not chunk:
                break
            shown += chunk
        elif process.poll() is not None:
            break
    os.close(main)
    code = process.wait(timeout=60)
    with out:
        out.seek(0)
        return code, out.read().decode(), shown.decode(errors="replace")


def test_progress_at_a_terminal_and_the_decisions_unchanged():
    code, out, err = _eval_at_a_terminal(str(APUTURE), "--jsonl", str(CORPUS), "--outputs-only")
    piped = subprocess.run([sys.executable, "-m", "rplang.cli", "eval", str(APUTURE), "--jsonl", str(CORPUS),
                            "--outputs-only"], capture_output=True, text=True, cwd=ROOT)
    assert code == piped.returncode == 0
    assert out == piped.stdout and out.count("\n") == 500
    assert "deciding" in err and "100%" in err
    assert piped.stderr == ""  # stderr not a terminal: nothing


def test_no_progress_in_ci_or_when_refused_or_from_stdin():
    for args, ci in [((), True), (("--no-progress",), False)]:
        code, out, err = _eval_at_a_terminal(str(APUTURE), "--jsonl", str(CORPUS), "--outputs-only", *args, ci=ci)
        assert (code, err) == (0, ""), args
        assert out.count("\n") == 500


def test_progress_when_asked_in_a_pipe():
    asked = subprocess.run([sys.executable, "-m", "rplang.cli", "eval", str(APUTURE), "--jsonl", str(CORPUS),
                            "--outputs-only", "--progress"], capture_output=True, text=True, cwd=ROOT)
    assert asked.returncode == 0
    assert asked.stderr.startswith("deciding")  # click writes the label once where it cannot redraw
