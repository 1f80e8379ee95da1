"""Inputs and outputs named by URI (`s3a://...`, `hdfs://...`, `file://...`), for `--engine spark`:
the files of a cluster's store, listed, read and checked through the Hadoop file systems of the
driver's Spark session, as Spark itself reads and writes them.

Spark reads a Parquet input in place and writes OUT itself; what the driver reads (a Parquet
file's footer, JSON lines and CSV, a Parquet input whose columns Spark cannot take as they are,
the rows `--compare` explains) it reads here, as a stream of the file's bytes.
"""
from __future__ import annotations

import contextlib
import io
import re

from .errors import ReplayError

# a scheme of two letters or more: `file:/tmp/x`, as Hadoop names a listed file, is one too
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:/")
CHUNK = 1 << 20  # bytes read from the JVM at a time: few calls through Py4J, little memory


def is_uri(spec: str) -> bool:
    """Whether an INPUT or OUT names a file system by its scheme (`s3a://bucket/...`)."""
    return _URI.match(spec) is not None


def _spark():
    from pyspark.errors import PySparkRuntimeError
    from pyspark.sql import SparkSession

    try:  # this thread's session, or the one another thread started (a notebook's, a test's)
        return SparkSession.active()
    except PySparkRuntimeError:  # the command starts the session before a URI is read: a bug, said as one
        raise RuntimeError("a URI is read through the Spark session, and none is active") from None


def _path(spark, uri: str):
    """(the Hadoop FileSystem that holds `uri`, its Path)."""
    jvm = spark._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    try:
        return path.getFileSystem(spark._jsc.hadoopConfiguration()), path
    except Exception as error:  # Py4JJavaError: no file system for the scheme, a bucket's credentials
        message = _java_message(error)
        if "No FileSystem for scheme" in message or "ClassNotFoundException" in message:
            scheme = uri.split(":", 1)[0]
            raise ReplayError(f"{uri}: Spark has no file system for {scheme}:// here ({message.rsplit(': ', 1)[-1]}); "
                              "put its Hadoop connector on Spark's classpath (s3a://: the hadoop-aws package, "
                              "docs/replay.md)") from None
        raise ReplayError(f"{uri}: {message}") from None


def _java_message(error: Exception) -> str:
    """A Java exception's own message (Py4J's text holds the whole stack trace)."""
    java = getattr(error, "java_exception", None)
    text = java.toString() if java is not None else str(error)
    return text.splitlines()[0] if text else type(error).__name__


def list_files(spark, spec: str, formats) -> list[str]:
    """The files an INPUT URI names, as sources.resolve's rules say for a local one: a file, a
    folder (every file of a known format in it, at any depth), or a glob; `formats`: the known
    file name endings."""
    fs, path = _path(spark, spec)
    try:
        if any(c in spec for c in "*?["):
            found = fs.globStatus(path) or []
            return sorted(s.getPath().toString() for s in found if s.isFile())
        if not fs.exists(path):
            raise ReplayError(f"{spec}: no such file or folder")
        if fs.getFileStatus(path).isFile():
            return [spec]
        files, listing = [], fs.listFiles(path, True)
        while listing.hasNext():
            name = listing.next().getPath().toString()
            if any(name.lower().endswith(ending) for ending in formats):
                files.append(name)
        return sorted(files)
    except ReplayError:
        raise
    except Exception as error:  # Py4JJavaError: a store refusing the listing
        raise ReplayError(f"{spec}: {_java_message(error)}") from None


def spark_part(name: str) -> bool:
    """Whether a file is one Spark writes in an output folder (a part, its checksum, the marker)."""
    return name.startswith("part-") or name == "_SUCCESS" or (name.startswith(".") and name.endswith(".crc"))


