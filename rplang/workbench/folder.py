"""The folder the workbench serves: which files it may read and write, and saving without loss.

Every path the page sends is relative to the folder and is resolved here, in one place: a path
that leaves the folder (`..`, an absolute path, a symbolic link pointing out) is refused. A save
formats the text (`rpl fmt`'s formatter), keeps the previous text as `NAME.rpl~`, and refuses
to write over a file that changed on disk since the page opened it unless told to. Both files are
written in one step each, with the policy's permissions (`inputs.replace_file`): a save that fails
leaves the policy as it was.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import attrs

from rplang.compiler.lint import check_policy_text
from rplang.inputs import replace_file
from rplang.policy_lang.errors import PolicyError, RplError
from rplang.policy_lang.format import FormatterBug, format_policy
from rplang.policy_lang.source_text import NotAFile, encodable, open_file, policy_text
from rplang.runtime.testing import EXAMPLES_FILE, find_policies

BACKUP_SUFFIX = "~"
MAX_FILE_BYTES = 4 * 1024 * 1024  # a policy, a request or a corpus the page may open


class OutsideFolder(RplError):
    """A path that is not a file of the folder (or not of the kind asked for)."""


class Unreadable(RplError):
    """A file of the folder that is not there, or cannot be opened as text."""


class SaveRefused(RplError):
    """A save that would lose something: `kind` says what (`conflict`, `errors`)."""

    def __init__(self, kind: str, message: str, **details):
        super().__init__(message)
        self.kind, self.details = kind, details


@attrs.frozen
class Version:
    """What a file was when it was read: its modification time, size and content hash."""
    mtime_ns: int
    size: int
    sha256: str

    def token(self) -> str:
        return f"{self.mtime_ns}:{self.size}:{self.sha256}"

    @classmethod
    def parse(cls, token: str) -> "Version | None":
        try:
            mtime, size, digest = token.split(":")
            return cls(int(mtime), int(size), digest)
        except (AttributeError, ValueError):
            return None


@attrs.frozen
class Saved:
    """A save done: the text now on disk, its version, where the previous text went."""
    text: str
    version: str
    backup: str | None
    with_errors: int


class Folder:
    """The policies under one folder, read and written only through relative paths."""

    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()

    # ---- paths

    def resolve(self, relative: object, suffixes: tuple[str, ...] = (".rpl",)) -> Path:
        """The file a relative path names, if it is inside the folder and has one of `suffixes`."""
        # a lone surrogate (of a JSON body) names no file
        if not isinstance(relative, str) or not relative or "\0" in relative or not encodable(relative):
            raise OutsideFolder("give the path of a file of the folder, relative to it")
        if Path(relative).is_absolute() or relative.startswith(("/", "\\")):
            raise OutsideFolder(f"`{relative}` is not inside the folder: give a path relative to it")
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root):
            raise OutsideFolder(f"`{relative}` is not inside the folder: only its own files can be opened")
        if path.suffix not in suffixes:
            raise OutsideFolder(f"`{relative}` is not a {' or '.join(suffixes)} file")
        return path

    def relative(self, path: Path) -> str:
        return path.resolve().relative_to(self.root).as_posix()

    def policies(self) -> list[str]:
        return [self.relative(p) for p in find_policies([self.root])]

    def requests(self, policy: str) -> list[str]:
        """The requests bundled with a policy: `NAME/requests/*.json` beside `NAME.rpl`."""
        folder = self.resolve(policy).with_suffix("") / "requests"
        return [self.relative(p) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []

    def corpora(self) -> list[str]:
        """Every JSONL file of the folder: corpora of requests the impact can be measured on."""
        return [self.relative(p) for p in sorted(self.root.rglob("*.jsonl"))]

    def default_corpus(self, policy: str) -> str | None:
        corpus = self.resolve(policy).with_suffix("") / "corpus.jsonl"
        return self.relative(corpus) if corpus.is_file() else None

    # ---- reading

    def read(self, relative: str, suffixes: tuple[str, ...] = (".rpl",)) -> tuple[str, Version]:
        path = self.resolve(relative, suffixes)
        try:
            with open_file(path) as f:  # never a pipe or a device, which would hang the page's server
                data = f.read(MAX_FILE_BYTES + 1)
                stat = os.fstat(f.fileno())
        except NotAFile as error:
            raise Unreadable(f"`{relative}` is {error.kind}, not a file") from None
        except FileNotFoundError:
            raise Unreadable(f"`{relative}` does not exist") from None
        except OSError as error:
            raise Unreadable(f"cannot read `{relative}`: {error.strerror or error}") from None
        if len(data) > MAX_FILE_BYTES:
            raise Unreadable(f"`{relative}` is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
        try:
            text = policy_text(data, relative)
        except PolicyError:
            raise Unreadable(f"`{relative}` is not UTF-8 text") from None
        return text, Version(stat.st_mtime_ns, stat.st_size, hashlib.sha256(data).hexdigest())

    def current_version(self, path: Path, opened: Version | None) -> Version | None:
        """The file's version now (None if it is gone); its content is hashed only when its time
        or size differ from the version it was opened at."""
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        if opened is not None and (stat.st_mtime_ns, stat.st_size) == (opened.mtime_ns, opened.size):
            return opened
        return Version(stat.st_mtime_ns, stat.st_size, hashlib.sha256(path.read_bytes()).hexdigest())

    # ---- saving

    def save(self, relative: str, text: str, opened_token: str | None, *, overwrite: bool = False,
             with_errors: bool = False) -> Saved:
        """Format and write a policy; the previous text is kept as `NAME.rpl~`.

        Refused (SaveRefused) when the file changed on disk since it was opened at `opened_token`
        (unless `overwrite`), or when the policy has errors (unless `with_errors`; it is then
        written as typed if it cannot be formatted)."""
        path = self.resolve(relative)
        if path.name == EXAMPLES_FILE:
            raise OutsideFolder(f"`{relative}` holds examples: the workbench edits policies")
        opened = Version.parse(opened_token) if opened_token else None
        now = self.current_version(path, opened)
        if not overwrite and now is not None and (opened is None or now.sha256 != opened.sha256):
            raise SaveRefused("conflict", f"`{relative}` changed on disk since it was opened",
                              version=now.token())
        if not overwrite and now is None and opened is not None:
            raise SaveRefused("conflict", f"`{relative}` was deleted on disk since it was opened", version=None)
        errors = [d for d in check_policy_text(text, relative) if d.severity == "error"]
        if errors and not with_errors:
            raise SaveRefused("errors", f"the policy has {len(errors)} error{'s' if len(errors) != 1 else ''}: "
                              "fix them, or save it with its errors", errors=len(errors))
        try:
            formatted = format_policy(text, relative)
        except PolicyError:
            formatted = text  # cannot be parsed, so cannot be laid out: kept as typed (with_errors)
        except FormatterBug as error:
            raise SaveRefused("formatter", f"the formatter failed on this text ({error}); "
                              "nothing was written; please report it") from None
        try:
            data = formatted.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate (RPL008): a JSON body may hold one, no file can
            raise SaveRefused("errors", f"`{relative}` was not saved: its text holds a lone surrogate, "
                              "which no file can hold", errors=len(errors)) from None
        backup = None
        try:
            if now is not None:
                backup_path = path.with_name(path.name + BACKUP_SUFFIX)
                replace_file(backup_path, path.read_bytes(), like=path)  # readable by those who read the policy
                backup = self.relative(backup_path)
            replace_file(path, data)
        except OSError as error:  # a full disk, a folder named `NAME.rpl~`: the policy is as it was
            named = error.filename2 or error.filename  # a rename's is the file it would replace
            where = f"`{Path(named).name}`" if named else "it"
            raise SaveRefused("unwritable", f"`{relative}` was not saved: cannot write {where}: "
                              f"{error.strerror or error}; the file on disk is as it was") from None
        return Saved(formatted, self.read(relative)[1].token(), backup, len(errors))
