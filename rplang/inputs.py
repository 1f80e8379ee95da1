"""What the commands are given: policies and requests read from files, the files they write (an
output named by an option, a policy rewritten in place), and the exit codes."""
from __future__ import annotations

import contextlib
import os
import sys
from typing import TYPE_CHECKING, NoReturn

import click

from rplang.policy_lang import limits
from rplang.policy_lang.errors import PolicyError, RequestError, RequestProblem
from rplang.policy_lang.source_text import NotAFile

if TYPE_CHECKING:
    from rplang.runtime import CompiledPolicy, PolicyHistory

# The exit codes of every command: 0 done (decided, clean), 1 a policy error, 2 a request error,
# 64 a bad command line, 69 a tool missing (graphviz), 70 a fault of rpl itself (a bug), 73 an
# output file that cannot be written (a full disk, no permission).
EXIT_OK, EXIT_POLICY, EXIT_REQUEST, EXIT_USAGE, EXIT_UNAVAILABLE, EXIT_SOFTWARE = 0, 1, 2, 64, 69, 70
EXIT_CANTCREAT = 73


class Day(click.ParamType):
    """A date on the command line, `YYYY-MM-DD` as in requests: a day that does not exist
    (`2026-02-30`) is said to be one, not "does not match the format"."""

    name = "date"

    def convert(self, value, param, ctx):
        import datetime
        import re

        if isinstance(value, datetime.date):
            return value
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            self.fail(f"`{value}` is not a date written YYYY-MM-DD, like 2026-03-01", param, ctx)
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            self.fail(f"`{value}` is not a real date", param, ctx)


DAY = Day()


def fail_policy(error: PolicyError) -> NoReturn:
    """Print every problem of a policy, and exit 1; a path that is no file (a pipe, a device) is
    the command line's mistake, exit 64."""
    if isinstance(error, NotAFile):
        raise click.UsageError(f"{error.path} is {error.kind}, not a policy file: name a .rpl file")
    click.echo(error.render(), err=True)
    n = len(error.diagnostics)
    click.echo(f"\n{n} error{'s' if n != 1 else ''}", err=True)
    sys.exit(EXIT_POLICY)


def load_policy_arg(path: str) -> CompiledPolicy | PolicyHistory:
    """A policy file, or a folder of its versions (each with `effective DATE`) as one history;
    on a problem, print it and exit 1."""
    from rplang.runtime import load_policy

    try:
        return load_policy(path, cache=True)
    except PolicyError as error:  # a file that cannot be read, or is not UTF-8, included
        _refuse_a_request_as_policy(path)
        fail_policy(error)


def check_policy_path(path: str, param_hint: str) -> None:
    """Refuse (exit 64), before any work, a path given for policies that is there and is neither a
    file nor a folder: a pipe or a device, which would block or never end, as the reader refuses it."""
    import os
    import stat

    from rplang.policy_lang.source_text import file_kind

    try:
        mode = os.stat(path).st_mode
    except OSError:  # not there, or not to be reached: the reading says which
        return
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise click.BadParameter(f"{path} is {file_kind(mode)}, not a policy file: name a .rpl file or a "
                                 "folder of them", param_hint=param_hint)


def _refuse_a_request_as_policy(path: str) -> None:
    """A JSON file given as the policy is the request put first (`rpl explain REQUEST POLICY`):
    say so, rather than a syntax error at its first `{`."""
    from pathlib import Path

    if Path(path).suffix.lower() not in (".json", ".jsonl") or not os.path.isfile(path):
        return
    params = getattr(click.get_current_context(silent=True), "params", {})
    usage = ("POLICY --jsonl FILE" if params.get("jsonl") else "POLICY REQUEST") if "request" in params else ""
    order = f"; the policy comes first: `{click.get_current_context().command_path} {usage}`" if usage else ""
    raise click.UsageError(f"`{path}` is JSON, not a policy (a .rpl file, or a folder of its versions){order}")


