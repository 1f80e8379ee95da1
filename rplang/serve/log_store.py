"""The decision log's SQLite file: its tables, and the queries `rpl log` runs on it.

Only the standard library here: `rpl log` reads a log without the service's dependencies.
"""
from __future__ import annotations

import datetime
import json
import os
import pathlib
import secrets
import sqlite3
import stat

SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    id          INTEGER PRIMARY KEY,
    time        TEXT NOT NULL,     -- UTC, ISO 8601 with milliseconds: sorts as it reads
    request_id  TEXT NOT NULL,
    line        INTEGER,           -- the line of an NDJSON batch; NULL for a single request
    policy      TEXT NOT NULL,
    version     TEXT,
    text_hash   TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    as_of       TEXT,              -- the `as_of` date asked, if any
    partial     INTEGER NOT NULL,  -- 1 for a residual decision
    request     TEXT NOT NULL,     -- the request as received
    outputs     TEXT NOT NULL,     -- JSON, as in the decision
    rules       TEXT NOT NULL      -- JSON list of the rules that determined the decision
);
CREATE INDEX IF NOT EXISTS decisions_request_id ON decisions (request_id);
CREATE INDEX IF NOT EXISTS decisions_time ON decisions (time);
CREATE INDEX IF NOT EXISTS decisions_policy ON decisions (policy, outcome);
CREATE TABLE IF NOT EXISTS policy_texts (
    text_hash   TEXT PRIMARY KEY,
    policy      TEXT NOT NULL,
    file        TEXT NOT NULL,
    loaded_at   TEXT NOT NULL,
    text        TEXT NOT NULL
);
"""

# A log's mark in SQLite's header (`PRAGMA application_id`, its bytes 68 to 71, "rpld") and its
# identity, drawn when it is made (`PRAGMA user_version`, bytes 60 to 63): a copy of another log
# written over a log in place tells itself by them (`log_file.written_over`)
LOG_APPLICATION_ID = 0x72706C64

BUSY_SECONDS = 30  # how long `rpl log` waits for a writer to let go of the log
LARGEST_ID = 2 ** 63 - 1  # SQLite's largest integer

COLUMNS = ("id", "time", "request_id", "line", "policy", "version", "text_hash", "outcome", "as_of",
           "partial", "request", "outputs", "rules")


def check_file(path: str) -> None:
    """A DatabaseError for a path that is there and is no file: SQLite would open a device or a
    pipe, fail on it, and leave its journal beside it (`/dev/null-journal`)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:  # not there (made by `connect`), or not to be reached: SQLite says why
        return
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "a pipe" if stat.S_ISFIFO(mode) else "a device or a socket"
        raise sqlite3.DatabaseError(f"{kind}, not a file")


def connect(path: str) -> sqlite3.Connection:
    """A connection to a log file, created with its tables if new; WAL, so readers never wait."""
    check_file(path)
    connection = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    try:
        # another program's database is left as it is: WAL and the log's tables would be its own
        tables = sorted(name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
        if tables and "decisions" not in tables:
            raise sqlite3.DatabaseError(f"another program's database (its tables: {', '.join(tables[:5])}"
                                        f"{', ...' if len(tables) > 5 else ''}); name a file of its own")
        if not tables:
            _stamp(connection)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")  # WAL: a commit survives the process dying
        connection.executescript(SCHEMA)
    except BaseException:  # a folder that cannot be written: the writer tries again, and must not leak
        connection.close()
        raise
    return connection


def _stamp(connection: sqlite3.Connection) -> None:
    """Mark a new log, and give it an identity of its own, once: in one transaction that another
    process making the same file at once (another worker's writer) waits for, and before the log is
    switched to WAL, so that the header that holds them is in the file itself from the start, and
    stays the same there whatever is written after (another program's empty database, marked
    already, is left as it is)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        (marked,) = connection.execute("PRAGMA application_id").fetchone()
        made = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if not marked and not made:
            connection.execute(f"PRAGMA application_id = {LOG_APPLICATION_ID}")
            connection.execute(f"PRAGMA user_version = {secrets.randbelow(2 ** 31 - 1) + 1}")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def open_log(path: str) -> sqlite3.Connection:
    """A connection to an existing log, to read it (or delete from it): nothing is created, in a
    file that is not a log or in another program's database; either is a DatabaseError."""
    check_file(path)
    uri = f"{pathlib.Path(path).absolute().as_uri()}?mode=rw"  # never created, as `connect` would
    connection = sqlite3.connect(uri, uri=True, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False)
    try:  # `sqlite_master`: the name every SQLite knows (`sqlite_schema` is 3.33's)
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"decisions", "policy_texts"} <= tables:
            raise sqlite3.DatabaseError("it holds no decisions table")
    except BaseException:
        connection.close()
        raise
    return connection


