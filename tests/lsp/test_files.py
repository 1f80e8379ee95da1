"""The files the server reads from disk (a policy of an examples file, a file navigated to):
only regular files, never a pipe (which would wait for a writer) or a device (which never ends)."""
from __future__ import annotations

import types

import pytest

pytest.importorskip("pygls")
from rplang.lsp.server import RplServer  # noqa: E402
from tests.conftest import APUTURE  # noqa: E402


@pytest.fixture
def server(monkeypatch):
    """A server whose editor has no file open: every text comes from the disk."""
    monkeypatch.setattr(RplServer, "workspace", property(lambda self: types.SimpleNamespace(text_documents={})))
    return RplServer()


def test_a_pipe_or_a_device_has_no_text(server, pipe):
    from pathlib import Path

    assert server.text_of(pipe) is None
    assert server.text_of(Path("/dev/zero")) is None
    assert server.text_of(APUTURE) == APUTURE.read_text(encoding="utf-8")


# ---- over a real session: documents the editor has not opened ----------------------------------

def _capped_server() -> list[str]:
    """`rpl lsp` with 2 GiB of memory: a server that reads a device whole fails fast, not the machine."""
    import sys

    return [sys.executable, "-c", "import resource; resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30)); "
            "from rplang.cli import main; main(['lsp'])"]


def test_requests_on_documents_not_open_answer_empty(tmp_path):
    """A request may name a document the editor has not opened (it raced a close): it is read as a
    policy file is, and one that is none (missing, a folder, a device, not a file URI) is empty."""
    from lsprotocol import types as lsp

    from .conftest import Session

    session = Session(command=_capped_server())
    try:
        at = lsp.Position(0, 0)
        for uri in [(tmp_path / "missing.rpl").as_uri(), tmp_path.as_uri(), "file:///dev/zero", "untitled:Untitled-1"]:
            assert session.hover(uri, at) is None, uri
            assert session.definition(uri, at) is None, uri
            assert not session.symbols(uri), uri
            assert not session.formatting(uri), uri
            assert not session.code_lens(uri), uri
            session.completion(uri, at)
        names = {s.name for s in session.symbols(APUTURE.resolve().as_uri())}  # on disk, never opened
        assert {"return_window_length", "restocking_fee"} <= names
        assert session.errors() == []
    finally:
        session.close()


def test_a_folder_with_a_space_has_diagnostics_and_examples_see_the_open_policy(session, tmp_path):
    """Editors quote a path in a URI (`my%20shop`, VS Code's `c%3A`): the document is found all the
    same, its diagnostics are published, and its examples are checked against the policy's unsaved
    buffer, not its file."""
    import shutil

    from tests.conftest import POLICIES

    folder = tmp_path / "my shop"
    shutil.copytree(POLICIES / "electronics", folder / "electronics")
    shutil.copy(POLICIES / "electronics.rpl", folder / "electronics.rpl")
    renamed = (POLICIES / "electronics.rpl").read_text(encoding="utf-8").replace("label_fee", "label_charge")
    policy_uri = session.open(folder / "electronics.rpl", renamed)  # not saved
    assert "my%20shop" in policy_uri and session.wait_diagnostics(policy_uri) == []
    examples = (POLICIES / "electronics" / "examples.rpl").read_text(encoding="utf-8")
    uri = session.open(folder / "electronics" / "examples.rpl", examples.replace("label_fee", "label_charge"))
    assert session.wait_diagnostics(uri) == []
