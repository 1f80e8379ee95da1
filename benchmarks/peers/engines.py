"""The peer engines behind one interface: load an encoding once, decide a request dict.

Each peer is called through the fastest API its own documentation gives, prepared once outside
the timed loop (`api` names it), and reads one of two encodings of the policy (`ENCODINGS`):
- "idiomatic": what a user of that engine would write first;
- "lean": the fastest encoding found that still gives the same answers on every request.

Every `decide(request)` does the whole job an application would pay for: marshal the request
dict into what the engine takes (marshalling.py, plus the engine's own form: JSON text for
regorus, requests for Cedar, CEL values for cel-python), evaluate, and turn the answer back into
the contract's terms: {"outcome", "reasons"[, "refund", "restocking_fee", "free_items_deduction"]}
with amounts as "1557.50" text. `reasons` are the refusal rules that apply, named as in
policies/aputure.rpl (marshalling.REASONS).
"""
from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from marshalling import day, money, plain

HERE = Path(__file__).resolve().parent

ELIGIBILITY = "outcome + reasons"
FULL = "outcome + reasons + amounts"
STYLES = ("idiomatic", "lean")


class Peer:
    name: str           # shown in the table
    package: str        # the PyPI distribution
    computes: str       # ELIGIBILITY or FULL
    api: str            # the call timed, after what is prepared once
    ENCODINGS: dict     # style -> the file in benchmarks/peers/ that holds the policy

    def __init__(self, style: str = "idiomatic"):
        self.style = style
        self.encoding = self.ENCODINGS[style]
        self.load(HERE / self.encoding)

    def load(self, path: Path) -> None:
        raise NotImplementedError

    @property
    def version(self) -> str:
        try:
            return version(self.package)
        except PackageNotFoundError:
            return "?"

    def decide(self, request: dict) -> dict:
        raise NotImplementedError

    def floor(self):
        """A `decide` with the same marshalling in and the engine called the same way, on a
        trivial policy: what a decision costs before the policy's own rules (None: not measured)."""
        return None

    def other_apis(self) -> dict:
        """Other documented ways to call the same encoding, {api: decide function}, timed beside
        `api` so that the choice of the fastest one is measured, not assumed."""
        return {}


def _amounts(result: dict, outcome: str, reasons) -> dict:
    return {"outcome": outcome, "reasons": reasons,
            "refund": money(int(result["refund"])),
            "restocking_fee": money(int(result["restocking_fee"])),
            "free_items_deduction": money(int(result["free_items_deduction"]))}


def _zen_reasons(reasons) -> list:
    """The idiomatic graph collects {"reason": ...} rows; the lean one lists names."""
    return [r if isinstance(r, str) else r["reason"] for r in reasons]


class ZenPeer(Peer):
    """GoRules Zen: a JDM decision graph (expression nodes, decision tables)."""
    name, package, computes = "zen-engine (GoRules JDM)", "zen-engine", FULL
    api = "ZenEngine().create_decision(ZenDecisionContent(text)) once; decision.evaluate(dict)"
    ENCODINGS = {"idiomatic": "aputure.jdm.json", "lean": "aputure.lean.jdm.json"}

    def load(self, path: Path) -> None:
        import zen

        self._zen = zen
        self.text = path.read_text()
        # "Pre-compile decisions. Use ZenDecisionContent to parse and compile decisions once,
        # then reuse them" (Zen's performance guide). The loader path its Python guide shows
        # (ZenEngine({"loader": ...}).evaluate(key, context)) is timed beside it (other_apis).
        self.decision = zen.ZenEngine().create_decision(zen.ZenDecisionContent(self.text))

    def decide(self, request: dict) -> dict:
        result = self.decision.evaluate(plain(request))["result"]
        return _amounts(result, result["outcome"], _zen_reasons(result["reasons"]))

    def other_apis(self) -> dict:
        zen = self._zen
        from_text = zen.ZenEngine().create_decision(self.text)
        content = zen.ZenDecisionContent(self.text)
        engine = zen.ZenEngine({"loader": lambda key: content})
        decision = self.decision
        return {
            "ZenEngine({loader}).evaluate(key, dict), the loader returning a ZenDecisionContent":
                lambda r: engine.evaluate(self.encoding, plain(r))["result"],
            "create_decision(text) once; decision.evaluate(dict)":
                lambda r: from_text.evaluate(plain(r))["result"],
            "decision.evaluate(JSON text)": lambda r: decision.evaluate(json.dumps(plain(r)))["result"],
        }

    def floor(self):
        empty = self._zen.ZenDecisionContent(json.dumps({"nodes": [
            {"id": "in", "type": "inputNode", "name": "in", "position": {"x": 0, "y": 0}},
            {"id": "out", "type": "outputNode", "name": "out", "position": {"x": 0, "y": 0}}],
            "edges": [{"id": "e", "sourceId": "in", "targetId": "out", "type": "edge"}]}))
        decision = self._zen.ZenEngine().create_decision(empty)
        return lambda request: decision.evaluate(plain(request))["result"]


