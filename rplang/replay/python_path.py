"""The Python path: the ordinary runtime decides rows, batch by batch, where the SQL does not.

Every row `--via python` decides, and every row the SQL path hands back (one it finds suspect,
or one whose decision fails), goes through `CompiledPolicy.decide` on the request `rpl eval`
would read: the same decision, or the same problems in the rejects file.
"""
from __future__ import annotations

import pyarrow as pa

from rplang.policy_lang.errors import RplError
from rplang.stream import error_json

from .columns import DecisionRows, arrow_value, decision_schema, holds_date, python_values, to_request
from .errors import ERROR, OutputTooLarge
from .rows import keyed, keyed_batches
from .run import Counts, RejectsFile, Replay


class PythonDecider:
    """Decides requests into decision rows, and refuses malformed ones into rejects."""

    def __init__(self, compiled, text_hash: str, schema: pa.Schema, keys: tuple[str, ...]):
        self.compiled = compiled
        self.rows = DecisionRows(compiled.checked, text_hash)
        self.schema = schema  # of the decided rows: keys, outputs, rules, version, hash
        self.keys = keys
        self.dated = [(k, schema.field(k).type) for k in keys if holds_date(schema.field(k).type)]

    def decide(self, items) -> tuple[list[dict], list[dict]]:
        """Decide (keys, request) pairs; a request may be a RequestError already (a bad line)."""
        decided, rejected = [], []
        for keys, request in items:
            row, reject = self.decide_one(keys, request)
            if row is not None:
                decided.append({**keys, **row})
            else:
                rejected.append(reject)
        return decided, rejected

    def decide_one(self, keys: dict, request) -> tuple[dict | None, dict | None]:
        """(the decision's columns but the keys, None), or (None, the reject: keys and error)."""
        try:
            if isinstance(request, RplError):
                raise request
            return self.rows.row(self.compiled.decide(request)), None
        except OutputTooLarge as error:
            return None, {**keys, ERROR: error.to_json()}
        except RplError as error:
            return None, {**keys, ERROR: error_json(error)}

    def decide_columns(self, batch: pa.RecordBatch, request_column: str) -> tuple[pa.Table, list[dict]]:
        """Decide the requests of a column of structs; the keys come from the batch's key columns."""
        keys = [python_values(batch.column(k)) for k in self.keys]
        requests = python_values(batch.column(request_column))
        items = ((dict(zip(self.keys, values)), to_request(request))
                 for values, request in zip(zip(*keys) if keys else ((),) * len(requests), requests))
        decided, rejected = self.decide(items)
        return self.table(decided), rejected

    def table(self, rows: list[dict]) -> pa.Table:
        return keyed(lambda: pa.Table.from_pylist(self.arrow_rows(rows), schema=self.schema), self.keys)

    def arrow_rows(self, rows: list[dict]) -> list[dict]:
        """Rows with their keys, as Arrow takes them into the key columns: a key's date Python
        has none of, read as its text, a date of its column again."""
        if not self.dated:
            return rows
        return [{**row, **{k: arrow_value(row[k], t) for k, t in self.dated}} for row in rows]


def decide_with_python(replay: Replay, keys: tuple[str, ...], writer_for, rejects: RejectsFile,
                       counts: Counts) -> None:
    """Every row by the ordinary runtime; `writer_for(schema)` gives the writer of decided rows."""
    decider, writer = None, None
    for key_types, batch in keyed_batches(replay, keys):
        if decider is None:
            schema = decision_schema(replay.compiled.checked, key_types)
            decider = PythonDecider(replay.compiled, replay.hash, schema, tuple(key_types.names))
            writer = writer_for(schema)
        counts.rows += len(batch)
        decided, refused = decider.decide(batch)
        counts.by_python += len(decided)
        writer.write_table(decider.table(decided))
        rejects.write(refused)
