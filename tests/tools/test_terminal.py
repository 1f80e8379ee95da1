"""Colour only at a terminal and never under NO_COLOR; progress only at a terminal outside CI."""
import io
import sys

from rplang import terminal

DIFF = "title\n  --- old\n  +++ new\n  @@ -1 +1 @@\n  -REFUSED\n  +APPROVED\n   same"


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_diff_lines_are_coloured_at_a_terminal(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(sys, "stdout", Tty())
    lines = terminal.colour_diff_lines(DIFF).splitlines()
    assert lines[0] == "title" and lines[1] == "  --- old" and lines[2] == "  +++ new"
    assert lines[3].startswith("\x1b[36m") and lines[4].startswith("\x1b[31m") and lines[5].startswith("\x1b[32m")
    assert lines[6] == "   same"


def test_no_colour_under_no_color_or_in_a_pipe(monkeypatch):
    monkeypatch.setattr(sys, "stdout", Tty())
    monkeypatch.setenv("NO_COLOR", "1")
    assert terminal.colour_diff_lines(DIFF) == DIFF
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert terminal.colour_diff_lines(DIFF) == DIFF


def test_progress_at_a_terminal_outside_ci_unless_told(monkeypatch):
    monkeypatch.setattr(sys, "stderr", Tty())
    monkeypatch.delenv("CI", raising=False)
    assert terminal.progress_wanted(None)
    monkeypatch.setenv("CI", "true")
    assert not terminal.progress_wanted(None)
    assert terminal.progress_wanted(True)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    monkeypatch.delenv("CI")
    assert not terminal.progress_wanted(None) and not terminal.progress_wanted(False)


def test_the_outcome_line_is_coloured_by_its_standing(monkeypatch, aputure):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(sys, "stdout", Tty())
    text = "REFUSED — 1 reason\n1. window"
    assert terminal.colour_outcome(text, "refuse", aputure).startswith("\x1b[31m\x1b[1mREFUSED — 1 reason\x1b[0m\n")
    assert terminal.colour_outcome("APPROVED", "approve", aputure).startswith("\x1b[32m")
    assert terminal.colour_outcome("APPROVED WITH A FEE", "approve_with_fee", aputure).startswith("\x1b[33m")
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert terminal.colour_outcome(text, "refuse", aputure) == text
