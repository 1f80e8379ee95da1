"""A real `rpl serve` in a subprocess on a free loopback port, and how to wait for it and stop it."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

STARTUP_SECONDS = 30  # the machine is shared: compiling a policy may take a while


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`rpl serve PATH ARGS` on 127.0.0.1, its output kept in a file for the tests to read; with
    `patch`, run by patched_server.py with that patch; `env`, variables set for it."""

    def __init__(self, path, *args: str, log_dir: Path, patch: str | None = None, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.output = log_dir / f"server-{self.port}.log"
        program = [sys.executable, str(Path(__file__).with_name("patched_server.py"))] if patch else \
            [sys.executable, "-m", "rplang.cli"]
        command = [*program, "serve", str(path), "--port", str(self.port), *args]
        with open(self.output, "wb") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                            env={**os.environ, "PYTHONUNBUFFERED": "1", "RPL_TEST_PATCH": patch or "",
                                                 **(env or {})})
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"rpl serve exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"rpl serve did not answer in {STARTUP_SECONDS} s:\n{self.log()}")

    def log(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, as a process manager would send, and wait for the graceful shutdown."""
        return stop_process(self.process, timeout)


def stop_process(process: subprocess.Popen, timeout: float = 30) -> int:
    """SIGTERM and wait for the process to end; SIGKILL if it has not after `timeout` seconds."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def wait_for(condition, seconds: float = 20, step: float = 0.1):
    """Poll `condition()` until it returns something true, for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"not true within {seconds} s")
