"""`rpl serve --workers N`: the folder where the workers' metrics meet, kept by the parent process.

uvicorn's workers share one port, and a scrape reaches one of them: each worker writes its
counts into the client's multiprocess files (`metrics.WorkerMetrics`), in a folder made here,
before the workers start, fresh for this server (two servers never add up each other's counts),
and removed when the server stops. A worker that dies leaves its files: its counters are still
added up after uvicorn starts another in its place, so no count goes down. Its live gauges
(policies loaded, queued bytes) must go with it: the client's `mark_process_dead` removes them,
called here, as a process manager calls it when a child exits. uvicorn tells nothing of the
workers it replaces, so every `SWEEP_SECONDS` the pids that have gauge files are checked.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
import threading

from prometheus_client import multiprocess

from .metrics import MULTIPROCESS_FOLDER

SWEEP_SECONDS = 1.0  # between two looks for dead workers' gauges


@contextlib.contextmanager
def shared_metrics():
    """While the server runs: its workers' metrics folder, named in the environment they inherit."""
    with tempfile.TemporaryDirectory(prefix="rpl-serve-metrics-") as folder:
        # uvicorn's workers are new interpreters (spawned, not forked) that get this environment
        # and import the client after it is set; this process imported it before
        os.environ[MULTIPROCESS_FOLDER] = folder
        stopping = threading.Event()
        sweeper = threading.Thread(target=_sweep, args=(folder, stopping), name="rpl-metrics-sweeper", daemon=True)
        sweeper.start()
        try:
            yield folder
        finally:
            stopping.set()
            sweeper.join()
            del os.environ[MULTIPROCESS_FOLDER]


def _sweep(folder: str, stopping: threading.Event) -> None:
    while not stopping.wait(SWEEP_SECONDS):
        for pid in _gauge_pids(folder):
            if not _running(pid):
                multiprocess.mark_process_dead(pid, folder)


def _gauge_pids(folder: str) -> set[int]:
    """The processes with live gauges in `folder`: the client names their files `gauge_live<mode>_<pid>.db`."""
    return {int(name[:-len(".db")].rpartition("_")[2])
            for name in os.listdir(folder) if name.startswith("gauge_live") and name.endswith(".db")}


def _running(pid: int) -> bool:
    """Whether a process `pid` exists (a worker that died and is not yet reaped by uvicorn still does)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's: the pid was taken again, by a process with no gauges here
        return False
    return True
