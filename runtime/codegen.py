"""Lower the rule graph to Python: a function that finds the rules that apply to a request, and one
that computes the outputs from them.

Only the checked graph is translated, never policy text: every literal (numbers, dates, texts,
sets) is passed in a table of constants and read as `K[i]`; the only names of the policy that
appear in the code are field names, which the grammar restricts to `[A-Za-z_][A-Za-z0-9_]*`
and which are checked again (runtime/generated.py) before they are quoted. Local names are
generated (`v3`, `e1`).
"""
from __future__ import annotations

import datetime
import operator

from rplang.compiler import ir
from rplang.compiler import types as T
from rplang.compiler.graph import RuleGraph
from rplang.policy_lang.errors import RequestError, RequestProblem

from . import arithmetic, dates
from .generated import Constants, quoted
from .codegen_index import conjuncts, indexable_groups
from .ranges import RangeIndex
from .request import PATH_KEY
from .values import json_formatter, money_text, unchanged

HUNDRED = arithmetic.HUNDRED


class CodeGenerator:
    def __init__(self, graph: RuleGraph, closures: dict):
        self.graph = graph
        self.closures = closures  # node id -> closure, for values computed lazily
        self.table = Constants()
        self.lines: list[str] = []
        self.eager: dict[str, str] = {}  # let name -> local variable
        self.known_flags: set[tuple[str, str]] = set()  # (element local, flag) known to be true
        self.used: set[str] = set()  # the values computed up front that generated code reads
        self.shared_tests: dict[ir.Expr, str] = {}  # test of the request several rules make -> local
        self.rule_constants: Constants | None = None  # while writing one indexed rule's code
        self.fresh = 0

    def const(self, value) -> str:
        # in the code of one indexed rule, its own table
        return (self.rule_constants or self.table).add(value)

    def local(self, prefix: str) -> str:
        self.fresh += 1
        return f"{prefix}{self.fresh}"

    # expressions -------------------------------------------------------------------------------

    def value(self, node_id: int) -> str:
        """A `let`'s value not computed up front: its closure's, computed the first time it is read."""
        return f"{self.const(self.closures[node_id])}(env)"

    def expr(self, e: ir.Expr, scope: dict[str, str]) -> str:
        if isinstance(e, (ir.Const, ir.Param)):
            return self.const(e.value)
        if isinstance(e, ir.DatedParam):
            self.used.add(_dated_name(e.name))
            return self.eager[_dated_name(e.name)]
        if isinstance(e, ir.Input):
            path = "R" + "".join(f"[{quoted(p)}]" for p in e.path)
            if e.present_when is None:
                return path
            record = "R" + "".join(f"[{quoted(p)}]" for p in e.path[:-1])
            return (f"({path} if {path} is not None "
                    f"else _unknown({record}, {quoted(e.path[-1])}, {self.const(e.present_when)}))")
        if isinstance(e, ir.Value):
            if e.name in self.eager:
                self.used.add(e.name)
                return self.eager[e.name]
            return self.value(self.graph.values[e.name])
        if isinstance(e, ir.Var):
            return scope[e.name]
        if isinstance(e, ir.FieldOf):
            base = self.expr(e.base, scope)
            key = quoted(e.name)
            if e.present_when is None or (base, e.present_when) in self.known_flags:
                return f"{base}[{key}]"
            # absent only when the record says the fact is not known: then it is an error
            return (f"({base}[{key}] if {base}[{key}] is not None "
                    f"else _unknown({base}, {key}, {self.const(e.present_when)}))")
        if isinstance(e, ir.Each):
            return self.each(e, scope)
        return self.op(e, scope)

    def each(self, e: ir.Each, scope) -> str:
        source = self.expr(e.source, scope)
        var = self.local("x")
        inner = {**scope, e.var: var}
        where = self.expr(e.where, inner) if e.where is not None else None
        if e.kind in ("filter", "map"):
            element = self.expr(e.element, inner) if e.element is not None else var
            condition = f" if {where}" if where is not None else ""
            return f"[{element} for {var} in {source}{condition}]"
        if e.kind == "any":
            return f"any({where} for {var} in {source})"
        if e.kind == "no":
            return f"(not any({where} for {var} in {source}))"
        return f"all({where} for {var} in {source})"

    def op(self, e: ir.Op, scope) -> str:
        if self.shared_tests and e in self.shared_tests:
            return self.shared_tests[e]
        op = e.op
        args = [self.expr(a, scope) for a in e.args]
        if op == "and":
            return "(" + " and ".join(args) + ")"
        if op == "or":
            return "(" + " or ".join(args) + ")"
        if op == "not":
            return f"(not {args[0]})"
        if op == "if":
            return f"({args[1]} if {args[0]} else {args[2]})"
        if op in ("given", "not_given"):
            raw = self.raw(e.args[0], scope)
            return f"({raw} is {'not ' if op == 'given' else ''}None)"
        if op == "empty":
            return f"(len({args[0]}) == 0)"
        if op == "not_empty":
            return f"(len({args[0]}) != 0)"
        if op == "in":
            return f"({args[0]} in {args[1]})"
        if op == "not_in":
            return f"({args[0]} not in {args[1]})"
        if op in ("<", "<=", ">", ">=", "==", "!="):
            return f"({args[0]} {op} {args[1]})"
        if op == "neg":
            return f"_minus({args[0]})" if e.type in _DECIMAL else f"(-{args[0]})"
        if op == "round":
            return f"_round_cent({args[0]})"
        if op in ("max", "min"):
            if len(args) == 1:  # `max of xs`
                return f"{'_greatest' if op == 'max' else '_least'}({args[0]})"
            return f"{op}({', '.join(args)})"
        if op == "count":
            return f"len({args[0]})"
        if op == "sum":
            return f"_total({args[0]})" if e.type in _DECIMAL else f"sum({args[0]}, 0)"
        if op == "days_between":
            return f"({args[1]} - {args[0]}).days"
        if op == "through":
            return f"_date_range({args[0]}, {args[1]})"
        if op == "lookup":  # the table's index (a dict built when the policy was checked)
            keys = args[1] if len(args) == 2 else f"({', '.join(args[1:])},)"
            return f"{args[0]}[{keys}]"
        if op == "rule_value":  # a rule's own value: its expression, named for explanations
            return args[1]
        if op in dates.DATE_PARTS or op in dates.SEASON_BOUNDS:
            return f"_{op}({', '.join(args)})"
        return self.arith(e, args)

    def raw(self, e: ir.Expr, scope) -> str:
        """A field's value as stored, None when absent (for `is given`)."""
        if isinstance(e, ir.FieldOf):
            return f"{self.expr(e.base, scope)}[{quoted(e.name)}]"
        if isinstance(e, ir.Input):
            return "R" + "".join(f"[{quoted(p)}]" for p in e.path)
        return self.expr(e, scope)

    def arith(self, e: ir.Op, args) -> str:
        lt, rt = (x.type for x in e.args)
        a, b = args
        if T.DATE in (lt, rt):
            date, count = (a, b) if lt == T.DATE else (b, a)
            count_node = e.args[1] if lt == T.DATE else e.args[0]
            sign = "-" if e.op == "-" else ""
            if T.BUSINESS_DAYS in (lt, rt):
                return f"_business({date}, {sign}{count})"
            if isinstance(count_node, (ir.Const, ir.Param)):
                days = count_node.value if e.op == "+" else -count_node.value
                return f"({date} + {self.const(datetime.timedelta(days=days))})"
            return f"({date} + _days({sign}{count}))"
        if e.op == "*" and T.PERCENT in (lt, rt) and {lt, rt} != {T.PERCENT}:
            percent_node, amount = (e.args[1], a) if rt == T.PERCENT else (e.args[0], b)
            if isinstance(percent_node, (ir.Const, ir.Param)):
                return f"_multiply({amount}, {self.const(percent_node.value / HUNDRED)})"
            percent = b if rt == T.PERCENT else a
            return f"_divide(_multiply({amount}, {percent}), HUNDRED)"
        if e.op == "/" and rt == T.PERCENT:
            return f"_divide(_multiply({a}, HUNDRED), {b})"
        if lt in _DECIMAL or rt in _DECIMAL:
            return f"{_DECIMAL_OPS[e.op]}({a}, {b})"
        return f"_whole({a} {e.op} {b})"


