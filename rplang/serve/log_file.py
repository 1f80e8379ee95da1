"""The decision log's file as the writer process holds it, followed when FILE stops being it.

SQLite writes to the file it opened, whatever its name becomes: an operator's `rm`, or a move
as logrotate makes one, would leave the writer recording into a file nobody can open any more,
and every later decision lost, silently. So before each batch (and each check) the writer compares
FILE's inode with the one it opened (one `stat` a batch, in this process: nothing on the server's
request path), and when they differ it closes the old file and opens FILE anew, as at start-up.

The new file must replay its decisions alone (`rpl log --replay` reads the text from the log), so
the texts the policies are served with are written into it first. The writer has seen every text
record; it keeps in memory those of each policy's last load, and of the load before that, for the
decisions a request was still making with the replaced text when the new one was recorded (they
reach the writer after it). A text is a few kB, and a policy holds two loads: the memory is that of
the texts served, not of the server's history (a policy no longer served keeps its last two: the
writer is not told of removals, and they cost as little).

A file written over or emptied in place (`cp`, `: >`, logrotate's `copytruncate`) keeps its
inode: SQLite goes on with the log it holds in memory and in its WAL, and its next checkpoint
writes it over what was put there. Following it as a new file is not possible here (SQLite
refuses a second connection of this process to the file while the first holds its locks, and
closing the first checkpoints into it), but it is noticed: before each batch (and each check, see
below), FILE's first 100 bytes must still be SQLite's header in WAL mode, with the mark and
identity the log was made with (`log_store.LOG_APPLICATION_ID`), if it was made with them. When
they are not (emptied, another kind of file copied onto it, or another log), an error says so,
and the state stays `written_over` until FILE is another file (moved aside, deleted) and opened
anew: a checkpoint may well put the header back, but not what was lost under it. Meanwhile the
rows are held, as for a file that cannot be written (below), and written into the file that takes
FILE's place. A copy of a backup of this very log bears its identity, and is not noticed (in WAL
mode the header keeps no change counter, and its page count goes down with a harmless `VACUUM`:
nothing there tells an older state of the log from its present one soundly). The
header is read through a descriptor kept open as long as the connection: closing any descriptor
of the file would drop every lock this process holds on it, SQLite's too (POSIX locks are the
process's), and a reader closing the log would then take the writer for gone, checkpoint, and
reset the WAL under it.

When FILE cannot be written (a full disk, a file or folder that cannot be written, SQLite's I/O
errors) or opened anew (its folder gone, no permission, a file there that is no log), the state is
`failing`: the rows are held in memory, up to `HELD_BYTES` of decisions (past it the oldest are
counted as lost), and written with the next batch, or the next check (the server sends an empty
batch every second when it has nothing to hand over, so that a log mended while no decision comes
is found mended). An attempt that fails costs an open or a transaction that fails, and batches come
a tenth of a second apart (the server's hand-over), so there is no busy loop. An error says so when
it starts, a warning when it ends, and the decisions lost are counted (`lost`).
"""
from __future__ import annotations

import collections
import logging
import os
import sqlite3

from .log_health import FAILING, HELD_BYTES, OK, WRITTEN_OVER
from .log_store import LOG_APPLICATION_ID, connect

log = logging.getLogger("rpl.serve")

