"""Every link of the user documents reaches a file and a heading that exist, and every path of the
repository they name (`docs/replay.md`, `rplang/replay/texts.py`) is there: a reader following
them never lands nowhere."""
from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

from .documents import DOCUMENTS, name, prose, spans

LINK = re.compile(r"\]\(([^)\s]+)\)")
# the repository's own folders: a path of a code span starting with one of them names a file here
FOLDERS = "docs|policies|benchmarks|rplang|rpl|runtime|compiler|policy_lang|tests|editors|web|ci"
PATH = re.compile(rf"(?<![\w./-])(?:{FOLDERS})/[\w./-]*")
NOT_THERE = {"policies/aputre.rpl"}  # docs/errors.md, RPL000: the file that cannot be read


def heading_anchor(heading: str) -> str:
    """The anchor GitHub (and mkdocs' toc, as configured) gives a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def links() -> list[tuple[str, int, str]]:
    found = []
    for document in DOCUMENTS:
        text = prose(document)
        found += [(name(document), text.count("\n", 0, m.start()) + 1, m.group(1)) for m in LINK.finditer(text)
                  if not re.match(r"[a-z]+:", m.group(1))]
    return found


@pytest.mark.parametrize("document,line,target", links(), ids=lambda v: v if isinstance(v, str) else str(v))
def test_each_link_reaches_a_file_and_heading(document, line, target):
    path, _, anchor = target.partition("#")
    source = ROOT / document
    file = (source.parent / path) if path else source
    assert file.exists(), f"{document}:{line}: the link {target} names no file"
    if anchor:
        headings = re.findall(r"^#+ (.*)$", prose(file), re.M)
        assert anchor in {heading_anchor(h) for h in headings}, f"{document}:{line}: {file.name} has no heading #{anchor}"


def _exists(path: str) -> bool:
    """A file or folder, or a module written as a path (`rplang/__init__`, `runtime/dates.DAY_TEXT`)."""
    module = re.sub(r"\.[A-Z_]+$", "", path)
    return any((ROOT / p).exists() for p in (path, module, module + ".py"))


def test_the_documents_have_links_to_check():
    assert len(links()) > 50  # docs/errors.md's table links each code's section


@pytest.mark.parametrize("document", DOCUMENTS, ids=name)
def test_each_path_named_exists(document):
    missing = [f"{name(document)}:{line}: `{text}`" for line, text in spans(document)
               for path in PATH.findall(text) if not re.search(r"[*{}<>]|\.\.\.", text)
               and path not in NOT_THERE and not _exists(path.rstrip("."))]
    assert missing == [], "paths of the repository that are not there:\n" + "\n".join(missing)
