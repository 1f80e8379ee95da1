"""The decision log's state, as the service reports it (`/readyz`, the metric
`rpl_decision_log_state`), and what an operator does about each.

The writer process knows whether it is recording (`log_file.LogFile.state`) and tells the server
(`decision_log.DecisionLog`), which knows besides whether the writer is still there. With
`--workers N`, each worker has its own writer: the server's state is the worst of its workers'
(`metrics` shares them), since a load balancer asks one worker about all of them.
"""
from __future__ import annotations

OK = "ok"  # every decision handed to the writer is recorded
FAILING = "failing"  # FILE cannot be written, or opened anew: the writer holds the decisions and tries again
WRITTEN_OVER = "written_over"  # FILE was emptied or written over in place: what is recorded is being lost
STOPPED = "stopped"  # the writer process is gone: nothing is recorded until the server restarts
STATES = (OK, FAILING, WRITTEN_OVER, STOPPED)  # from the best to the worst

# the decisions' bytes a writer holds while FILE cannot be written: past this, the oldest are lost
# (as much as the server's own queue holds before requests wait for the writer)
HELD_BYTES = 64 * 1024 * 1024

# `/readyz?decision_log=true`'s problem when the log is not OK
PROBLEM = ("urn:rpl:problem:decision-log", "decisions are not being recorded")


def worst(states) -> str:
    return max(states, key=STATES.index, default=OK)


def advice(state: str, path: str | None) -> str:
    """What `state` means for the log `path`, and what to do about it; without `path` (a request
    without the token a server asks for), FILE stands for it, and the advice says what FILE is."""
    text = _advice(state, path if path is not None else "FILE")
    return text if path is not None else f"{text} (FILE: the file the server's --log-db names)"


def _advice(state: str, path: str) -> str:
    if state == WRITTEN_OVER:
        return (f"the decision log {path} was emptied or written over in place (`cp` or `: >` onto it, logrotate's "
                f"copytruncate) while the server has it open: SQLite goes on with the log it holds, and its next "
                f"checkpoint writes over what is in {path} now; the decisions since are held in memory (up to "
                f"{HELD_BYTES // 2 ** 20} MiB). Move the file aside (`mv {path} {path}.damaged`): the server opens "
                f"{path} anew within a second and records there what it held and what comes. Rotate the log with "
                f"`mv`, never with a copy or a truncation")
    if state == FAILING:
        return (f"the decision log {path} cannot be written (a full disk, a file or folder that cannot be written, "
                f"its folder removed; the server's log has SQLite's error): the decisions are held in memory (up to "
                f"{HELD_BYTES // 2 ** 20} MiB, past which the oldest are lost) and recorded as soon as {path} can "
                f"be written again; free disk space or give the server back the right to write there")
    if state == STOPPED:
        return (f"the decision log's writer process stopped (the server's log says why): no decision is recorded "
                f"in {path} any more; restart the server")
    return f"the decision log {path} records every decision"
