"""The customer-facing policy, rendered from the policy itself: the clause texts, in the order the
file declares them, with every `{parameter}` shown with its value (see `rplang.compiler.clauses`).

The published document and the engine read the same file, so they cannot disagree: change the
window in the `.rpl` and the document says the new window. Texts that rules cite inline (`cites
"..."`) are policy text too, and follow the clauses.
"""
from __future__ import annotations

import html
import re

import attrs

from . import types as T
from .checked import CheckedPolicy, CheckedTable
from .show import show

# A table longer than this is named in the document, not printed: thousands of sellers' rows
# are no reading for a customer.
_MAX_ROWS_SHOWN = 60


@attrs.frozen
class Section:
    """One clause of the published policy: its heading and its text, parameters filled in."""
    id: str  # `clause-NAME`, or `rule-NAME` (`rule-NAME-2`, ...) for a text a rule cites inline
    heading: str
    text: str
    table: tuple[tuple[str, ...], ...] = ()  # a policy's table: its header, then its rows


def sections(policy: CheckedPolicy) -> list[Section]:
    """The clauses in file order, then the texts rules cite inline, each once."""
    out = [Section(f"clause-{name}", _heading(name), text) for name, text in policy.clauses.items()]
    seen = set(policy.clauses.values())
    for rule in policy.rules:
        inline = [text for clause, text in rule.citations if clause is None and text not in seen]
        for k, text in enumerate(dict.fromkeys(inline), 1):  # a rule citing two texts: `rule-NAME-2`
            seen.add(text)
            out.append(Section(f"rule-{rule.name}" + (f"-{k}" if k > 1 else ""), _heading(rule.name), text))
    if policy.items is not None:
        out.append(Section("items", "Each item on its own", _items_text(policy)))
    out += [_table_section(table) for table in policy.tables.values()]
    return out


def _table_section(table: CheckedTable) -> Section:
    """A table as a table: a column per key and per value, a row per row, `otherwise` last."""
    keys = [_heading(t.name) if isinstance(t, T.EnumType) else "Key" for t in table.keys]
    values = [_heading(name) if name else _heading(table.name) for name, _ in table.columns]
    source = f" (from {table.file.replace(chr(92), '/').rsplit('/', 1)[-1]})" if table.file else ""
    if table.row_count > _MAX_ROWS_SHOWN:
        return Section(f"table-{table.name}", _heading(table.name),
                       f"A table of {table.row_count:,} rows{source}, by {', '.join(keys).lower()}.")
    first = table.indexes[0]
    single = len(table.keys) == 1
    rows = [tuple(keys + values)]
    for key in dict.keys(first):
        key_cells = (key,) if single else key
        rows.append(tuple([show(k, t) for k, t in zip(key_cells, table.keys)]
                          + [show(index[key], t) for index, (_, t) in zip(table.indexes, table.columns)]))
    if first.has_otherwise:
        rows.append(tuple(["any other"] + [""] * (len(keys) - 1)
                          + [show(index.otherwise, t) for index, (_, t) in zip(table.indexes, table.columns)]))
    return Section(f"table-{table.name}", _heading(table.name), f"By {', '.join(keys).lower()}{source}.",
                   tuple(rows))


def _items_text(policy: CheckedPolicy) -> str:
    """Outcomes decided per item (docs/per-item.md), said to customers: each `request outcome`
    line as a sentence, the outcomes by their headings."""
    label = {o.name: o.label.lower() for o in policy.outcomes}
    first, last = label[policy.outcomes[0].name], label[policy.outcomes[-1].name]
    sentences = [f"Each item returned is decided on its own: one may be {last} while another is {first}."]
    for line in policy.items.request_outcomes:
        tests = [f"{quantifier} item is " + " or ".join(label[n] for n in sorted(names, key=list(label).index))
                 for quantifier, names in line.tests]
        when = " when " + " and ".join(tests) if tests else ""
        sentences.append(f"A return is {line.label.lower()}{when}.")
    if all(line.tests for line in policy.items.request_outcomes):
        sentences.append("Otherwise it takes the first of these that one of its items is: "
                         + ", ".join(label[o.name] for o in policy.outcomes) + ".")
    return " ".join(sentences)


def render_markdown(policy: CheckedPolicy) -> str:
    lines = [f"# {_md(policy.name or 'Returns policy')}", ""]
    if policy.version:
        lines += [f"*Version {_md(policy.version)}*", ""]
    for section in sections(policy):
        lines += [f"## {_md(section.heading)}", "", _md(section.text), ""]
        if section.table:
            header, *rows = section.table
            lines += ["| " + " | ".join(_md(c) for c in header) + " |", "|" + "---|" * len(header)]
            lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows] + [""]
    lines.append(_md(_footer(policy)))
    return "\n".join(lines) + "\n"


def render_html(policy: CheckedPolicy) -> str:
    title = html.escape(policy.name or "Returns policy")
    parts = [
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title>",
        f"<style>{_CSS}{_TABLE_CSS if policy.tables else ''}</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<h1>{title}</h1>",
    ]
    if policy.version:
        parts.append(f'<p class="version">Version {html.escape(policy.version)}</p>')
    for section in sections(policy):
        parts += [f'<section id="{html.escape(section.id)}">',
                  f"<h2>{html.escape(section.heading)}</h2>",
                  f"<p>{html.escape(section.text)}</p>",
                  *_html_table(section.table),
                  "</section>"]
    parts += [f'<footer><p>{html.escape(_footer(policy))}</p></footer>', "</main>", "</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _html_table(table: tuple[tuple[str, ...], ...]) -> list[str]:
    if not table:
        return []
    header, *rows = table
    return (["<table>", "<tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in header) + "</tr>"]
            + ["<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows]
            + ["</table>"])


def _heading(name: str) -> str:
    """`return_window` as `Return window`."""
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _footer(policy: CheckedPolicy) -> str:
    source = policy.source_name.rsplit("/", 1)[-1] if policy.source_name else "the policy file"
    return f"Generated from {source} by rpl doc: the values in this text are the ones the policy applies."


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")
_LIST_ITEM = re.compile(r"(\d+)\.(?=\s)")


def _md(text: str) -> str:
    """Plain text (one line: clause texts are folded) that Markdown shows as it is."""
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    if text.startswith(("#", "- ", "+ ", "=", "~")):
        return "\\" + text
    return _LIST_ITEM.sub(r"\1\\.", text, count=1) if _LIST_ITEM.match(text) else text


_CSS = ("body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;line-height:1.55;"
        "color:#1d2430;margin:0;background:#fff}"
        "main{max-width:44rem;margin:0 auto;padding:2.5rem 1.25rem}"
        "h1{font-size:1.9rem;margin:0 0 .25rem}"
        "h2{font-size:1.1rem;margin:1.8rem 0 .4rem}"
        ".version{color:#5b6472;margin:0 0 1.5rem}"
        "footer{margin-top:2.5rem;color:#5b6472;font-size:.85rem;border-top:1px solid #e3e6ea}")
# only in a document with tables: the others stay as they were
_TABLE_CSS = ("table{border-collapse:collapse}th,td{text-align:left;padding:.2rem .9rem .2rem 0;"
              "border-bottom:1px solid #e3e6ea}")
