"""The decision log's file as the writer process holds it, followed when FILE stops being it.

SQLite writes to the file it opened, whatever its name becomes: an operator's `rm`, or a move
as logrotate makes one, would leave the writer recording into a file nobody can open any more,
and every later decision lost, silently. So before each batch the writer compares FILE's inode
with the one it opened (one `stat` a batch, in this process: nothing on the server's request
path), and when they differ it closes the old file and opens FILE anew, as at start-up.

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
closing the first checkpoints into it), but it is noticed: before each batch, FILE's first 100
bytes must still be SQLite's header in WAL mode, and when they are not (emptied, or another kind
of file copied onto it) an error says so once, rather than the log being lost without a word.
They are read through a descriptor kept open as long as the connection: closing any descriptor
of the file would drop every lock this process holds on it, SQLite's too (POSIX locks are the
process's), and a reader closing the log would then take the writer for gone, checkpoint, and
reset the WAL under it.

When FILE cannot be opened anew (its folder gone, no permission, a file there that is no log),
the decisions are counted as lost and each batch tries again: an attempt that fails costs an open
that fails, and batches come a tenth of a second apart (the server's hand-over), so there is no
busy loop. An error says so when it starts, and the count is logged when it ends.
"""
from __future__ import annotations

import logging
import os
import sqlite3

from .log_store import connect

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


def written_over(descriptor: int) -> bool:
    """Whether the file open as `descriptor` no longer begins as a log in WAL mode does: it was
    emptied, or another kind of file was copied onto it, in place. One read of 100 bytes."""
    header = os.pread(descriptor, 100, 0)
    return not (header.startswith(SQLITE_HEADER) and header[18:20] == WAL_VERSIONS)


class LogFile:
    """The connection to the file FILE was when it was opened, opened anew when FILE changes."""

    def __init__(self, path: str):
        self.path = path
        # policy -> the text rows of its last load, and of the load before it
        self._served: dict[str, tuple[list, list]] = {}
        self._lost = 0  # decisions not recorded since FILE could not be opened
        self._said_written_over = False  # the error said, until FILE is a log again
        self._connection = connect(path)  # at start-up, a failure stops the writer (the server checked it)
        self._header = os.open(path, os.O_RDONLY)  # closed only after the connection (see above)
        self._opened = self._identities()

    def write(self, texts: list, decisions: list) -> None:
        """A batch's rows, into the file FILE is now."""
        self._remember(texts)
        if self._connection is None or identity(self.path) != self._opened[0]:
            self._open_anew()
        if self._connection is None:
            self._lost += len(decisions)
            return
        self._check_written_over()
        write_rows(self._connection, texts, decisions)

    def close(self) -> None:
        if self._connection is not None:
            self._check_written_over()
            self._let_go()
        elif self._lost:
            log.error("the decision log %s could not be opened anew: %d decisions were not recorded",
                      self.path, self._lost)

    def _check_written_over(self) -> None:
        if not written_over(self._header):
            self._said_written_over = False
            return
        if not self._said_written_over:
            log.error("the decision log %s was emptied or written over in place while the server has it open (it no "
                      "longer begins as an SQLite file in WAL mode): SQLite goes on with the log it holds, and its next "
                      "checkpoint writes that over what is in %s now, which may leave it unreadable and the decisions "
                      "lost; stop the server, and put a file in place of a log with `mv`, never `cp` or a truncation",
                      self.path, self.path)
            self._said_written_over = True

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
        recording = self._connection is not None
        if recording:
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
            if recording:
                log.error("the decision log %s cannot be opened anew (%s): decisions are not being recorded; "
                          "they are counted, and each batch tries again", self.path, error)
            return
        self._connection, self._opened, self._header = connection, self._identities(), header
        if not recording:
            log.warning("the decision log %s is opened anew: %d decisions were not recorded meanwhile",
                        self.path, self._lost)
            self._lost = 0
