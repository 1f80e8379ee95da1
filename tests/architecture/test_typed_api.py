"""The embedding API is typed: mypy --strict checks an embedding example against it, and the
outputs of a decision come back with a type that has no `Any` in it."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.architecture.test_imports import ROOT
from tests.conftest import load_module

EXAMPLE = ROOT / "docs" / "examples" / "embed.py"


@pytest.fixture(scope="module")
def installed_layout(tmp_path_factory) -> Path:
    """mypy follows no import hook, so it reads the package as pip installs it."""
    return load_module(ROOT / "docs" / "hooks" / "layout.py").installed_layout(tmp_path_factory.mktemp("site"))


def _mypy(site: Path, *files: Path) -> subprocess.CompletedProcess:
    pytest.importorskip("mypy")
    config = site / "mypy.ini"
    # As for any installed package: rplang's own code is read for its types, not reported on.
    config.write_text("[mypy]\nstrict = True\n\n[mypy-rplang.*]\nfollow_imports = silent\n")
    return subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(config),
                           "--no-incremental", *map(str, files)],
                          capture_output=True, text=True, env={"MYPYPATH": str(site), "PATH": ""},
                          cwd=site, timeout=300)


def test_the_embedding_example_passes_mypy_strict(installed_layout):
    result = _mypy(installed_layout, EXAMPLE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_outputs_are_typed_without_any(installed_layout):
    probe = installed_layout / "probe.py"
    probe.write_text("from rplang import load_policy\n"
                     "reveal_type(load_policy('p.rpl').decide({}).outputs)\n"
                     "reveal_type(load_policy('p.rpl').decide({}).outcome)\n")
    result = _mypy(installed_layout, probe)
    revealed = re.findall(r'Revealed type is "(.*)"', result.stdout)
    assert len(revealed) == 2, result.stdout + result.stderr
    assert re.match(r"(builtins\.)?dict\[(builtins\.)?str, decimal\.Decimal \| datetime\.date", revealed[0])
    assert revealed[1] in ("str", "builtins.str")
    assert all("Any" not in r for r in revealed), revealed


def test_mypy_would_see_a_wrong_use(installed_layout):
    """The check can fail: a misuse of the API is an error under --strict."""
    wrong = installed_layout / "wrong.py"
    wrong.write_text("from rplang import load_policy\n"
                     "refund: int = load_policy('p.rpl').decide({}).outputs\n")
    result = _mypy(installed_layout, wrong)
    assert result.returncode == 1 and "Incompatible types in assignment" in result.stdout


def test_the_example_runs(tmp_path):
    run = subprocess.run([sys.executable, str(EXAMPLE), str(ROOT / "policies" / "aputure.rpl")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.strip() == "1890.00", run.stderr
