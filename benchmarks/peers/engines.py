"""The peer engines behind one interface: load an encoding once, decide a request dict.

Every `decide(request)` does the whole job an application would pay for: marshal the request
dict into what the engine takes (marshalling.py, plus the engine's own form: JSON text for
regorus, entities for Cedar, CEL values for cel-python), evaluate, and turn the answer back into
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


class Peer:
    name: str           # shown in the table
    package: str        # the PyPI distribution
    encoding: str       # the file in benchmarks/peers/ that holds the policy
    computes: str       # ELIGIBILITY or FULL

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


def _amounts(result: dict, outcome: str, reasons) -> dict:
    return {"outcome": outcome, "reasons": reasons,
            "refund": money(int(result["refund"])),
            "restocking_fee": money(int(result["restocking_fee"])),
            "free_items_deduction": money(int(result["free_items_deduction"]))}


class ZenPeer(Peer):
    """GoRules Zen: a JDM decision graph (expression node, decision tables)."""
    name, package, encoding, computes = "zen-engine (GoRules JDM)", "zen-engine", "aputure.jdm.json", FULL

    def __init__(self):
        import zen

        self.decision = zen.ZenEngine().create_decision((HERE / self.encoding).read_text())
        self._zen = zen

    def decide(self, request: dict) -> dict:
        result = self.decision.evaluate(plain(request))["result"]
        return _amounts(result, result["outcome"], result["reasons"])

    def floor(self):
        empty = self._zen.ZenEngine().create_decision(json.dumps({"nodes": [
            {"id": "in", "type": "inputNode", "name": "in", "position": {"x": 0, "y": 0}},
            {"id": "out", "type": "outputNode", "name": "out", "position": {"x": 0, "y": 0}}],
            "edges": [{"id": "e", "sourceId": "in", "targetId": "out", "type": "edge"}]}))
        return lambda request: empty.evaluate(plain(request))["result"]


def _cel_source() -> str:
    return (HERE / "aputure.cel").read_text()


class CelRustPeer(Peer):
    """CEL in Rust (the `cel` crate) through common-expression-language."""
    name, package, encoding, computes = ("common-expression-language (CEL, Rust)",
                                         "common-expression-language", "aputure.cel", FULL)

    def __init__(self):
        import cel

        self._cel = cel
        self.program = cel.compile(_cel_source())
        self.functions = {"sum": sum}

    def decide(self, request: dict) -> dict:
        context = self._cel.Context(variables=plain(request), functions=self.functions)
        result = self.program.execute(context)
        return _amounts(result, result["outcome"], result["reasons"])

    def floor(self):
        program, cel, functions = self._cel.compile("true"), self._cel, self.functions
        return lambda request: program.execute(cel.Context(variables=plain(request), functions=functions))


class CelPythonPeer(Peer):
    """CEL in pure Python (cel-python, `celpy`): the same aputure.cel."""
    name, package, encoding, computes = "cel-python (CEL, Python)", "cel-python", "aputure.cel", FULL

    def __init__(self):
        import logging

        import celpy
        from celpy import celtypes

        logging.getLogger("celpy").setLevel(logging.WARNING)
        self._to_cel = celpy.json_to_cel
        self.env = env = celpy.Environment()
        self.program = env.program(env.compile(_cel_source()),
                                   functions={"sum": lambda xs: celtypes.IntType(sum(xs))})

    def decide(self, request: dict) -> dict:
        result = self.program.evaluate(self._to_cel(plain(request)))
        return _amounts(result, str(result["outcome"]), [str(r) for r in result["reasons"]])

    def floor(self):
        program, to_cel = self.env.program(self.env.compile("true")), self._to_cel
        return lambda request: program.evaluate(to_cel(plain(request)))


class RegoPeer(Peer):
    """Rego on regorus (Rust), through opa-eval (the PyPI has no `regorus` package)."""
    name, package, encoding, computes = "opa-eval (Rego on regorus)", "opa-eval", "aputure.rego", FULL

    def __init__(self):
        import opa_eval

        self._opa_eval = opa_eval
        self.policy = opa_eval.OpaEval(str(HERE / self.encoding), query="data.aputure.decision")

    def decide(self, request: dict) -> dict:
        result = self.policy.evaluate_parsed(json.dumps(plain(request)))
        return _amounts(result, result["outcome"], result["reasons"])

    def floor(self):
        import tempfile

        with tempfile.NamedTemporaryFile("w", suffix=".rego", delete=False) as file:
            file.write("package trivial\n\nyes := true\n")
        trivial = self._opa_eval.OpaEval(file.name, query="data.trivial.yes")
        Path(file.name).unlink()
        return lambda request: trivial.evaluate_parsed(json.dumps(plain(request)))


class CedarPeer(Peer):
    """Cedar (cedarpy): authorization answers per request and per item; no amounts."""
    name, package, encoding, computes = "cedarpy (Cedar)", "cedarpy", "aputure.cedar", ELIGIBILITY

    PRINCIPAL = 'Customer::"customer"'
    RETURN = 'Action::"request_return"'
    RETURN_ITEM = 'Action::"return_item"'
    NO_FEE = 'Action::"return_without_fee"'
    ITEM_FACTS = ("returned", "free", "condition", "marks", "labels_tampered", "damage_cause",
                  "accessories_complete", "manuals_included", "warranty_card_blank",
                  "packing_material", "original_box", "upc_intact")

    def __init__(self):
        import cedarpy

        self._cedar = cedarpy
        self.policies = cedarpy.PolicySet.from_str((HERE / self.encoding).read_text())

    def marshal(self, request: dict) -> tuple[list, str]:
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
            else:
                reasons.update(answer.diagnostics.id_annotations_by_reason.values())
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
    name, package, encoding, computes = "rule-engine (Python)", "rule-engine", "aputure.rules", FULL

    def __init__(self):
        import rule_engine

        self.context = context = rule_engine.Context(default_value=None)
        self._rule_engine = rule_engine
        self.rules = [(name, rule_engine.Rule(text, context=context))
                      for name, text in read_rules((HERE / self.encoding).read_text())]

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


PEERS = (ZenPeer, CelRustPeer, RegoPeer, CedarPeer, CelPythonPeer, RuleEnginePeer)
