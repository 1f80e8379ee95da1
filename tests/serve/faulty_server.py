"""`rpl` with a fault planted in the decision path: a request holding `"plant_fault": true`
raises an error rpl does not expect, as a bug would. For the tests of 500 answers only."""
import sys

from rplang.cli import main
from rplang.runtime.decide import CompiledPolicy

_decide = CompiledPolicy.decide


def decide_with_a_fault(self, data, as_of=None):
    if isinstance(data, dict) and data.get("plant_fault"):
        raise RuntimeError("a planted fault")
    return _decide(self, data, as_of)


CompiledPolicy.decide = decide_with_a_fault
sys.exit(main(sys.argv[1:]))
