"""Two of prompt_toolkit's drawing steps, done in fewer Python steps with the same result.

The prompt fills the terminal below it (the toolbar sits on the last row), so every drawing lays
out some 40 rows. Two steps there cost in proportion to that area, not to what is drawn:

- ``HSplit._divide_heights`` hands out the free rows one at a time, round robin over the
  children (a generator step and a ``sum`` per row, at each level of the layout): ~400 steps a
  drawing. Here, rows that every child still short of its size would take in whole rounds are
  given at once, and only the last round is stepped, in the same order, from the same child.
- ``MouseHandlers.set_mouse_handler_for_range`` sets one callback per cell, in a Python loop over
  the window's area. Here each row is updated from one dict made once.

Together they were a fifth of a drawing here (2.2 → 1.7 ms, median over a session of Tabs), and a
drawing is on the path from a completion's answer to its menu. Both give exactly what
prompt_toolkit's own do (``tests/test_quickdraw.py`` compares them on random layouts); weights
other than all-equal (prompt_toolkit's default) go to the original.
"""

from __future__ import annotations

from typing import Callable

from prompt_toolkit.application.current import get_app
from prompt_toolkit.layout import containers
from prompt_toolkit.layout.dimension import sum_layout_dimensions
from prompt_toolkit.layout.mouse_handlers import MouseHandlers

ORIGINAL_DIVIDE = containers.HSplit._divide_heights
ORIGINAL_MOUSE = MouseHandlers.set_mouse_handler_for_range


def fill(sizes: list[int], targets: list[int], stop: int, at: int) -> int:
    """Grow ``sizes`` towards ``targets`` one row at a time, round robin from child ``at``, skipping
    children at their target, until they sum to ``stop``; returns the child the next row would
    go to. (prompt_toolkit's loop, with whole rounds taken at once.)"""
    n = len(sizes)
    need = stop - sum(sizes)
    while need > 0:
        short = [j for j in range(n) if sizes[j] < targets[j]]
        if not short:  # (never: the stop is at most the targets' sum; prompt_toolkit's loop would not end)
            break
        # whole rounds, leaving at least one row: where the last row goes decides where the next starts
        rounds = min(min(targets[j] - sizes[j] for j in short), (need - 1) // len(short))
        if rounds > 0:
            for j in short:
                sizes[j] += rounds
            need -= rounds * len(short)
        for _ in range(n):  # one round, a row at a time
            if need == 0:
                break
            if sizes[at] < targets[at]:
                sizes[at] += 1
                need -= 1
            at = (at + 1) % n
    return at


def divide_heights(self: containers.HSplit, write_position: containers.WritePosition) -> list[int] | None:
    if not self.children:
        return []
    dimensions = [c.preferred_height(write_position.width, write_position.height) for c in self._all_children]
    weights = {d.weight for d in dimensions}
    if len(weights) != 1 or weights.pop() <= 0:
        return ORIGINAL_DIVIDE(self, write_position)
    height = write_position.height
    total = sum_layout_dimensions(dimensions)
    if total.min > height:
        return None
    sizes = [d.min for d in dimensions]
    at = fill(sizes, [d.preferred for d in dimensions], min(height, total.preferred), 0)
    if not get_app().is_done:
        fill(sizes, [d.max for d in dimensions], min(height, total.max), at)
    return sizes


def set_mouse_handler_for_range(self: MouseHandlers, x_min: int, x_max: int, y_min: int, y_max: int,
                                handler: Callable) -> None:
    row = dict.fromkeys(range(x_min, x_max), handler)
    rows = self.mouse_handlers
    for y in range(y_min, y_max):
        rows[y].update(row)


def install() -> None:
    """Use these in every prompt of the process (idempotent)."""
    containers.HSplit._divide_heights = divide_heights  # type: ignore[method-assign]
    MouseHandlers.set_mouse_handler_for_range = set_mouse_handler_for_range  # type: ignore[method-assign]
