"""Lower a rule's explanation to Python: one function per rule that makes its entry of a
decision's explanation (clause, sentence, facts, effects), generated the first time the rule
is explained.

The facts and the sentence read the same expressions as the rule code, written by the same
generator (runtime/codegen.py), with the same table of constants: no policy text is run as
code. What the closures of runtime/evaluate.py remember for a decision (the values of `let`s)
is read through them, so that an explanation computes each such value once.

What a rule explains is what `why` below says of its condition, applied as written here:

- `and`/`or`: a true `and` (a false `or`) shows every operand; a false `and` (a true `or`)
  the operands that decided it, evaluated in order; past the operand that settled it, the
  decision evaluated nothing, so an operand that cannot be evaluated there is left out.
- `not` flips what is shown; `if` shows its condition and the branch it took.
- Any other test is a fact: its text, whether it held, and the values of the named things it
  reads (fields, values, parameters, table lookups). A yes/no field is shown by its label.
- A value that cannot be evaluated (a fact not given, an arithmetic failure) is left out; in a
  sentence it reads `(not known)`.
"""
from __future__ import annotations


from rplang.compiler import ir
from rplang.compiler import types as T
from rplang.compiler.show import formatter as show_formatter
from rplang.compiler.show import money as show_money
from rplang.policy_lang.errors import RplError

from .arithmetic import minus
from .dates import DAY_TEXT
from .codegen import CodeGenerator, expression_names, flags_true_for_all, in_cents, json_code
from .evaluate import uses_bound
from .generated import Constants, quoted
from .request import PATH_KEY
from .values import json_formatter, money_text

# Evaluating what the decision did not need may fail (the short-circuited side of an `or`, say):
# such a value is left out of the explanation.
CANNOT_EVALUATE = (RplError, ArithmeticError)


# ---- how the things a test reads are named --------------------------------------------------

def source_text(expr: ir.Expr) -> str:
    return " ".join(expr.span.text.split()) if expr.span is not None else describe(expr)


def describe(expr: ir.Expr) -> str:
    if isinstance(expr, ir.Input):
        return ".".join(expr.path)
    if isinstance(expr, (ir.Param, ir.Value, ir.Var)):
        return expr.name
    if _is_rule_value(expr):
        return expr.args[0].value
    if isinstance(expr, ir.FieldOf):
        return f"{describe(expr.base)}.{expr.name}"
    return "value"


def named_operands(expr: ir.Expr) -> list[ir.Expr]:
    """The named things (fields, values, parameters) a comparison reads, in order."""
    found, stack = [], [expr]
    while stack:
        node = stack.pop(0)
        if isinstance(node, (ir.Input, ir.FieldOf, ir.Value, ir.Param)) or is_lookup(node) or _is_rule_value(node):
            found.append(node)
        elif isinstance(node, ir.Op):
            stack[:0] = list(node.args)
    return found


def label_key(expr: ir.Expr):
    if isinstance(expr, ir.Input):
        return ("request",) + expr.path
    if isinstance(expr, ir.FieldOf) and isinstance(expr.base.type, T.RecordType):
        return (expr.base.type.name, expr.name)
    return None


def is_lookup(expr: ir.Expr) -> bool:
    return isinstance(expr, ir.Op) and expr.op == "lookup"


def _is_rule_value(expr: ir.Expr) -> bool:
    """A rule's own value (`let` in a rule), shown by its name like a top-level `let`."""
    return isinstance(expr, ir.Op) and expr.op == "rule_value"


# ---- the code -----------------------------------------------------------------------------------

