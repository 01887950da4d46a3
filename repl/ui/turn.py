"""A cell typed while a background cell of ours keeps the same kernel busy waits its turn here,
not in the kernel's queue, where it would sit silent and could not be taken back.

It is said once that it is queued behind ``In [N]``; the kernel gets it as soon as the background
cells sent before it have ended (or were lost). Ctrl-C while it waits takes it back: it was never
sent, the running cell is not interrupted, and its text is in the next prompt again.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from repl.kernel import Kernel

TAKEN_BACK = "repl: taken back, not sent (the background cell goes on); the cell is in the prompt again"


def queued_line(kernel: Kernel) -> str:
    counts = ", ".join(f"In [{c.execution_count if c.execution_count is not None else '?'}]" for c in kernel.background)
    return f"repl: queued behind {counts} running in the background on {kernel.label}; Ctrl-C takes it back"


async def wait(kernel: Kernel, say: Callable[[str], None]) -> None:
    """Until ``kernel`` runs no background cell of ours (at once if it runs none)."""
    ahead = kernel.background
    if not ahead:
        return
    say(queued_line(kernel))
    while ahead:
        await asyncio.wait([c.done for c in ahead])  # (cancelling this leaves the cells alone)
        ahead = kernel.background


async def finished(waiting: asyncio.Future) -> bool:
    """Await ``waiting``; False if it was cancelled (Ctrl-C), not the one awaiting it."""
    try:
        await waiting
    except asyncio.CancelledError:
        if not waiting.cancelled():
            raise
        return False
    return True
