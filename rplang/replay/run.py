"""One replay: a policy, an input, an engine and a path; decided rows to Parquet, rejects to JSON
lines, and the counts.

`--via sql` (the default where the policy allows) runs the policy's query in the engine and hands
the few rows it cannot decide exactly to the Python path; `--via python` decides every row with
the ordinary runtime, batch by batch.
"""
from __future__ import annotations

import contextlib
import json
import os
import stat
from pathlib import Path

import attrs

from .errors import ERROR, NotLowerable, ReplayError
from .sources import Source, check_columns, check_key_names, check_key_types, choose_keys, json_value


@attrs.define
class Counts:
    """What happened to the rows of the input."""
    rows: int = 0
    by_sql: int = 0
    by_python: int = 0
    rejected: int = 0

    def text(self, out: str, rejects: str) -> str:
        decided = self.by_sql + self.by_python
        how = f" ({self.by_sql:,} in SQL, {self.by_python:,} by the Python path)" if self.by_sql else \
            " (by the Python path)"
        line = f"{self.rows:,} requests: {decided:,} decided{how if decided else ''} -> {out}"
        return line + (f"; {self.rejected:,} rejected -> {rejects}" if self.rejected else "; none rejected")


@attrs.frozen
class Replay:
    """What to decide and how.

    A replay whose query was kept (plans.py) starts from what the run that kept it learned of the
    policy (`known`), without the compiled policy: it is compiled when a row or a step first needs
    it (`compiled`), then checked to be the policy the query was lowered from.
    """
    _compiled: object  # CompiledPolicy, or None until `compiled` is first asked for (then `known` is given)
    text: str  # the policy's text, whose hash each row carries
    source: Source
    keys: tuple[str, ...] = ()
    via: str = "sql"  # sql | python
    name: str | None = None  # the name the policy is compiled under (None: the compiled policy's own)
    known: object = None  # plans.Known: the version, hash, request columns and calendar of the policy
    jobs: int = 1  # processes that read a text input (read_workers.py)
    # each Parquet file's columns (file -> name -> DuckDBPyType), as one step read them: the command
    # reads every footer once, and the checks, the engine and --compare's policy take what it read
    # (None: not read yet; `with_columns` reads them)
    columns: dict | None = attrs.field(default=None, eq=False)

    @property
    def compiled(self):
        if self._compiled is None:
            # frozen, but filled in once, as if it had been given: every step sees one policy
            object.__setattr__(self, "_compiled", self._compile())
        return self._compiled

    def _compile(self):
        from rplang.compiler.checked import source_digest
        from rplang.runtime import load_policy_text

        compiled = load_policy_text(self.text, self.name, cache=True)
        if source_digest(self.text, compiled.checked) != self.known.hash:
            raise ReplayError(f"{self.name}: a table's file changed during the replay; replay again")
        return compiled

    def with_columns(self, con=None) -> Replay:
        """This replay with its input's columns: those a step before read, else read now (`read_columns`)."""
        return self if self.columns is not None else attrs.evolve(self, columns=read_columns(self.source, con))

    @property
    def policy_name(self) -> str:
        return self.name if self.name is not None else self.compiled.checked.source_name

    @property
    def hash(self) -> str:
        """The policy's identity in every decided row: its text and its tables' CSV files."""
        if self.known is not None:
            return self.known.hash
        from rplang.compiler.checked import source_digest

        return source_digest(self.text, self.compiled.checked)

    @property
    def version(self) -> str:
        return self.known.version if self.known is not None else self.compiled.checked.version

    @property
    def request_fields(self) -> tuple[str, ...]:
        """The fields of the policy's request."""
        return tuple(self.known.request if self.known is not None else self.compiled.checked.request)

    @property
    def request_types(self) -> dict[str, str]:
        """The request's columns: name -> DuckDB type."""
        if self.known is not None:
            return self.known.request
        from .columns import request_schema
        from .duckdb_types import duckdb_type

        return {f.name: duckdb_type(f.type) for f in request_schema(self.compiled.checked)}

    @property
    def calendar(self) -> str | None:
        """The country whose holidays business days skip, if any."""
        return self.known.calendar if self.known is not None else self.compiled.checked.calendar


