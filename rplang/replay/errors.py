"""What can stop a replay before any row is decided: an input it cannot read, a column that is
not a field of the request, a construct the SQL compiler cannot lower yet; and the one thing that
makes a row the policy decides a reject: an amount too large for its column."""
from __future__ import annotations

from rplang.policy_lang.errors import RplError

ERROR = "error"  # the column of a reject: the error as `rpl eval` prints it, in JSON


class ReplayError(RplError):
    """The replay cannot start: the message says why, and what to do instead."""


def not_parquet(file: str, error: Exception) -> ReplayError:
    """A file named as Parquet that its reader refuses (empty, cut short, of another format)."""
    return ReplayError(f"{file}: not a Parquet file ({str(error).splitlines()[0]})")


def unreadable(what: str, error: Exception | str) -> ReplayError:
    """A Parquet file whose footer was read but whose rows cannot be (a page cut short or
    spoilt): the input's fault, never OUT's nor a bug in rpl."""
    return ReplayError(f"{what}: its rows cannot be read ({str(error).splitlines()[0]})")


class NotLowerable(ReplayError):
    """A construct of the policy that the SQL compiler cannot lower yet; `--via python` decides it."""

    def __init__(self, construct: str, where: str | None = None):
        self.construct = construct
        at = f" ({where})" if where else ""
        super().__init__(f"the SQL compiler cannot lower {construct} yet{at}; "
                         "decide with --via python, the ordinary runtime inside the engine")


class OutputTooLarge(RplError):
    """A decided amount with more digits than its column holds: the row is a reject saying so,
    never a cut amount (`rpl eval` prints it, with up to 60 digits)."""

    def __init__(self, output: str, value, column):
        self.output, self.value = output, value
        whole = column.precision - column.scale
        super().__init__(f"output `{output}` is {value}: more than {whole} digits before the point, "
                         f"more than its column DECIMAL({column.precision},{column.scale}) holds")

    def to_json(self) -> dict:
        return {"kind": "output_too_large", "message": str(self), "output": self.output, "value": f"{self.value:f}"}
