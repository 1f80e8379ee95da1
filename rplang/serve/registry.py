"""The policies a server decides with: loaded from a file or a folder, reloaded when they change.

Each name maps to one immutable `Served` entry. A reload compiles the changed texts on the
watcher's thread (never on a request's), then swaps the whole mapping in one assignment: a
request that took an entry keeps deciding with it, whatever is loaded after. A policy that
fails to compile never replaces the one serving; its problems are kept for `/v1/policies`.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
from pathlib import Path
from typing import Callable

import attrs

from rplang.compiler.checked import source_digest, table_files_unchanged
from rplang.policy_lang.errors import Diagnostic, PolicyError
from rplang.policy_lang.source_text import read_policy_file
from rplang.runtime import load_policy_text
from rplang.runtime.history import PolicyHistory
from rplang.runtime.loading import history_from_texts

from .log_store import log_time

log = logging.getLogger("rpl.serve")

EXAMPLES = "examples.rpl"  # a policy's examples, beside it or among its versions: not a policy


def text_hash(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


@attrs.frozen
class Served:
    """One policy as served: the compiled policy (or history of versions) and the texts it came from."""
    name: str
    policy: object  # CompiledPolicy, or PolicyHistory for a folder of versions
    texts: dict  # file name -> text, as compiled
    loaded_at: str
    # hashed once here, not on each decision that names them
    hashes: dict = attrs.field(init=False)
    text_hash: str = attrs.field(init=False)
    # the version and text hash of a decision without a version note: every decision of one file
    made_by_file: tuple[str | None, str] = attrs.field(init=False)

    @hashes.default
    def _hash_each(self) -> dict[str, str]:
        """Each file's hash, of its text and of the CSV files its tables read (a table edited
        on disk is another policy, and the decision log must say which one decided)."""
        checked = {c.source_name: c for c in self._checked_versions()}
        return {file: "sha256:" + source_digest(text, checked[file]) if file in checked else text_hash(text)
                for file, text in self.texts.items()}

    def _checked_versions(self) -> list:
        versions = self.policy.versions if isinstance(self.policy, PolicyHistory) else [self.policy]
        return [v.checked for v in versions]

    def tables_unchanged(self) -> bool:
        """Whether the CSV files of the served policy's tables still hold what it was compiled with."""
        return all(table_files_unchanged(c) for c in self._checked_versions())

    @text_hash.default
    def _hash_all(self) -> str:
        """The hash of the text; for versions, of every version's file name and text together."""
        if len(self.texts) == 1:
            return next(iter(self.hashes.values()))
        return text_hash("\n".join(f"{f}\n{h}" for f, h in sorted(self.hashes.items())))

    @made_by_file.default
    def _version_and_hash(self) -> tuple[str | None, str]:
        return self.version, self.text_hash

    @property
    def is_history(self) -> bool:
        return isinstance(self.policy, PolicyHistory)

    @property
    def checked(self):
        return self.policy.checked

    @property
    def version(self) -> str | None:
        return self.checked.version or None

    def made_by(self, decision) -> tuple[str | None, str]:
        """The version and text hash that made a decision (for versions: the one in force)."""
        note = getattr(decision, "version_note", None)
        if note is None:
            return self.made_by_file
        return note["version"] or None, self.hashes[note["file"]]


@attrs.frozen
class LoadProblem:
    """A policy file that failed to load, and why."""
    name: str
    files: tuple[str, ...]
    diagnostics: tuple[Diagnostic, ...]
    at: str

    def to_json(self) -> dict:
        return {"name": self.name, "files": list(self.files), "at": self.at,
                "diagnostics": [d.to_json() for d in self.diagnostics],
                "rendered": "\n\n".join(d.render() for d in self.diagnostics)}


def _now() -> str:
    return log_time(time.time())


@attrs.frozen
class Source:
    """Where a policy comes from: one file, or a folder of versions."""
    files: tuple[Path, ...]
    versions: bool


def policy_sources(path: Path) -> dict[str, Source]:
    """Each policy's name and files: a file is served under its name without `.rpl`; in a
    folder, each `.rpl` file, and each sub-folder holding versions (`.rpl` files besides
    `examples.rpl`) under the sub-folder's name. A file comes before a folder of the same name."""
    if path.is_file():
        return {path.stem: Source((path,), False)}
    found: dict[str, Source] = {}
    entries = sorted(path.iterdir())
    for entry in entries:
        if entry.is_file() and entry.suffix == ".rpl" and entry.name != EXAMPLES:
            found[entry.stem] = Source((entry,), False)
    for entry in entries:
        if entry.is_dir() and entry.name not in found:
            versions = tuple(sorted(p for p in entry.glob("*.rpl") if p.name != EXAMPLES))
            if versions:
                found[entry.name] = Source(versions, True)
    return found


def _examples_of(folder: Path) -> str:
    """The likely mistake: the folder of a policy's examples and requests, served for the policy."""
    beside = folder.with_suffix(".rpl")
    return f" ({folder} holds the examples of {beside}: serve that file, or {folder.parent})" if beside.is_file() else ""


