"""The foreground cell as a state machine: kernel events and key presses in, what to do out.

Pure: no asyncio, no terminal. The prompt loop feeds it and carries out what it returns.

- Ctrl-C interrupts the cell, but only once the kernel has started it (execute_input seen): a
  signal to a kernel that has not started the cell would be lost. ipykernel says busy while it
  still ignores SIGINT (it listens just before it handles the request, and says execute_input
  after that), so a press from before execute_input is sent when execute_input comes; for a
  kernel that says busy and never execute_input, a second press is sent as it is. The third
  Ctrl-C stops waiting and leaves the cell running in the background. Ctrl-Z detaches it at once.
- After Ctrl-C, output the kernel produced before the press is the backlog of a flood: it is
  counted and skipped (its last lines kept to show). Output produced after it (an
  ``except KeyboardInterrupt`` handler, ``finally``, the next command of a shell) is drawn. The
  kernel's clock is compared through ``clock_offset`` (local time minus kernel time).
- ``clear_output(wait=True)`` clears when the next output arrives; without wait, at once.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass, field

from repl.protocol import session as s

PATIENCE_INTERRUPTS = 3  # Ctrl-C presses after which we stop waiting for a cell that will not end
TAIL_LINES = 3

_OUTPUTS = (s.Stream, s.DisplayData, s.ExecuteResult, s.ErrorOutput)


class Do(enum.Enum):
    NOTHING = "nothing"
    DRAW = "draw"
    SKIP = "skip"  # backlog after an interrupt: counted, not drawn
    CLEAR = "clear"
    CLEAR_THEN_DRAW = "clear then draw"
    NEWLINE_THEN_DRAW = "newline then draw"  # the first output after skipped backlog, which may end mid-line
    INTERRUPT = "interrupt"
    DETACH = "detach"  # Ctrl-Z: to the background
    GIVE_UP = "give up"  # the third Ctrl-C: stop waiting, leave it in the background
    FINISH = "finish"


@dataclass
class Foreground:
    request: s.Request
    started: bool = False  # the kernel has started it (execute_input seen)
    busy: bool = False  # the kernel said busy for it (not yet listening for SIGINT, if ipykernel)
    presses: int = 0
    interrupt_on_start: bool = False
    cutoff: float | None = None  # kernel time of the first Ctrl-C
    clear_pending: bool = False
    detached: bool = False
    skipped: int = 0
    line_cut: bool = False  # output was skipped since the last drawn
    tail: deque = field(default_factory=lambda: deque(maxlen=TAIL_LINES))

    def ctrl_c(self, now: float, clock_offset: float | None) -> Do:
        """A Ctrl-C at local time ``now`` (POSIX seconds)."""
        if self.detached or self.request.done:
            return Do.NOTHING
        self.presses += 1
        if self.presses == 1 and clock_offset is not None:
            self.cutoff = now - clock_offset
        if self.presses >= PATIENCE_INTERRUPTS:
            self.detached = True
            return Do.GIVE_UP
        if self.started or (self.busy and self.presses > 1):  # (the second press: a kernel without execute_input)
            return Do.INTERRUPT
        self.interrupt_on_start = True
        return Do.NOTHING

    def ctrl_z(self) -> Do:
        if self.detached or self.request.done:
            return Do.NOTHING
        self.detached = True
        return Do.DETACH

    def event(self, ev: s.Event) -> Do:
        """What to do with one event of this cell."""
        if isinstance(ev, s.RequestDone):
            return Do.FINISH
        if isinstance(ev, s.Status) and ev.state == "busy":
            self.busy = True
            return Do.NOTHING
        if isinstance(ev, s.ExecuteInput) and self.interrupt_on_start and not self.started:
            # not at busy: ipykernel says busy before it stops ignoring SIGINT for the cell, and a
            # signal in between is lost (seen under load); execute_input comes once it listens
            self.started, self.interrupt_on_start = True, False
            return Do.INTERRUPT
        if isinstance(ev, s.ExecuteInput) and not self.started:
            self.started = True
            return Do.NOTHING
        if isinstance(ev, s.ClearOutput):
            if ev.wait:
                self.clear_pending = True
                return Do.NOTHING
            return Do.CLEAR
        if not isinstance(ev, _OUTPUTS):
            return Do.NOTHING
        if self.presses and isinstance(ev, (s.Stream, s.DisplayData)) and self._backlog(ev.date):
            self.skipped += 1
            self.line_cut = True
            if isinstance(ev, s.Stream):
                self.tail.extend(line for line in ev.text.splitlines() if line.strip())
            return Do.SKIP
        if self.clear_pending:
            self.clear_pending = False
            return Do.CLEAR_THEN_DRAW
        if self.line_cut:
            self.line_cut = False
            return Do.NEWLINE_THEN_DRAW
        return Do.DRAW

    def _backlog(self, date: str) -> bool:
        when = s.kernel_time(date)
        return self.cutoff is None or when is None or when < self.cutoff

    def summary(self) -> list[str]:
        """The lines that say what was skipped (none if nothing was)."""
        if not self.skipped:
            return []
        head = f"[{self.skipped} output messages produced before the interrupt skipped"
        if not self.tail:
            return [head + "]"]
        return [head + "; the last lines:]", *self.tail]