def log_time(moment: float | datetime.datetime) -> str:
    """The one way a time is written in the log, so that comparing the text compares the times."""
    if not isinstance(moment, datetime.datetime):
        moment = datetime.datetime.fromtimestamp(moment, datetime.timezone.utc)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc).isoformat(timespec="milliseconds")


def select(connection: sqlite3.Connection, request_id=None, policy=None, outcome=None, since=None,
           until=None, ids=None, limit=None):
    """The decisions that match every filter given, oldest first, as dicts (JSON columns parsed)."""
    where, values = [], []
    for column, value in (("request_id", request_id), ("policy", policy), ("outcome", outcome)):
        if value is not None:
            where.append(f"{column} = ?")
            values.append(value)
    if since is not None:
        where.append("time >= ?")
        values.append(log_time(since))
    if until is not None:
        where.append("time < ?")
        values.append(log_time(until))
    if ids is not None:
        where.append(f"id IN ({', '.join('?' * len(ids))})")
        values.extend(ids)
    sql = f"SELECT {', '.join(COLUMNS)} FROM decisions"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id"
    if limit is not None:
        sql += " LIMIT ?"
        values.append(min(limit, LARGEST_ID))  # more than SQLite counts: all
    for row in connection.execute(sql, values):
        entry = dict(zip(COLUMNS, row))
        entry["partial"] = bool(entry["partial"])
        entry["outputs"], entry["rules"] = json.loads(entry["outputs"]), json.loads(entry["rules"])
        yield entry


def recorded(connection: sqlite3.Connection, column: str) -> list[str]:
    """The policies (or outcomes) of the log's decisions, each once, read from their index."""
    assert column in ("policy", "outcome")  # a column name, never a value, goes into the SQL
    return [name for name, in connection.execute(f"SELECT DISTINCT {column} FROM decisions ORDER BY 1")]


def policy_text(connection: sqlite3.Connection, text_hash: str) -> tuple[str, str] | None:
    """The file name and text of a policy by its hash, if the log still holds it."""
    row = connection.execute("SELECT file, text FROM policy_texts WHERE text_hash = ?", (text_hash,)).fetchone()
    return (row[0], row[1]) if row else None


def retain(connection: sqlite3.Connection, before: datetime.datetime) -> tuple[int, int]:
    """Delete the decisions made before `before`, and the policy texts loaded before it that no
    decision left names and a later text of the same file replaced; the numbers of each deleted.
    The last text loaded of a file is kept: a server may be serving it still, however long ago it
    last decided, and its next decision must be replayable."""
    cutoff = log_time(before)
    connection.execute("BEGIN IMMEDIATE")
    decisions = connection.execute("DELETE FROM decisions WHERE time < ?", (cutoff,)).rowcount
    texts = connection.execute(
        "DELETE FROM policy_texts WHERE loaded_at < ? AND text_hash NOT IN "
        "(SELECT DISTINCT text_hash FROM decisions) AND EXISTS (SELECT 1 FROM policy_texts AS later "
        "WHERE later.policy = policy_texts.policy AND later.file = policy_texts.file "
        "AND later.loaded_at > policy_texts.loaded_at)", (cutoff,)).rowcount
    connection.execute("COMMIT")
    return decisions, texts