class EntryCode(CodeGenerator):
    """The code of one rule's entry: the statements, then the entry's dict display."""

    label = ""  # how the code's file name calls this form of the entry
    names: dict = {}  # what this form's code reads besides the expressions' names

    def __init__(self, policy):
        super().__init__(policy.graph, policy.evaluator.fns)
        self.table = Constants(named=True)
        self.labels, self.output_types = policy.labels, policy.output_types
        self.lines: list[str] = []
        self.binds = False  # whether the code calls closures that read the element's name in `env`
        self.why_functions: dict[tuple, str] = {}  # (condition, outcome) -> its function
        self.functions: list[str] = []  # their sources
        self.totals = {name: k for k, (name, _, _) in enumerate(policy.total_outputs)}  # the steps' lists

    def expr(self, e: ir.Expr, scope: dict[str, str]) -> str:
        if isinstance(e, ir.DatedParam):  # the rule code's own local is not at hand: the closure's value
            return f"{self.const(self.closures[self.graph.ids[e]])}(env)"
        return super().expr(e, scope)

    def emit(self, pad: str, line: str) -> None:
        self.lines.append(pad + line)

    def value(self, node_id: int) -> str:
        """A `let`'s value: the one the decision remembered (the rule code keeps those it computed
        up front), read in place, else its closure's, which computes and remembers it."""
        closure = self.const(self.closures[node_id])
        if uses_bound(self.graph.nodes[node_id].expr):  # a value of the element: it must be bound
            self.binds = True
        if not self.closures.remembers(self.graph.nodes[node_id]):
            return f"{closure}(env)"
        return f"(env.memo[{node_id}] if {node_id} in env.memo else {closure}(env))"

    # the sentence ------------------------------------------------------------------------------

    def sentence(self, rule, scope: dict[str, str]) -> str:
        """Statements computing each value the sentence shows; the expression of the sentence."""
        parts = [p if isinstance(p, tuple) else p[0] for p in self.sentence_parts(rule, scope)]
        if not parts:
            return self.const(rule.name.replace("_", " "))
        parts = [self.const(p[0]) if isinstance(p, tuple) else p for p in parts]
        if len(parts) <= 3:
            return " + ".join(parts)
        return 'f"' + "".join("{" + p + "}" for p in parts) + '"'  # texts all: one f-string joins them

    def sentence_parts(self, rule, scope: dict[str, str]) -> list:
        """Statements computing each value the sentence shows; its parts in order: texts known
        now (a tuple of one text), and the locals of values shown (a list: the local, its type,
        and the code that read it when it is a field always given, else None)."""
        parts: list = []
        for part in rule.because:
            is_money = not isinstance(part, str) and part.type in (T.MONEY, T.EXACT_MONEY)
            if isinstance(part, (str, ir.Const, ir.Param)) and not is_money:  # the same text every time
                text = part if isinstance(part, str) else show_formatter(part.type)(part.value)
                if parts and isinstance(parts[-1], tuple):
                    parts[-1] = (parts[-1][0] + text,)
                else:
                    parts.append((text,))
                continue
            text = self.local("p")
            if plain_read(part) and not is_money:  # a field always given: reading it cannot fail
                self.emit("", f"{text} = {self.expr(part, scope)}")
                if part.type != T.TEXT:  # a text always given is shown as it is
                    self.emit("", f"{text} = {_shown(part.type, text, self.const)}")
                parts.append([text, part.type, self.expr(part, scope)])
                continue
            self.emit("", "try:")
            self.emit("    ", f"{text} = {self.expr(part, scope)}")
            if is_money:  # in the currency of a text explanation (`money`), when one is asked for
                self.emit("    ", f"{text} = 'none' if {text} is None else _show_money({text}) if money is None "
                                  f"else money.amount({text})")
            else:
                self.emit("    ", f"{text} = {_shown(part.type, text, self.const)}")
            self.emit("", "except _CANNOT_EVALUATE:")
            self.emit("    ", f"{text} = {self.const('(not known)')}")
            parts.append([text, part.type, None])
        return parts

    # the facts ---------------------------------------------------------------------------------

    def why(self, e: ir.Expr, holds: bool, out: str, scope: dict[str, str], pad: str) -> None:
        """Statements appending to the list `out` the facts that made `e` come out as `holds`."""
        if len(pad) >= _DEEPEST and not _is_fact(e):
            self.emit(pad, f"{self.why_function(e, holds, scope)}(R, env, e, {out})")
        elif isinstance(e, ir.Op) and e.op in ("and", "or"):
            is_and = e.op == "and"
            if is_and == holds:  # a true `and`, a false `or`: every operand came out as it did
                for arg in e.args:
                    self.why(arg, holds, out, scope, pad)
                return
            self.deciding_operands(e.args, holds, not is_and, out, scope, pad)
        elif isinstance(e, ir.Op) and e.op == "not":
            self.why(e.args[0], not holds, out, scope, pad)
        elif isinstance(e, ir.Op) and e.op == "if":
            condition, then, otherwise = e.args
            value = self.local("w")
            self.emit(pad, "try:")
            self.emit(pad, f"    {value} = {self.expr(condition, scope)}")
            self.emit(pad, "except _CANNOT_EVALUATE:")
            self.emit(pad, "    pass")
            self.emit(pad, "else:")
            self.emit(pad, f"    if {value}:")
            self.why(condition, True, out, scope, pad + "        ")
            self.why(then, holds, out, scope, pad + "        ")
            self.emit(pad, "    else:")
            self.why(condition, False, out, scope, pad + "        ")
            self.why(otherwise, holds, out, scope, pad + "        ")
        else:
            self.fact(e, holds, out, scope, pad)

    def why_function(self, e: ir.Expr, holds: bool, scope: dict[str, str]) -> str:
        """A function of its own, `why_N(R, env, e, out)`, for the facts of a condition nested
        deeper than _DEEPEST; one per condition and outcome, however often it is shown."""
        name = self.why_functions.get((e, holds))
        if name is None:
            name = self.why_functions[e, holds] = self.local("why")
            lines, self.lines = self.lines, []
            self.why(e, holds, "out", scope, "")
            self.functions.append(f"def {name}(R, env, e, out):\n" + "".join(f"    {line}\n" for line in self.lines))
            self.lines = lines
        return name

    def deciding_operands(self, args, holds: bool, settles: bool, out: str, scope, pad: str) -> None:
        """A false `and` or a true `or`: the operands equal to `holds` decided it. Past the
        operand that settled it (`settles`), the decision evaluated nothing: what follows may
        not make sense there (`m is given and m > 1.00`), and is shown only if it does."""
        settled = self.local("s")
        self.emit(pad, f"{settled} = False")
        for k, arg in enumerate(args):
            value = self.local("w")
            self.emit(pad, "try:")
            self.emit(pad, f"    {value} = {self.expr(arg, scope)}")
            self.emit(pad, f"    if {value} == {holds}:")
            if _is_fact(arg):  # a fact is appended whole or not at all
                self.why(arg, holds, out, scope, pad + "        ")
            else:  # the facts of an operand that fails part way are left out together
                part = self.local("f")
                self.emit(pad, f"        {part} = []")
                self.why(arg, holds, part, scope, pad + "        ")
                self.emit(pad, f"        {out} += {part}")
            self.emit(pad, "except _CANNOT_EVALUATE:")
            self.emit(pad, "    pass")
            if k > 0:  # before the first operand nothing is settled: its failure is the decision's
                self.emit(pad, "except Exception:")
                self.emit(pad, f"    if not {settled}:")
                self.emit(pad, "        raise")
            if k < len(args) - 1:
                self.emit(pad, "else:")
                self.emit(pad, f"    {settled} = {settled} or {value} == {settles}")

    def fact(self, e: ir.Expr, holds: bool, out: str, scope, pad: str) -> None:
        """One fact: a yes/no field by its label, any other test with the values it reads."""
        text = self.const(source_text(e))
        if isinstance(e, (ir.Input, ir.FieldOf)) and e.type == T.BOOLEAN:
            label = self.const(self.labels.get(label_key(e)))
            self.emit(pad, f"{out}.append({{'fact': {text}, 'holds': {holds}, 'label': {label}}})")
            return
        operands = named_operands(e)
        if not operands:
            self.emit(pad, f"{out}.append({{'fact': {text}, 'holds': {holds}}})")
            return
        if all(plain_read(o) or constant_shown(o) for o in operands):  # nothing to leave out: one display
            shown = []
            for operand in operands:
                name = self.const(describe(operand))
                if constant_shown(operand):
                    shown.append(f"{name}: {self.const(json_formatter(operand.type)(operand.value))}")
                else:
                    value = self.local("w")
                    read = f"({value} := {self.expr(operand, scope)})"
                    shown.append(f"{name}: {json_code(operand.type, value, self.const, read)}")
            self.emit(pad, f"{out}.append({{'fact': {text}, 'holds': {holds}, 'values': {{{', '.join(shown)}}}}})")
            return
        values, fact = self.local("n"), self.local("f")
        self.emit(pad, f"{values} = {{}}")
        for operand in operands:
            to_json = json_formatter(operand.type)
            name = self.lookup_name(operand, scope) if is_lookup(operand) else self.const(describe(operand))
            if constant_shown(operand):
                self.emit(pad, f"{values}[{name}] = {self.const(to_json(operand.value))}")  # the same every time
                continue
            value = self.local("w")
            self.emit(pad, "try:")
            self.emit(pad, f"    {value} = {self.expr(operand, scope)}")
            self.emit(pad, f"    {values}[{name}] = {json_code(operand.type, value, self.const)}")
            self.emit(pad, "except _CANNOT_EVALUATE:")
            self.emit(pad, "    pass")
        self.emit(pad, f"{fact} = {{'fact': {text}, 'holds': {holds}}}")
        self.emit(pad, f"if {values}:")
        self.emit(pad, f"    {fact}['values'] = {values}")
        self.emit(pad, f"{out}.append({fact})")

    def lookup_name(self, expr: ir.Op, scope) -> str:
        """How a lookup reads in the facts, with the keys it was given: `restocking rate for camera`."""
        table = expr.args[0].value
        words = table.table.replace("_", " ") + (f" {table.column.replace('_', ' ')}" if table.column else "")
        keys = "".join(f"{self.const(show_formatter(k.type))}({self.expr(k, scope)}), " for k in expr.args[1:])
        return f"{self.const(words + ' for ')} + ', '.join(({keys}))"

    # the entry ---------------------------------------------------------------------------------

    def effects(self, rule, named: str) -> str:
        """The effects' display; statements of the amounts added, each also a step of its total
        in `steps` (the computation's, by total: codegen_computation.py) when steps are asked for."""
        shown, step_lines = [], []
        for k, effect in enumerate(rule.effects):
            output = self.const(effect.output)
            if effect.kind == "add":
                amount, value = self.local("m"), self.local("a")
                self.emit("", f"{value} = {f'a[{k}]' if effect.sign > 0 else f'_minus(a[{k}])'}")
                for line in money_statements(value, amount):
                    self.emit("", line)
                shown.append(f"{{'output': {output}, 'amount': {amount}}}")
                step_lines.append(f"    steps[{self.totals[effect.output]}].append({{'rule': {self.const(rule.name)}, "
                                  f"'element_name': {named}, 'amount': {amount}}})")
            elif effect.kind == "set":
                shown.append(f"{{'output': {output}, 'set': "
                             f"{json_code(self.output_types.get(effect.output), f'a[{k}]', self.const)}}}")
        if step_lines:
            self.emit("", "if steps is not None:")
            self.lines += step_lines
        return "[" + ", ".join(shown) + "]"

    def facts_statements(self, start: int) -> None:
        """The list `facts` the statements from line `start` on append to, or its display when
        every fact is always shown."""
        appended = self.lines[start:]
        if all(line.startswith("facts.append(") for line in appended):  # facts always shown: one display
            self.lines[start:] = ["facts = [" + ", ".join(line[len("facts.append("):-1] for line in appended) + "]"]
        else:
            self.lines.insert(start, "facts = []")

    def entry(self, rule, element: str, named: str, sentence: str) -> str:
        """The expression of the entry, from the codes of its element, its element's name and its sentence."""
        if named != "None":
            self.emit("", f"named = {named}")
            named = "named"
        effects = self.effects(rule, named)
        clauses = ", ".join(f"{{'clause': {self.const(name)}, 'cites': {self.const(text)}}}"
                            for name, text in rule.citations)
        return "{" + ", ".join((
            f"'rule': {self.const(rule.name)}", f"'clause': {self.const(rule.clause)}",
            f"'cites': {self.const(rule.clause_text)}", f"'clauses': [{clauses}]",
            f"'outcome': {self.const(rule.outcome)}", f"'element': {element}", f"'element_name': {named}",
            f"'sentence': {sentence}", "'facts': facts", f"'effects': {effects}",
            f"'line': {self.const(rule_line(rule))}")) + "}"