def cel_sum(values):
    """The one host function of the CEL encodings: CEL has no fold (cel-go ships `sum` too)."""
    return sum(values)


class CelRustPeer(Peer):
    """CEL in Rust (the `cel` crate) through common-expression-language."""
    name, package, computes = ("common-expression-language (CEL, Rust)",
                               "common-expression-language", FULL)
    api = "cel.compile(text) once; program.execute(dict of variables and `sum`)"
    ENCODINGS = {"idiomatic": "aputure.cel", "lean": "aputure.lean.cel"}

    def load(self, path: Path) -> None:
        import cel

        self._cel = cel
        self.program = cel.compile(path.read_text())

    def decide(self, request: dict) -> dict:
        variables = plain(request)
        variables["sum"] = cel_sum  # a callable in the dict is registered as a function
        result = self.program.execute(variables)
        return _amounts(result, result["outcome"], result["reasons"])

    def other_apis(self) -> dict:
        cel, program = self._cel, self.program
        functions = {"sum": cel_sum}
        reused = cel.Context(functions=functions)

        def update(request):
            reused.update(plain(request))
            return program.execute(reused)
        return {
            "program.execute(cel.Context(variables, functions))":
                lambda r: program.execute(cel.Context(variables=plain(r), functions=functions)),
            "program.execute(one Context, .update(variables))": update,
        }

    def floor(self):
        program = self._cel.compile("true")
        return lambda request: program.execute(dict(plain(request), sum=cel_sum))


class CelPythonPeer(Peer):
    """CEL in pure Python (cel-python, `celpy`): the same encodings as CEL in Rust.

    Its other runner, CompiledRunner (CEL transpiled to Python), cannot call a host function in
    0.5.0: the generated code names the function by its module, which it cannot see (NameError);
    and both encodings need `sum`."""
    name, package, computes = "cel-python (CEL, Python)", "cel-python", FULL
    api = "Environment().program(compile(text)) once; program.evaluate(json_to_cel(dict))"
    ENCODINGS = CelRustPeer.ENCODINGS

    def load(self, path: Path) -> None:
        import logging

        import celpy
        from celpy import celtypes

        logging.getLogger("celpy").setLevel(logging.WARNING)
        self._to_cel = celpy.json_to_cel
        self.env = env = celpy.Environment()
        self.program = env.program(env.compile(path.read_text()),
                                   functions={"sum": lambda xs: celtypes.IntType(sum(xs))})

    def decide(self, request: dict) -> dict:
        result = self.program.evaluate(self._to_cel(plain(request)))
        return _amounts(result, str(result["outcome"]), [str(r) for r in result["reasons"]])

    def floor(self):
        program, to_cel = self.env.program(self.env.compile("true")), self._to_cel
        return lambda request: program.evaluate(to_cel(plain(request)))