def refuse_other_files(option: str, path: str, names) -> None:
    """Spark replaces an output folder whole: one holding files it did not write (of `names`, the
    folder's) is refused, local or in a store."""
    others = sorted(name for name in names if not spark_part(name))
    if others:
        raise ReplayError(f"{option} {path}: a folder holding other files than Parquet parts "
                          f"({', '.join(others[:3])}{', ...' if len(others) > 3 else ''}); name a new folder")


def check_out(spark, out: str, inputs: tuple[str, ...]) -> None:
    """OUT as a URI, checked as run.check_outputs checks a local one: Spark replaces the folder
    whole, so one holding anything but an earlier replay's Parquet parts, or the input, is refused
    before any row is decided."""
    fs, path = _path(spark, out)
    target = fs.makeQualified(path).toString().rstrip("/")
    for file in inputs:
        qualified = fs.makeQualified(_path(spark, file)[1]).toString()
        if qualified == target:
            raise ReplayError(f"--out {out}: a file of the input; name another")
        if qualified.startswith(target + "/"):
            raise ReplayError(f"--out {out}: a folder holding the input; name another")
    try:
        if not fs.exists(path) or fs.getFileStatus(path).isFile():
            return  # a file is replaced, as a local OUT is
        names = [s.getPath().getName() for s in fs.listStatus(path)]
    except Exception as error:  # Py4JJavaError: a store refusing the listing
        raise ReplayError(f"--out {out}: {_java_message(error)}") from None
    refuse_other_files("--out", out, names)


def beside(uri: str, ending: str, keep_ending: bool) -> str:
    """The URI of a file or folder beside `uri`'s, its name + `ending` (a trailing `/` dropped,
    and a file's own ending unless `keep_ending`): OUT's default, as run.default_out names a
    local one."""
    uri = uri.rstrip("/")
    dot = uri.rfind(".")
    stem = uri[:dot] if not keep_ending and dot > uri.rfind("/") else uri
    return stem + ending


def local_path(name: str) -> str:
    """A file of the input as a local path: a `file:` URI's path (as a local OUT is checked
    against it; not unquoted, as Hadoop reads it), any other name as it is."""
    if name.lower().startswith("file:"):
        from urllib.parse import urlparse

        return urlparse(name).path
    return name


def local_name(uri: str) -> str:
    """The last name of a URI (`s3a://bucket/decided/2025` -> `2025`): the local rejects file's."""
    return uri.rstrip("/").rsplit("/", 1)[-1]


def delete(uri: str) -> None:
    """Remove a folder the replay wrote for itself (`--compare`'s decisions under the old policy)."""
    fs, path = _path(_spark(), uri)
    fs.delete(path, True)


def open_file(uri: str) -> io.BufferedReader:
    """A file of the store, to read on the driver (seekable, as pyarrow reads a Parquet footer)."""
    spark = _spark()
    fs, path = _path(spark, uri)
    try:
        return io.BufferedReader(_HadoopStream(fs.open(path), fs.getFileStatus(path).getLen()), CHUNK)
    except Exception as error:  # Py4JJavaError: gone since it was listed, no permission
        raise ReplayError(f"{uri}: {_java_message(error)}") from None


class _HadoopStream(io.RawIOBase):
    """A Hadoop FSDataInputStream as a Python binary stream."""

    def __init__(self, stream, size: int):
        self._stream, self._size = stream, size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._stream.getPos()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.tell(), io.SEEK_END: self._size}[whence]
        self._stream.seek(max(0, min(base + offset, self._size)))
        return self.tell()

    def readinto(self, buffer) -> int:
        data = self._stream.readNBytes(min(len(buffer), CHUNK))  # Java's byte[]: Python's bytes, by value
        buffer[:len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._stream.close()
        super().close()


def open_input(name: str):
    """A file of the input to read here, as bytes: a local path, or a URI through Spark."""
    return open_file(name) if is_uri(name) else open(name, "rb")


def parquet_source(name: str):
    """What pyarrow reads a Parquet file of the input from, as a context: its path, or a stream of
    a URI (closed after)."""
    return open_file(name) if is_uri(name) else contextlib.nullcontext(name)