def _safe_to_compute_early(e: ir.Expr) -> bool:
    """Whether a value can be computed before it is needed without raising an error."""
    stack = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, (ir.FieldOf, ir.Input)) and node.present_when is not None:
            return False
        if isinstance(node, ir.Op) and (node.op == "/" or (node.op in ("min", "max") and len(node.args) == 1)):
            return False
        if isinstance(node, ir.Op) and node.op in ("+", "-") and node.type == T.DATE \
                and not all(isinstance(a, (ir.Const, ir.Param)) or a.type == T.DATE for a in node.args):
            return False  # a number of days from the request can take the date past year 9999
        stack.extend(ir.children(node))
    return True


_DECIMAL = (T.MONEY, T.EXACT_MONEY, T.PERCENT)
_DECIMAL_OPS = {"+": "_add", "-": "_subtract", "*": "_multiply", "/": "_divide"}



def generate(graph: RuleGraph, closures: dict, calendar) -> tuple[str, "callable"]:
    """Python source of `find_applying(R, env)`, and the function itself.

    It returns the list of (rule index, element, effect values) of every rule that applies, in
    the order of the policy file (rules in file order, elements in list order).
    """
    gen = CodeGenerator(graph, closures)
    body: list[str] = []
    dated = [p for p in graph.policy.parameters.values() if isinstance(p, ir.DatedParam)]
    if dated:  # the terms date once, then the value in force of each dated parameter
        body.append(f"terms_date = env.as_of or {gen.expr(graph.policy.terms, {})}")
        for p in dated:
            local = gen.local("d")
            body.append(f"{local} = {gen.const(p)}.value_on(terms_date)[0]")
            gen.eager[_dated_name(p.name)] = local
    value_lines: dict[str, tuple[int, set]] = {}  # value computed up front -> (its line, what it reads)
    for name, node_id in graph.values.items():
        expr = graph.nodes[node_id].expr
        refs = set(ir.value_refs(expr))
        if all(dep in gen.eager for dep in refs) and _safe_to_compute_early(expr):
            local = gen.local("v")
            used, gen.used = gen.used, set()
            body.append(_value_statements(gen, local, expr))
            gen.used = used
            value_lines[name] = (len(body) - 1, refs)
            gen.eager[name] = local
    groups = indexable_groups(graph)
    indexed = {index for members in groups.values() for index, _, _ in members}
    for test in _shared_tests(graph, indexed):  # once for every rule that makes it
        local = gen.local("c")
        body.append(f"{local} = {gen.expr(test, {})}")
        gen.shared_tests[test] = local
    # Rules over the same list share one loop over it; the list of what applies is then put
    # back in file order.
    loops: dict = {}
    reordered = False
    for index, rule_node in enumerate(graph.rules):
        if index in indexed:
            continue
        rule = rule_node.rule
        if rule.var is None:
            body.append(f"if {gen.expr(rule.condition, {})}:")
            body.append(f"    applying.append(({index}, None, {_effects(gen, rule, {})}))")
            continue
        loop = loops.get(rule.source)
        if loop is None:
            element = gen.local("e")
            loop = loops[rule.source] = (element, [])
            body.append(f"for {element} in {gen.expr(rule.source, {})}:")
            body.append(loop[1])  # the loop's body, filled in below
        else:
            reordered = True
        element, lines = loop
        scope = {rule.var: element}
        gen.known_flags = {(element, flag) for flag in flags_true_for_all(graph, rule.source)}
        lines.append(f"    if {gen.expr(rule.condition, scope)}:")
        lines.append(f"        applying.append(({index}, {element}, {_effects(gen, rule, scope)}))")
        gen.known_flags = set()
    body[:] = [line for entry in body for line in (entry if isinstance(entry, list) else [entry])]
    helpers, tables = _indexed_rules(gen, graph, groups, body)
    _drop_unread_values(gen, body, value_lines)
    # The values computed up front are remembered for the decision's explanation, which would
    # otherwise compute them again by the closures (say, a list of each returned item's sku).
    kept = [(graph.values[name], gen.eager[name]) for name in value_lines
            if name in gen.eager and closures.remembers(graph.nodes[graph.values[name]])]
    if kept:
        body.append("M = env.memo")
        body += [f"M[{node_id}] = {local}" for node_id, local in kept]
    if groups or reordered:
        body.append("applying.sort(key=_rule_index)  # back in file order")
    source = "".join(helpers) + "def find_applying(R, env):\n    applying = []\n" + \
        "".join(f"    {line}\n" for line in body) + "    return applying\n"
    namespace = {**expression_names(gen.table, calendar), "_rule_index": _rule_index}
    exec(compile(source, f"<rpl rules of {graph.policy.source_name or 'policy'}>", "exec"), namespace)
    for slot, found_by, table in tables:  # the tables hold the rule functions, which exist only now
        found = {value: tuple((namespace[name], index, constants) for name, index, constants in rules)
                 for value, rules in table.items()}
        if found_by == "value":
            gen.table.values[slot] = found
        else:
            pairs = [(interval, rule) for interval, rules in found.items() for rule in rules]
            gen.table.values[slot] = RangeIndex([interval for interval, _ in pairs], [rule for _, rule in pairs])
    return source, namespace["find_applying"]


