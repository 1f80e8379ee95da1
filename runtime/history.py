"""Versions of one policy, each in force from its `effective` date.

A folder of versions is loaded as one history. A request is decided under the version in force on
its terms date (`terms by ...`, the same in every version), or on the date asked with `as_of`.
"""
from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from rplang.policy_lang.errors import Diagnostic, EvaluationError, PolicyError, RplError

from .decide import CompiledPolicy
from .decision import Decision
from .evaluate import Env
from .request_text import read_request_json

if TYPE_CHECKING:
    from .residual import ResidualDecision


class PolicyHistory:
    """The versions of a policy, oldest first; decides like a CompiledPolicy."""

    def __init__(self, versions: list[CompiledPolicy]):
        problems = []
        for v in versions:
            if v.checked.effective is None:
                problems.append(Diagnostic(
                    "RPL055", "a version of a policy needs the date it takes effect", _start(v),
                    "write `effective YYYY-MM-DD` at the top of each version"))
        dated = sorted((v for v in versions if v.checked.effective is not None),
                       key=lambda v: v.checked.effective)
        for before, after in zip(dated, dated[1:]):
            if before.checked.effective == after.checked.effective:
                problems.append(Diagnostic(
                    "RPL056", f"two versions take effect on {after.checked.effective}", _start(after),
                    f"{before.checked.source_name} takes effect on the same day: give each version its own date"))
        selectors = {v.checked.terms for v in dated}
        if len(selectors) > 1:
            problems.append(Diagnostic(
                "RPL057", "the versions choose their terms by different dates", _start(dated[-1]),
                "every version must say the same `terms by ...`, or a request could fall between them"))
        if dated and dated[0].checked.terms is None:
            problems.append(Diagnostic(
                "RPL054", "versions need the date that chooses between them", _start(dated[0]),
                "say which date of the request chooses the version, like `terms by order.purchase_date`"))
        if problems:
            raise PolicyError(problems)
        if not dated:
            raise PolicyError([Diagnostic("RPL055", "no version of the policy was found", None,
                                          "put the versions' .rpl files in the folder")])
        self.versions = dated
        self.latest = dated[-1]

    @property
    def checked(self):
        """The latest version's checked policy (for rpl's own tools)."""
        return self.latest.checked

    @property
    def name(self) -> str:
        """The policy's name, as its latest version gives it."""
        return self.latest.name

    def version_on(self, day: datetime.date) -> CompiledPolicy:
        """The version in force on `day`."""
        in_force = [v for v in self.versions if v.checked.effective <= day]
        if not in_force:
            periods = "; ".join(f"{v.checked.version or v.checked.source_name} from {v.checked.effective}"
                                for v in self.versions)
            raise EvaluationError(f"no version of the policy is in force on {day}: the versions are {periods}")
        return in_force[-1]

    def decide(self, data: object, as_of: datetime.date | None = None) -> Decision:
        """Decide under the version in force on the request's terms date (or on `as_of`)."""
        request = self.latest.read_request(data)
        day = as_of or self.latest.evaluator.fn(self.latest.checked.terms)(Env(request))
        version = self.version_on(day)
        decision = version.decide(data, as_of) if version is not self.latest else \
            version.decide_checked(request, as_of)
        decision.version_note = self._note(version, day)
        return decision

    def decide_json(self, text: str | bytes, as_of: datetime.date | None = None) -> Decision:
        """`decide` of a request given as JSON text."""
        return self.decide(read_request_json(text), as_of)

    def decide_partial(self, data: object, unknown_at: bool | set[str] = True,
                       as_of: datetime.date | None = None) -> ResidualDecision:
        """`CompiledPolicy.decide_partial` under the version in force on the request's terms date
        (or on `as_of`), which must be known: the version decides which facts are open."""
        from .residual import decide_partial_checked

        request = self.latest.reader.read(data, unknown_at=unknown_at)
        day = as_of or self._terms_date(request)
        version = self.version_on(day)
        if version is not self.latest:  # the versions may differ in what they ask
            request = version.reader.read(data, unknown_at=unknown_at)
        residual = decide_partial_checked(version, request, as_of)
        residual.version_note = self._note(version, day)
        if residual.decision is not None:
            residual.decision.version_note = residual.version_note
        return residual

    def _terms_date(self, request: dict) -> datetime.date:
        selector = self.latest.checked.terms
        try:
            day = self.latest.evaluator.fn(selector)(Env(request))
        except (RplError, ArithmeticError, TypeError, AttributeError):
            day = None
        if not isinstance(day, datetime.date):  # a fact declared `at STAGE`, left out
            text = " ".join(selector.span.text.split()) if selector.span is not None else "terms by"
            raise EvaluationError(f"the version in force is chosen by `{text}`, which is not known "
                                  "yet: give it, or choose the version with `as_of`")
        return day


    def _note(self, version: CompiledPolicy, day: datetime.date) -> dict[str, str]:
        """Which version decided on `day`, and why (a decision's first `terms` entry)."""
        later = [v for v in self.versions if v.checked.effective > version.checked.effective]
        until = f" until {later[0].checked.effective - datetime.timedelta(days=1)}" if later else ""
        return {
            "version": version.checked.version, "file": version.checked.source_name,
            "effective": version.checked.effective.isoformat(), "date": day.isoformat(),
            "sentence": f"{day}: version {version.checked.version or version.checked.source_name} "
                        f"applies, in force from {version.checked.effective}{until}"}


def _start(version: CompiledPolicy):
    """The start of a version's file, to say which file a problem is about."""
    from rplang.policy_lang.span import Span

    span = next((r.span for r in version.checked.rules if r.span is not None), None)
    return Span(span.source, 0, 0) if span is not None else None