class RejectsFile:
    """The rejects, one JSON line each: the row's keys and the error `rpl eval` reports. Written
    under a temporary name beside the file (inputs.Replacement) and put in its place by `close`,
    when the run has decided every row; a run that fails calls `discard`, and an earlier run's
    rejects file is left as it was, as OUT is."""

    def __init__(self, path: str | None):
        self.path, self.stream, self.count = path, None, 0  # no path: only counted
        self.replacement = None

    def write(self, rejects: list[dict]) -> None:
        if not rejects:
            return
        self.count += len(rejects)
        if self.path is None:
            return
        with writing(self.path):
            if self.stream is None:
                from rplang.inputs import Replacement

                self.replacement = Replacement(self.path)
                self.stream = open(self.replacement.name, "w", encoding="utf-8")
            for reject in rejects:
                self.stream.write(json.dumps({k: json_value(v) if k != ERROR else v for k, v in reject.items()},
                                             ensure_ascii=False) + "\n")

    def close(self) -> None:
        """The run decided every row: its rejects put in place, or, none written, an earlier run's removed."""
        if self.stream is not None:
            try:
                with writing(self.path):
                    self.stream.close()
            except BaseException:
                self.replacement.discard()
                raise
            self.replacement.commit()
        elif self.path is not None and _regular_file(self.path):
            # a rejects file of an earlier run would mislead; anything else named (`/dev/full`, a
            # pipe, a link) is no such file, and was removed with it, a device and all
            Path(self.path).unlink()

    def discard(self) -> None:
        """The run failed: the rejects it wrote removed, an earlier run's file left as it was."""
        if self.stream is not None:
            with contextlib.suppress(OSError):
                self.stream.close()
            self.replacement.discard()


@contextlib.contextmanager
def outputs_written(out: str, rejects: RejectsFile, in_place: bool = False):
    """The name to write the decided rows under: beside OUT (inputs.replacing), put in its place
    when the block ends well, the rejects first (a disk's error writing them keeps an earlier OUT
    too); a run that fails or is stopped leaves both as an earlier run left them. `in_place`: OUT
    as named (Spark writes a folder of files, or a cluster's store)."""
    from rplang.inputs import replacing

    try:
        with contextlib.nullcontext(out) if in_place else replacing(out) as written:
            yield written
            rejects.close()
    except BaseException:
        rejects.discard()
        raise


def _regular_file(path: str) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


@contextlib.contextmanager
def writing(path: str):
    """An OSError while writing `path` as one that names it (the disk's own message may not)."""
    try:
        yield
    except OSError as error:
        if error.filename is not None:
            raise
        if error.errno:  # the system's words for it (pyarrow's: "Error writing bytes to file. Detail: ...")
            raise OSError(error.errno, os.strerror(error.errno), path) from None
        raise OSError(error.errno, error.strerror or str(error), path) from None


def default_out(spec: str, source: Source) -> str:
    """OUT when none is named: INPUT's name + `.decided.parquet`, a folder's beside it (in it, the
    next replay of the folder would read it as requests), a glob's beside its first file."""
    from .uris import beside, is_uri

    if is_uri(spec):  # a folder's name kept whole, a file's without its ending
        folder = source.files != (spec,) and not any(c in spec for c in "*?[")
        return beside(spec if folder else source.files[0], ".decided.parquet", keep_ending=folder)
    named = Path(spec)
    if named.is_dir():
        named = named if named.name else named.resolve()
    else:
        named = Path(source.files[0]).with_suffix("")
    return str(named.with_name(named.name + ".decided.parquet"))


def rejects_path(out: str) -> str:
    """The rejects file beside OUT; beside an OUT of a cluster's store, in the current folder
    (the driver writes it, here)."""
    from .uris import is_uri, local_name

    path = Path(local_name(out)) if is_uri(out) else Path(out)
    return str(path.with_name(path.stem + ".rejects.jsonl"))


