"""A workbench server for a module of tests: `rpl workbench` run as a subprocess on a free port
of 127.0.0.1, on a copy of policies/ in a temporary folder."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time

import attrs
import pytest

from tests.conftest import POLICIES, ROOT
from tests.serve.server import stop_process

pytest.importorskip("starlette", reason="the workbench needs rplang[workbench]")
pytest.importorskip("uvicorn", reason="the workbench needs rplang[workbench]")
httpx = pytest.importorskip("httpx", reason="the workbench tests use httpx")

START_SECONDS = 30


@attrs.frozen
class Workbench:
    """A running workbench: its address, the folder it serves (and the temporary folder around it,
    for files outside), and an HTTP client."""
    url: str
    folder: object
    outside: object
    client: object


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_workbench(tmp_path_factory) -> tuple[Workbench, subprocess.Popen]:
    outside = tmp_path_factory.mktemp("workbench")
    folder = outside / "policies"
    shutil.copytree(POLICIES, folder)
    (outside / "secret.rpl").write_text('policy "not yours"\n', encoding="utf-8")
    (outside / "secret.json").write_text("{}", encoding="utf-8")
    (outside / "secret.jsonl").write_text("{}\n", encoding="utf-8")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "rplang.cli", "workbench", str(folder), "--port", str(port),
                                "--no-browser"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    client = httpx.Client(base_url=url, timeout=30)
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            if client.get("/api/files").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            out, err = process.communicate(timeout=10)
            pytest.fail(f"the workbench did not start: {err.decode(errors='replace')}")
        time.sleep(0.1)
    return Workbench(url, folder, outside, client), process


def stop_workbench(workbench: Workbench, process: subprocess.Popen) -> None:
    workbench.client.close()
    stop_process(process, timeout=10)


@pytest.fixture(scope="module")
def workbench(tmp_path_factory):
    running, process = start_workbench(tmp_path_factory)
    yield running
    stop_workbench(running, process)
