"""Running `rpl`: in-process through `rplang.cli.main` (fast, exact exit codes), or as a subprocess
(the installed script, for what only a real process shows: tracebacks, stdin bytes)."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner

from rplang.cli import main


@attrs.frozen
class Result:
    code: int
    out: str
    err: str

    @property
    def both(self) -> str:
        return self.out + self.err


def run(*args: str, input: str | bytes | None = None) -> Result:
    """`rpl ARGS` in this process, with stdin, stdout and stderr swapped for buffers."""
    with CliRunner().isolation(input=input) as (out, err, _):
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        return Result(code, out.getvalue().decode("utf-8"), err.getvalue().decode("utf-8"))


def _rpl_script() -> list[str]:
    script = Path(sys.executable).with_name("rpl")
    if script.exists():
        return [str(script)]
    found = shutil.which("rpl")
    return [found] if found else [sys.executable, "-c", "from rplang.cli import main; main()"]


RPL = _rpl_script()


def run_process(*args: str, input: bytes | None = None) -> Result:
    """`rpl ARGS` as its own process; stdin is empty unless given."""
    env = dict(os.environ, PYTHONIOENCODING="utf-8")  # strict UTF-8 stdio, as CI machines often have
    done = subprocess.run(RPL + [str(a) for a in args], input=input or b"", capture_output=True, env=env,
                          timeout=120)
    return Result(done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace"))


@pytest.fixture
def broken_policy(tmp_path) -> Path:
    """A policy with two syntax errors, at 3:13 and 6:10."""
    path = tmp_path / "broken.rpl"
    path.write_text('policy "Broken"\n'
                    "request:\n"
                    "  day: date\n"
                    "parameter window 14 days\n"
                    "rule late:\n"
                    "  when day != 2026-01-01\n"
                    "  then note\n")
    return path
