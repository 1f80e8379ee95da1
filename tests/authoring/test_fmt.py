"""`rpl fmt`: one layout, every comment and text kept, idempotent, and never a change of meaning."""
import errno
import json
import os
import random
import re
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from rplang.compiler import compile_policy
from rplang.policy_lang import PolicyError, limits, parse_policy
from rplang.policy_lang import format as fmt_module
from rplang.policy_lang.format import FormatterBug, format_policy
from rplang.cli import cli
from rplang.runtime import load_policy_text
from tests.cli.conftest import run, run_process
from tests.conftest import POLICIES

CASES = sorted((Path(__file__).parent / "fmt_cases").glob("*.rpl"))
BUNDLED = sorted(POLICIES.rglob("*.rpl"))
MAIN_POLICIES = [POLICIES / "aputure.rpl", POLICIES / "electronics.rpl"]


def _requests(policy: Path) -> list[Path]:
    return sorted(p for p in (POLICIES / policy.stem / "requests").glob("*.json") if p.name != "expected.json")


# ---- the layout ---------------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_layout(case, snapshot):
    assert format_policy(case.read_text(), case.name) == snapshot


@pytest.mark.parametrize("path", BUNDLED + CASES, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_idempotent(path):
    once = format_policy(path.read_text(), path.name)
    assert format_policy(once, path.name) == once


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: str(p.relative_to(POLICIES)))
def test_bundled_policies_are_formatted(path):
    """What `rpl fmt --check policies` checks in CI: run `rpl fmt policies` after editing one."""
    assert format_policy(path.read_text(), path.name) == path.read_text()


def test_declarations_at_column_1_bodies_indented_by_2_one_effect_a_line():
    text = ('rule fee for each item in items: when item.opened then add round(item.price*15%) to fee '
            'subtract round(item.price*15%) from refund because "fee"\n')
    assert format_policy(text) == (
        "rule fee for each item in items:\n"
        "  when item.opened\n"
        "  then add round(item.price * 15%) to fee\n"
        "       subtract round(item.price * 15%) from refund\n"
        '  because "fee"\n')


def test_continuation_lines_align_under_what_they_continue():
    text = ("let x = a and (b or\n c)\n"
            "  and d\n")
    assert format_policy(text) == ("let x = a and (b or\n"
                                   "               c)\n"
                                   "        and d\n")


def test_multi_line_texts_keep_their_lines_aligned_after_the_quote():
    text = 'clause c: "first line\n      second line\nthird"\n'
    assert format_policy(text) == 'clause c: "first line\n           second line\n           third"\n'


def test_a_backslash_escaped_space_at_the_end_of_a_text_line_is_kept():
    text = 'clause c: "one\\  \n two"\n'
    formatted = format_policy(text)
    assert formatted == 'clause c: "one\\ \n           two"\n'
    assert parse_policy(formatted) == parse_policy(text)


def test_crlf_line_ends_become_lf():
    assert format_policy('policy "p"\r\nversion "1"\r\n') == 'policy "p"\nversion "1"\n'


def test_empty_and_comment_only_files():
    assert format_policy("") == ""
    assert format_policy("\n\n") == ""
    assert format_policy("# only a comment   \n\n\n") == "# only a comment\n"


# ---- comments and texts are kept -------------------------------------------------------------------

def _comments(text: str) -> list[str]:
    tokens = fmt_module._parser().parse(text).scan_values(lambda v: True)
    return [c[2] for c in fmt_module._comments(text, list(tokens))]


@pytest.mark.parametrize("path", BUNDLED + CASES, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_every_comment_is_kept_in_order(path):
    text = path.read_text()
    assert _comments(format_policy(text, path.name)) == _comments(text)


@pytest.mark.parametrize("path", MAIN_POLICIES, ids=lambda p: p.stem)
def test_clause_texts_are_kept(path):
    before = compile_policy(path.read_text(), path.name).policy
    after = compile_policy(format_policy(path.read_text(), path.name), path.name).policy
    assert after.clause_sources == before.clause_sources
    assert after.clauses == before.clauses


# ---- meaning -----------------------------------------------------------------------------------

def _perturbed(text: str, seed: int) -> str:
    """The same policy with other spaces and indentation between its tokens; texts, comments,
    line breaks and whether a comment line is indented stay as they are."""
    rnd = random.Random(seed)
    tokens = list(fmt_module._parser().parse(text).scan_values(lambda v: True))
    out, pos = [], 0
    for token in tokens + [None]:
        pieces = re.split(r"(#[^\n]*)", text[pos:token.start_pos if token is not None else len(text)])
        for k, piece in enumerate(pieces):
            before_comment = k + 1 < len(pieces)
            if k % 2:
                out.append(piece)
            elif "\n" in piece or (pos == 0 and k == 0):
                *lines, indent = piece.split("\n")
                out += [rnd.choice(["", " ", "\t"]) + "\n" for _ in lines]
                if before_comment:
                    out.append(" " * rnd.randint(1, 4) if indent else "")
                elif token is not None:
                    out.append(" " * rnd.randint(0, 9))
            elif piece:
                out.append(rnd.choice([" ", "  ", " \t "]))
            elif token is not None:
                out.append(rnd.choice(["", " "]))
        if token is not None:
            out.append(str(token))
            pos = token.end_pos
    return "".join(out)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: str(p.relative_to(POLICIES)))
