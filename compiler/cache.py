"""A cache of checked policies, keyed by the policy's text, so a command starts fast.

Entries live in the user's cache (`rplang.policy_lang.user_cache`: `$RPL_CACHE_DIR`, else the
platform's cache folder; `RPL_NO_CACHE=1` turns it off), one per hash of (entry format, rplang's
version, the contents of every installed source file of rplang, file name, text): a changed
limit or checker anywhere in the package never meets an entry of the old one. Only policies that
check without errors are stored. A table's CSV file is checked again on every read of an
entry (its SHA-256 is kept in the checked policy): an edited file makes the entry a miss.

An entry is a pickle of the checked policy, signed with the user's secret key; it is read only
when its signature holds, and then only rpl's own classes and plain values may come out of it.
Whatever goes wrong reading an entry makes it a miss: the policy is checked again and the entry
written anew.
"""
from __future__ import annotations

import hashlib
import io
import pickle
from pathlib import Path
from typing import TYPE_CHECKING

from rplang.policy_lang import user_cache

if TYPE_CHECKING:  # imported when an entry is read: naming entries (`sources_digest`) needs no IR
    from .checked import CheckedPolicy

_FORMAT = "rpl-checked-2"


def _key(text: str, filename: str) -> str:
    digest = hashlib.sha256()
    # the release is in the digest: rplang/__init__.py, among the sources, writes the version
    for part in (_FORMAT, sources_digest(), filename, text):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    return "checked-" + digest.hexdigest()


_sources: str | None = None  # the digest, once per process


def sources_digest() -> str:
    """A hash of the contents of every `.py` and `.lark` file of the installed package, once per
    process (about a millisecond: some fifty files, under a megabyte)."""
    global _sources
    if _sources is None:
        digest = hashlib.sha256()
        for p in _source_files():
            digest.update(f"{p.parent.name}/{p.name}".encode("utf-8", "surrogateescape") + b"\0"
                          + p.read_bytes() + b"\0")
        _sources = digest.hexdigest()
    return _sources


def _source_files() -> list[Path]:
    # Found from this file, not by importing the packages (the compiler imports no layer above
    # it): installed, the layers sit inside rplang/; in a source tree, beside it.
    base = Path(__file__).resolve().parent.parent
    folders = [base / name for name in ("rplang", "policy_lang", "compiler", "runtime") if (base / name).is_dir()]
    if base.name == "rplang":
        folders.append(base)
    files: set[Path] = set()  # counted once, whichever folder found them
    for folder in folders:
        files.update(p for p in folder.rglob("*")
                     if p.suffix in (".py", ".lark") and "__pycache__" not in p.parts and "node_modules" not in p.parts)
    return sorted(files)


# What a checked policy is made of: rpl's classes of these modules, and a few plain values.
_MODULES = frozenset({"rplang.compiler.checked", "rplang.compiler.ir", "rplang.compiler.types",
                      "rplang.policy_lang.span", "rplang.policy_lang.ast"})
_PLAIN = frozenset({("decimal", "Decimal"), ("datetime", "date"), ("builtins", "frozenset"),
                    ("builtins", "set")})


class _CheckedUnpickler(pickle.Unpickler):
    """Only those: even a signed entry may not name anything else (a module's `os`, say)."""

    def find_class(self, module: str, name: str):
        if (module, name) in _PLAIN:
            return super().find_class(module, name)
        if module in _MODULES and "." not in name:
            found = super().find_class(module, name)
            if getattr(found, "__module__", None) == module:
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a checked policy")


def load(text: str, filename: str) -> CheckedPolicy | None:
    from .checked import CheckedPolicy, table_files_unchanged

    payload = user_cache.read(_key(text, filename))
    if payload is None:
        return None
    try:
        checked = _CheckedUnpickler(io.BytesIO(payload)).load()
    except Exception:  # noqa: BLE001 (any entry that cannot be read is a miss, then overwritten)
        return None
    if not isinstance(checked, CheckedPolicy) or not table_files_unchanged(checked):
        return None
    return checked


def store(text: str, filename: str, checked: CheckedPolicy) -> None:
    try:
        payload = pickle.dumps(checked, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PickleError, RecursionError, TypeError, AttributeError):
        return  # a policy that cannot be stored is only slower next time
    user_cache.write(_key(text, filename), payload)
