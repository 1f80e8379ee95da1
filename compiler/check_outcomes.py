"""The declaration checker's part for what a decision gives: the outcomes (and, decided item by
item, the items' and the request's), the outputs and what rules do to them, and the properties
`rpl verify` proves."""
from __future__ import annotations

from rplang.policy_lang import ast

from . import types as T
from .checked import CheckedOutput, CheckedProperty, Effect, ItemOutcomes, Outcome, RequestOutcome
from .expression_support import broken, lead_span, name_span, word_span


class OutcomeChecks:
    """Part of `checker._Checker`, which provides `error`, `expr`, `expect` and the names in scope."""

    def _properties(self, decls: list[ast.Property], clauses, outcomes, outputs, unique, items=None):
        """Each property's condition, checked with the decision's outputs in scope, and, where
        outcomes are decided item by item, each item's outcome and totals as fields of its element."""
        self.output_types = {}
        names = [o.name for o in outcomes]
        if items is not None:  # the request's own outcomes (`approve_in_part`) besides the items'
            names += [line.name for line in items.request_outcomes if line.name not in names]
        outcome_type = T.EnumType("Outcome", tuple(names))
        element = items.source.type.element if items is not None and isinstance(items.source.type, T.ListType) else None
        if isinstance(element, T.RecordType):
            self.item_output_types = {element.name: {"outcome": T.EnumType("Outcome", tuple(o.name for o in outcomes)),
                                                     **{o.name: o.type for o in outputs.values() if o.kind == "total"}}}
        for output in outputs.values():
            if output.kind == "outcome":
                self.output_types[output.name] = outcome_type
            elif output.type is not None:
                optional = output.kind == "set" and output.default is None and \
                    not isinstance(output.type, T.OptionalType)
                self.output_types[output.name] = T.OptionalType(output.type) if optional else output.type
        checked = []
        for d in decls:
            unique("property", d.name, d.span)
            self.scope, self.narrowed, self.current_rule = [], set(), d.name
            clause = clause_text = None
            if d.cites is not None:
                value, inline = d.cites
                if inline:
                    clause_text = value
                elif value in clauses:
                    clause, clause_text = value, clauses[value]
                else:
                    self.error("RPL024", f"there is no clause `{value}`", d.span,
                               self.suggest(value, clauses) or f"declare it with `clause {value}: \"...\"`")
            condition = self.expr(d.condition, T.BOOLEAN)
            self.expect(condition, T.BOOLEAN, d.condition.span, "a property")
            checked.append(CheckedProperty(d.name, clause, clause_text, condition, d.because, span=d.span))
        self.output_types, self.item_output_types, self.current_rule = {}, {}, None
        return tuple(checked)

    def _outcomes(self, decls: list[ast.OutcomesDecl]) -> tuple[Outcome, ...]:
        if not decls:
            return ()
        for d in decls[1:]:
            self.error("RPL010", "`outcomes:` is declared twice", lead_span(d.span, "outcomes"),
                       "keep one `outcomes:` list, strongest first")
        result, seen = [], set()
        for rank, o in enumerate(decls[0].outcomes):
            if o.name in seen:
                self.error("RPL010", f"the outcome `{o.name}` is listed twice", lead_span(o.span, o.name),
                           "list each outcome once")
                continue
            seen.add(o.name)
            result.append(Outcome(o.name, o.label, rank, o.overrides_all, span=o.span))
        return tuple(result)

    def _item_outcomes(self, decls: list[ast.OutcomesDecl], request_decls: list[ast.RequestOutcomeDecl],
                       outcomes: tuple[Outcome, ...]) -> ItemOutcomes | None:
        """`outcomes for each item in LIST` and `request outcome:` (docs/per-item.md)."""
        for_each = decls[0].for_each if decls else None
        for d in request_decls[1:]:
            self.error("RPL010", "`request outcome:` is declared twice", lead_span(d.span, "request"),
                       "keep one `request outcome:` list; its first line that holds gives the outcome")
        if for_each is None:
            for d in request_decls[:1]:
                self.error("RPL045", "`request outcome:` needs outcomes decided for each item",
                           lead_span(d.span, "request"),
                           "write `outcomes for each item in items:` to decide each item on its own")
            return None
        source = self.expr(for_each.source, None)
        element = self._element_type(source, for_each.source.span)
        if not isinstance(element, T.RecordType) and not broken(element):
            self.error("RPL045", f"outcomes are decided for each element of a list of records, "
                       f"not of {source.type.describe()}", for_each.source.span,
                       "name a list of records, like `items`")
        item_names = {o.name for o in outcomes}
        lines, seen = [], set()
        for line in (request_decls[0].lines if request_decls else ()):
            if line.name in seen:
                self.error("RPL010", f"the request outcome `{line.name}` is listed twice",
                           lead_span(line.span, line.name), "list each request outcome once")
            seen.add(line.name)
            label = next((o.label for o in outcomes if o.name == line.name), None)
            if label is not None and label != line.label:
                self.error("RPL045", f"the request outcome `{line.name}` is an item outcome with another heading",
                           line.span, f"write the heading \"{label}\", or give the request outcome another name")
            tests = []
            for test in line.tests:
                if test.variable != for_each.variable:
                    self.error("RPL045", f"the items are called `{for_each.variable}`, not `{test.variable}`",
                               word_span(test.span, test.variable),
                               f"write `{test.quantifier} {for_each.variable} is ...`")
                for name in test.outcomes:
                    if name not in item_names:
                        self.error("RPL026", f"`{name}` is not an outcome of an item", word_span(test.span, name),
                                   self.suggest(name, item_names) or f"outcomes: {', '.join(sorted(item_names))}")
                tests.append((test.quantifier, frozenset(test.outcomes)))
            lines.append(RequestOutcome(line.name, line.label, tuple(tests), span=line.span))
        return ItemOutcomes(for_each.variable, source, tuple(lines), span=for_each.span)

    def _outputs(self, decls, outcomes, unique) -> dict[str, CheckedOutput]:
        out: dict[str, CheckedOutput] = {}
        for d in decls:
            if not unique("output", d.name, d.span):
                continue
            if d.type is None:
                if d.name != "outcome":
                    self.error("RPL044", f"the output `{d.name}` needs a type", name_span(d.span, d.name),
                               f"write `output {d.name}: money total` or `output {d.name}: optional date`")
                    continue
                if not outcomes:
                    self.error("RPL042", "`output outcome` needs an `outcomes:` list", name_span(d.span, d.name),
                               "declare the outcomes, strongest first, like `outcomes:` `refuse \"REFUSED\"` ...")
                out[d.name] = CheckedOutput(d.name, "outcome", None, span=d.span)
                continue
            type_ = self._type(d.type)
            floor = default = None
            if d.floor is not None:
                floor = self._constant(d.floor, type_, "the floor")
            if d.default is not None:
                default = self._constant(d.default, type_, "the default")
            if d.total:
                if d.default is not None:
                    self.error("RPL044", "a total has no default: it is the sum of what rules add, 0.00 when "
                               "none does", d.default.span, "remove `= ...`, or add the amount with a rule")
                if type_ is not T.MONEY and not broken(type_):
                    self.error("RPL044", f"a total must be money, not {type_.describe()}", d.type.span,
                               f"write `output {d.name}: money total`")
                out[d.name] = CheckedOutput(d.name, "total", type_, floor, default, span=d.span)
            else:
                if d.floor is not None:
                    self.error("RPL044", "only a total can have a floor", d.floor.span,
                               f"write `output {d.name}: money total, at least ...`")
                out[d.name] = CheckedOutput(d.name, "set", type_, None, default, span=d.span)
        return out

    def _outcome_hint(self, name: str, outcome_names: set[str], outputs) -> str:
        guess = self.suggest(name, outcome_names | {"add", "subtract", "set", "note"})
        if guess:
            return guess
        if name in ("then", "when", "cites", "because", "overrides", "to", "from", "each", "for"):
            return f"`{name}` is a word of the language, read here as an outcome: is it written twice, or misplaced?"
        if name in self.params or name in self.let_decls or name in self.request:
            return f"`{name}` is a value, not an outcome: is it written twice, or is something missing before it?"
        if name in outputs:
            return f"`{name}` is an output: write `add ... to {name}` or `set {name} to ...`"
        if not outcome_names:
            return "declare the outcomes, strongest first, with `outcomes:`"
        return f"outcomes: {', '.join(sorted(outcome_names))}; or write `note` to only explain"

    def _output_effect(self, e, outputs) -> Effect:
        output = outputs.get(e.output)
        value = self.expr(e.amount if isinstance(e, ast.AddTo) else e.value,
                          output.type if output is not None else None)
        if output is None:
            self.error("RPL025", f"there is no output `{e.output}`", word_span(e.span, e.output),
                       self.suggest(e.output, outputs) or f"declare it, like `output {e.output}: money total`")
            return Effect("note", span=e.span)
        if isinstance(e, ast.AddTo):
            if output.kind != "total":
                verb = "add to" if e.sign > 0 else "subtract from"
                self.error("RPL030", f"cannot {verb} `{e.output}`: it is not a total", e.span,
                           f"write `set {e.output} to ...`, or declare `output {e.output}: money total`")
            self.expect(value, T.MONEY, e.amount.span, "an amount")
            return Effect("add", e.output, value, e.sign, span=e.span)
        if output.kind != "set":
            self.error("RPL030", f"cannot set `{e.output}`: it is a total", e.span,
                       f"write `add ... to {e.output}`")
        target = output.type.inner if isinstance(output.type, T.OptionalType) else output.type
        self.expect(value, target, e.value.span, f"`{e.output}`")
        return Effect("set", e.output, value, span=e.span)

    def _check_outputs_set(self, outputs: dict[str, CheckedOutput], rules):
        set_by = {e.output for r in rules for e in r.effects if e.kind in ("add", "set")}
        for o in outputs.values():
            if o.kind == "set" and o.name not in set_by and o.default is None \
                    and not isinstance(o.type, T.OptionalType):
                self.error("RPL041", f"the output `{o.name}` is never set", name_span(o.span, o.name),
                           f"add a rule with `set {o.name} to ...`, give it a default, or make it optional")
