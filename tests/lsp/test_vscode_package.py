"""The VS Code extension packages into a .vsix holding the client and its pinned dependencies.

Needs node and the extension's node_modules (`npm ci` in editors/vscode); skipped without them.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import zipfile

import pytest

from tests.conftest import ROOT

VSCODE = ROOT / "editors" / "vscode"


@pytest.mark.skipif(shutil.which("npm") is None or not (VSCODE / "node_modules" / "@vscode" / "vsce").exists(),
                    reason="npm or the extension's node_modules (npm ci in editors/vscode) not installed")
def test_the_package_script_makes_a_vsix_with_the_language_client():
    vsix = VSCODE / "rpl.vsix"
    vsix.unlink(missing_ok=True)
    done = subprocess.run(["npm", "run", "package"], cwd=VSCODE, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    with zipfile.ZipFile(vsix) as package:
        names = set(package.namelist())
        manifest = json.loads(package.read("extension/package.json"))
    assert {"extension/extension.js", "extension/syntaxes/rpl.tmLanguage.json",
            "extension/node_modules/vscode-languageclient/package.json"} <= names
    assert manifest["main"] == "./extension.js"
    assert manifest["contributes"]["configuration"]["properties"]["rpl.server.path"]["default"] == "rpl"
    locked = json.loads((VSCODE / "package-lock.json").read_text(encoding="utf-8"))
    assert locked["packages"]["node_modules/vscode-languageclient"]["version"] == "9.0.1"


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")
def test_the_extension_starts_rpl_lsp_at_the_configured_path():
    settings = {"server.path": "/opt/rpl/bin/rpl", "server.args": ["lsp"], "debounceMs": 300,
                "errorsUrl": "https://docs.example/errors#{code}"}
    done = subprocess.run(["node", str(ROOT / "tests" / "lsp" / "extension_with_stub_vscode.js"),
                           str(VSCODE / "extension.js"), json.dumps(settings)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    ((client_id, server, client),) = json.loads(done.stdout)
    assert client_id == "rpl"
    # Exactly these: a `transport` of stdio would make vscode-languageclient add `--stdio` to the
    # arguments, and `rpl lsp` would exit on the unknown option (seen in code-server).
    assert server == {"command": "/opt/rpl/bin/rpl", "args": ["lsp"]}
    assert client["initializationOptions"] == {"debounceMs": 300, "errorsUrl": "https://docs.example/errors#{code}"}
    assert {"scheme": "file", "language": "rpl"} in client["documentSelector"]


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")
def test_setting_the_server_path_after_a_failed_start_starts_the_server():
    # Seen in code-server: the client of a server that could not start refuses stop(), and the
    # extension stopped there, so fixing rpl.server.path as the error says did nothing.
    missing = {"server.path": "/missing/rpl", "server.args": ["lsp"]}
    fixed = {"server.path": "/opt/rpl/bin/rpl", "server.args": ["lsp"]}
    done = subprocess.run(["node", str(ROOT / "tests" / "lsp" / "extension_with_stub_vscode.js"),
                           str(VSCODE / "extension.js"), json.dumps(missing), json.dumps(fixed)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    first, error, second = json.loads(done.stdout)
    assert first[1]["command"] == "/missing/rpl"
    assert error == ["error", "rpl: could not start `/missing/rpl lsp` (Launching server using command /missing/rpl "
                              "failed.). Install rplang[lsp] and set rpl.server.path to its rpl command."]
    assert second[1] == {"command": "/opt/rpl/bin/rpl", "args": ["lsp"]}