@pytest.mark.parametrize("seed", range(3))
def test_one_layout_whatever_the_spacing(path, seed):
    text = path.read_text()
    perturbed = _perturbed(text, seed)
    assert perturbed != text
    assert format_policy(perturbed, path.name) == format_policy(text, path.name)


@pytest.mark.parametrize("path", MAIN_POLICIES, ids=lambda p: p.stem)
def test_meaning_is_kept_same_rule_graph_and_decisions(path):
    text = path.read_text()
    variants = [format_policy(text, path.name), format_policy(_perturbed(text, 7), path.name)]
    original = load_policy_text(text, path.name)
    for variant in variants:
        formatted = load_policy_text(variant, path.name)
        # ir nodes compare by structure, spans left out: the same graph, node for node
        assert [(n.kind, n.expr, n.uses, n.name) for n in formatted.graph.nodes] == \
               [(n.kind, n.expr, n.uses, n.name) for n in original.graph.nodes]
        assert formatted.graph.values == original.graph.values
        assert [r.rule for r in formatted.graph.rules] == [r.rule for r in original.graph.rules]
        for request in _requests(path):
            data = json.loads(request.read_text())
            # the same decision; only a rule's line in the file may have moved
            assert _without_lines(formatted.decide(data).to_json()) == \
                _without_lines(original.decide(data).to_json())


def _without_lines(decision: dict) -> dict:
    for entry in decision["explanation"]:
        entry.pop("line", None)
    return decision


def test_a_change_of_meaning_is_refused(monkeypatch):
    real = fmt_module._render
    monkeypatch.setattr(fmt_module, "_render", lambda lines: real(lines).replace("15%", "16%"))
    with pytest.raises(FormatterBug):
        format_policy("parameter rate = 15%\n", "p.rpl")


def test_a_policy_that_does_not_parse_is_not_formatted():
    with pytest.raises(PolicyError):
        format_policy("rule a when\n", "broken.rpl")


# ---- the command -------------------------------------------------------------------------------

UNFORMATTED = 'policy   "P"\nparameter w=14 days\n'
FORMATTED = 'policy "P"\nparameter w = 14 days\n'


def test_fmt_rewrites_in_place(tmp_path):
    path = tmp_path / "p.rpl"
    path.write_text(UNFORMATTED)
    result = CliRunner().invoke(cli, ["fmt", str(path)])
    assert result.exit_code == 0
    assert path.read_text() == FORMATTED
    assert "1 file reformatted, 0 already formatted" in result.output
    again = CliRunner().invoke(cli, ["fmt", str(path)])
    assert again.exit_code == 0 and "0 files reformatted, 1 already formatted" in again.output


def test_fmt_check_shows_a_diff_and_exits_1(tmp_path):
    path = tmp_path / "p.rpl"
    path.write_text(UNFORMATTED)
    result = CliRunner().invoke(cli, ["fmt", "--check", str(path)])
    assert result.exit_code == 1
    assert '-policy   "P"\n-parameter w=14 days\n+policy "P"\n+parameter w = 14 days' in result.output
    assert path.read_text() == UNFORMATTED  # nothing written
    path.write_text(FORMATTED)
    assert CliRunner().invoke(cli, ["fmt", "--check", str(path)]).exit_code == 0