def expression_names(table: Constants, calendar) -> dict:
    """What the code of expressions (`CodeGenerator.expr`) reads besides its locals: the constants
    and the functions of the runtime it calls, and the few builtins it uses."""
    return {
        **table.namespace(), "HUNDRED": HUNDRED, "_business": calendar.add, "_days": _days, "_unknown": _unknown,
        "_add": arithmetic.add, "_subtract": arithmetic.subtract, "_multiply": arithmetic.multiply,
        "_divide": arithmetic.divide, "_minus": arithmetic.minus, "_round_cent": arithmetic.round_cent,
        "_total": arithmetic.total, "_least": arithmetic.least, "_greatest": arithmetic.greatest,
        "_whole": arithmetic.whole, "_date_range": T.DateRange,
        **{f"_{op}": f for op, f in (dates.DATE_PARTS | dates.SEASON_BOUNDS).items()},
        "__builtins__": {"len": len, "sum": sum, "any": any, "all": all, "max": max, "min": min},
    }


def generate_outputs(graph: RuleGraph) -> tuple[str, "callable"]:
    """Python source of `outputs(outcome, applied)`, and the function itself: the value of every
    output from the rules that determine a decision (what `combine` returns).

    A total adds up what the rules add to it and subtract from it, in file order, then takes its
    floor; a value is set by the first rule that sets it, else it is the output's default. Rules
    are grouped by the effects they have on outputs, and each group is one branch of the loop.
    """
    constants = Constants()
    local = {o.name: f"o{k}" for k, o in enumerate(graph.outputs)}
    shapes: dict[tuple, int] = {}  # the effects a rule has on outputs -> its group (0: none)
    groups: list[int] = []
    for rule_node in graph.rules:
        shape = tuple((k, e.kind, e.output, e.sign) for k, e in enumerate(rule_node.rule.effects)
                      if e.kind in ("add", "set"))
        groups.append(shapes.setdefault(shape, len(shapes) + 1) if shape else 0)
    lines = ["def outputs(outcome, applied):"]
    for o in graph.outputs:
        if o.kind == "total":
            lines.append(f"    {local[o.name]} = _ZERO")
        elif o.kind == "set":
            lines.append(f"    {local[o.name]} = _UNSET")
    if shapes:
        lines.append("    for i, _, a in applied:")
        lines.append("        g = GROUP[i]")
        lines.append("        if not g:")
        lines.append("            continue")
        for n, (shape, group) in enumerate(shapes.items()):
            lines.append(f"        {'if' if n == 0 else 'elif'} g == {group}:")
            for position, kind, output, sign in shape:
                name = local[output]
                if kind == "add":
                    lines.append(f"            {name} = {'_add' if sign > 0 else '_subtract'}({name}, a[{position}])")
                else:
                    lines.append(f"            if {name} is _UNSET:")
                    lines.append(f"                {name} = a[{position}]")
    entries = []
    for o in graph.outputs:
        name = local[o.name]
        if o.kind == "total":
            floor = constants.add(o.floor) if o.floor is not None else None
            value = name if floor is None else f"({floor} if {name} < {floor} else {name})"
        elif o.kind == "set":
            value = f"({constants.add(o.default)} if {name} is _UNSET else {name})"
        else:
            value = "outcome"
        entries.append(f"{quoted(o.name)}: {value}")
    lines.append("    return {" + ", ".join(entries) + "}")
    source = "\n".join(lines) + "\n"
    namespace = {"K": constants.values, "GROUP": groups, "_ZERO": _ZERO, "_UNSET": _UNSET, "_add": arithmetic.add,
                 "_subtract": arithmetic.subtract, "__builtins__": {}}
    exec(compile(source, f"<rpl outputs of {graph.policy.source_name or 'policy'}>", "exec"), namespace)
    return source, namespace["outputs"]


