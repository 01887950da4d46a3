"""Our sequences written at the right moments: OSC 133 marks around each prompt and cell, the
window title (kernel and state; the previous title back at exit), a notification when a long cell
ends while the window is away, the clipboard on the user's command.

:class:`Shell` is given the terminal's capabilities and a ``write`` for raw sequences (the
console's, after the output before them). A terminal that takes none of it gets nothing.
"""

from __future__ import annotations

import time
from typing import Callable

from prompt_toolkit.formatted_text import to_formatted_text

from repl.ui.term import osc
from repl.ui.term.caps import Terminal
from repl.ui.term.focus import WINDOW

ZERO_WIDTH = "[ZeroWidthEscape]"  # prompt_toolkit writes such a fragment as it is, taking no cell
CLIPBOARD_LIMIT = 1024 * 1024  # bytes of text: terminals refuse (or choke on) more


class Shell:
    def __init__(self, terminal: Terminal, write: Callable[[str], None]) -> None:
        self.terminal = terminal
        self.write = write
        self._title = ""  # the title shown, so an unchanged one is not written again
        self._started: float | None = None  # when the cell or command running began
        self._opened = False

    # ------------------------------------------------------------ the session

    def open(self) -> None:
        """At start: keep the terminal's title (its stack)."""
        t = self.terminal
        if not t.escapes or self._opened:
            return
        self._opened = True
        self.write(osc.PUSH_TITLE if t.title else "")

    def close(self) -> None:
        """At exit: the title before ours, focus reports off (left while a cell ran)."""
        t = self.terminal
        if not self._opened:
            return
        self._opened = False
        self.write((osc.POP_TITLE if t.title and self._title else "") + (osc.FOCUS_OFF if t.notify_after > 0 else ""))

    # ------------------------------------------------------------ the prompt

    def prompt(self, message):
        """The prompt's message between OSC 133 A (the prompt starts) and B (typing starts)."""
        if not self.terminal.escapes:
            return message
        return [(ZERO_WIDTH, osc.prompt_start()), *to_formatted_text(message), (ZERO_WIDTH, osc.input_start())]

    def continuation(self, text):
        if not self.terminal.escapes:
            return text
        return [(ZERO_WIDTH, osc.prompt_start(continuation=True)), *to_formatted_text(text),
                (ZERO_WIDTH, osc.input_start())]

    def state(self, kernel: str | None, state: str) -> None:
        """The window title: ``repl · python3 · busy``; written only when it changes."""
        if not (self.terminal.escapes and self.terminal.title):
            return
        text = osc.plain(" · ".join(part for part in ("repl", kernel, state) if part))
        if text != self._title:
            self._title = text
            self.write(osc.title(text))

    # ------------------------------------------------------------ a cell or a command

    def started(self) -> None:
        """Enter ran a cell or a command: its output starts (OSC 133 C). While it runs the
        terminal reports the window's focus (the keys typed meanwhile carry the reports; the
        window has it now: Enter was just typed there). Once a cell: it may be said as the prompt
        ends, before what the cell already printed."""
        if self._started is not None:
            return
        self._started = time.monotonic()
        if self.terminal.escapes:
            WINDOW.focused = None
            self.write(osc.output_start() + (osc.FOCUS_ON if self.terminal.notify_after > 0 else ""))

    def ended(self, status: int, what: str = "") -> None:
        """It ended (OSC 133 D with 0, or 1 on an error or interrupt); ``what`` (a cell's
        ``In [N]``) is said in a notification when it ran long while the window was away."""
        started, self._started = self._started, None
        t = self.terminal
        if not t.escapes or started is None:
            return
        seq = (osc.FOCUS_OFF if t.notify_after > 0 else "") + osc.command_end(status)
        took = time.monotonic() - started
        if what and t.notify_after > 0 and took >= t.notify_after and WINDOW.away():
            how = "finished" if status == 0 else "failed"
            note = osc.notification(t.notify, "repl", f"{what} {how} after {took:.0f} s")
            seq += note if t.notify == "bell" else t.passthrough(note)  # (tmux passes a plain bell on itself)
        self.write(seq)

    # ------------------------------------------------------------ the clipboard

    def copy(self, text: str) -> str | None:
        """``text`` to the clipboard (OSC 52, through tmux too); None if done, else why not."""
        if not self.terminal.escapes:
            return "the clipboard is reached through the terminal, and this is not one (or TERM=dumb)"
        if len(text.encode("utf-8")) > CLIPBOARD_LIMIT:
            return f"{len(text.encode('utf-8')) // 1024} KiB is more than terminals take on the clipboard (1 MiB)"
        seq = osc.clipboard(text)
        # inside tmux: as it is (tmux takes it with set-clipboard on) and wrapped (passed on with allow-passthrough on)
        self.write(seq + osc.tmux(seq) if self.terminal.tmux else seq)
        return None