def no_empty_path(ctx, param, value):
    """A click callback for the path arguments: an empty one (`rpl fmt "$FILE"`, FILE unset) is
    Python's `.`, and would have formatted, tested or checked every policy under this folder."""
    if value == "" or (isinstance(value, tuple) and "" in value):
        raise click.BadParameter("an empty path: name a file, or a folder (`.` for this one)")
    return value


def a_number(ctx, param, value):
    """A click callback for a number option: `nan` passes click's FloatRange (no comparison with it
    is true) and would turn a gate off (`--fail-under nan` passed every run)."""
    if value is not None and value != value:
        raise click.BadParameter("nan is not a number; give one")
    return value


def write_output(path: str, text: str, option: str) -> None:
    """Write what an option like `-o FILE` names: a folder that does not exist is the command
    line's fault (exit 64), a file that cannot be written is said (exit 73), never a bug of rpl's."""
    from pathlib import Path

    folder = Path(path).parent
    if not folder.is_dir():
        raise click.BadParameter(f"{path}: no folder {folder}", param_hint=option)
    try:
        # a file name that is not UTF-8 in the text (a lone surrogate): its escape, as on stdout
        Path(path).write_text(text, encoding="utf-8", errors="backslashreplace")
    except OSError as error:
        click.echo(f"error: cannot write {path}: {error.strerror or error}", err=True)
        sys.exit(EXIT_CANTCREAT)


def check_output(path: str, option: str, reads) -> None:
    """Refuse (exit 64), before any work, an output named by an option that is one of the files the
    command reads, `reads` as (what, path): written, that input would be lost (`rpl schema p.rpl -o
    p.rpl` replaced the policy with its schema)."""
    for what, read in reads:
        if same_file(path, read):
            raise click.BadParameter(f"{path}: the {what} this command reads; name another file", param_hint=option)


def same_file(a, b) -> bool:
    """Whether `a` and `b` name one file: through links, hard links included; no when either is not there."""
    import os

    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def replace_file(path, data: bytes, like=None) -> None:
    """The file at `path` (a link: the file it names) made to hold `data` in one step: a temporary
    file beside it, then renamed over it, so a failure (a full disk) leaves the file as it was, never
    cut short, and no temporary; raises OSError. A file this user may not write is refused, as
    writing it in place would be; its permissions are kept, and its owner where the system allows;
    another hard link to it keeps the text it had. A file not there yet is made as `open` makes
    one, and removed if it cannot be written whole.

    With `like`, `path` is a file of the caller's own (a backup): whatever is there, a link
    included, is replaced, and the new file takes the permissions and owner of the file `like`."""
    if like is None and not os.path.lexists(os.path.realpath(path)):
        _write_new(os.path.realpath(path), data)
        return
    with replacing(path, like) as name, open(name, "wb") as out:
        out.write(data)


