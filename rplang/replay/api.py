"""The replay from Python, for notebooks and scripts: files, and tables of the engines' own kinds."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from .run import Counts, RejectsFile, Replay, typed_batches
from .sources import resolve


def write_requests(compiled, text: str, input_spec: str, out: str, keys: tuple[str, ...] = (),
                   rejects: str | None = None) -> Counts:
    """Requests (JSON lines, CSV or Parquet) as typed Parquet, each read by the request reader:
    the export `rpl replay` reads in place. Refused rows go to `rejects` (else are counted)."""
    counts = Counts()
    job = Replay(compiled, text, resolve(input_spec), tuple(keys))
    refused = RejectsFile(rejects)
    writer = None
    try:
        for batch in typed_batches(job, keys, refused, counts):
            writer = writer or pq.ParquetWriter(out, batch.schema)
            writer.write_table(pa.Table.from_batches([batch]))
    finally:
        if writer is not None:
            writer.close()
        counts.rejected = refused.count
        refused.close()
    return counts
