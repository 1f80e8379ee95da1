"""Paths shared by the tests."""
import contextlib
import functools
import importlib.util
import os
import sys
import tempfile
from pathlib import Path

import pytest

# Commands run by the tests keep their compiled-policy cache out of the user's home.
os.environ.setdefault("RPL_CACHE_DIR", tempfile.mkdtemp(prefix="rpl-test-cache-"))

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"
APUTURE = POLICIES / "aputure.rpl"
APUTURE_REQUESTS = POLICIES / "aputure" / "requests"


@functools.lru_cache(maxsize=None)
def load_module(path: Path):
    """A Python file of the repository that is not a package's module (a benchmark, a docs
    hook), loaded once."""
    relative = path.relative_to(ROOT).with_suffix("")
    spec = importlib.util.spec_from_file_location("_rpl_" + "_".join(relative.parts), path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def load_benchmark(name: str):
    """A module of benchmarks/ (the hand-written baseline, the corpus generator), loaded once."""
    return load_module(ROOT / "benchmarks" / f"{name}.py")


@pytest.fixture(scope="session")
def aputure():
    from rplang.runtime import load_policy

    return load_policy(APUTURE)



@pytest.fixture
def pipe(tmp_path):
    """A named pipe, `p.rpl`, that nobody writes (see `unblocked_pipe`)."""
    with unblocked_pipe(tmp_path / "p.rpl") as path:
        yield path


@contextlib.contextmanager
def unblocked_pipe(path: Path):
    """A named pipe made at `path`, that nobody writes: a reader that opens it waits for a writer,
    and then reads what one writes for ever. A thread opens it for writing, and closes it, whenever
    a reader waits on it, so that a regression fails its test rather than hanging it."""
    import threading

    os.mkfifo(path)
    done = threading.Event()
    threading.Thread(target=_unblock_readers, args=(path, done), daemon=True).start()
    try:
        yield path
    finally:
        done.set()


def _unblock_readers(pipe, done):
    while not done.wait(0.5):
        try:
            os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:  # no reader: nothing to unblock
            pass
