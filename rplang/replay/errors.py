"""What can stop a replay before any row is decided: an input it cannot read, a column that is
not a field of the request, a construct the SQL compiler cannot lower yet."""
from __future__ import annotations

from rplang.policy_lang.errors import RplError


class ReplayError(RplError):
    """The replay cannot start: the message says why, and what to do instead."""


class NotLowerable(ReplayError):
    """A construct of the policy that the SQL compiler cannot lower yet; `--via python` decides it."""

    def __init__(self, construct: str, where: str | None = None):
        self.construct = construct
        at = f" ({where})" if where else ""
        super().__init__(f"the SQL compiler cannot lower {construct} yet{at}; "
                         "decide with --via python, the ordinary runtime inside the engine")