def test_fmt_folders_mean_their_rpl_files(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.rpl").write_text(UNFORMATTED)
    (tmp_path / "b.rpl").write_text(FORMATTED)
    (tmp_path / "notes.txt").write_text("not a policy")
    result = CliRunner().invoke(cli, ["fmt", "--check", str(tmp_path)])
    assert result.exit_code == 1
    assert "1 file would be reformatted, 1 already formatted" in result.output


def test_fmt_stdin_to_stdout():
    result = CliRunner().invoke(cli, ["fmt", "-"], input=UNFORMATTED)
    assert result.exit_code == 0 and result.output == FORMATTED
    check = CliRunner().invoke(cli, ["fmt", "--check", "-"], input=UNFORMATTED)
    assert check.exit_code == 1 and "+parameter w = 14 days" in check.output


def test_fmt_to_a_pipe_keeps_what_looks_like_a_colour_code():
    """Click strips `ESC [ ... m` from output to a pipe unless told not to: a comment lost it."""
    text = FORMATTED.replace("\n", "  # \x1b[1mbold\x1b[0m\n", 1)
    result = run_process("fmt", "-", input=text.encode())
    assert result.code == 0 and result.out == text


def test_fmt_reports_syntax_errors_and_goes_on(tmp_path):
    broken, fine = tmp_path / "broken.rpl", tmp_path / "fine.rpl"
    broken.write_text("rule a when\n")
    fine.write_text(UNFORMATTED)
    result = CliRunner().invoke(cli, ["fmt", str(broken), str(fine)])
    assert result.exit_code == 1
    assert "broken.rpl:1:" in result.output
    assert fine.read_text() == FORMATTED
    assert broken.read_text() == "rule a when\n"


def test_an_aggregate_on_the_right_of_a_comparison_keeps_its_meaning():
    """Written bare it reads to the end; followed by `and ...` it keeps its parentheses."""
    from tests.policy_lang.test_properties import ITEMS

    text = ITEMS + ("property q:  refund   is not sum of item.price for each item in items where item.returned\n"
                    "property r: refund <= (sum of item.price for each item in items) and refund >= 0.00\n")
    out = format_policy(text)
    assert "property q: refund is not sum of item.price for each item in items where item.returned\n" in out
    assert "property r: refund <= (sum of item.price for each item in items) and refund >= 0.00\n" in out
    assert format_policy(out) == out
    assert compile_policy(out).policy.properties == compile_policy(text).policy.properties


def test_a_folder_with_no_policy_file_is_a_usage_error(tmp_path):
    from tests.cli.conftest import run

    (tmp_path / "notes.txt").write_text("not a policy\n")
    result = run("fmt", "--check", tmp_path)
    assert result.code == 64 and result.out == ""
    assert f"Error: Invalid value for FILES: no .rpl file under {tmp_path}" in result.err


def test_fmt_leaves_a_file_it_cannot_write_as_it_was(tmp_path, monkeypatch):
    """A full disk stops the new text half written: the policy is the old text, whole, and no
    temporary is left beside it."""
    path = tmp_path / "p.rpl"
    path.write_text(UNFORMATTED)

    def disk_full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", disk_full)
    result = run("fmt", path)
    assert result.code == 73, result
    assert f"{path}: error: cannot write it: No space left on device; it is left as it was" in result.err
    assert "0 files reformatted" in result.err
    assert path.read_text() == UNFORMATTED
    assert os.listdir(tmp_path) == ["p.rpl"]


def test_fmt_keeps_a_link_and_the_permissions_of_the_file_it_names(tmp_path):
    path, link = tmp_path / "p.rpl", tmp_path / "link.rpl"
    path.write_text(UNFORMATTED)
    path.chmod(0o600)
    link.symlink_to(path.name)
    assert run("fmt", link).code == 0
    assert link.is_symlink() and path.read_text() == FORMATTED
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(os.listdir(tmp_path)) == ["link.rpl", "p.rpl"]


def test_fmt_refuses_a_pipe_unread(pipe):
    """Read, a pipe nobody writes would block for ever; a device like /dev/zero never ends."""
    for args in (["fmt", pipe], ["fmt", "--check", pipe], ["fmt", "/dev/null"]):
        result = run(*args)
        assert result.code == 64, result
        kind = "a device" if args[-1] == "/dev/null" else "a pipe"
        assert f"{args[-1]}: error: {kind}, not a file: name .rpl files, or - for stdin" in result.err
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode)


def test_fmt_reads_stdin_up_to_the_limit_of_a_policy():
    assert run("fmt", "-", input=UNFORMATTED).out == FORMATTED
    result = run("fmt", "-", input=b"#" * (limits.MAX_POLICY_BYTES + 1))
    assert result.code == 1, result
    assert f"the policy on stdin is longer than the limit of {limits.MAX_POLICY_BYTES:,} bytes" in result.err


def test_fmt_refuses_a_file_its_user_may_not_write(tmp_path, monkeypatch):
    """Renamed over, a read-only file would be rewritten all the same (the folder is writable)."""
    path = tmp_path / "p.rpl"
    path.write_text(UNFORMATTED)
    path.chmod(0o444)
    if os.geteuid() == 0:  # root may write any file: be a user who may not write this one
        real_open = os.open

        def user_open(name, flags, *args, **kwargs):
            if flags & (os.O_WRONLY | os.O_RDWR) and os.path.samefile(name, path):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), name)
            return real_open(name, flags, *args, **kwargs)
        monkeypatch.setattr(os, "open", user_open)
    result = run("fmt", path)
    assert result.code == 73, result
    assert f"{path}: error: cannot write it: Permission denied; it is left as it was" in result.err
    assert path.read_text() == UNFORMATTED and os.listdir(tmp_path) == ["p.rpl"]
