"""`rpl workbench PATH`: a folder of policies, or one policy file, opened among its folder's."""
import os
import subprocess
import sys

from tests.cli.conftest import run
from tests.conftest import APUTURE, ROOT

from .conftest import free_port


def test_a_policy_file_opens_its_folder_with_that_policy_chosen():
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "rplang.cli", "workbench", str(APUTURE), "--port", str(port),
                                "--no-browser"], env={**os.environ, "PYTHONPATH": str(ROOT)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        said = process.stderr.readline()
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert said == (f"rpl workbench: aputure.rpl in policies at http://127.0.0.1:{port}/?policy=aputure.rpl "
                    "(Ctrl+C to stop)\n")


def test_a_file_that_is_not_a_policy_is_a_usage_error():
    for path in (ROOT / "README.md", APUTURE.with_suffix("") / "examples.rpl"):
        result = run("workbench", path, "--no-browser")
        assert result.code == 64
        assert f"Error: Invalid value for PATH: {path} is not a policy: give a .rpl file or a folder of them" in result.err
