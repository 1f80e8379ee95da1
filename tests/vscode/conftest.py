"""VS Code itself (code-server, served to headless Chromium) with the rpl extension installed: a
trial of what a policy owner sees, opt-in (`-m vscode`) and skipped unless RPL_CODE_SERVER names a
code-server executable (editors/vscode/trial.sh installs one; see MISSING). The extension is
packaged from editors/vscode (its node_modules are needed) and starts `rpl lsp` from this Python's
environment; code-server opens a copy of policies/ in a temporary folder. Screenshots of each step
go to RPL_VSCODE_SCREENSHOTS if set, else to the temporary folder."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import attrs
import pytest

from tests.conftest import POLICIES, ROOT
from tests.serve.server import free_port, stop_process
from tests.vscode.window import START_SECONDS, VSCode

CODE_SERVER = os.environ.get("RPL_CODE_SERVER")
EXTENSION = ROOT / "editors" / "vscode"
CHROMIUM = os.environ.get("RPL_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
TIMEOUT_MS = 30_000

MISSING = ("set RPL_CODE_SERVER to a code-server executable (editors/vscode/trial.sh installs one)"
           if not CODE_SERVER else "no Chromium installed (apt-get install chromium)" if CHROMIUM is None
           else "the extension's node_modules are missing (npm ci in editors/vscode)"
           if not (EXTENSION / "node_modules" / ".bin" / "vsce").exists() else None)


def rpl_command() -> str:
    """The `rpl` of the environment running the tests, so the server is the code under test."""
    beside = Path(sys.executable).parent / "rpl"
    return str(beside) if beside.exists() else shutil.which("rpl")


@attrs.frozen
class CodeServer:
    url: str
    workspace: Path


@pytest.fixture(scope="session")
def vsix(tmp_path_factory) -> Path:
    packaged = subprocess.run(["npm", "run", "package"], cwd=EXTENSION, capture_output=True, text=True, timeout=300)
    assert packaged.returncode == 0, packaged.stdout + packaged.stderr
    return shutil.move(EXTENSION / "rpl.vsix", tmp_path_factory.mktemp("vsix") / "rpl.vsix")


@contextlib.contextmanager
def running_code_server(home: Path, vsix: Path, server_path: str):
    """code-server on a free port of 127.0.0.1, with a profile of its own in `home` holding the
    extension and `rpl.server.path`, and a copy of policies/ as its workspace."""
    user_data, extensions = home / "user-data", home / "extensions"
    (user_data / "User").mkdir(parents=True)
    # What keeps the trial quiet (no welcome page, trust prompt or updates), and the server's path.
    settings = {"rpl.server.path": server_path, "workbench.startupEditor": "none",
                "security.workspace.trust.enabled": False, "workbench.tips.enabled": False,
                "extensions.autoCheckUpdates": False, "extensions.autoUpdate": False, "update.mode": "none",
                "telemetry.telemetryLevel": "off", "files.hotExit": "off", "window.restoreWindows": "none",
                # In a browser VS Code saves a file a second after each change by default; the trial
                # reverts its edits instead, and the workspace copy must stay the bundled policy.
                "files.autoSave": "off",
                # Completions then come from the language server only, not from words of the file.
                "editor.wordBasedSuggestions": "off"}
    (user_data / "User" / "settings.json").write_text(json.dumps(settings, indent=2), encoding="utf-8")
    common = ["--user-data-dir", str(user_data), "--extensions-dir", str(extensions),
              "--config", str(home / "config.yaml")]
    installed = subprocess.run([CODE_SERVER, *common, "--install-extension", str(vsix)],
                               capture_output=True, text=True, timeout=300)
    assert "successfully installed" in installed.stdout, installed.stdout + installed.stderr
    workspace = home / "workspace"
    shutil.copytree(POLICIES, workspace / "policies")
    port = free_port()
    with (home / "code-server.log").open("wb") as log:
        process = subprocess.Popen([CODE_SERVER, *common, "--auth", "none", "--bind-addr", f"127.0.0.1:{port}",
                                    "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust"],
                                   stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_up(url, process, home / "code-server.log")
            yield CodeServer(url, workspace)
        finally:
            stop_process(process)


def wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=5)
            return
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("code-server did not start: " + log.read_text(errors="replace"))
            time.sleep(0.2)


@pytest.fixture(scope="session")
def code_server(tmp_path_factory, vsix):
    with running_code_server(tmp_path_factory.mktemp("code-server"), vsix, rpl_command()) as running:
        yield running


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("RPL_VSCODE_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def vscode(browser, code_server):
    """A VS Code window on the workspace with policies/aputure.rpl open and its server running."""
    with window_on(browser, code_server) as window:
        yield window


@contextlib.contextmanager
def window_on(browser, code_server: CodeServer):
    context = browser.new_context(viewport={"width": 1400, "height": 900},
                                  permissions=["clipboard-read", "clipboard-write"])
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{code_server.url}/?folder={code_server.workspace}")
    window = VSCode(page)
    window.open("policies/aputure.rpl")
    try:
        yield window
    finally:
        context.close()
