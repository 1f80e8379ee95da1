"""What `rpl` imports to start: only what the command needs (issue 22's cold start, issue 13's
fast `rpl --help` with real imports).

Deciding with a policy found in the cache needs neither Lark nor the checker; a policy without
business days never loads the holiday calendars; nothing reads the installed metadata to start.
These check which modules are loaded, never how long anything takes (that is for benchmarks/).
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import rplang

ROOT = Path(__file__).resolve().parents[2]
# Loaded only to compile a policy, to count business days, or to answer `rpl -V`.
HEAVY = ("lark", "rplang.policy_lang.parser", "rplang.compiler.checker", "holidays", "importlib.metadata")


def _loaded_after(args: list[str], cache: Path) -> list[str]:
    """The HEAVY modules loaded once `rpl ARGS` has run, in a fresh interpreter."""
    script = ("import sys, rplang.cli\n"
              "try:\n    rplang.cli.main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
              f"print(__import__('json').dumps([m for m in {HEAVY!r} if m in sys.modules]), file=sys.stderr)")
    env = dict(os.environ, RPL_CACHE_DIR=str(cache))
    result = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                            cwd=ROOT, env=env, timeout=120)
    return json.loads(result.stderr.strip().splitlines()[-1])


def test_help_imports_neither_the_compiler_nor_the_metadata(tmp_path):
    assert _loaded_after(["--help"], tmp_path) == []


def test_deciding_with_a_cached_policy_imports_no_parser_and_no_checker(tmp_path):
    args = ["eval", "policies/electronics.rpl", "policies/electronics/requests/" +
            sorted(os.listdir(ROOT / "policies" / "electronics" / "requests"))[0]]
    first = _loaded_after(args, tmp_path)  # compiles, and fills the cache
    assert "lark" in first and "rplang.compiler.checker" in first
    assert _loaded_after(args, tmp_path) == []  # electronics counts no business days


def test_the_version_is_the_installed_one():
    assert rplang.__version__ == importlib.metadata.version("rplang")
