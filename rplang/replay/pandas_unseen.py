"""pyarrow without pandas, while `rpl replay` makes Arrow columns of an input's rows.

pyarrow looks for pandas objects among the Python values it converts: the first conversion in a
process imports pandas if it is installed (rplang[spark] installs it), and so does every one that
infers a type, until pandas is found. That is a third of a second and 45 MB before any row is
read, in a run whose values are JSON's and the request reader's, never pandas'. While pandas
cannot be imported, the first conversion finds none, and pyarrow remembers it: lists are converted
as lists from then on, in this process and in the workers forked from it, and pyarrow still
imports pandas for a call that asks for it (`Table.to_pandas`).
"""
from __future__ import annotations

import contextlib
import sys


class _NoPandas:
    """A finder of modules, first on `sys.meta_path`, to which pandas is not installed."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "pandas":
            raise ModuleNotFoundError("pandas is not imported while rpl replay reads its input", name=name)
        return None


@contextlib.contextmanager
def pandas_unseen():
    """pandas cannot be imported in this context, unless it already is."""
    if "pandas" in sys.modules:
        yield
        return
    sys.meta_path.insert(0, _NoPandas)
    try:
        yield
    finally:
        sys.meta_path.remove(_NoPandas)
