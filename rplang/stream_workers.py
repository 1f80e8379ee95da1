"""Deciding the blocks of a stream in several forked processes, the output in input order.

The main process hands out blocks and moves each block's output, in input order, from the pipe
of the worker that made it to the output; that is all it does. A block of a regular file (a
path, or stdin redirected from a file) is only a byte range and the number of its first line:
each worker reads its own lines, and the main process reads the file once without splitting it
(a count of line feeds, at memory speed) to find where the ranges end on a line. A block of a
pipe is the lines that have arrived, read by the main process as they come. The output goes from
a worker's pipe to the output with splice(2): the main process never copies it (it reads and
writes it only when the output is not a file descriptor, as under a test runner, or the system
cannot splice).

Memory stays flat however long the stream: a worker is given at most `AHEAD` blocks it has not
decided, and holds at most `WRITE_AHEAD` decided ones while an earlier block is still being
decided elsewhere.

The stream's own rules (how a line is decided, what a line too long becomes) are not here: the
caller passes `decide_block(first_number, lines) -> (bytes, tally)`, `lines_of(binary_file)`
and `too_long(size)`, a line in place of one too long to be read.
"""
from __future__ import annotations

import collections
import errno
import io
import os

CHUNK_BYTES = 1 << 20  # a regular file's block: about this many bytes (~1,300 lines of aputure)
LAST_SHARE = 4  # near the end, blocks shrink to 1/(LAST_SHARE x jobs) of what is left...
MIN_CHUNK_BYTES = 32 << 10  # ...but no smaller: the workers finish together, not one block apart
AHEAD = 2  # blocks given to a worker beyond the one it decides: it never waits for the next
WRITE_AHEAD = 2  # decided blocks a worker holds while the one before them is decided elsewhere
_PIPE_BYTES = 1 << 20  # a worker's output pipe (Linux's default unprivileged maximum)


class WorkerLost(Exception):
    """A worker process ended before its blocks were written (killed, or out of memory); `how`:
    its exit code or signal, for a caller that says what was lost in its own words."""

    def __init__(self, message: str, how: str):
        super().__init__(message)
        self.how = how


# ---- Blocks ------------------------------------------------------------------------------------


