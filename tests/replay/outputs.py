"""Decided rows read back as decision JSON prints outputs, to compare with `rpl eval`."""
from __future__ import annotations

import pyarrow.parquet as pq

from rplang.compiler import types as T
from rplang.replay.columns import plain
from rplang.runtime.values import json_formatter


def outputs_by_key(policy, path, key: str) -> dict:
    """key -> the outputs of its row, formatted as `Decision.outputs_json()` formats them."""
    table = pq.read_table(path)
    found = {}
    for row in table.to_pylist():
        outputs = {}
        for output in policy.checked.outputs:
            if output.kind == "outcome":
                outputs[output.name] = row[output.name]
            elif output.kind != "total" and plain(output.type) == T.DATE_RANGE:
                first, last = row[f"{output.name}_from"], row[f"{output.name}_to"]
                outputs[output.name] = None if first is None else [first.isoformat(), last.isoformat()]
            else:
                outputs[output.name] = json_formatter(policy.output_types[output.name])(row[output.name])
        found[row[key]] = (outputs, row["rules_applied"])
    return found