def generate_outputs_json(types: dict) -> "callable":
    """`outputs_json(outputs)`: the outputs as decision JSON, one dict display with each output
    (`types`: by name, its type) written as `json_code` writes it."""
    constants = Constants("F")
    entries = [f"{quoted(name)}: {json_code(type_, 'v', constants.add, f'(v := o[{quoted(name)}])')}"
               for name, type_ in types.items()]
    source = "def outputs_json(o):\n    return {" + ", ".join(entries) + "}\n"
    namespace = {**constants.namespace(), "_money_text": money_text, "_day_text": dates.DAY_TEXT,
                 "__builtins__": {"str": str}}
    exec(compile(source, "<rpl outputs as JSON>", "exec"), namespace)
    return namespace["outputs_json"]


def in_cents(text: str, making: str | None = None) -> str:
    """The code of values.money_text's test that an amount's text (the local `text`; made by the
    code `making` first, when given) is in cents already, and so is written as it is. Its `"E"`
    test is left out: a Decimal's text with an exponent ends with it (`E+3`, `E-10`, `E+100`), so
    that a point third from the end is never in one."""
    return f"({making or text})[-3:-2] == '.' and {text} != '-0.00'"


def json_code(type_: T.Type | None, value: str, const, first: str | None = None) -> str:
    """The code of `value` (a local or a plain read) as decision JSON shows a value of `type_`
    (values.json_formatter): money and dates written in place, the others by the formatter.
    `first`, when given, is the code that reads the value into the local `value` first."""
    inner = type_.inner if isinstance(type_, T.OptionalType) else type_
    to_json = json_formatter(type_)
    first = first or value
    if to_json is unchanged:
        return first
    if inner in (T.MONEY, T.EXACT_MONEY):  # values.money_text, without a call when in cents already
        text = (value if value.isidentifier() else "m") + "_"  # a local for the text, used at once
        return (f"(None if {first} is None else {text} if {in_cents(text, f'{text} := str({value})')} "
                f"else _money_text({value}))")
    if inner == T.DATE:
        return f"(None if {first} is None else _day_text[{value}])"
    if inner == T.DATE_RANGE:
        return f"(None if {first} is None else [_day_text[{value}[0]], _day_text[{value}[1]]])"
    return f"{const(to_json)}({first})"


