"""A cache of checked policies, keyed by the policy's text, so a command starts fast.

Entries live in `$RPL_CACHE_DIR` (default `~/.cache/rpl`), one file per (rpl version, file name,
text) hash; `RPL_NO_CACHE=1` turns the cache off. Only policies that check without errors are
stored. A cache entry is a pickle: the cache folder must be writable by its user only, like any
folder of code that user runs.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path

from .checked import CheckedPolicy

_FORMAT = "rpl-checked-1"


def _folder() -> Path | None:
    if os.environ.get("RPL_NO_CACHE"):
        return None
    configured = os.environ.get("RPL_CACHE_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "rpl"


def _key(text: str, filename: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("rpl")
    except PackageNotFoundError:
        release = "unknown"
    digest = hashlib.sha256()
    for part in (_FORMAT, release, _sources_stamp(), filename, text):
        digest.update(part.encode("utf-8") + b"\0")
    return digest.hexdigest()


def _sources_stamp() -> str:
    """Changes whenever the compiler's own files change, so a new checker never reads old entries."""
    here = Path(__file__).parent
    stamps = [f"{p.name}:{p.stat().st_mtime_ns}" for p in sorted(here.glob("*.py"))]
    grammar = here.parent / "policy_lang" / "rpl.lark"
    if grammar.exists():
        stamps.append(f"grammar:{grammar.stat().st_mtime_ns}")
    return ";".join(stamps)


def _trusted(path: Path) -> bool:
    """A cache entry is read only if its user wrote it and no one else could have."""
    try:
        for p in (path.parent, path):
            st = p.stat()
            if st.st_uid != os.getuid() or st.st_mode & 0o022:
                return False
    except OSError:
        return False
    return True


def load(text: str, filename: str) -> CheckedPolicy | None:
    folder = _folder()
    if folder is None:
        return None
    entry = folder / _key(text, filename)
    if not _trusted(entry):
        return None
    try:
        with open(entry, "rb") as f:
            checked = pickle.load(f)
    except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, TypeError):
        return None
    return checked if isinstance(checked, CheckedPolicy) else None


def store(text: str, filename: str, checked: CheckedPolicy) -> None:
    folder = _folder()
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temporary = tempfile.mkstemp(dir=folder)
        with os.fdopen(fd, "wb") as f:
            pickle.dump(checked, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, folder / _key(text, filename))
    except (OSError, pickle.PickleError, RecursionError):
        pass  # a cache that cannot be written is only slower