class Registry:
    """The served policies by name, and the problems of those that failed to load."""

    def __init__(self, path: str | Path, on_load: Callable[[Served], None] | None = None,
                 on_reload: Callable[[str, bool, str], None] | None = None):
        self.path = Path(path)
        self.policies: dict[str, Served] = {}
        self.problems: dict[str, LoadProblem] = {}
        self._on_load = on_load or (lambda served: None)
        # (name, ok, the change: what the files held and when they were written, see `_change`)
        self._on_reload = on_reload or (lambda name, ok, change: None)
        self._lock = threading.Lock()  # one reload at a time; readers never take it
        self._said_empty = False

    def get(self, name: str) -> Served | None:
        return self.policies.get(name)

    def load(self) -> None:
        """Read the path again and compile what changed; swap the new mapping in at once."""
        with self._lock:
            try:
                sources = policy_sources(self.path)
            except OSError as error:
                log.error("cannot read %s: %s", self.path, error.strerror or error)
                return
            if not sources and not self._said_empty:  # once, not at each reload that finds none
                log.warning("no policy under %s: nothing is served until a .rpl file is put there%s",
                            self.path, _examples_of(self.path))
            self._said_empty = not sources
            policies, problems = {}, {}
            for name, source in sources.items():
                outcome = self._compile(name, source)
                if isinstance(outcome, Served):
                    policies[name] = outcome
                    continue
                problems[name] = outcome
                if name in self.policies:  # keep serving the version that works
                    policies[name] = self.policies[name]
            for name in self.policies.keys() - policies.keys():
                log.info("policy %s removed", name)
            self.policies, self.problems = policies, problems

    def _compile(self, name: str, source: Source) -> Served | LoadProblem:
        files = source.files
        try:
            texts = {str(f): read_policy_file(f) for f in files}
        except PolicyError as error:  # not there, no file (a pipe), too long, not UTF-8
            return self._failed(name, files, error.diagnostics, "; ".join(d.message for d in error.diagnostics))
        current = self.policies.get(name)
        if current is not None and current.texts == texts and current.tables_unchanged():
            return current
        try:
            if source.versions:
                policy = history_from_texts(texts, cache=True)
            else:
                policy = load_policy_text(next(iter(texts.values())), str(files[0]), cache=True)
        except PolicyError as error:
            return self._failed(name, files, error.diagnostics, text_hash("\0".join(texts.values())))
        served = Served(name, policy, texts, _now())
        log.info("policy %s loaded: version %s, %s", name, served.version, served.text_hash)
        self._on_load(served)
        if current is not None:
            self._on_reload(name, True, _change(files, served.text_hash))
        return served

    def _failed(self, name: str, files, diagnostics, content: str) -> LoadProblem:
        problem = LoadProblem(name, tuple(str(f) for f in files), tuple(diagnostics), _now())
        log.error("policy %s failed to load%s:\n%s", name,
                  ", the version loaded before keeps serving" if name in self.policies else "",
                  problem.to_json()["rendered"])
        self._on_reload(name, False, _change(files, content))
        return problem


def _change(files, content: str) -> str:
    """What tells one change of a policy's files from another, the same in each worker that reads
    it (`--workers N`: each reloads it, and it is counted once, `metrics.WorkerMetrics.reloaded`):
    what was read (the text hash, with the tables'; or the error), and each file's inode, size
    and time of writing, so that a text put back as it was before is another change."""
    stamps = [content]
    for file in files:
        try:
            found = file.stat()
        except OSError:
            stamps.append(f"{file} -")
            continue
        stamps.append(f"{file} {found.st_ino} {found.st_size} {found.st_mtime_ns}")
    return "\n".join(stamps)


def _identity(folder: Path) -> tuple[int, int] | None:
    """Which folder a path names (its device and inode), or None while there is none."""
    try:
        found = folder.stat()
    except OSError:
        return None
    return found.st_dev, found.st_ino


class Watcher:
    """Reloads a registry when a `.rpl` file, or a table's `.csv` file, under its path changes
    (watchfiles, on a thread). A watch follows the folder it began on: when the path names another
    folder (a deployment replaced it whole), the new one is read and watched instead."""

    CHECK_MS = 1000  # how often the watch wakes to see whether its folder was replaced

    def __init__(self, registry: Registry, debounce_ms: int = 200):
        self.registry = registry
        self.debounce_ms = debounce_ms
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rpl-policy-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        path = self.registry.path
        root = (path if path.is_dir() else path.parent).absolute()  # as the watch names what changed
        watched = _identity(root)
        while not self._stop.is_set():
            if watched is None:  # removed, and not yet put back
                self._stop.wait(self.CHECK_MS / 1000)
                watched = _identity(root)
                continue
            try:
                watched = self._watch(root, watched)
            except OSError as error:  # removed as the watch began
                log.warning("cannot watch %s: %s", root, error)
                watched = None

    def _watch(self, root: Path, watched: tuple[int, int]) -> tuple[int, int] | None:
        """Reload on each change under `root`, and once the watch is set up (a change made before
        it is seen by no event), until `root` is removed or names another folder (what it names
        then is returned), or the watcher is stopped."""
        import watchfiles

        itself = str(root)
        set_up = False
        for changes in watchfiles.watch(root, watch_filter=lambda change, name: name.endswith((".rpl", ".csv"))
                                        or name == itself, debounce=self.debounce_ms, step=50, stop_event=self._stop,
                                        rust_timeout=self.CHECK_MS, yield_on_timeout=True, raise_interrupt=False):
            now = _identity(root)
            # another folder, or none, or one made anew where the file system gave it the same inode
            if now != watched or any(name == itself for _, name in changes):
                return now
            if changes or not set_up:
                self._reload()
            set_up = True
        return watched

    def _reload(self) -> None:
        try:
            self.registry.load()
        except Exception:  # a reload must never stop the watching; the fault is logged
            log.exception("reloading the policies failed")