_ZERO = arithmetic.ZERO_CENTS  # a total no rule adds to
_UNSET = object()  # an output no rule has set yet


def _shared_tests(graph: RuleGraph, indexed: set[int]) -> list[ir.Op]:
    """The tests of the request alone (no list element) that two or more rules' conditions make,
    `kind is return` say, when they are safe to compute before any rule needs them."""
    seen: dict[ir.Op, int] = {}
    for index, rule_node in enumerate(graph.rules):
        condition = rule_node.rule.condition
        if index in indexed or not isinstance(condition, ir.Op):
            continue
        for test in condition.args if condition.op == "and" else (condition,):
            if isinstance(test, ir.Op) and test.op != "and":
                seen[test] = seen.get(test, 0) + 1
    return [test for test, count in seen.items()
            if count > 1 and not _reads_element(test) and _safe_to_compute_early(test)]


def _reads_element(e: ir.Expr) -> bool:
    stack = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, (ir.Var, ir.Each)):
            return True
        stack.extend(ir.children(node))
    return False


def _value_statements(gen: "CodeGenerator", local: str, e: ir.Expr) -> str:
    """The statements setting `local` to a value computed up front, as one line of the body (so
    that a value no rule reads is left out whole): a list made by a loop, not a comprehension,
    which costs a function and its frame each decision."""
    if not (isinstance(e, ir.Each) and e.kind in ("filter", "map")):
        return f"{local} = {gen.expr(e, {})}"
    source, var = gen.expr(e.source, {}), gen.local("x")
    inner = {e.var: var}
    element = gen.expr(e.element, inner) if e.element is not None else var
    lines = [f"{local} = []", f"for {var} in {source}:"]
    if e.where is not None:
        lines += [f"    if {gen.expr(e.where, inner)}:", f"        {local}.append({element})"]
    else:
        lines.append(f"    {local}.append({element})")
    return "\n    ".join(lines)  # indented as the body's lines are