class RegoPeer(Peer):
    """Rego on regorus (Rust), through opa-eval (the PyPI has no `regorus` package)."""
    name, package, computes = "opa-eval (Rego on regorus)", "opa-eval", FULL
    api = "OpaEval(file, query) once; evaluate_parsed(JSON text)"
    ENCODINGS = {"idiomatic": "aputure.rego", "lean": "aputure.lean.rego"}
    QUERIES = {"aputure.rego": "data.aputure.decision", "aputure.lean.rego": "data.aputure_lean.decision"}

    def load(self, path: Path) -> None:
        import opa_eval

        self._opa_eval = opa_eval
        # opa-eval's only calls: evaluate (JSON text out) and evaluate_parsed (Python objects
        # out, "avoiding any json.loads overhead"); the policy is parsed once, by the constructor.
        self.policy = opa_eval.OpaEval(str(path), query=self.QUERIES[path.name])

    def decide(self, request: dict) -> dict:
        result = self.policy.evaluate_parsed(json.dumps(plain(request)))
        return _amounts(result, result["outcome"], result["reasons"])

    def other_apis(self) -> dict:
        policy = self.policy
        return {"evaluate(JSON text), json.loads":
                lambda r: json.loads(policy.evaluate(json.dumps(plain(r))))}

    def floor(self):
        import tempfile

        with tempfile.NamedTemporaryFile("w", suffix=".rego", delete=False) as file:
            file.write("package trivial\n\nyes := true\n")
        trivial = self._opa_eval.OpaEval(file.name, query="data.trivial.yes")
        Path(file.name).unlink()
        return lambda request: trivial.evaluate_parsed(json.dumps(plain(request)))


class RegorusPeer(Peer):
    """Rego on regorus 0.13 through its own Python binding (module `regorus`), compiled once to
    a program of its virtual machine (RVM). The binding is not on the PyPI under its own name:
    gordon-to-regorus is a build of microsoft/regorus published by a third party."""
    name, package, computes = "regorus (Rego, RVM)", "gordon-to-regorus", FULL
    api = ("Program.compile_from_modules once, Rvm().load_program once; "
           "rvm.set_input_json(JSON text), rvm.execute()")
    ENCODINGS = RegoPeer.ENCODINGS

    def load(self, path: Path) -> None:
        import regorus

        self._regorus = regorus
        self.text, self.query = path.read_text(), RegoPeer.QUERIES[path.name]
        self.vm = self._machine(path.name, self.text, self.query)

    def _machine(self, name: str, text: str, query: str):
        program = self._regorus.Program.compile_from_modules("{}", [(name, text)], [query])
        vm = self._regorus.Rvm()
        vm.load_program(program)
        return vm

    def decide(self, request: dict) -> dict:
        self.vm.set_input_json(json.dumps(plain(request)))
        result = json.loads(self.vm.execute())
        return _amounts(result, result["outcome"], result["reasons"])

    def other_apis(self) -> dict:
        engine = self._regorus.Engine()
        engine.add_policy(self.encoding, self.text)
        query = self.query

        def interpreted(request):
            engine.set_input(plain(request))
            return engine.eval_rule(query)
        return {"Engine().add_policy once; set_input(dict), eval_rule(query)": interpreted}

    def floor(self):
        vm = self._machine("trivial.rego", "package trivial\n\nyes := true\n", "data.trivial.yes")

        def trivial(request):
            vm.set_input_json(json.dumps(plain(request)))
            return json.loads(vm.execute())
        return trivial


