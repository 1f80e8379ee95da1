"""The rpl policy language: grammar, parser and syntax tree."""
from .errors import Diagnostic, PolicyError, RequestError, RequestProblem, RplError
from .span import Source, Span


def parse_policy(text: str, filename: str = "<policy>"):
    """Parse a whole policy file (see `rplang.policy_lang.parser`); Lark is imported on first use."""
    from .parser import parse_policy as parse

    return parse(text, filename)


__all__ = ["Diagnostic", "PolicyError", "RequestError", "RequestProblem", "RplError",
           "Source", "Span", "parse_policy"]
