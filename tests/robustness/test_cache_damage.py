"""A damaged cache never changes a decision (issue 15, 2; issue 13's cache folder).

Entries are signed with the user's secret key; any entry that fails its check, or cannot be
read, is a miss: the policy is checked again and the entry written anew."""
from __future__ import annotations

import os
import pickle
import random
import stat
import subprocess
import sys

import pytest

from rplang.compiler import cache, compile_policy_cached
from rplang.policy_lang import user_cache
from rplang.runtime.decide import CompiledPolicy
from tests.cli.conftest import run
from tests.conftest import APUTURE, APUTURE_REQUESTS, ROOT

EXAMPLE = APUTURE_REQUESTS / "00-semantics-example.json"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("RPL_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("RPL_NO_CACHE", raising=False)
    return tmp_path


def _checked_entries(folder):
    return sorted(p for p in folder.iterdir() if p.name.startswith("checked-"))


def test_bytes_changed_in_an_entry_do_not_change_the_refund(folder):
    assert "refund 1,557.50" in run("explain", APUTURE, EXAMPLE).out  # stored
    for entry in [p for p in folder.iterdir() if p.name != "key"]:
        entry.write_bytes(entry.read_bytes().replace(b"15", b"14"))
    result = run("explain", APUTURE, EXAMPLE)
    assert result.code == 0 and "refund 1,557.50" in result.out and "14%" not in result.out
    (entry,) = _checked_entries(folder)  # the miss was written anew, and holds again
    assert cache.load(APUTURE.read_text(), str(APUTURE)) is not None


def test_a_byte_set_to_ff_is_a_miss_not_an_error(folder):
    run("eval", APUTURE, EXAMPLE)
    (entry,) = _checked_entries(folder)
    data = bytearray(entry.read_bytes())
    data[len(data) // 2] = 0xFF
    entry.write_bytes(bytes(data))
    for _ in range(2):
        result = run("eval", APUTURE, EXAMPLE)
        assert result.code == 0 and '"refund": "1557.50"' in result.out, result.err


class _Planted:
    def __reduce__(self):
        return (os.system, ("touch planted-by-the-cache",))


def test_a_signed_entry_naming_other_code_is_still_refused(folder, tmp_path, monkeypatch):
    """Defence in depth: even under the right signature, only a checked policy's classes load."""
    monkeypatch.chdir(tmp_path)
    text = APUTURE.read_text()
    name = cache._key(text, "aputure.rpl")
    user_cache.write(name, pickle.dumps(_Planted()))
    assert user_cache.read(name) is not None  # the signature holds
    assert cache.load(text, "aputure.rpl") is None
    assert not (tmp_path / "planted-by-the-cache").exists()


def test_an_entry_without_the_signature_is_never_unpickled(folder, tmp_path, monkeypatch):
    text = APUTURE.read_text()
    compile_policy_cached(text, "aputure.rpl")
    (entry,) = _checked_entries(folder)
    entry.write_bytes(pickle.dumps(CompiledPolicy))  # a valid pickle, not signed
    seen = []
    monkeypatch.setattr(cache._CheckedUnpickler, "load", lambda self: seen.append(1))
    assert cache.load(text, "aputure.rpl") is None
    assert seen == []


def test_the_secret_key_is_private_and_a_key_others_can_read_is_replaced(folder):
    compile_policy_cached(APUTURE.read_text(), "aputure.rpl")
    key = folder / "key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_bytes()) == 32
    old = key.read_bytes()
    key.chmod(0o644)
    assert cache.load(APUTURE.read_text(), "aputure.rpl") is None  # signed with a key others saw
    assert key.read_bytes() != old and stat.S_IMODE(key.stat().st_mode) == 0o600


@pytest.mark.parametrize("what", ["key", "entry"])
def test_a_pipe_in_the_place_of_a_file_is_a_miss_not_a_hang(folder, what):
    """Reading the key or an entry opened a pipe as a file, and waited for ever for a writer."""
    run("eval", APUTURE, EXAMPLE)
    (path,) = [folder / "key"] if what == "key" else _checked_entries(folder)
    path.unlink()
    os.mkfifo(path, 0o600)
    # a process of its own, held to a time: a read that waits would wait for ever
    done = subprocess.run([sys.executable, "-m", "rplang.cli", "eval", str(APUTURE), str(EXAMPLE)],
                          capture_output=True, text=True, timeout=60, env={**os.environ, "RPL_CACHE_DIR": str(folder)})
    assert done.returncode == 0 and '"refund": "1557.50"' in done.stdout, done.stderr
    if what == "key":  # a key that cannot be trusted: a new one in its place
        assert stat.S_ISREG(path.lstat().st_mode) and len(path.read_bytes()) == 32


def test_an_entry_that_cannot_be_written_leaves_no_temporary(folder):
    """Each run that failed to store an entry (a full disk, a folder in its place) left its
    temporary file in the cache folder."""
    run("eval", APUTURE, EXAMPLE)
    (entry,) = _checked_entries(folder)
    entry.unlink()
    entry.mkdir()
    before = sorted(p.name for p in folder.iterdir())
    for _ in range(2):
        result = run("eval", APUTURE, EXAMPLE)
        assert result.code == 0 and '"refund": "1557.50"' in result.out, result.err
    assert sorted(p.name for p in folder.iterdir()) == before


def test_the_key_covers_every_source_file_of_the_package():
    covered = {p.resolve() for p in cache._source_files()}
    for layer in ("policy_lang", "compiler", "runtime", "rplang"):
        for path in (ROOT / layer).rglob("*"):
            if path.suffix in (".py", ".lark") and "__pycache__" not in path.parts:
                assert path.resolve() in covered, path


def test_a_changed_source_file_is_a_new_key(folder, monkeypatch):
    text = APUTURE.read_text()
    before = cache._key(text, "a.rpl")
    monkeypatch.setattr(cache, "_sources", "another version of policy_lang/limits.py")
    assert cache._key(text, "a.rpl") != before


def _check_in_a_new_process(folder):
    code = ("from rplang.cli import main; main(['check', %r])" % str(APUTURE))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, RPL_CACHE_DIR=str(folder)))