class Replacement:
    """A file's new content, written under a temporary name beside it (`name`) and put in its place
    by `commit` (permissions and owner as the file had them, the data on the disk first), or removed
    by `discard`: a write that fails or is stopped leaves the file as it was, never cut short. An
    OSError of making or renaming the temporary file names `path`, as writing it in place would.

    `path` a link: the file it names is replaced, the link kept. A file this user may not write is
    refused (PermissionError), as writing it in place would be. A file not there yet is made with
    the permissions `open` gives one. `path` a device or a pipe (`/dev/null`): `name` is `path`,
    written as it is, nothing replaced. With `like`, `path` is a file of the caller's own (a
    backup): whatever is there, a link included, is replaced, and the new file takes the
    permissions and owner of the file `like`."""

    def __init__(self, path, like=None):
        self.path = str(path)
        try:
            self._make(like)
        except OSError as error:
            raise self.naming(error) from None

    def _make(self, like) -> None:
        import stat

        if like is not None:
            self.target, self.status = self.path, os.stat(like)
        else:
            self.target = os.path.realpath(self.path)
            try:
                self.status = os.stat(self.target)
            except FileNotFoundError:
                self.status = None
        self.replaces = like is not None or self.status is None or stat.S_ISREG(self.status.st_mode)
        if not self.replaces:
            self.name = self.path
            return
        if self.status is not None and like is None:
            os.close(os.open(self.target, os.O_WRONLY))  # may this user write it? (the rename must not get round it)
        folder, base = os.path.split(self.target)
        while True:
            self.name = os.path.join(folder, f".{base}.{os.urandom(4).hex()}.tmp")
            try:  # made as `open` makes a file: the umask's permissions
                os.close(os.open(self.name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
                return
            except FileExistsError:
                continue

    def commit(self) -> None:
        import stat

        if not self.replaces:
            return
        try:
            fd = os.open(self.name, os.O_RDONLY)
            try:
                os.fsync(fd)
                made = os.fstat(fd)
            finally:
                os.close(fd)
            if self.status is not None:
                os.chmod(self.name, stat.S_IMODE(self.status.st_mode))
                if (made.st_uid, made.st_gid) != (self.status.st_uid, self.status.st_gid):
                    with contextlib.suppress(OSError):  # only root may give a file away
                        os.chown(self.name, self.status.st_uid, self.status.st_gid)
            os.replace(self.name, self.target)
        except BaseException as error:
            self.discard()
            if isinstance(error, OSError):
                raise self.naming(error) from None
            raise

    def discard(self) -> None:
        if self.replaces:
            with contextlib.suppress(OSError):
                os.unlink(self.name)

    def naming(self, error: OSError) -> OSError:
        """`error` naming `path`, where it named the temporary file (or a link's file)."""
        return OSError(error.errno, error.strerror, self.path) if error.errno else error


@contextlib.contextmanager
def replacing(path, like=None):
    """A `Replacement` of `path` as a block: the name to write its new content under, put in its
    place when the block ends, removed if the block raises (Ctrl-C included); an OSError of
    writing the temporary file names `path`."""
    replacement = Replacement(path, like)
    try:
        yield replacement.name
    except BaseException as error:
        replacement.discard()
        if isinstance(error, OSError) and error.filename == replacement.name:
            raise replacement.naming(error) from None
        raise
    replacement.commit()


def _write_new(path: str, data: bytes) -> None:
    import contextlib
    import os

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask's permissions
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise


def read_request(path: str, max_bytes: int = limits.MAX_REQUEST_BYTES) -> object:
    """A request file (- for stdin) as data, through the one reader of requests; raises
    RequestError. At most one byte more than the cap is read, so a huge file is refused unread."""
    from rplang.runtime.request_text import read_request_json

    try:
        # JSON is UTF-8 whatever the locale says stdin is, so read bytes
        if path == "-":
            data = sys.stdin.buffer.read(max_bytes + 1)
        else:
            with open(path, "rb") as f:
                data = f.read(max_bytes + 1)
    except OSError as error:
        raise RequestError([RequestProblem("$", f"cannot read {path}: {error.strerror or error}")]) from None
    if len(data) > max_bytes:
        raise RequestError([RequestProblem(
            "$", f"the request is longer than the limit of {max_bytes:,} bytes")])
    try:
        return read_request_json(data, max_bytes)
    except RequestError as error:
        _refuse_json_lines_as_one_request(error)
        raise


def _refuse_json_lines_as_one_request(error: RequestError) -> None:
    """A file of JSON lines given as REQUEST reads as one object with "extra data" on its next
    line: say that it is one request a line, and how such a file is decided."""
    import re

    problem = error.problems[0]
    if len(error.problems) > 1 or not re.match(r"not valid JSON: Extra data: line [0-9]+ column 1 ", problem.message):
        return
    context = click.get_current_context(silent=True)
    command = context.command_path if context is not None else "rpl eval"
    how = ("decide them with `rpl eval POLICY --jsonl FILE`" if command.endswith(" eval")
           else f"{command} takes one request; `rpl eval POLICY --jsonl FILE` decides one a line")
    raise RequestError([RequestProblem("$", f"{problem.message}: a file of JSON lines, one request a line? {how}",
                                       problem.received)]) from None
