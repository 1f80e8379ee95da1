"""A mkdocs hook: every public name of the embedding API has a docstring, or the build warns
(and, built with --strict as CI does, fails)."""
from __future__ import annotations

import importlib
import inspect
import logging

log = logging.getLogger("mkdocs.hooks.docstrings")

# The modules whose `__all__` is the public API that the reference documents.
PUBLIC = ("rplang", "rplang.runtime")


def undocumented(module_names: tuple[str, ...] = PUBLIC) -> list[str]:
    """The public names, and the public methods and properties of public classes, without a docstring."""
    missing = []
    for module_name in module_names:
        module = importlib.import_module(module_name)
        if not inspect.getdoc(module):
            missing.append(module_name)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            if not (obj.__doc__ or "").strip():
                missing.append(f"{module_name}.{name}")
            if inspect.isclass(obj):
                for member, value in vars(obj).items():
                    if member.startswith("_") or not (inspect.isfunction(value) or isinstance(value, property)):
                        continue
                    if not ((value.fget if isinstance(value, property) else value).__doc__ or "").strip():
                        missing.append(f"{module_name}.{name}.{member}")
    return sorted(set(missing))


def on_pre_build(config) -> None:
    for name in undocumented():
        log.warning("`%s` is public but has no docstring", name)


def on_startup(command: str, dirty: bool) -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from layout import ROOT, installed_layout

    installed_layout(ROOT / "build" / "api-layout")