INSERT_DECISION = ("INSERT INTO decisions (time, request_id, line, policy, version, text_hash, outcome, as_of,"
                   " partial, request, outputs, rules) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
# a text loaded again (a restart, an edit reverted) is the last loaded again: retention keeps it
INSERT_TEXT = ("INSERT INTO policy_texts VALUES (?, ?, ?, ?, ?) ON CONFLICT (text_hash) DO UPDATE"
               " SET loaded_at = excluded.loaded_at WHERE excluded.loaded_at > loaded_at")
# the files SQLite keeps beside a log in WAL mode, named after the path it opened
WAL_FILES = ("-wal", "-shm")
# how a log in WAL mode begins: SQLite's header, whose bytes 18 and 19 (its versions of writing and
# reading) are 2 in WAL mode
SQLITE_HEADER, WAL_VERSIONS = b"SQLite format 3\x00", b"\x02\x02"
LOG_MARK = LOG_APPLICATION_ID.to_bytes(4, "big")  # as the header holds it, at byte 68


def write_rows(connection: sqlite3.Connection, texts: list, decisions: list) -> None:
    """The rows of one batch in one transaction; the texts first, so that no decision names a text
    the log does not hold yet."""
    connection.execute("BEGIN")
    try:
        connection.executemany(INSERT_TEXT, texts)
        connection.executemany(INSERT_DECISION, decisions)
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def identity(path: str) -> tuple[int, int] | None:
    """What tells one file from another at `path`: its device and inode; None if there is none."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino


def stamp(header: bytes) -> bytes | None:
    """A log's mark and identity, from its header (`log_store._stamp`); None for a log made without
    them (by an rpl before them), or a file that is no log."""
    return header[60:64] + header[68:72] if header[68:72] == LOG_MARK else None


def written_over(descriptor: int, identity: bytes | None) -> str | None:
    """How the file open as `descriptor` no longer begins as the log of `identity` (its `stamp`,
    or None when it has none) does, in WAL mode; None when it does. One read of 100 bytes."""
    header = os.pread(descriptor, 100, 0)
    if not (header.startswith(SQLITE_HEADER) and header[18:20] == WAL_VERSIONS):
        return "it no longer begins as an SQLite file in WAL mode"
    if identity is not None and stamp(header) != identity:
        return "it begins as another decision log" if stamp(header) else "it begins as another SQLite database"
    return None


class LogFile:
    """The connection to the file FILE was when it was opened, opened anew when FILE changes; the
    rows it could not write yet; and its `state` (`log_health`)."""

    def __init__(self, path: str):
        self.path = path
        # policy -> the text rows of its last load, and of the load before it
        self._served: dict[str, tuple[list, list]] = {}
        # the rows not written yet, while FILE cannot be: texts (a few kB each, all kept) and decisions
        self._held_texts: list = []
        self._held: collections.deque = collections.deque()
        self._held_bytes = 0
        self.lost = 0  # decisions never to be recorded: dropped from what was held, or from a batch that failed
        self._failure: str | None = None  # why FILE cannot be written, while it cannot
        self._written_over: str | None = None  # how the file open was written over in place, if it was
        self._connection = connect(path)  # at start-up, a failure stops the writer (the server checked it)
        self._header = os.open(path, os.O_RDONLY)  # closed only after the connection (see above)
        self._opened, self._identity = self._identities(), stamp(os.pread(self._header, 100, 0))

    @property
    def state(self) -> str:
        return WRITTEN_OVER if self._written_over else FAILING if self._failure else OK

    @property
    def held(self) -> int:
        """The decisions held, not yet written."""
        return len(self._held)

    def write(self, texts: list, decisions: list) -> None:
        """A batch's rows, and those held before it, into the file FILE is now; an empty batch
        checks FILE, and writes what is held."""
        self._remember(texts)
        self._hold(texts, decisions)
        if self._connection is None or identity(self.path) != self._opened[0]:
            self._open_anew()
        if self._connection is None:
            return
        try:
            self._check_written_over()
            if self._written_over:  # held for the file that takes its place, rather than lost in it
                return
            if self._held_texts or self._held:
                write_rows(self._connection, self._held_texts, list(self._held))
        except Exception as error:
            if not _of_the_file(error):  # a fault of the rows, or of rpl: these rows are lost, not the next
                self.lost += len(self._held)
                self._let_held_go()
                raise
            self._failed(f"cannot be written ({error})")
            return
        written = len(self._held)
        self._let_held_go()
        if self._failure is not None:
            log.warning("the decision log %s is written again: the %d decisions held meanwhile are recorded "
                        "(%d lost since the server started)", self.path, written, self.lost)
            self._failure = None

    def close(self) -> None:
        if self._held:
            self.write([], [])  # a last try
        if self._connection is not None:
            self._check_written_over()
            self._let_go()
        unrecorded = self.lost + len(self._held)
        if unrecorded:
            log.error("the decision log %s lacks %d decisions, which could not be written", self.path, unrecorded)

    def _hold(self, texts: list, decisions: list) -> None:
        """Keep a batch's rows until they are written; past `HELD_BYTES` of decisions, drop the
        oldest (the texts stay: a few, and every decision kept needs its own)."""
        self._held_texts.extend(texts)
        self._held.extend(decisions)
        self._held_bytes += sum(map(_size, decisions))
        while self._held_bytes > HELD_BYTES:
            self._held_bytes -= _size(self._held.popleft())
            self.lost += 1

    def _let_held_go(self) -> None:
        self._held_texts, self._held_bytes = [], 0
        self._held.clear()

    def _failed(self, why: str) -> None:
        if self._failure is None:
            log.error("the decision log %s %s: decisions are not being recorded; they are held in memory, up to "
                      "%d MiB, and recorded when it can be written again (tried at each batch, and every second)",
                      self.path, why, HELD_BYTES // 2 ** 20)
        self._failure = why

    def _check_written_over(self) -> None:
        if self._written_over:
            return  # said once: it stays so until FILE is another file
        self._written_over = written_over(self._header, self._identity)
        if self._written_over:
            log.error("the decision log %s was emptied or written over in place while the server has it open (%s): "
                      "SQLite goes on with the log it holds, and its next checkpoint writes that over what is in %s "
                      "now, which may leave it unreadable and the decisions lost; move it aside with `mv` (the "
                      "server opens %s anew), and put a file in place of a log with `mv`, never `cp` or a truncation",
                      self.path, self._written_over, self.path, self.path)

    def _remember(self, texts: list) -> None:
        for row in texts:
            policy, loaded_at = row[1], row[3]
            last, before = self._served.get(policy, ([], []))
            if last and last[0][3] != loaded_at:  # a new load: the last becomes the one before
                last, before = [], last
            self._served[policy] = ([*last, row], before)

    def _identities(self) -> tuple:
        """FILE's and those of the WAL's files beside it, as this connection made them."""
        return tuple(identity(self.path + suffix) for suffix in ("", *WAL_FILES))

    def _let_go(self) -> None:
        """Close the file, everything in it. SQLite checkpoints the WAL into the file on closing,
        unless the file was moved (it leaves the WAL, under the old name, to whatever file is
        there next): then the checkpoint is asked for, so that a file renamed away holds all it was
        written (and the server's shutdown checks the name once more, for a move since the last
        batch)."""
        connection, self._connection = self._connection, None
        if identity(self.path) != self._opened[0]:
            try:
                _, frames, copied = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                if copied < frames:  # a reader held the log for longer than the busy timeout
                    log.warning("the decision log %s was not checkpointed: the file it was lacks its last "
                                "decisions", self.path)
            except sqlite3.Error:
                log.exception("the decision log %s was not checkpointed", self.path)
        connection.close()
        os.close(self._header)  # no lock of SQLite's left to drop

    def _open_anew(self) -> None:
        if self._connection is not None:
            log.warning("the decision log %s is no longer the file the server opened (deleted, moved or "
                        "replaced): %s is opened anew, and the decisions go on in it", self.path, self.path)
            self._let_go()
            # the old file's WAL files, still under FILE's name, must not be taken for the new
            # file's (another worker's writer may still be writing the old file through them)
            for suffix, opened in zip(WAL_FILES, self._opened[1:]):
                if opened is not None and identity(self.path + suffix) == opened:
                    try:
                        os.remove(self.path + suffix)
                    except OSError:
                        pass  # gone already
        try:
            connection = connect(self.path)
            try:
                write_rows(connection, [row for last, before in self._served.values() for row in (*before, *last)], [])
                header = os.open(self.path, os.O_RDONLY)
            except BaseException:
                connection.close()
                raise
        except (OSError, sqlite3.Error) as error:
            self._failed(f"cannot be opened anew ({error})")
            return
        self._connection, self._opened, self._header = connection, self._identities(), header
        self._identity, self._written_over = stamp(os.pread(header, 100, 0)), None
        if self._failure is not None:
            log.warning("the decision log %s is opened anew", self.path)


def _of_the_file(error: Exception) -> bool:
    """Whether `error` is the file's, or the system's (a full disk, no right to write, a lock held
    too long, I/O, a file damaged), so that the same rows may be written later, rather than the
    rows' own (a constraint, a value SQLite refuses) or a fault of rpl's."""
    return isinstance(error, (OSError, sqlite3.OperationalError)) or type(error) is sqlite3.DatabaseError


def _size(decision: tuple) -> int:
    """About a decision row's bytes: the request as received, its outputs and rules (the rest is a few dozen)."""
    return len(decision[-3]) + len(decision[-2]) + len(decision[-1])
