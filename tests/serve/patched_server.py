"""`rpl` with a patch for a test, chosen by RPL_TEST_PATCH:

- `fault`: a request holding `"plant_fault": true` raises an error rpl does not expect, as a bug
  would (for the 500 answers);
- `slow-log`: the decision log takes 0.3 s to write each batch, as on a slow disk, so that
  decisions are still queued when the server is told to stop (for the drain on SIGTERM).
"""
import os
import sys
import time

from rplang.cli import main

patch = os.environ["RPL_TEST_PATCH"]
if patch == "fault":
    from rplang.runtime.decide import CompiledPolicy

    _decide = CompiledPolicy.decide

    def decide_with_a_fault(self, data, as_of=None):
        if isinstance(data, dict) and data.get("plant_fault"):
            raise RuntimeError("a planted fault")
        return _decide(self, data, as_of)

    CompiledPolicy.decide = decide_with_a_fault
elif patch == "slow-log":
    from rplang.serve.decision_log import DecisionLog

    _write = DecisionLog._write

    def slow_write(connection, batch):
        time.sleep(0.3)
        _write(connection, batch)

    DecisionLog._write = staticmethod(slow_write)
else:
    raise SystemExit(f"unknown RPL_TEST_PATCH {patch}")
sys.exit(main(sys.argv[1:]))
