"""A code lens over each example: run it as `rpl test` does, and show that it passes or what differs."""
from __future__ import annotations

from lsprotocol import types as lsp

from rplang.policy_lang import ast
from rplang.policy_lang.errors import RplError
from rplang.runtime.testing import ExampleResult, load_suite, run_suite

from .queries import Analysis, is_examples, policy_of_examples

RUN_EXAMPLE = "rpl.runExample"


def results(ls, analysis: Analysis) -> dict[str, ExampleResult] | None:
    """The result of each example of the document, by name; None when they cannot run."""
    if analysis.path is None or analysis.tree is None:
        return None
    if "examples" in analysis.memo:
        return analysis.memo["examples"]
    if is_examples(analysis.path):
        policy_path = policy_of_examples(analysis.path)
        policy_text, examples_text = ls.text_of(policy_path), analysis.text
    else:
        policy_path, policy_text = analysis.path, analysis.text
        examples_text = ls.text_of(policy_path.with_suffix("") / "examples.rpl")
    found = None
    if policy_text is not None:
        try:
            suite = load_suite(policy_path, policy_text, examples_text=examples_text)
            found = {r.example.name: r for r in run_suite(suite)}
        except RplError:  # a policy with errors, an example that does not check: the diagnostics say
            found = None
    analysis.memo["examples"] = found
    return found


def summary(result: ExampleResult) -> str:
    if result.passed:
        return "✓ passes"
    if result.error is not None:
        return "✗ " + result.error.splitlines()[0]
    return "✗ " + "; ".join(f"{m.output}: expected {m.expected}, got {m.actual}" for m in result.mismatches)


SHOWN = 10  # the names of the examples shown when the one asked for is not there, at most


def _examples_named(names: list[str]) -> str:
    if not names:
        return "the policy has no examples"
    shown = ", ".join(f'"{n}"' for n in names[:SHOWN])
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return f"the policy has {len(names)} example{'s' if len(names) != 1 else ''}: {shown}{more}"


def register(server) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_CODE_LENS, lsp.CodeLensOptions(resolve_provider=False))
    def code_lens(ls, params: lsp.CodeLensParams) -> list[lsp.CodeLens] | None:
        analysis = ls.analysis(params.text_document.uri, wait=True)
        examples = [d for d in analysis.tree.declarations if isinstance(d, ast.Example)] if analysis.tree else []
        if not examples:
            return None
        found = results(ls, analysis)
        lenses = []
        for example in examples:
            if example.span is None:
                continue
            result = found.get(example.name) if found else None
            title = summary(result) if result is not None else "▶ run (fix the problems first)"
            where = analysis.lines.range(example.span.start, example.span.start)
            lenses.append(lsp.CodeLens(where, lsp.Command(title=title, command=RUN_EXAMPLE, arguments=[analysis.uri, example.name])))
        return lenses

    @server.command(RUN_EXAMPLE)
    def run_example(ls, uri: str, name: str) -> str:
        """Run one example again (the lens was clicked) and say what happened."""
        analysis = ls.analysis(uri, wait=True)
        analysis.memo.pop("examples", None)  # the request files may have changed on disk
        found = results(ls, analysis)
        result = found.get(name) if found else None
        if found is None:
            text = f"example \"{name}\" cannot run: the policy or its examples have problems"
        elif result is None:  # a name of an older version of the file, or of the client's own
            text = f"there is no example \"{name}\": {_examples_named(list(found))}"
        else:
            from rplang.runtime.testing import failure_text

            text = f"example \"{name}\": passes" if result.passed else failure_text(result)
        ls.window_show_message(lsp.ShowMessageParams(
            lsp.MessageType.Info if result is not None and result.passed else lsp.MessageType.Warning, text))
        return text
