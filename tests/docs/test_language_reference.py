"""Every example of docs/language.md compiles and its examples pass; every error example gives
its code. The reference cannot drift from the language."""
from __future__ import annotations

import re

import pytest

from rplang.policy_lang.errors import PolicyError
from tests.conftest import ROOT

REFERENCE = ROOT / "docs" / "language.md"
BLOCK = re.compile(r"^```rpl([^\n]*)\n(.*?)^```", re.S | re.M)


def _blocks() -> tuple[str, list[tuple[int, str, str]]]:
    text = REFERENCE.read_text(encoding="utf-8")
    prelude, blocks = None, []
    for match in BLOCK.finditer(text):
        info, body = match.group(1).strip(), match.group(2)
        line = text.count("\n", 0, match.start()) + 1
        if info == "prelude":
            prelude = body
        else:
            blocks.append((line, info, body))
    assert prelude is not None, "the reference names its prelude: ```rpl prelude"
    return prelude, blocks


PRELUDE, BLOCKS = _blocks()


def _policy_text(body: str) -> str:
    return body if body.startswith('policy "') else PRELUDE + "\n" + body


def test_the_reference_has_its_examples():
    assert len(BLOCKS) >= 12


@pytest.mark.parametrize("line,info,body", [b for b in BLOCKS if not b[1].startswith("error")],
                         ids=lambda v: f"line-{v}" if isinstance(v, int) else None)
def test_each_example_compiles_and_its_examples_pass(tmp_path, line, info, body):
    from rplang.runtime.testing import example_diagnostics, failure_text, load_suite, run_suite

    path = tmp_path / "reference.rpl"
    path.write_text(_policy_text(body), encoding="utf-8")
    try:
        suite = load_suite(path)
    except PolicyError as error:
        pytest.fail(f"docs/language.md:{line}: the example does not compile\n{error.render()}")
    assert suite.examples, f"docs/language.md:{line}: an example of the reference shows what it means with `example`s"
    failures = [failure_text(r) for r in run_suite(suite) if not r.passed]
    assert not failures, f"docs/language.md:{line}:\n" + "\n".join(failures)
    said = [d.render() for d in example_diagnostics(suite)]  # an example that expects nothing (RPL170)
    assert not said, f"docs/language.md:{line}:\n" + "\n".join(said)


@pytest.mark.parametrize("line,info,body", [b for b in BLOCKS if b[1].startswith("error")],
                         ids=lambda v: f"line-{v}" if isinstance(v, int) else None)
def test_each_error_example_gives_its_code(line, info, body):
    from rplang.runtime import load_policy_text

    code = info.split()[1]
    with pytest.raises(PolicyError) as caught:
        load_policy_text(_policy_text(body), "reference.rpl")
    assert code in [d.code for d in caught.value.diagnostics], caught.value.render()
