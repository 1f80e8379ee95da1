"""A small TextMate tokenizer, enough for editors/vscode/syntaxes/rpl.tmLanguage.json.

It reads `match`/`name`/`captures` and `begin`/`end`/`name`/`contentName`/`beginCaptures`/
`endCaptures`/`patterns` rules and `include` of `#repository` entries, line by line as editors
do: at each place, the earliest match wins; on a tie the enclosing rule's `end`, then the first
pattern listed. The grammar's regular expressions keep to what Oniguruma and Python's `re` read
alike (no `\\h`, no `(?<name>)`, no possessive quantifiers), so Python can run them.
"""
from __future__ import annotations

import json
import re
from pathlib import Path


class Grammar:
    def __init__(self, path: Path):
        self.data = json.loads(path.read_text(encoding="utf-8"))
        self.scope = self.data["scopeName"]
        self._compiled: dict[str, re.Pattern] = {}

    def regex(self, source: str) -> re.Pattern:
        if source not in self._compiled:
            self._compiled[source] = re.compile(source)
        return self._compiled[source]

    def rules(self, patterns: list[dict]) -> list[dict]:
        """The patterns with every `include` replaced by what it names."""
        out: list[dict] = []
        for pattern in patterns:
            if "include" in pattern:
                target = pattern["include"]
                if target in ("$self", "$base"):
                    out += self.rules(self.data["patterns"])
                else:
                    entry = self.data["repository"][target.lstrip("#")]
                    out += self.rules(entry["patterns"]) if "patterns" in entry and \
                        "begin" not in entry and "match" not in entry else [entry]
            else:
                out.append(pattern)
        return out

    def tokenize(self, text: str) -> list[tuple[int, str, tuple[str, ...]]]:
        """(line number, text, scopes) of every token, whitespace included."""
        # (rule, scopes inside it, scopes of its begin and end)
        stack: list[tuple[dict | None, tuple[str, ...], tuple[str, ...]]] = [(None, (self.scope,), ())]
        tokens: list[tuple[int, str, tuple[str, ...]]] = []
        for number, line in enumerate(text.split("\n"), 1):
            pos = 0
            while pos < len(line):
                rule, scopes, rim = stack[-1]
                patterns = self.rules(rule["patterns"] if rule else self.data["patterns"])
                best = None  # (start, order, kind, pattern, match)
                if rule is not None:
                    m = self.regex(rule["end"]).search(line, pos)
                    if m:
                        best = (m.start(), -1, "end", rule, m)
                for order, pattern in enumerate(patterns):
                    source = pattern.get("match") or pattern.get("begin")
                    m = self.regex(source).search(line, pos)
                    if m and (best is None or (m.start(), order) < best[:2]):
                        best = (m.start(), order, "begin" if "begin" in pattern else "match", pattern, m)
                if best is None or best[4].end() == best[4].start() == pos and best[2] == "match":
                    tokens.append((number, line[pos:], scopes))
                    break
                start, _, kind, pattern, m = best
                if start > pos:
                    tokens.append((number, line[pos:start], scopes))
                if kind == "end":
                    tokens += self._captured(number, m, rim, pattern.get("endCaptures", {}))
                    stack.pop()
                elif kind == "match":
                    tokens += self._captured(number, m, scopes + _names(pattern, "name"),
                                             pattern.get("captures", {}))
                else:
                    outer = scopes + _names(pattern, "name")
                    tokens += self._captured(number, m, outer, pattern.get("beginCaptures", {}))
                    stack.append((pattern, outer + _names(pattern, "contentName"), outer))
                pos = max(m.end(), pos + (m.end() == pos))
        return [t for t in tokens if t[1]]

    @staticmethod
    def _captured(number: int, m: re.Match, scopes: tuple[str, ...], captures: dict) -> list:
        """The match cut at its captured groups (not nested), each with its group's scope."""
        pieces, pos = [], m.start()
        groups = sorted((m.start(int(g)), m.end(int(g)), c["name"]) for g, c in captures.items()
                        if g != "0" and m.start(int(g)) >= 0)
        whole = (c["name"],) if (c := captures.get("0")) else ()
        for start, end, name in groups:
            if start > pos:
                pieces.append((number, m.string[pos:start], scopes + whole))
            pieces.append((number, m.string[start:end], scopes + whole + (name,)))
            pos = end
        if m.end() > pos:
            pieces.append((number, m.string[pos:m.end()], scopes + whole))
        return pieces


def _names(pattern: dict, key: str) -> tuple[str, ...]:
    return tuple(pattern[key].split()) if key in pattern else ()
