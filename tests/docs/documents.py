"""The user documents as the tests read them: their code blocks, and their prose with the blocks
blanked (each block's lines kept, so that a place found in the prose has its line number)."""
from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import ROOT

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "benchmarks" / "README.md",
             ROOT / "editors" / "README.md"]
BLOCK = re.compile(r"^```([^\n]*)\n(.*?)^```", re.S | re.M)
SPAN = re.compile(r"`([^`\n]+)`")


def name(document: Path) -> str:
    return document.relative_to(ROOT).as_posix()


def blocks(document: Path) -> list[tuple[int, str, str]]:
    """(line, info, body) of each fenced block."""
    text = document.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 1, m.group(1).strip(), m.group(2)) for m in BLOCK.finditer(text)]


def prose(document: Path) -> str:
    return BLOCK.sub(lambda m: "\n" * m.group(0).count("\n"), document.read_text(encoding="utf-8"))


def spans(document: Path) -> list[tuple[int, str]]:
    """(line, text) of each inline code span of the prose."""
    text = prose(document)
    return [(text.count("\n", 0, m.start()) + 1, m.group(1)) for m in SPAN.finditer(text)]