def _drop_unread_values(gen: "CodeGenerator", body: list, value_lines: dict) -> None:
    """Leave out the values computed up front that no rule reads (those only sentences show,
    say): the explanation computes them when it needs them."""
    read = set(gen.used)
    for name, (_, refs) in reversed(value_lines.items()):
        if name in read:
            read |= refs
    if _READ_VALUES in body:  # the values indexed rules read, by position: None for those left out
        body[body.index(_READ_VALUES)] = "V = (" + "".join(
            f"{local if name in read or name not in value_lines else None}, "
            for name, local in gen.eager.items()) + ")"
    for name, (line, _) in value_lines.items():
        if name not in read:
            body[line] = None
            del gen.eager[name]
    body[:] = [line for line in body if line is not None]


def _effects(gen: "CodeGenerator", rule, scope) -> str:
    """The tuple of a rule's effect values; a value two effects share is computed once."""
    values = [gen.expr(e.value, scope) if e.value is not None else "None" for e in rule.effects]
    repeated = {v for v in values if "(" in v and values.count(v) > 1}  # computed, not just read
    shared: dict[str, str] = {}
    for k, v in enumerate(values):
        if v in repeated:
            if v in shared:
                values[k] = shared[v]
            else:
                shared[v] = gen.local("t")
                values[k] = f"({shared[v]} := {v})"
    return "(" + "".join(v + ", " for v in values) + ")"


def loop_depth(graph: RuleGraph) -> int:
    """How many lists deep a decision looks, at most: `any a in xs where any b in xs where ...`
    is two; a rule for each element counts as one more around its condition."""
    def depth(e: ir.Expr | None) -> int:
        if e is None:
            return 0
        if isinstance(e, ir.Each):
            return max(depth(e.source), 1 + max(depth(e.where), depth(e.element)))
        return max((depth(c) for c in ir.children(e)), default=0)

    deepest = max((depth(e) for e in graph.policy.values.values()), default=0)
    for rule_node in graph.rules:
        rule = rule_node.rule
        inner = max([depth(rule.condition)] + [depth(e.value) for e in rule.effects if e.value is not None])
        deepest = max(deepest, depth(rule.source), inner + (1 if rule.var is not None else 0))
    return deepest


def _dated_name(name: str) -> str:
    return f"#dated {name}"  # not a name a `let` can have


_rule_index = operator.itemgetter(0)  # of what the rule code finds: (rule index, element, effect values)
_READ_VALUES = "V = (...)"  # where the indexed rules get the values they read, written last


