"""pytest plugin: policy examples become test items, and a fixture snapshots decisions.

Installed with rpl (entry point `pytest11`), so `pytest` in a policy repository collects every
`*.rpl` policy's examples, with pytest's usual selection (`-k`), reports and exit codes.
"""
from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest

from rplang.policy_lang.errors import PolicyError


def pytest_collect_file(file_path: Path, parent):
    from rplang.runtime.testing import EXAMPLES_FILE

    if file_path.suffix == ".rpl" and file_path.name != EXAMPLES_FILE and _has_examples(file_path):
        return PolicyFile.from_parent(parent, path=file_path)
    return None


def _has_examples(path: Path) -> bool:
    """A policy with examples in it or beside it; other `.rpl` files (broken ones kept as test
    data, say) are not collected."""
    if (path.with_suffix("") / "examples.rpl").exists():
        return True
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return re.search(r"^example\b", text, re.MULTILINE) is not None


class PolicyFile(pytest.File):
    """A policy file: one test item per example."""

    def collect(self):
        from rplang.runtime.testing import load_suite

        try:
            suite = load_suite(self.path)
        except PolicyError as error:
            raise self.CollectError(error.render()) from None
        for example, folder in suite.examples:
            yield ExampleItem.from_parent(self, name=example.name, suite=suite, example=example,
                                          folder=folder)


class ExampleFailed(Exception):
    """An example decided otherwise than it expects."""


class ExampleItem(pytest.Item):
    """One example of a policy."""

    def __init__(self, *, suite, example, folder, **kwargs):
        super().__init__(**kwargs)
        self.suite, self.example, self.folder = suite, example, folder

    def runtest(self):
        from rplang.runtime.testing import failure_text, run_example

        result = run_example(self.suite, self.example, self.folder)
        if not result.passed:
            raise ExampleFailed(failure_text(result))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ExampleFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        """Where the example is: its own file (the policy, or the `examples.rpl` beside it) and line."""
        span = self.example.span
        if span is None:
            return self.path, 0, f"example: {self.example.name}"
        return Path(span.source.name), span.line - 1, f"example: {self.example.name}"


def snapshot_requests(policy: str | Path, folder: str | Path):
    """A test that snapshots the decision on every request `*.json` in `folder`, one per request.

        test_aputure = snapshot_requests("aputure.rpl", "aputure/requests")

    Relative paths are relative to the test file. Each request is its own test and snapshot, so a
    change to the policy fails exactly the requests it changes, each with its own diff.
    """
    import inspect

    base = Path(inspect.stack()[1].filename).resolve().parent
    policy_path, folder_path = base / policy, base / folder
    files = sorted(f for f in folder_path.glob("*.json") if f.name != "expected.json")
    # a wrong path would otherwise be an empty parameter set: one skipped test, no snapshot taken
    if not policy_path.is_file():
        pytest.fail(f"snapshot_requests: no policy file {policy_path} (a relative path is read from the "
                    f"test file's folder, {base})", pytrace=False)
    if not files:
        pytest.fail(f"snapshot_requests: no request (*.json) in {folder_path} (a relative path is read from the "
                    f"test file's folder, {base})", pytrace=False)

    @pytest.mark.parametrize("request_file", files, ids=[f.name for f in files])
    def test_decision(request_file, snapshot, request):
        decision = _policy(policy_path).decide_json(request_file.read_bytes())
        data = {"outputs": decision.outputs_json(), "explanation": decision.explain_text()}
        if not snapshot == data:
            pytest.fail(_snapshot_diff(request.config, snapshot, data), pytrace=False)

    return test_decision


def _snapshot_diff(config, snapshot, data) -> str:
    """The failure as syrupy itself shows a failing snapshot assert, honouring its options
    (`--snapshot-no-colors`, `--snapshot-diff-mode`), NO_COLOR, and pytest's own `--color`.

    This module is not a rewritten test module, so the assert hook is asked directly."""
    from syrupy.terminal import disable_color

    plain = not config.get_terminal_writer().hasmarkup
    with disable_color() if plain else contextlib.nullcontext():
        explanations = config.hook.pytest_assertrepr_compare(config=config, op="==", left=snapshot, right=data)
    return "\n".join(next(lines for lines in explanations if lines))


_loaded: dict = {}


def _policy(path: Path):
    from rplang.runtime import load_policy

    key = (path, path.stat().st_mtime_ns)
    if key not in _loaded:
        _loaded[key] = load_policy(path)
    return _loaded[key]