class FileRanges:
    """The blocks of a regular file from `start`: (number of the first line, (start, end)), each
    range ending just after a line feed (or at the end of the file). Reading the file never
    waits: there is nothing to read ahead."""

    fd = None  # for the main loop: no descriptor to wait for

    def __init__(self, fd: int, start: int, jobs: int):
        self.file, self.position, self.number, self.jobs = fd, start, 1, jobs
        self.size = os.fstat(fd).st_size
        self.ended = False

    def wants_input(self) -> bool:
        return False

    def take(self) -> "tuple[int, tuple[int, int]] | None":
        data = os.pread(self.file, self.block_bytes(), self.position) if not self.ended else b""
        if not data:
            self.ended = True
            return None
        cut = data.rfind(b"\n") + 1
        if cut:
            end, lines = self.position + cut, data.count(b"\n", 0, cut)
        else:  # a line longer than the block: it is the block, however long (it is skipped unread)
            end, lines = self._end_of_line(self.position + len(data)), 1
        block = self.number, (self.position, end)
        self.position, self.number = end, self.number + lines
        return block

    def done(self) -> bool:
        return self.ended

    def block_bytes(self) -> int:
        """About how long the next block is: CHUNK_BYTES, less near the end."""
        left = self.size - self.position
        return max(MIN_CHUNK_BYTES, min(CHUNK_BYTES, left // (LAST_SHARE * self.jobs)))

    def _end_of_line(self, position: int) -> int:
        while True:
            data = os.pread(self.file, 1 << 16, position)
            found = data.find(b"\n")
            if found >= 0:
                return position + found + 1
            if not data:
                return position
            position += len(data)


class _Range(io.RawIOBase):
    """Bytes `start` to `end` of a file descriptor shared with other processes (pread: the
    descriptor's own position is never moved)."""

    def __init__(self, fd: int, start: int, end: int):
        self.fd, self.position, self.end = fd, start, end

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        size = min(len(buffer), self.end - self.position)
        if size <= 0:
            return 0
        done = os.preadv(self.fd, [memoryview(buffer)[:size]], self.position)
        self.position += done
        return done


class PipeBlocks:
    """The blocks of a pipe (or of any stream that is not a regular file): (number of the first
    line, complete lines as one bytes object, up to about CHUNK_BYTES). Read as the lines arrive,
    never waiting while output is ready to move: lines written slowly are decided as they come,
    lines written fast go in full blocks. A line longer than `max_bytes` is not held: it is
    skipped to its end, and its block is only its size (an int)."""

    def __init__(self, stream, max_bytes: int):
        self.stream, self.max_bytes = stream, max_bytes
        try:
            self.fd: int | None = stream.fileno()
        except (AttributeError, OSError, ValueError):  # a buffer, as under a test runner
            self.fd = None
        self.queue: collections.deque = collections.deque()  # blocks read, not yet given
        self.queued = 0  # their bytes
        self.carry = b""  # the start of a line not yet ended
        self.skipped: int | None = None  # the size so far of a line too long, being skipped
        self.number, self.started, self.ended = 1, False, False

    def wants_input(self) -> bool:
        return not self.ended and self.queued < 2 * CHUNK_BYTES

    def can_read(self) -> bool:
        """Reading would not wait: a buffer; a pipe with bytes (or its end) waiting; the first read,
        which takes what the stream has buffered, or waits for the first bytes."""
        if self.fd is None or not self.started:
            return True
        import select

        return bool(select.select([self.fd], [], [], 0)[0])

    def read(self) -> None:
        self.started = True
        data = self.stream.read1(CHUNK_BYTES)
        if not data:
            self.ended = True
            if self.skipped is not None or self.carry:  # the last line, without its line feed
                self._add(self.skipped if self.skipped is not None else self.carry)
            return
        if self.skipped is not None:
            found = data.find(b"\n")
            if found < 0:
                self.skipped += len(data)
                return
            self._add(self.skipped + found + 1)
            self.skipped, data = None, data[found + 1:]
        data = self.carry + data
        cut = data.rfind(b"\n") + 1
        if cut:
            self._add(data[:cut])
        self.carry = data[cut:]
        if len(self.carry) > self.max_bytes:  # the start of a line too long: the rest is skipped
            self.skipped, self.carry = len(self.carry), b""

    def _add(self, block: "bytes | int") -> None:
        self.queue.append(block)
        self.queued += len(block) if isinstance(block, bytes) else 0

    def take(self) -> "tuple[int, bytes | int] | None":
        """The next block, or None if no line has arrived yet (or all are given)."""
        if not self.queue:
            return None
        first = self.queue.popleft()
        if isinstance(first, int):
            self.number += 1
            return self.number - 1, first
        parts, size = [first], len(first)
        while self.queue and isinstance(self.queue[0], bytes) and size + len(self.queue[0]) <= CHUNK_BYTES:
            parts.append(self.queue.popleft())
            size += len(parts[-1])
        self.queued -= size
        block, first_number = b"".join(parts), self.number
        self.number += block.count(b"\n")
        return first_number, block

    def done(self) -> bool:
        return self.ended and not self.queue


# ---- A worker ----------------------------------------------------------------------------------


def _work(tasks, results, output: int, others: list[int], decide_block, lines_of, too_long, fd: int | None) -> None:
    """Decide the blocks given on `tasks` until None, each block's output into the pipe `output`
    (by a thread, so that deciding goes on while an earlier block waits for its turn); for each,
    (index, length of its output, tally) on `results`."""
    import queue
    import threading

    _quiet_worker()
    for other in others:  # the other workers' pipes: their readers must be the main process alone
        os.close(other)
    # Blocks are taken off the pipe as they come, so that the main process never waits to hand
    # one over (it would not be moving output meanwhile, which this worker may be waiting for).
    given: queue.Queue = queue.Queue()  # at most AHEAD blocks: the main process gives no more
    threading.Thread(target=_receive, args=(tasks, given), daemon=True, name="rpl-input").start()
    decided: queue.Queue = queue.Queue(WRITE_AHEAD)
    # a daemon: a block that raises ends the worker (the main process says it was lost), where the
    # writer, waiting for the next block's output, kept it alive and the main process waited for ever
    writer = threading.Thread(target=_write_all, args=(decided, output), name="rpl-output", daemon=True)
    writer.start()
    while (task := given.get()) is not None:
        index, first, block = task
        if isinstance(block, tuple):  # a range of the file
            lines = lines_of(io.BufferedReader(_Range(fd, *block), 1 << 16))
        elif isinstance(block, int):  # the size of a line too long to pass on
            lines = [too_long(block)]
        else:
            lines = lines_of(io.BytesIO(block))
        text, tally = decide_block(first, lines)
        decided.put(text)
        results.send((index, len(text), tally))
    decided.put(None)
    writer.join()


def _receive(tasks, given) -> None:
    while True:
        task = tasks.get()
        given.put(task)
        if task is None:
            return


def _write_all(decided, output: int) -> None:
    while (text := decided.get()) is not None:
        view = memoryview(text)
        while view:
            view = view[os.write(output, view):]


def _quiet_worker() -> None:
    """A worker ends quietly with the process that started it, whatever it is waiting on.

    Writing to a pipe no one reads any more ends it (SIGPIPE, as any Unix filter), with no
    BrokenPipeError traceback; a worker waiting for its next block when the main process is
    gone is ended by a watch on its parent. Ctrl-C is left to the main process, which stops the
    workers."""
    import signal
    import threading
    import time

    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a handler of the main process's (rpl replay's) is not the worker's
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="rpl-parent-watch").start()


