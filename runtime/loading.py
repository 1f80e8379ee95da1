"""Loading policies: a `.rpl` file, policy text, or a folder of versions as one history."""
from __future__ import annotations

import os
from pathlib import Path

from rplang.compiler import compile_policy, compile_policy_cached
from rplang.policy_lang.errors import Diagnostic, PolicyError
from rplang.policy_lang.source_text import read_policy_file

from .decide import CompiledPolicy
from .history import PolicyHistory


def load_policy_text(text: str, filename: str = "<policy>", cache: bool = False) -> CompiledPolicy:
    """Compile policy text; raises PolicyError listing every problem.

    `filename` is the name problems and explanations give the text. With `cache`, a text
    compiled before is not parsed and checked again (see `rplang.compiler.cache`).
    """
    return CompiledPolicy((compile_policy_cached if cache else compile_policy)(text, filename))


def load_policy(path: str | Path, cache: bool = False) -> CompiledPolicy | PolicyHistory:
    """Load a `.rpl` file, or a folder of its versions; raises PolicyError listing every problem.

    A file that cannot be read, or is not UTF-8, is a PolicyError too. A folder holds the versions of one policy, each saying `effective YYYY-MM-DD`; they are
    loaded as one PolicyHistory, which decides each request under the version in force on its
    terms date. With `cache`, see `load_policy_text`.
    """
    path = Path(path)
    if os.path.isdir(path):  # not Path.is_dir, which raises for a name too long
        return load_history(path, cache)
    return load_policy_text(read_policy_file(path), str(path), cache)


def load_history(folder: str | Path, cache: bool = False) -> PolicyHistory:
    """Every `.rpl` file of a folder (but `examples.rpl`), as the versions of one policy."""
    folder = Path(folder)
    files = sorted(p for p in folder.glob("*.rpl") if p.name != "examples.rpl")
    if not files:
        raise PolicyError([Diagnostic("RPL055", f"no version of the policy was found in `{folder}`: "
                                      "it holds no .rpl file other than examples.rpl", None, _no_versions_help(folder))])
    return history_from_texts({str(f): read_policy_file(f) for f in files}, cache)


def _no_versions_help(folder: Path) -> str:
    """The likely mistake: the folder of a policy's examples and requests, given for the policy."""
    beside = folder.with_suffix(".rpl")
    if beside.is_file():
        return f"`{folder}` holds the examples and requests of `{beside}`: give that file as the policy"
    return "a folder is read as the versions of one policy: .rpl files, each saying `effective YYYY-MM-DD`"


def history_from_texts(texts: dict[str, str], cache: bool = False) -> PolicyHistory:
    """The versions of one policy from their texts, by file name: for a caller that must know
    exactly which text it compiled (`rpl serve` names the text that made each decision)."""
    problems, versions = [], []
    for name, text in texts.items():
        try:
            versions.append(load_policy_text(text, name, cache))
        except PolicyError as error:
            problems.extend(error.diagnostics)
    if problems:
        raise PolicyError(problems)
    return PolicyHistory(versions)
