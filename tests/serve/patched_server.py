"""`rpl` with a patch for a test, chosen by RPL_TEST_PATCH:

- `fault`: a request holding `"plant_fault": true` raises an error rpl does not expect, as a bug
  would (for the 500 answers);
- `slow-log`: the decision log's writer takes 0.3 s to write each batch, as on a slow disk, so
  that decisions are still queued when the server is told to stop (for the drain on SIGTERM).
  The writer is a process of its own: this file runs it too (`patched_server.py log-writer FILE`).
  With RPL_TEST_LOG_QUEUE, the bound of the queue of decisions waiting for the writer, in bytes.
- `h11`: httptools cannot be imported, so uvicorn parses requests with h11, as where httptools is
  not installed (one worker: a worker process would import it).
"""
import os
import sys
import time

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
    from rplang.serve import decision_log, log_file, log_writer

    if sys.argv[1:2] == ["log-writer"]:
        _write = log_file.write_rows

        def slow_write(connection, texts, decisions):
            time.sleep(0.3)
            _write(connection, texts, decisions)

        log_file.write_rows = slow_write
        log_writer.main(sys.argv[2:])
        sys.exit(0)
    decision_log.WRITER = [sys.executable, __file__, "log-writer"]
    # a queue bound small enough for a test to reach (RPL_TEST_LOG_QUEUE bytes), when given
    decision_log.MAX_QUEUED_BYTES = int(os.environ.get("RPL_TEST_LOG_QUEUE") or decision_log.MAX_QUEUED_BYTES)
elif patch == "h11":
    sys.modules["httptools"] = None  # an import of it fails, as if it were not installed
else:
    raise SystemExit(f"unknown RPL_TEST_PATCH {patch}")

from rplang.cli import main  # noqa: E402 (after the patches)

sys.exit(main(sys.argv[1:]))