# ---- The main process --------------------------------------------------------------------------


class _Worker:
    __slots__ = ("process", "tasks", "results", "output")

    def __init__(self, process, tasks, results, output: int):
        self.process, self.tasks, self.results, self.output = process, tasks, results, output


def decide_in_workers(blocks, out, jobs: int, decide_block, lines_of, too_long, tally, fd: int | None = None,
                      progress=None) -> None:
    """Decide `blocks` (FileRanges of `fd`, or PipeBlocks) in `jobs` forked workers and write
    their output to `out` in input order, adding each block's tally to `tally`; `progress`, if
    given, is told each range's end as it is written."""
    import gc
    import multiprocessing  # here: most runs decide in one process, and start faster without it

    context = multiprocessing.get_context("fork")
    # The objects made so far (the policy, its code) are never freed: moved out of the collector's
    # sight, a worker's collections do not touch them, nor copy the memory it shares with this one.
    gc.freeze()
    _reuse_freed_memory()
    workers: list[_Worker] = []
    pipes = [os.pipe() for _ in range(jobs)]
    try:
        for number, (read_end, write_end) in enumerate(pipes):
            _widen(write_end)
            tasks, (results, their_results) = context.SimpleQueue(), context.Pipe(duplex=False)
            others = [fd_ for i, pair in enumerate(pipes) if i != number for fd_ in pair] + [read_end]
            process = context.Process(target=_work, daemon=True, name=f"rpl-worker-{number}", args=(
                tasks, their_results, write_end, others, decide_block, lines_of, too_long, fd))
            process.start()
            their_results.close()
            workers.append(_Worker(process, tasks, results, read_end))
        for _, write_end in pipes:
            os.close(write_end)
        _run(workers, blocks, _Output(out), tally, progress)
    finally:
        for worker in workers:
            if worker.process.exitcode is None:
                worker.process.terminate()
            worker.process.join()
        for read_end, _ in pipes:
            os.close(read_end)


