"""What ``/save`` keeps of a session's output: one budget for the cells of every kernel.

The workspace owns one :class:`Keep`; each kernel hands it to the cells it records. A cell tells it
how much its kept outputs grew or shrank (text, images and every other mime type, by their size in
memory); once the session's total is over the budget, the outputs of the oldest cells go first (the
cell keeps its code and counts, and a marker where its outputs were). The cell whose output is
arriving is never the one dropped: its own cap (at most the whole budget) bounds it.
"""

from __future__ import annotations

import os
import sys
from collections import deque
from typing import Mapping, Protocol

from repl import errors

ENV = "REPL_KEEP_MIB"
DEFAULT_MIB = 32.0
MIB = 1024 * 1024


class Holder(Protocol):
    """A cell, as the budget sees it: what it keeps, and how to let its outputs go."""

    kept: int

    def drop_outputs(self, why: str) -> None: ...


def size_of(obj: object) -> int:
    """Bytes an output's value takes in memory, near enough: strings by their size (their width
    counted), containers by what they hold."""
    if isinstance(obj, str):
        return sys.getsizeof(obj)
    if isinstance(obj, (bytes, bytearray)):
        return len(obj) + 33
    if isinstance(obj, dict):
        return 64 + sum(size_of(k) + size_of(v) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return 56 + sum(size_of(v) for v in obj)
    return 16


def describe(limit: int) -> str:
    mib = limit / MIB
    return f"{mib:g} MiB" if mib >= 1 or mib == 0 else f"{limit // 1024} KiB"


class Keep:
    """The session's budget of kept output, and its cells with outputs, oldest first."""

    def __init__(self, limit: int = int(DEFAULT_MIB * MIB)) -> None:
        self.limit = max(0, limit)
        self.total = 0
        self._cells: deque[Holder] = deque()  # cells holding kept output, in the order they began to
        self._queued: set[int] = set()  # (ids of those: a cell enters the queue once)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Keep:
        """The budget from ``REPL_KEEP_MIB`` (MiB, may be fractional; 0 keeps no output)."""
        raw = (os.environ if env is None else env).get(ENV, "").strip()
        if not raw:
            return cls()
        try:
            mib = float(raw)
        except ValueError:
            mib = -1.0
        if not 0 <= mib < 1 << 20:
            raise errors.UsageError(f"{ENV} is the MiB of output /save keeps for the session (e.g. 32; 0 keeps none), "
                                    f"not {raw!r}")
        return cls(int(mib * MIB))

    @property
    def why(self) -> str:
        return f"the session keeps its last {describe(self.limit)} of output ({ENV})"

    def grew(self, cell: Holder, by: int) -> None:
        """``cell`` keeps ``by`` more bytes (less, if negative); drop the oldest others' outputs
        while the session keeps more than its budget."""
        cell.kept += by
        self.total += by
        if cell.kept > 0 and id(cell) not in self._queued:
            self._cells.append(cell)
            self._queued.add(id(cell))
        skipped: list[Holder] = []
        while self.total > self.limit and self._cells:
            old = self._cells.popleft()
            if old is cell:
                skipped.append(old)
                continue
            self._queued.discard(id(old))
            self.total -= old.kept
            old.kept = 0
            old.drop_outputs(self.why)
        self._cells.extendleft(skipped)

    def forget(self, cell: Holder) -> None:
        """``cell`` keeps nothing now (its outputs were cleared)."""
        self.total -= cell.kept
        cell.kept = 0
        if id(cell) in self._queued:
            self._queued.discard(id(cell))
            self._cells.remove(cell)

    def cells(self) -> int:
        return len(self._cells)
