"""The API reference: every public name documented, and the check able to see one that is not."""
from __future__ import annotations

import types

from tests.architecture.test_imports import ROOT
from tests.conftest import load_module

hook = load_module(ROOT / "docs" / "hooks" / "docstrings.py")


def test_every_public_name_has_a_docstring():
    assert hook.undocumented() == []


def test_a_public_name_without_a_docstring_is_found(monkeypatch):
    import sys

    module = types.ModuleType("rpl_fake_api", "A module.")

    class Documented:
        """Has one."""

        def bare(self):
            pass

        @property
        def told(self):
            """Has one."""

    def function():
        pass

    module.Documented, module.function = Documented, function
    module.__all__ = ["Documented", "function"]
    monkeypatch.setitem(sys.modules, "rpl_fake_api", module)
    assert hook.undocumented(("rpl_fake_api",)) == ["rpl_fake_api.Documented.bare", "rpl_fake_api.function"]