def _run(workers: list[_Worker], source, output: "_Output", tally, progress) -> None:
    from multiprocessing.connection import wait

    given = written = 0
    decided: dict[int, tuple[_Worker, int, object]] = {}  # index: (worker, length of output, tally)
    ends: dict[int, int] = {}  # index: where its range ends, for the progress bar
    outstanding = {worker.results: 0 for worker in workers}  # blocks given, not yet decided

    def feed() -> None:
        """Blocks to the workers that have fewer than AHEAD undecided, while there are blocks."""
        nonlocal given
        for _ in range(AHEAD):
            for worker in workers:
                if outstanding[worker.results] >= AHEAD:
                    continue
                block = source.take()
                if block is None:
                    return
                first, content = block
                if progress is not None:
                    ends[given] = content[1]
                worker.tasks.put((given, first, content))
                outstanding[worker.results] += 1
                given += 1

    by_results = {worker.results: worker for worker in workers}
    sentinels = {worker.process.sentinel: worker for worker in workers}
    while True:
        while written in decided:
            worker, length, counted = decided.pop(written)
            output.move(worker.output, length, worker)
            tally.add(counted)
            if progress is not None:
                progress(ends.pop(written))
            written += 1
        while source.wants_input() and source.can_read():
            source.read()
        feed()
        if source.done() and written == given:
            break
        waiting = list(by_results) + list(sentinels)
        if source.fd is not None and source.wants_input():
            waiting.append(source.fd)
        for ready in wait(waiting):
            if ready == source.fd:
                continue  # read at the top of the loop
            worker = by_results.get(ready)
            if worker is None:
                if not sentinels[ready].results.poll():
                    raise _lost(sentinels[ready])
                continue
            try:
                index, length, counted = ready.recv()
            except EOFError:
                raise _lost(worker) from None
            decided[index] = (worker, length, counted)
            outstanding[ready] -= 1
    for worker in workers:
        worker.tasks.put(None)
    for worker in workers:
        worker.process.join()


def _lost(worker: _Worker) -> WorkerLost:
    worker.process.join(timeout=1)
    code = worker.process.exitcode
    how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
    return WorkerLost(f"a worker process ended before its lines were decided ({how}); "
                      "the output stops at the last line written", how)


class _Output:
    """Where the blocks go: spliced from a worker's pipe to the output's file descriptor, or read
    and written when the output has none (a buffer) or cannot take a splice (a terminal)."""

    def __init__(self, out):
        self.out = out
        try:
            out.flush()
            self.fd = out.fileno()
        except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
            self.fd = None
        if not hasattr(os, "splice"):
            self.fd = None

    def move(self, source: int, length: int, worker: _Worker) -> None:
        while length:
            if self.fd is not None:
                try:
                    done = os.splice(source, self.fd, length)
                except OSError as error:
                    if error.errno not in (errno.EINVAL, errno.EOPNOTSUPP):  # this output cannot splice
                        raise
                    self.fd = None
                    continue
            else:
                data = os.read(source, min(length, _PIPE_BYTES))
                done = len(data)
                if done:
                    self.out.write(data)
            if not done:
                raise _lost(worker)
            length -= done
        if self.fd is None:
            self.out.flush()


def _widen(pipe: int) -> None:
    """A pipe that holds a whole block's output or most of it: fewer turns between the worker
    writing and the main process moving."""
    try:
        import fcntl

        fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
    except (ImportError, AttributeError, OSError):  # not Linux
        pass


# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def _reuse_freed_memory() -> None:
    """Keep the memory of freed blocks for the next ones, here and in the workers forked after.

    A block's decisions are megabytes of bytes, made and freed block after block. glibc gives so
    large an allocation a mapping of its own and returns it to the system when it is freed, so
    that each block faults in fresh pages. Served from the heap, and the heap not trimmed below
    64 MB, the blocks reuse the same pages. On a C library without mallopt nothing changes."""
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, 32 << 20)  # glibc's largest
    mallopt(_M_TRIM_THRESHOLD, 64 << 20)