def test_damaged_parse_tables_are_built_again(folder):
    _check_in_a_new_process(folder)  # this process has its parser already
    (tables,) = [p for p in folder.iterdir() if p.name.startswith("grammar-")]
    data = bytearray(tables.read_bytes())
    for i in random.Random(1).sample(range(len(data)), 20):
        data[i] ^= 0xFF
    tables.write_bytes(bytes(data))
    done = _check_in_a_new_process(folder)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert [p for p in folder.iterdir() if p.name.startswith("grammar-")] == [tables]
    assert tables.read_bytes() != bytes(data)  # written anew


def test_no_home_and_no_passwd_entry_runs_without_a_cache(tmp_path):
    """HOME unset, and a user id that has no passwd entry: no cache, no traceback, no `~` folder."""
    code = ("import pwd, sys\n"
            "def nobody(uid): raise KeyError(uid)\n"
            "pwd.getpwuid = nobody\n"
            "from rplang.cli import main\n"
            "main(sys.argv[1:])\n")
    env = {k: v for k, v in os.environ.items() if k not in ("HOME", "RPL_CACHE_DIR", "XDG_CACHE_HOME")}
    done = subprocess.run([sys.executable, "-c", code, "explain", str(APUTURE), str(EXAMPLE)],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "refund 1,557.50" in done.stdout and done.stderr == ""
    assert list(tmp_path.iterdir()) == []


def test_the_cache_folder_is_the_platforms(monkeypatch, tmp_path):
    import platformdirs

    monkeypatch.delenv("RPL_CACHE_DIR", raising=False)
    monkeypatch.delenv("RPL_NO_CACHE", raising=False)
    assert str(user_cache.cache_folder()) == platformdirs.user_cache_dir("rplang", appauthor=False)
    monkeypatch.setenv("RPL_NO_CACHE", "1")
    assert user_cache.cache_folder() is None
