"""The terminal's mode between prompts: keys wait, unechoed, as bytes for the next prompt.

In canonical mode a Ctrl-D typed while nobody reads is taken by the line discipline as an
end-of-file mark, and it is gone when the next prompt switches to raw mode (so a Ctrl-D typed
the instant a /command printed its answer did nothing); other keys are echoed over the output.
For the whole session, from start-up on (a Ctrl-D typed while the first prompt was not drawn yet
was lost too), outside prompt_toolkit's raw mode and a cell's keyboard (both put back what they
found), canonical mode and echo are off; Ctrl-C and Ctrl-Z still raise their signals.
A program given the terminal (the editor) gets it as it was when repl started.
"""

from __future__ import annotations

import contextlib
import os
import sys
import termios
from typing import Iterator

_started: list | None = None  # the terminal's attributes when repl took it


def _fd() -> int:
    return sys.stdin.fileno()


@contextlib.contextmanager
def held() -> Iterator[None]:
    """For the session: keys typed between prompts are kept for the next one (and those typed
    during start-up, before the first prompt: held from the process's start; nested, as is)."""
    global _started
    if _started is not None:
        yield
        return
    try:
        fd = _fd()
        saved = termios.tcgetattr(fd) if os.isatty(fd) else None
    except (termios.error, ValueError, OSError):
        saved = None
    if saved is None:
        yield
        return
    attrs = termios.tcgetattr(fd)
    attrs[3] &= ~(termios.ICANON | termios.ECHO)
    attrs[6][termios.VMIN] = 1
    attrs[6][termios.VTIME] = 0
    _started = saved
    with contextlib.suppress(termios.error):
        termios.tcsetattr(fd, termios.TCSANOW, attrs)
    try:
        yield
    finally:
        _started = None
        with contextlib.suppress(termios.error):
            termios.tcsetattr(fd, termios.TCSANOW, saved)


@contextlib.contextmanager
def as_started() -> Iterator[None]:
    """For a program given the terminal: the mode repl found, and ours again after."""
    if _started is None:
        yield
        return
    fd = _fd()
    try:
        now = termios.tcgetattr(fd)
        termios.tcsetattr(fd, termios.TCSANOW, _started)
    except termios.error:
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(termios.error):
            termios.tcsetattr(fd, termios.TCSANOW, now)