def check_outputs(source: Source, out: str, rejects: str | None, out_is_folder: bool, policies: tuple[str, ...] = (),
                  options: tuple[str, str] = ("--out", "--rejects")) -> None:
    """OUT and the rejects file (None: only counted) can be made where they are named, and neither
    is (nor, a folder, holds) a file of the input, nor one of `policies` (the files of POLICY and of
    --compare's): said now, not as an engine's error after the rows are decided, and never an input
    or a policy overwritten, or deleted as an earlier run's rejects. OUT in a cluster's store
    (`s3a://...`, Spark's only) is checked through Spark (uris.check_out); the rejects file is
    written here. `out_is_folder`: Spark writes OUT as a folder. `options`: the names of OUT and the
    rejects in the errors (the command's options, or write_requests' arguments)."""
    from rplang.inputs import same_file

    from .uris import is_uri, local_path, refuse_other_files

    if rejects is not None and is_uri(rejects):
        raise ReplayError(f"{options[1]} {rejects}: the rejects are written here, by the driver; name a local file")
    inputs = [Path(local_path(f)).resolve() for f in source.files]
    for option, path in zip(options, (out, rejects)):
        if path is None or is_uri(path):
            continue
        target = Path(path).resolve()
        # the same name, or the same file by another (a hard link: written, the input is lost with it)
        if any(same_file(target, f) for f in inputs):
            raise ReplayError(f"{option} {path}: a file of the input; name another")
        policy = next((p for p in policies if same_file(target, p)), None)
        if policy is not None:
            raise ReplayError(f"{option} {path}: the policy {policy}, which this replay reads; name another")
        if any(target in f.parents for f in inputs):
            raise ReplayError(f"{option} {path}: a folder holding the input; name another")
        if not target.parent.is_dir():
            if Path(path).is_symlink():  # its own folder is there: the one it names is not
                raise ReplayError(f"{option} {path}: a link to {target}, in no folder {target.parent}")
            raise ReplayError(f"{option} {path}: no folder {Path(path).parent}")
        if target.is_dir() and not (option == options[0] and out_is_folder):
            raise ReplayError(f"{option} {path}: a folder; name a file")
        if target.is_dir():
            refuse_other_files(option, path, (p.name for p in target.iterdir()))
    if rejects is not None and Path(rejects).resolve() == Path(out).resolve():
        raise ReplayError(f"{options[1]} {rejects}: the same file as {options[0]}")
    # a name of another format than the file's: `--out decided.csv` was Parquet that a spreadsheet,
    # or the next replay of the folder, reads as CSV
    from .sources import FORMATS

    kinds = {"parquet": ("Parquet", ".parquet"), "jsonl": ("JSON lines", ".jsonl"), "csv": ("CSV", ".csv")}
    for option, path, (what, written) in ((options[0], out, ("OUT is", "parquet")),
                                          (options[1], rejects, ("the rejects are", "jsonl"))):
        named = FORMATS.get(Path(path).suffix.lower()) if path is not None else None
        if named not in (None, written):
            raise ReplayError(f"{option} {path}: a name of {kinds[named][0]}, and {what} {kinds[written][0]}; "
                              f"name it {kinds[written][1]}")


# ---- Input as key columns ------------------------------------------------------------------------

def read_columns(source: Source, con=None) -> dict:
    """Each Parquet file's columns (file -> `duckdb_types.parquet_columns`), its footer read by
    DuckDB (`con`, or a connection of their own); none for JSON lines and CSV."""
    if source.format != "parquet":
        return {}
    from .duckdb_types import files_columns

    return files_columns(source.files, con)


def input_keys(replay: Replay, con=None, decided: bool = True) -> tuple[str, ...]:
    """The key columns the output keeps (source_row, and source_file, when the input has none).
    A Parquet input's columns are `replay.columns`, else read now (`read_columns`): every file's
    names and types are checked, the keys chosen from the first's. With `decided`, a key is
    checked not to be named as a column of the decision now (the compiled policy names them;
    without it, a plan read from the cache, whose columns are known then, is checked by the
    caller)."""
    if replay.source.format == "parquet":
        files = replay.with_columns(con).columns
        columns = list(files[replay.source.files[0]])
    else:
        from .rows import text_columns

        files, columns = {}, text_columns(replay.source, replay.compiled.checked)
    keys = choose_keys(columns, replay.keys, replay.request_fields)
    for file, found in files.items():
        check_columns(list(found), keys, replay.request_fields, file, replay.source.files[0])
    if files:
        check_key_types(files, keys, replay.source.files[0])
        from .input_types import check_types

        check_types(files, replay.request_types, con)
    if decided:
        from .columns import decision_names

        check_key_names(keys, decision_names(replay.compiled.checked))
    return keys


def lowerable(replay: Replay) -> NotLowerable | None:
    """Why the policy cannot be decided in SQL, or None (at once when a run before kept its
    query in the user's cache: plans.py; `replay.known` is only ever what such a run kept)."""
    from . import plans

    if replay.known is not None or plans.lowers(replay):
        return None
    from .query import PolicyQuery

    try:
        PolicyQuery(replay.compiled, {}, replay.version, replay.hash).select("rpl_input")
    except NotLowerable as error:
        return error
    return None


__all__ = ["Counts", "Replay", "RejectsFile", "ReplayError", "check_outputs", "input_keys", "lowerable",
           "read_columns", "rejects_path"]
