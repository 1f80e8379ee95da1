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
