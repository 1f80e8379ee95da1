"""The static checks take time linear in the policy, also when values are built on values
(issue 15, 3: `let aK = a(K-1) + a(K-1)` doubled the work with each `let`)."""
from __future__ import annotations

import signal

import pytest

from rplang.compiler.lint import check_policy_text


class _TookTooLong(Exception):
    pass


def _doubling(n: int, condition: str) -> str:
    lets = "".join(f"let a{k} = a{k - 1} + a{k - 1}\n" for k in range(1, n + 1))
    return ('outcomes:\n  refuse "R"\n  approve "A"\nrequest:\n  n: integer\n  m: integer\nlet a0 = n\n'
            + lets + f"rule r:\n  when {condition}\n  then refuse\noutput outcome\n")


@pytest.mark.parametrize("condition", ["a30 > 5", "a30 > m and a30 <= m", "a30 > a29 and a30 < a29"])
def test_values_built_on_values_are_checked_in_time(condition):
    """2**30 terms written out: finishes within seconds when shared values are looked at once,
    in hours otherwise (a guard against hanging, not a speed measurement)."""
    def alarm(signum, frame):
        raise _TookTooLong

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(30)
    try:
        codes = [d.code for d in check_policy_text(_doubling(30, condition), "doubling.rpl")]
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert "RPL110" in codes  # the checks ran to the end
    if "and" in condition:
        assert "RPL120" in codes  # and still find the contradiction
