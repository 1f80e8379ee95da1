"""The decision log's writer process: `python -m rplang.serve.log_writer FILE`, started by the
server (`decision_log.DecisionLog`), reads batches of rows from its standard input and commits
each batch to FILE in one transaction.

It stops at the end of its input only: SIGINT and SIGTERM are ignored, so a signal sent to the
server's whole process group still lets the server hand over what it holds, and lets this
process write it. A batch that fails to be written is logged with its size, and the next goes on.
"""
from __future__ import annotations

import logging
import pickle
import signal
import sqlite3
import sys

import orjson

from .log_store import connect, log_time

log = logging.getLogger("rpl.serve")

INSERT_DECISION = ("INSERT INTO decisions (time, request_id, line, policy, version, text_hash, outcome, as_of,"
                   " partial, request, outputs, rules) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
INSERT_TEXT = "INSERT OR IGNORE INTO policy_texts VALUES (?, ?, ?, ?, ?)"


def write_batch(connection: sqlite3.Connection, batch: list) -> None:
    """One batch of `("text", row)` and `("decision", row)` entries, in one transaction; the texts
    first, so that no decision names a text the log does not hold yet."""
    texts = [row for kind, row in batch if kind == "text"]
    decisions = [decision_columns(row) for kind, row in batch if kind == "decision"]
    connection.execute("BEGIN")
    try:
        connection.executemany(INSERT_TEXT, texts)
        connection.executemany(INSERT_DECISION, decisions)
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def decision_columns(row: tuple) -> tuple:
    """A row as the server made it (`decision_log.decision_row`) as the table's columns: the time
    written as the log writes times, the JSON as text."""
    moment, request_id, line, policy, version, text_hash, outcome, as_of, partial, request, outputs, rules = row
    return (log_time(moment), request_id, line, policy, version, text_hash, outcome, as_of, partial,
            request.decode("utf-8", "replace"), outputs.decode(), orjson.dumps(rules).decode())


def main(argv: list[str]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    connection = connect(argv[0])
    pipe = sys.stdin.buffer
    while True:
        try:
            batch = pickle.load(pipe)
        except EOFError:  # the server closed the pipe: all is written
            break
        except pickle.UnpicklingError:  # the server died while handing a batch over
            log.error("the decision log's last batch was cut short; it is not written")
            break
        try:
            write_batch(connection, batch)
        except Exception:  # a fault here must not stop the log: say what was lost
            log.exception("the decision log failed to write %d entries", len(batch))
    connection.close()


if __name__ == "__main__":
    main(sys.argv[1:])
