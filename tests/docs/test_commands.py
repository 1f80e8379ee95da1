"""The `rpl` commands the user documents show: each names a command and options that exist, the
README's table has every command, and what a `$ rpl ...` block shows it prints is what rpl prints
(`...` standing for what the document leaves out)."""
from __future__ import annotations

import json
import re

import pytest

from tests.cli.conftest import run
from tests.conftest import APUTURE_REQUESTS, POLICIES, ROOT

from .documents import DOCUMENTS, blocks, name, prose, spans

SHELL = {"", "sh", "bash", "console", "text", "yaml"}
# `rpl` where a command starts: a line, a `$ ` prompt, after `(`, `;`, `&&` or an environment variable
COMMAND = re.compile(r"(?:^|\$ |[(;&]\s*|\w+=\S+\s)rpl ((?:[^;&>#|]|\|(?=\S))*)")  # to a pipe, `>`, `#`


def commands() -> list[tuple[str, int, str]]:
    """(document, line, the words after `rpl`) of every command the documents show."""
    found = []
    for document in DOCUMENTS:
        pieces = spans(document) + [(n, line) for n, line in enumerate(prose(document).splitlines(), 1)
                                    if line.startswith("    rpl ")]  # an indented code block
        for line, info, body in blocks(document):
            if info in SHELL:
                pieces += [(line + 1 + n, text) for n, text in enumerate(body.splitlines())]
        for line, text in pieces:
            found += [(name(document), line, m.group(1).replace("\\|", "|"))
                      for m in COMMAND.finditer(text.strip())]
    return found


def _command(word: str):
    from rplang.cli import cli

    if word == "replay":  # `rpl replay` hands its arguments to a command of its own
        from rplang.replay.command import replay_command

        return replay_command
    return cli.commands.get(word)


def _options(command) -> set[str]:
    return {o for p in command.params for o in (*p.opts, *p.secondary_opts)} | {"-h", "--help"}


def test_the_documents_show_commands():
    assert len(commands()) > 150


@pytest.mark.parametrize("document", DOCUMENTS, ids=name)
def test_each_command_and_option_exists(document):
    from rplang.cli import cli

    wrong = []
    for where, line, words in commands():
        if where != name(document) or not words.split():
            continue
        first, *rest = words.split()
        for word in first.split("|"):  # `rpl eval|explain ... --partial`
            command = cli if word.startswith("-") else _command(word)
            if command is None:
                wrong.append(f"{where}:{line}: `rpl {words}`: rpl has no command {word}")
                continue
            for option in re.findall(r"(?<![\w-])--?[a-zA-Z][\w-]*", " ".join([first] if command is cli else rest)):
                if option not in _options(command):
                    wrong.append(f"{where}:{line}: `rpl {words}`: `rpl {word}` has no option {option}")
    assert wrong == [], "\n".join(wrong)


def test_the_readme_table_has_every_command():
    from rplang.cli import cli

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| command | what it does |"):readme.index("Exit codes:")]
    assert {c for c in cli.commands if f"| `rpl {c}" not in table and f"`rpl eval\\|{c}" not in table} == set()
    rows = [r for r in table.splitlines() if r.startswith("| `rpl")]
    assert len(rows) == len(set(rows)), "a row of the table is there twice"


BENCHMARK = re.compile(r"(benchmarks/[\w/]+\.py)((?:\s+\[?--?[\w-]+(?:[ =][^\s\]`|]+)?\]?)*)")


def test_each_benchmark_named_exists_and_takes_the_options_shown():
    """`python benchmarks/bench_replay.py --sizes ...`: the script is there and its argument
    parser names each option (read from its source: running them all would take seconds)."""
    wrong, seen = [], set()
    for document in DOCUMENTS:
        for m in BENCHMARK.finditer(document.read_text(encoding="utf-8").replace("\\|", "|")):
            script = ROOT / m.group(1)
            seen.add(m.group(1))
            if not script.exists():
                wrong.append(f"{name(document)}: {m.group(1)} is not there")
                continue
            source = script.read_text(encoding="utf-8")
            wrong += [f"{name(document)}: {m.group(1)} takes no {option}"
                      for option in re.findall(r"--[\w-]+", m.group(2)) if f'"{option}"' not in source]
    assert len(seen) > 15 and wrong == [], "\n".join(wrong)


# ---- What the documents show rpl printing -------------------------------------------------------

def _portal_request(folder):
    """docs/residual.md: the semantics example before inspection, its returned item's facts known
    `at inspection` left out."""
    request = json.loads((APUTURE_REQUESTS / "00-semantics-example.json").read_text())
    for fact in ("condition", "marks", "accessories_complete", "manuals_included", "warranty_card_blank",
                 "packing_material", "original_box", "upc_intact", "labels_tampered", "damage_cause"):
        del request["items"][0][fact]
    (folder / "portal-request.json").write_text(json.dumps(request))


MADE = {"portal-request.json": _portal_request}
# shown, not run here: inputs of the reader's own (a million requests), whose counts are theirs;
# tests/replay checks what these commands print
NOT_RUN = {("docs/replay.md", "rpl replay policies/aputure.rpl returns-2025.parquet --out decided.parquet"),
           ("docs/replay.md", "rpl replay policies/aputure.rpl double.parquet"),  # an error, on stderr
           ("docs/replay.md", "rpl replay policies/aputure-30-days.rpl returns-2025.parquet "
                              "--compare git:main:policies/aputure.rpl --format markdown")}


def shown_outputs() -> list[tuple[str, int, str, str]]:
    """(document, line, command, what it prints) of each block that starts `$ rpl`."""
    return [(name(d), line, body.splitlines()[0][2:], "\n".join(body.splitlines()[1:]))
            for d in DOCUMENTS for line, info, body in blocks(d) if body.startswith("$ rpl ")]


def _pattern(shown: str) -> re.Pattern:
    """`...` alone on a line stands for any lines; within a line, for any text."""
    parts = []
    for line in shown.splitlines():
        if line.strip() == "...":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(".*?".join(re.escape(p) for p in line.split("...")) + r"\n")
    return re.compile("".join(parts).removesuffix(r"(?:[^\n]*\n)*?") + r"(?:[^\n]*\n)*" * shown.endswith("..."))


def test_the_outputs_not_run_are_still_shown():
    assert NOT_RUN <= {(d, c) for d, _, c, _ in shown_outputs()}


@pytest.mark.parametrize("document,line,command,shown",
                         [s for s in shown_outputs() if (s[0], s[2]) not in NOT_RUN],
                         ids=lambda v: v if isinstance(v, str) and not v.startswith(("rpl", "APPROVED", "PENDING")) else None)
def test_each_output_shown_is_what_rpl_prints(document, line, command, shown, tmp_path, monkeypatch):
    (tmp_path / "policies").symlink_to(POLICIES)
    monkeypatch.chdir(tmp_path)
    words = command.split()[1:]
    for word in words:
        if word in MADE:
            MADE[word](tmp_path)
    assert all((tmp_path / w).exists() for w in words if "/" in w or w.endswith(".json")), \
        f"{document}:{line}: `{command}` reads a file the document does not give"
    result = run(*words)
    assert result.code == 0, result.both
    assert _pattern(shown).fullmatch(result.out), f"{document}:{line}: `{command}` prints\n{result.out}"
