"""The rpl runtime: load a policy once, decide requests many times, explain every decision."""
from __future__ import annotations

from pathlib import Path

from rplang.compiler import compile_policy, compile_policy_cached

from .decide import Application, CompiledPolicy, Decision


def load_policy_text(text: str, filename: str = "<policy>", cache: bool = False) -> CompiledPolicy:
    """Compile policy text; raises PolicyError listing every problem.

    With `cache`, a text compiled before is not parsed and checked again (see `rplang.compiler.cache`).
    """
    return CompiledPolicy((compile_policy_cached if cache else compile_policy)(text, filename))


def load_policy(path: str | Path) -> CompiledPolicy:
    """Read and compile a `.rpl` file; raises PolicyError listing every problem."""
    from rplang.policy_lang.source_text import read_policy_file

    return load_policy_text(read_policy_file(path), str(path))


__all__ = ["Application", "CompiledPolicy", "Decision", "load_policy", "load_policy_text"]
