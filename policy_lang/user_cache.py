"""The user's cache of rpl: one folder, one secret key, and entries signed with it.

The folder is `$RPL_CACHE_DIR`, else the user's cache folder as `platformdirs` finds it (on Linux
`~/.cache/rplang`); `RPL_NO_CACHE=1`, or no home folder to find, turns caching off.

Entries hold pickles (Lark's parse tables, checked policies), and a pickle can run code when it
is read. So an entry is read only when the HMAC-SHA256 of its name and bytes, under a secret
key that only its user can read (`key`, mode 0600, made on first use), is the one stored with
it: a damaged or planted entry is a miss, never code run or a changed decision. Anything that
goes wrong in the cache (a folder that cannot be made, a file others may write, a short read, a
pipe or a device where a file should be) is a miss too, and costs only time, never a hang.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import tempfile
from functools import lru_cache
from pathlib import Path

_MAGIC = b"rpl-signed-1\n"
_KEY_BYTES = 32


def cache_folder() -> Path | None:
    """Where the cache lives, or None when it is off or there is nowhere to put it."""
    if os.environ.get("RPL_NO_CACHE"):
        return None
    configured = os.environ.get("RPL_CACHE_DIR")
    if configured:
        return Path(configured)
    try:
        import platformdirs

        folder = Path(platformdirs.user_cache_dir("rplang", appauthor=False))
    except Exception:  # noqa: BLE001 (no home folder, no passwd entry: run without a cache)
        return None
    # with HOME unset and no passwd entry, `~` is left as it is: never a folder `~` in the cwd
    return folder if folder.is_absolute() and "~" not in folder.parts else None


def _private(path: Path) -> bool:
    """Written by this user, and writable by no one else."""
    return _owned(path.stat())


def _owned(st: os.stat_result) -> bool:
    return st.st_uid == os.getuid() and not st.st_mode & 0o022


def _read_file(path: Path, size: int = -1) -> tuple[os.stat_result, bytes] | None:
    """The status and (up to `size`) bytes of the file at `path`; None when it is no file: a pipe
    would block the read for ever, a device like /dev/zero never end it. Raises OSError."""
    with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as f:  # a pipe's open would wait
        st = os.fstat(f.fileno())
        return (st, f.read(size)) if stat.S_ISREG(st.st_mode) else None


def _folder() -> Path | None:
    """The cache folder, made if need be; None when it is off or not private."""
    folder = cache_folder()
    if folder is None:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return folder if _private(folder) else None
    except OSError:
        return None


def _key(folder: Path) -> bytes | None:
    """The secret key of this folder, made on first use; None if it cannot be trusted or made."""
    path = folder / "key"
    try:
        found = _read_file(path, _KEY_BYTES + 1)
        if found is not None:
            st, key = found
            if st.st_uid == os.getuid() and not st.st_mode & 0o077 and len(key) == _KEY_BYTES:
                return key
    except FileNotFoundError:
        pass
    except OSError:
        return None
    key = secrets.token_bytes(_KEY_BYTES)  # no key, or one that cannot be trusted (or no file): a new one
    return key if _store(folder, "key", key) else None


def _store(folder: Path, name: str, data: bytes) -> bool:
    """`data` as the file `name` of the folder, in one step (mode 0600); False when it cannot be
    written, and no temporary left behind (a full disk would fill the folder with them)."""
    try:
        fd, temporary = tempfile.mkstemp(dir=folder)  # mode 0600
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(temporary, folder / name)
    except OSError:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        return False
    return True


def _signature(key: bytes, name: str, payload: bytes) -> bytes:
    return hmac.new(key, name.encode("utf-8") + b"\0" + payload, hashlib.sha256).digest()


def read(name: str) -> bytes | None:
    """The bytes stored under `name`, if they are there and signed with this user's key."""
    folder = _folder()
    if folder is None:
        return None
    try:
        found = _read_file(folder / name)
    except OSError:
        return None
    if found is None or not _owned(found[0]):
        return None
    data = found[1]
    key = _key(folder)
    head = len(_MAGIC) + hashlib.sha256().digest_size
    if key is None or not data.startswith(_MAGIC) or len(data) < head:
        return None
    if not hmac.compare_digest(data[len(_MAGIC):head], _signature(key, name, data[head:])):
        return None
    return data[head:]


def write(name: str, payload: bytes) -> None:
    """Store `payload` under `name`, signed; a cache that cannot be written is only slower."""
    folder = _folder()
    if folder is None:
        return
    key = _key(folder)
    if key is None:
        return
    _store(folder, name, _MAGIC + _signature(key, name, payload) + payload)


@lru_cache(maxsize=None)
def package_stamp(name: str) -> str | None:
    """The installed package `name`'s `__init__.py`, its size and time of writing, for naming
    the entries made from what the package computes (an upgrade makes new names); found without
    importing it (importlib.metadata alone would cost 20 ms). None when it is not installed."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(name)
        stat = os.stat(spec.origin)
    except (ImportError, OSError, TypeError, ValueError):  # no package, or one without a file
        return None
    return f"{stat.st_size}-{stat.st_mtime_ns}"
