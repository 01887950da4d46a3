"""A cell (or command) typed before the first kernel is up waits for it, with no prompt showing.

The keyboard is read meanwhile (:class:`repl.ui.cellinput.CellInput`): Ctrl-C gives up waiting
(the input is dropped, the kernel is still on its way), Ctrl-D leaves repl at once, and whatever
else is typed goes to the next prompt. :meth:`EarlyInput.wait` says which it was.
"""

from __future__ import annotations

import asyncio
import enum
from typing import TYPE_CHECKING, Callable

from repl.ui.cellinput import CellInput

if TYPE_CHECKING:
    from repl.opening import Opening


class Waited(enum.Enum):
    UP = "up"  # the kernel came: run the input
    FAILED = "failed"  # it could not come (the opening's error says why)
    DROPPED = "dropped"  # Ctrl-C: the input is dropped
    LEAVE = "leave"  # Ctrl-D: leave repl


class EarlyInput:
    def __init__(self, say: Callable[[str], None], on_suspend: Callable[[], None],
                 on_interrupt: Callable[[], None]) -> None:
        self.say = say  # a dim line for the user
        self.on_suspend = on_suspend
        self.on_interrupt = on_interrupt  # the app's SIGINT handler: it calls :meth:`drop`
        self._waiting: asyncio.Future | None = None
        self._why: Waited | None = None

    @property
    def waiting(self) -> bool:
        return self._waiting is not None and not self._waiting.done()

    def drop(self) -> None:
        """Ctrl-C while waiting: give up on the input."""
        self._stop(Waited.DROPPED)

    def leave(self) -> bool:
        """Ctrl-D while waiting: leave repl without waiting any longer (True: the key was taken)."""
        waiting = self.waiting
        self._stop(Waited.LEAVE)
        return waiting

    def _stop(self, why: Waited) -> None:
        if self.waiting and self._why is None:
            self._why = why
            assert self._waiting is not None
            self._waiting.cancel()

    async def wait(self, opening: Opening, prompt_input) -> Waited:
        """Wait for the first kernel; what was typed meanwhile is handed to ``prompt_input``."""
        opening.start()
        if opening.pending:
            self.say(f"repl: waiting: {opening.status()} (Ctrl-C cancels, Ctrl-D leaves)")
            self._why = None
            waiting = self._waiting = asyncio.ensure_future(asyncio.wait([opening.task]))
            keyboard = CellInput(self.on_suspend, self.on_interrupt, on_eof=self.leave)
            try:
                with keyboard:
                    await waiting
            except asyncio.CancelledError:
                if not waiting.cancelled() or self._why is None:
                    raise
                return self._why
            finally:
                self._waiting = None
                if prompt_input is not None:
                    keyboard.hand_to(prompt_input)
        if opening.task.cancelled() or opening.task.exception() is not None:
            return Waited.FAILED
        return Waited.UP
