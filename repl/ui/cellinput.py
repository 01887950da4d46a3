"""The keyboard while a cell runs (no prompt showing).

The terminal goes to non-canonical, no-echo mode with the suspend character disabled, and we
read it ourselves: Ctrl-Z becomes a key we see (a terminal-generated SIGTSTP is silently dropped
for orphaned process groups, e.g. under ``ssh host repl``), Ctrl-C still raises SIGINT (and a
Ctrl-C typed while the prompt still held the terminal in raw mode arrives as a byte: the same),
Ctrl-D is offered to ``on_eof`` (the (dbg) prompt's wait takes it) and otherwise kept, and
everything else typed ahead is kept and handed to the next prompt as typeahead.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import termios
from typing import Callable

from prompt_toolkit.input.typeahead import store_typeahead

from repl.ui.prompt import fastinput

SUSPEND = 0x1A  # Ctrl-Z
INTERRUPT = 0x03  # Ctrl-C typed while the prompt was still reading: a byte, not a signal
EOF = 0x04  # Ctrl-D (the terminal's EOF is off while we read): offered to ``on_eof``, else kept as typeahead


class CellInput:
    def __init__(self, on_suspend: Callable[[], None], on_interrupt: Callable[[], None],
                 fd: int | None = None, on_eof: Callable[[], bool] = lambda: False) -> None:
        self.on_suspend = on_suspend
        self.on_interrupt = on_interrupt
        self.on_eof = on_eof  # True: the key was taken
        self.fd = sys.stdin.fileno() if fd is None else fd
        self.typeahead = bytearray()
        self._saved: list | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __enter__(self) -> "CellInput":
        self.resume()
        return self

    def pause(self) -> None:
        """Give the terminal back (for a prompt shown while the cell runs, e.g. input())."""
        self.__exit__()
        self._saved = None
        self._loop = None

    def resume(self) -> None:
        if not os.isatty(self.fd):
            return
        try:
            self._saved = termios.tcgetattr(self.fd)
            attrs = termios.tcgetattr(self.fd)
            attrs[3] &= ~(termios.ICANON | termios.ECHO)
            attrs[6][termios.VSUSP] = b"\x00" if isinstance(attrs[6][termios.VSUSP], bytes) else 0
            attrs[6][termios.VMIN] = 1
            attrs[6][termios.VTIME] = 0
            termios.tcsetattr(self.fd, termios.TCSANOW, attrs)
        except termios.error:
            self._saved = None
            return
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.fd, self._readable)
        self._paste_mode(True)  # a paste typed ahead stays one paste at the next prompt

    def _readable(self) -> None:
        try:
            data = os.read(self.fd, 4096)
        except OSError:
            data = b""
        if not data:  # the end of input; or Ctrl-D read while the terminal was (still) in canonical mode
            if self._loop is not None:
                self._loop.remove_reader(self.fd)
            self.on_eof()
            return
        for byte in data:
            if byte == SUSPEND:
                self.on_suspend()
            elif byte == INTERRUPT:
                self.on_interrupt()
            elif byte == EOF and self.on_eof():
                pass
            else:
                self.typeahead.append(byte)

    @staticmethod
    def _paste_mode(on: bool) -> None:
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.write("\x1b[?2004h" if on else "\x1b[?2004l")
            sys.stdout.flush()

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None:
            self._loop.remove_reader(self.fd)
            self._paste_mode(False)
        if self._saved is not None:
            with contextlib.suppress(termios.error):
                termios.tcsetattr(self.fd, termios.TCSANOW, self._saved)

    def hand_to(self, prompt_input) -> None:
        """Give what was typed during the cell to the next prompt."""
        if not self.typeahead:
            return
        store_typeahead(prompt_input, fastinput.parse(self.typeahead.decode("utf-8", errors="replace")))
        self.typeahead.clear()
