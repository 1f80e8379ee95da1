"""The wheel installs one namespace, and embeds beside a project's own `runtime/` package."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.architecture.test_imports import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-v",
                            "-w", str(out), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    # setuptools warns of a folder it would leave out of the packages; the workbench's page was one
    assert "would be ignored" not in build.stdout + build.stderr
    (found,) = out.glob("rplang-*.whl")
    return found


def test_the_wheel_installs_only_the_rplang_namespace(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names} == {"rplang", wheel.name.split("-py")[0] + ".dist-info"}
    for layer in ("policy_lang/rpl.lark", "compiler/checker.py", "runtime/decide.py", "py.typed", "cli.py",
                  "workbench/static/index.html", "workbench/static/workbench.js", "workbench/static/workbench.css"):
        assert f"rplang/{layer}" in names
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "License-Expression: Apache-2.0" in metadata and "Name: rplang" in metadata


def test_a_script_beside_its_own_runtime_package_embeds_the_policy(wheel, tmp_path):
    site = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site),
                              str(wheel)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr
    service = tmp_path / "service"
    (service / "runtime").mkdir(parents=True)
    (service / "runtime" / "__init__.py").write_text("raise ImportError('the service\\'s own runtime')\n")
    (service / "compiler.py").write_text("raise ImportError('the service\\'s own compiler')\n")
    (service / "app.py").write_text(
        "import rplang, sys\n"
        "policy = rplang.load_policy(sys.argv[1])\n"
        "print(rplang.__file__.startswith(sys.argv[2]), policy.decide_json(open(sys.argv[3]).read()).outcome)\n")
    request = ROOT / "policies" / "aputure" / "requests" / "00-semantics-example.json"
    env = {**os.environ, "PYTHONPATH": str(site), "RPL_NO_CACHE": "1"}
    run = subprocess.run([sys.executable, str(service / "app.py"), str(ROOT / "policies" / "aputure.rpl"),
                          str(site), str(request)], capture_output=True, text=True, cwd=service, env=env,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["True", "approve_with_fee"]
