"""Rules found by a range of values: which of many intervals may hold a value, by bisection.

A marketplace's rule per price band (`item.price >= 120.00 and item.price < 120.50`) is found
this way, as a rule per SKU is found by its value in a table (runtime/codegen.py).
"""
from __future__ import annotations

import bisect

# An interval: (lowest value or None, whether it is included, highest value or None, whether it is
# included); a bound None is open.
Interval = tuple


def pieces_covered(intervals: list[Interval]) -> int:
    """How many pieces of the line (see RangeIndex) the intervals cover together: what an index
    of them costs. Intervals that overlap each other widely cost many."""
    bounds, position = _bounds(intervals)
    return sum(max(0, last - first + 1) for first, last in
               (_span(interval, position, len(bounds)) for interval in intervals))


class RangeIndex:
    """Items by the interval of values each applies to; `index(value)` is the items whose interval
    holds the value, in the order they were given.

    The distinct bounds cut the line into pieces: below the first bound, each bound itself, each
    open stretch between two bounds, above the last. Each piece lists the items whose interval
    covers it, and a value finds its piece by bisecting the bounds.
    """

    __slots__ = ("bounds", "pieces")

    def __init__(self, intervals: list[Interval], items: list):
        self.bounds, position = _bounds(intervals)
        pieces: list[list] = [[] for _ in range(2 * len(self.bounds) + 1)]
        for interval, item in zip(intervals, items):
            first, last = _span(interval, position, len(self.bounds))
            for piece in range(first, last + 1):
                pieces[piece].append(item)
        self.pieces = [tuple(p) for p in pieces]

    def __call__(self, value) -> tuple:
        bounds = self.bounds
        at = bisect.bisect_left(bounds, value)
        if at < len(bounds) and bounds[at] == value:
            return self.pieces[2 * at + 1]
        return self.pieces[2 * at]


def _bounds(intervals: list[Interval]) -> tuple[list, dict]:
    bounds = sorted({b for low, _, high, _ in intervals for b in (low, high) if b is not None})
    return bounds, {b: k for k, b in enumerate(bounds)}


def _span(interval: Interval, position: dict, count: int) -> tuple[int, int]:
    """The first and last piece an interval covers (the last before the first: none)."""
    low, low_included, high, high_included = interval
    first = 0 if low is None else 2 * position[low] + (1 if low_included else 2)
    last = 2 * count if high is None else 2 * position[high] + (1 if high_included else 0)
    return first, last
