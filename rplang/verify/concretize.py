"""The concretizer: a solver model back into a request JSON, which the runtime then decides.

It walks the request's declared fields beside their variables, so the request has exactly the
fields a reader expects: a field given `when` a fact is false is left out, an optional field not
given is left out, a list holds as many elements as its length says.
"""
from __future__ import annotations

import datetime
from fractions import Fraction

import z3

from rplang.compiler import types as T
from rplang.compiler.checked import CheckedPolicy

from .domain import Texts
from .symbolic import Opt, SymList, SymRecord


def request_json(model: z3.ModelRef, policy: CheckedPolicy, record: SymRecord, texts: Texts) -> dict:
    """The request the model describes, as JSON a request file holds."""
    return _record(model, policy, policy.request, record, texts)


def _record(model, policy, fields: dict, record: SymRecord, texts: Texts) -> dict:
    out = {}
    for name, spec in fields.items():
        value = record.fields[name]
        if isinstance(value, Opt):
            if not _true(model, value.present):
                continue  # not given, or given only when a fact that is false
            value = value.value
        t = spec.type.inner if isinstance(spec.type, T.OptionalType) else spec.type
        out[name] = _value(model, policy, t, value, texts)
    return out


def _value(model, policy, t: T.Type, value, texts: Texts):
    if isinstance(t, T.RecordType):
        return _record(model, policy, policy.records[t.name], value, texts)
    if isinstance(value, SymList):
        return [_value(model, policy, t.element, x, texts) for present, x in value.slots if _true(model, present)]
    if isinstance(value, Opt):
        return _value(model, policy, t, value.value, texts) if _true(model, value.present) else None
    if t is T.BOOLEAN:
        return _true(model, value)
    number = _number(model, value)
    if t is T.DATE:
        return datetime.date.fromordinal(int(number)).isoformat()
    if t is T.MONEY:
        cents = int(number)
        return f"{cents // 100}.{cents % 100:02d}"
    if t is T.PERCENT:
        return f"{_decimal_text(number)}%"
    if isinstance(t, T.EnumType):
        return t.members[int(number)]
    if t is T.TEXT:
        return texts.text(int(number))
    return int(number)


def _true(model, term) -> bool:
    return z3.is_true(model.eval(term, model_completion=True))


def _number(model, term) -> Fraction:
    value = model.eval(term, model_completion=True)
    if z3.is_int_value(value):
        return Fraction(value.as_long())
    return Fraction(value.numerator_as_long(), value.denominator_as_long())


def _decimal_text(number: Fraction) -> str:
    whole, rest = divmod(number * 10_000, 1)
    assert rest == 0, "a percentage has at most 4 decimals"
    text = f"{int(whole) // 10_000}.{int(whole) % 10_000:04d}".rstrip("0").rstrip(".")
    return text
