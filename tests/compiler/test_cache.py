"""The compiled-policy cache: a policy seen before is not parsed again, and decides the same."""
import json

from rplang.compiler import cache, compile_policy, compile_policy_cached
from rplang.runtime.decide import CompiledPolicy
from tests.conftest import APUTURE, APUTURE_REQUESTS


def _entries(folder):
    """The cache's entries of checked policies (the parse tables and the key sit beside them)."""
    return [p for p in folder.iterdir() if p.name.startswith("checked-")]


def test_a_cached_policy_decides_exactly_as_a_fresh_one(tmp_path, monkeypatch):
    monkeypatch.setenv("RPL_CACHE_DIR", str(tmp_path))
    text = APUTURE.read_text()
    fresh = CompiledPolicy(compile_policy(text, "aputure.rpl"))
    CompiledPolicy(compile_policy_cached(text, "aputure.rpl"))  # stores
    assert len(_entries(tmp_path)) == 1
    cached = CompiledPolicy(compile_policy_cached(text, "aputure.rpl"))  # loads
    for request in sorted(APUTURE_REQUESTS.glob("[0-9]*.json")):
        data = json.loads(request.read_text())
        assert cached.decide(data).to_json() == fresh.decide(data).to_json(), request.name


def test_a_changed_text_is_a_new_entry(tmp_path, monkeypatch):
    monkeypatch.setenv("RPL_CACHE_DIR", str(tmp_path))
    text = APUTURE.read_text()
    compile_policy_cached(text, "aputure.rpl")
    changed = text.replace("= 14 days", "= 30 days")
    assert cache.load(changed, "aputure.rpl") is None
    graph = compile_policy_cached(changed, "aputure.rpl")
    assert graph.policy.parameters["return_window_length"].value == 30
    assert len(_entries(tmp_path)) == 2


def test_the_cache_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("RPL_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("RPL_NO_CACHE", "1")
    compile_policy_cached(APUTURE.read_text(), "aputure.rpl")
    assert _entries(tmp_path) == []


def test_a_damaged_entry_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("RPL_CACHE_DIR", str(tmp_path))
    text = APUTURE.read_text()
    compile_policy_cached(text, "aputure.rpl")
    (entry,) = _entries(tmp_path)
    entry.write_bytes(b"not a pickle")
    assert cache.load(text, "aputure.rpl") is None
    assert compile_policy_cached(text, "aputure.rpl").policy.name == "Aputure returns and refunds"


def test_an_entry_others_could_have_written_is_not_read(tmp_path, monkeypatch):
    monkeypatch.setenv("RPL_CACHE_DIR", str(tmp_path))
    text = APUTURE.read_text()
    compile_policy_cached(text, "aputure.rpl")
    (entry,) = _entries(tmp_path)
    assert cache.load(text, "aputure.rpl") is not None
    entry.chmod(0o666)  # anyone may write it: it may not be what rpl wrote
    assert cache.load(text, "aputure.rpl") is None
    entry.chmod(0o600)
    tmp_path.chmod(0o777)
    try:
        assert cache.load(text, "aputure.rpl") is None
    finally:
        tmp_path.chmod(0o700)