def money_statements(amount: str, text: str) -> list[str]:
    """Statements setting local `text` to the amount in local `amount` as values.money_text
    writes it (two decimals, never -0.00), without a call when it is in cents already."""
    return [f"{text} = str({amount})",
            f"if not ({in_cents(text)}):",
            f"    {text} = _money_text({amount})"]


def rule_line(rule) -> int | None:
    return rule.span.line if rule.span is not None else None


def _shown(type_: T.Type | None, value: str, const) -> str:
    """The code of `value` (a local) as a sentence shows it (compiler/show.py): the commonest
    types written in place, the others by show's own formatter."""
    inner = type_.inner if isinstance(type_, T.OptionalType) else type_
    if inner == T.TEXT:
        shown = value
    elif inner == T.DATE:
        shown = f"_day_text[{value}]"
    elif isinstance(inner, T.EnumType):
        shown = f"str({value}).replace('_', ' ')"
    else:
        return f"{const(show_formatter(type_))}({value})"
    return f"'none' if {value} is None else {shown}"


def plain_read(e: ir.Expr) -> bool:
    """A field of the request or of a bound element, always given: reading it cannot fail."""
    if isinstance(e, ir.FieldOf):
        return e.present_when is None and (isinstance(e.base, ir.Var) or plain_read(e.base))
    return isinstance(e, ir.Input) and e.present_when is None