class CedarPeer(Peer):
    """Cedar (cedarpy): authorization answers, combined by the host; no amounts.

    idiomatic: a request for the order and two per item (may it be returned, without a fee?),
    the items as entities. lean: one request per item, the order's and the item's facts in its
    context, no entity store."""
    name, package, computes = "cedarpy (Cedar)", "cedarpy", ELIGIBILITY
    api = "PolicySet.from_str once; is_authorized_batch(requests, policy set, entities)"
    ENCODINGS = {"idiomatic": "aputure.cedar", "lean": "aputure.lean.cedar"}

    PRINCIPAL = 'Customer::"customer"'
    RETURN = 'Action::"request_return"'
    RETURN_ITEM = 'Action::"return_item"'
    NO_FEE = 'Action::"return_without_fee"'
    FEE = "restocking_fee"  # the lean encoding's @id for "this item is charged a fee"
    ITEM_FACTS = ("returned", "free", "condition", "marks", "labels_tampered", "damage_cause",
                  "accessories_complete", "manuals_included", "warranty_card_blank",
                  "packing_material", "original_box", "upc_intact")

    def load(self, path: Path) -> None:
        import cedarpy

        self._cedar = cedarpy
        self.policies = cedarpy.PolicySet.from_str(path.read_text())
        self.no_entities = cedarpy.Entities.from_json_str("[]")
        self.marshal = self.marshal_lean if self.style == "lean" else self.marshal_idiomatic

    def marshal_idiomatic(self, request: dict) -> tuple[list, object]:
        """The authorization requests and the entity store (JSON) for one return request."""
        order = request["order"]
        context = {"request_day": day(request["request_date"]),
                   "delivery_day": day(order["delivery_date"]),
                   "proof": order["proof_of_purchase"]}
        requests = [{"principal": self.PRINCIPAL, "action": self.RETURN,
                     "resource": 'Order::"order"', "context": context}]
        entities = []
        facts = self.ITEM_FACTS
        for index, item in enumerate(request["items"]):
            uid = f'Item::"{index}"'
            entities.append({"uid": {"type": "Item", "id": str(index)}, "parents": [],
                             "attrs": {k: item[k] for k in facts if k in item}})
            requests.append({"principal": self.PRINCIPAL, "action": self.RETURN_ITEM, "resource": uid})
            requests.append({"principal": self.PRINCIPAL, "action": self.NO_FEE, "resource": uid})
        return requests, json.dumps(entities)

    def marshal_lean(self, request: dict) -> tuple[list, object]:
        """One request per item (one with the order's facts alone if there is no item)."""
        order = request["order"]
        context = {"request_day": day(request["request_date"]),
                   "delivery_day": day(order["delivery_date"]),
                   "proof": order["proof_of_purchase"]}
        facts = self.ITEM_FACTS
        requests = [{"principal": self.PRINCIPAL, "action": self.RETURN_ITEM,
                     "resource": f'Item::"{index}"',
                     "context": {**context, **{k: item[k] for k in facts if k in item}}}
                    for index, item in enumerate(request["items"])]
        return requests or [{"principal": self.PRINCIPAL, "action": self.RETURN_ITEM,
                             "resource": 'Item::"none"', "context": {**context, "returned": False}}
                            ], self.no_entities

    def decide(self, request: dict) -> dict:
        requests, entities = self.marshal(request)
        answers = self._cedar.is_authorized_batch(requests, self.policies, entities)
        reasons = set()
        with_fee = False
        for asked, answer in zip(requests, answers):
            if answer.allowed:
                continue
            if asked["action"] == self.NO_FEE:
                with_fee = True
                continue
            determining = set(answer.diagnostics.id_annotations_by_reason.values())
            if self.FEE in determining:
                with_fee = True
                determining.discard(self.FEE)
            reasons |= determining
        outcome = "refuse" if reasons else "approve_with_fee" if with_fee else "approve"
        return {"outcome": outcome, "reasons": sorted(reasons)}

    def floor(self):
        permit_all = self._cedar.PolicySet.from_str("permit (principal, action, resource);")

        def trivial(request):
            requests, entities = self.marshal(request)
            return [answer.allowed for answer in
                    self._cedar.is_authorized_batch(requests, permit_all, entities)]
        return trivial


class RuleEnginePeer(Peer):
    """rule-engine (pure Python): named rules evaluated in order, each adding a fact."""
    name, package, computes = "rule-engine (Python)", "rule-engine", FULL
    api = "Rule(text, context) once per rule; rule.evaluate(facts) in order"
    ENCODINGS = {"idiomatic": "aputure.rules", "lean": "aputure.lean.rules"}

    def load(self, path: Path) -> None:
        import rule_engine

        self.context = context = rule_engine.Context(default_value=None)
        self._rule_engine = rule_engine
        self.rules = [(name, rule_engine.Rule(text, context=context))
                      for name, text in read_rules(path.read_text())]

    def decide(self, request: dict) -> dict:
        facts = plain(request)
        for name, rule in self.rules:
            facts[name] = rule.evaluate(facts)
        return _amounts(facts, facts["outcome"], list(facts["reasons"]))

    def floor(self):
        rule = self._rule_engine.Rule("true", context=self.context)
        return lambda request: rule.evaluate(plain(request))


def read_rules(text: str) -> list[tuple[str, str]]:
    """`name = expression` lines; an indented line continues the expression; # comments."""
    rules: list[list[str]] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if line[0] in " \t":
            rules[-1][1] += " " + stripped
        else:
            name, _, expression = line.partition("=")
            rules.append([name.strip(), expression.strip()])
    return [(name, expression) for name, expression in rules]


PEERS = (ZenPeer, CelRustPeer, RegoPeer, RegorusPeer, CedarPeer, CelPythonPeer, RuleEnginePeer)
