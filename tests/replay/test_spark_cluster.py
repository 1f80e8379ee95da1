"""`rpl replay --engine spark --master spark://...` on a real standalone cluster on loopback (a
master and one worker started from pyspark's own jars): the same rows as local mode, from
`file://` URIs as a cluster reads a shared store; and executors without rplang named as such."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..cli.conftest import RPL
from .test_spark_uris import SMALL, exports, rows  # noqa: F401 (a fixture)

pytest.importorskip("pyspark")
pytestmark = pytest.mark.slow  # a cluster's start and four Spark drivers: two minutes or more

START_TIMEOUT = 180  # seconds a master or worker may take to come up on a loaded machine
RUN_TIMEOUT = 600  # seconds one `rpl replay` on the cluster may take


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    """The daemon and what it started (the worker's executors, their Python workers): one group."""
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 30)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _wait_for(log: Path, text: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        said = log.read_text(errors="replace") if log.exists() else ""
        if text in said:
            return
        if process.poll() is not None:
            pytest.fail(f"{log.name}: stopped ({process.returncode}) before saying {text!r}:\n{said[-2000:]}")
        time.sleep(0.5)
    pytest.fail(f"{log.name}: no {text!r} within {START_TIMEOUT} s")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """spark://127.0.0.1:PORT: a standalone master and one worker (one core, 1 GB), on loopback."""
    import pyspark

    home = Path(pyspark.__file__).parent
    folder = tmp_path_factory.mktemp("cluster")
    env = dict(os.environ, SPARK_HOME=str(home), SPARK_LOCAL_IP="127.0.0.1",
               SPARK_MASTER_OPTS="-Dspark.master.rest.enabled=false")
    port = free_port()
    started = []

    def start(name: str, *args: str) -> tuple[subprocess.Popen, Path]:
        log = folder / f"{name}.log"
        with open(log, "wb") as stream:
            process = subprocess.Popen([str(home / "bin" / "spark-class"), *args], stdout=stream,
                                       stderr=subprocess.STDOUT, env=env, cwd=folder, start_new_session=True)
        started.append(process)
        return process, log

    try:
        master, log = start("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                            "--port", str(port), "--webui-port", str(free_port()))
        _wait_for(log, "I have been elected leader", master)
        worker, log = start("worker", "org.apache.spark.deploy.worker.Worker", f"spark://127.0.0.1:{port}",
                            "--host", "127.0.0.1", "--cores", "1", "--memory", "1g",
                            "--work-dir", str(folder / "work"), "--webui-port", str(free_port()))
        _wait_for(log, "Successfully registered with master", worker)
        yield f"spark://127.0.0.1:{port}"
    finally:
        for process in reversed(started):
            _stop(process)


def replay(master: str, *args, python: str = sys.executable) -> subprocess.CompletedProcess:
    """`rpl replay` as a driver of its own, its executors running `python` (PYSPARK_PYTHON)."""
    env = dict(os.environ, SPARK_LOCAL_IP="127.0.0.1", PYSPARK_PYTHON=python, PYTHONIOENCODING="utf-8")
    return subprocess.run(RPL + ["replay", str(SMALL), *map(str, args), "--engine", "spark", "--master", master],
                          capture_output=True, text=True, env=env, timeout=RUN_TIMEOUT)


def test_the_cluster_decides_the_rows_local_mode_decides(cluster, exports, tmp_path):
    local = tmp_path / "local"
    done = replay("local[2]", exports.as_uri(), "--out", local.as_uri())
    assert done.returncode == 0, done.stderr
    for via in ("sql", "python"):
        out = tmp_path / via
        done = replay(cluster, exports.as_uri(), "--out", out.as_uri(), "--via", via)
        assert done.returncode == 0, done.stderr
        assert "120 requests: 120 decided" in done.stderr
        assert rows(out) == rows(local), via


def test_executors_without_rplang_are_named_not_a_traceback(cluster, exports, tmp_path):
    # the SQL path too: Spark hands `mapInArrow`'s step to every task, rows handed back or none
    python = tmp_path / "bare-python"
    python.write_text(f"#!/bin/sh\nexec {sys.executable} -S \"$@\"\n")  # no site-packages: no rplang
    python.chmod(0o755)
    done = replay(cluster, exports.as_uri(), "--out", (tmp_path / "out").as_uri(), python=python)
    assert done.returncode == 64, done.stderr
    # the last line, after Spark's own log of the failed tasks
    assert done.stderr.endswith(
        f"\nerror: Spark's executors cannot import rplang: they decide the rows the query hands back, and every "
        f"row --via python, with rplang's runtime; install rplang[replay] for the Python they run ({python}; "
        "set PYSPARK_PYTHON to name another)\n"), done.stderr[-3000:]
    assert "a bug in rpl" not in done.stderr
