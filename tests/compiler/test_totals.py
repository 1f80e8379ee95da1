"""A total output is the sum of what rules add: it has no default to start from."""
import pytest

from rplang.compiler import compile_policy
from rplang.policy_lang.errors import PolicyError


def test_a_default_on_a_total_is_refused_where_it_is_written():
    with pytest.raises(PolicyError) as caught:
        compile_policy("request:\n  n: integer\noutput t: money total = 5.00\n", "t.rpl")
    (problem,) = caught.value.diagnostics
    assert (problem.code, problem.span.line, problem.span.text) == ("RPL044", 3, "5.00")
    assert problem.message.startswith("a total has no default")