def constant_shown(e: ir.Expr) -> bool:
    """A parameter whose JSON is a text or a number: shown by the same constant every time."""
    return isinstance(e, ir.Param) and not isinstance(json_formatter(e.type)(e.value), (list, dict))


def _element_name_code(policy, rule, const) -> str:
    """How an element is named (explain.element_name), written in place when its record's first
    field is a text always given: the reader puts the record's `#path` first, then its fields in
    the declared order, so that text is the first the name would find."""
    if _of_records(rule):
        first = next(iter(policy.checked.records[rule.source.type.element.name].values()), None)
        if first is not None and first.type == T.TEXT and first.present_when is None and first.stage is None:
            return f"e[{quoted(first.name)}]"
    return "_element_name(None, e)"


def _of_records(rule) -> bool:
    """Whether a rule runs for each element of a list of records (dicts, as the reader made them)."""
    return isinstance(rule.source.type, (T.ListType, T.SetType)) and isinstance(rule.source.type.element, T.RecordType)


# How deep the facts' statements are indented before a condition gets a function of its own:
# Python compiles blocks nested 20 deep at most, and an `if` within a condition is written for
# both its outcomes.
_DEEPEST = 32


def _is_fact(e: ir.Expr) -> bool:
    return not (isinstance(e, ir.Op) and e.op in ("and", "or", "not", "if"))


