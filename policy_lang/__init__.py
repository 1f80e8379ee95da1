"""The rpl policy language: grammar, parser and syntax tree."""
from .errors import Diagnostic, PolicyError, RequestError, RequestProblem, RplError
from .parser import parse_policy
from .span import Source, Span

__all__ = ["Diagnostic", "PolicyError", "RequestError", "RequestProblem", "RplError",
           "Source", "Span", "parse_policy"]
