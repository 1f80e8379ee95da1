"""pandas_unseen.py: `rpl replay` reading JSON lines, in one process or several (or deciding
them --via python), makes its Arrow columns without importing pandas (a third of a second before
any row is read, where pandas is installed); and pyarrow still finds pandas afterwards for a call
that asks for it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.util import find_spec

import pytest

from ..conftest import APUTURE

pytestmark = pytest.mark.skipif(find_spec("pandas") is None, reason="pandas is not installed: nothing to keep out")

# `rpl replay ARGS`, each batch a worker makes checked to be made without pandas (a worker that
# fails the check dies: the run's error); stderr's last line: whether this process imported pandas
_REPLAY = """import atexit, sys
atexit.register(lambda: print("pandas" in sys.modules, file=sys.stderr))
from rplang.replay import read_workers
made = read_workers.typed_batch

def checked(*args):
    batch = made(*args)
    assert "pandas" not in sys.modules
    return batch
read_workers.typed_batch = checked
from rplang.cli import main
main(["replay", *sys.argv[1:]])
"""


@pytest.mark.parametrize("options", [("--jobs", "2"), ("--jobs", "1"), ("--jobs", "2", "--key", "id"),
                                     ("--via", "python")])
def test_reading_json_lines_imports_no_pandas(options, aputure_lines, tmp_path):
    keyed = tmp_path / "in.jsonl"
    keyed.write_text("".join(json.dumps({"id": n, **json.loads(line)}) + "\n"
                             for n, line in enumerate(aputure_lines.read_text().splitlines(), 1)))
    out = tmp_path / "out.parquet"
    done = subprocess.run([sys.executable, "-c", _REPLAY, str(APUTURE), str(aputure_lines if "--key" not in options
                                                                            else keyed), "--out", str(out), *options],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "RPL_CACHE_DIR": str(tmp_path / "cache")})
    *said, imported = done.stderr.splitlines()
    assert done.returncode in (0, 2), done.stderr  # 2: the corpus's malformed requests, rejected
    assert "decided" in said[-1] and imported == "False"


def test_pyarrow_still_imports_pandas_when_asked_for_it():
    done = subprocess.run([sys.executable, "-c", """import sys
import pyarrow as pa
from rplang.replay.pandas_unseen import pandas_unseen
with pandas_unseen():
    pa.array([1, 2])
    pa.array([{"a": 1}], pa.struct([("a", pa.int64())]))
assert "pandas" not in sys.modules
print(pa.table({"x": [1, 2]}).to_pandas()["x"].sum())
"""], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout == "3\n", done.stderr