def entry_function(policy, rule_node, element_name, code_class=None) -> tuple[str, "callable"]:
    """Python source of `entry(env, e, a, money)`, and the function itself: the explanation of
    the rule applying to the request read into `env`, to the element `e` for a rule for each
    element, with the effect values `a`; money in `money`'s currency when given (the text
    explanation), else as the decision's JSON shows it. `element_name(None, e)` names an element.

    Each amount the rule adds to a total is also a step of the total's computation, appended to
    `steps[k]` for total k (`policy.total_outputs`) when `steps` is given.

    `code_class`: the generator, `EntryCode` unless another form of the entry is asked for
    (codegen_explain_json.py: the entry as JSON text)."""
    rule = rule_node.rule
    code = (code_class or EntryCode)(policy)
    scope = {rule.var: "e"} if rule.var is not None else {}
    if rule.var is not None:  # as the rule code knows them: the fields its elements are sure to have
        code.known_flags = {("e", flag) for flag in flags_true_for_all(policy.graph, rule.source)}
    sentence = code.sentence(rule, scope)
    start = len(code.lines)
    code.why(rule.condition, True, "facts", scope, "")
    code.facts_statements(start)
    element = "None" if rule.var is None else f"e.get({code.const(PATH_KEY)})" if _of_records(rule) \
        else f"(e.get({code.const(PATH_KEY)}) if isinstance(e, dict) else None)"
    named = _element_name_code(policy, rule, code.const) if rule.var is not None else "None"
    code.emit("", "return " + code.entry(rule, element, named, sentence))
    # An element is bound, for the closures of values that read it, in an environment of its own
    # sharing the values the decision computed, so that threads may explain one decision at once
    # (a rule of the whole request, and a value not of the element, read the decision's own).
    binding = [f"env = env.with_bound({code.const(rule.var)}, e)"] if rule.var is not None and code.binds else []
    source = "".join(code.functions) + "def entry(env, e, a, money, steps=None):\n" + "".join(
        f"    {line}\n" for line in ["R = env.request"] + binding + code.lines)
    namespace = expression_names(code.table, policy.evaluator.calendar)
    namespace["__builtins__"] = {**namespace["__builtins__"], "isinstance": isinstance, "dict": dict,
                                 "str": str, "list": list, "Exception": Exception}
    namespace.update(_CANNOT_EVALUATE=CANNOT_EVALUATE, _money_text=money_text, _day_text=DAY_TEXT,
                     _show_money=show_money, _minus=minus, _element_name=element_name, **code.names)
    exec(compile(source, f"<rpl explanation{code.label} of rule {rule.name}>", "exec"), namespace)
    return source, namespace["entry"]