def _indexed_rules(gen: "CodeGenerator", graph: RuleGraph, groups: dict, body: list[str]):
    """The rules looked up by the value they test, and the lookups.

    Each rule is a function of its condition less the tested field, with its constants and its
    index as arguments, so that rules of the same shape (a marketplace's one rule per SKU, say)
    share one function: a table maps each tested value to (function, rule index, constants).
    """
    helpers, tables = [], []
    shapes: dict[str, str] = {}  # a rule's code -> the name of the function that has it
    eager_locals = dict(gen.eager)
    gen.eager = {name: f"V[{k}]" for k, name in enumerate(eager_locals)}
    shared_tests, gen.shared_tests = gen.shared_tests, {}  # locals of find_applying, not of the helpers
    if groups:
        body.append(_READ_VALUES)
    for (kind, source, key, found_by), members in groups.items():
        table: dict = {}
        for index, test, value in members:
            rule = graph.rules[index].rule
            scope = {rule.var: "e"} if rule.var is not None else {}
            gen.known_flags = {("e", flag) for flag in flags_true_for_all(graph, source)} if rule.var else set()
            rest = [a for a in conjuncts(rule) if a is not test]  # a value found is not tested again
            # local names and constants numbered from 0 in each rule, so that equal shapes are equal code
            fresh, gen.fresh, gen.rule_constants = gen.fresh, 0, Constants("C")
            condition = " and ".join(gen.expr(a, scope) for a in rest) or "True"
            element = "e" if rule.var is not None else "None"
            code = (f"(R, env, V, e, applying, I, C):\n"
                    f"    if {condition}:\n"
                    f"        applying.append((I, {element}, {_effects(gen, rule, scope)}))\n")
            constants, gen.fresh, gen.rule_constants = gen.rule_constants, fresh, None
            name = shapes.get(code)
            if name is None:
                name = shapes[code] = f"rule_shape_{len(shapes)}"
                helpers.append(f"def {name}{code}")
            table.setdefault(value, []).append((name, index, tuple(constants.values)))
            gen.known_flags = set()
        slot_index = gen.table.reserve()  # filled with the table once the functions exist
        slot = f"K[{slot_index}]"
        tables.append((slot_index, found_by, table))
        find = f"{slot}.get" if found_by == "value" else slot  # a dict, or a RangeIndex
        saved, gen.eager = gen.eager, eager_locals
        if kind == "element":
            element = gen.local("e")
            body.append(f"for {element} in {gen.expr(source, {})}:")
            body.append(f"    for rule, index, constants in {find}({element}[{quoted(key)}]"
                        f"{', ()' if found_by == 'value' else ''}):")
            body.append(f"        rule(R, env, V, {element}, applying, index, constants)")
        else:
            lookup = "R" + "".join(f"[{quoted(p)}]" for p in key)
            body.append(f"for rule, index, constants in {find}({lookup}{', ()' if found_by == 'value' else ''}):")
            body.append("    rule(R, env, V, None, applying, index, constants)")
        gen.eager = saved
    gen.eager, gen.shared_tests = eager_locals, shared_tests
    return helpers, tables


def flags_true_for_all(graph: RuleGraph, source: ir.Expr) -> set[str]:
    """The yes/no fields known true of every element of `source`: it keeps only those elements.

    `each item in items where item.returned and ...` proves `returned` of each element, so the
    fields given `when returned` are known to be there.
    """
    if isinstance(source, ir.Value):
        source = graph.nodes[graph.values[source.name]].expr
    if not (isinstance(source, ir.Each) and source.kind == "filter" and source.where is not None):
        return set()
    conjuncts = source.where.args if isinstance(source.where, ir.Op) and source.where.op == "and" \
        else (source.where,)
    return {c.name for c in conjuncts
            if isinstance(c, ir.FieldOf) and isinstance(c.base, ir.Var) and c.base.name == source.var
            and c.present_when is None and c.type == T.BOOLEAN}


def _days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def _unknown(record: dict, name: str, flag: str):
    raise RequestError([RequestProblem(
        f"{record.get(PATH_KEY, '$')}.{name}", f"needed to decide, but given only when `{flag}` is true")])
