"""Keys from the terminal, with long runs of plain text taken as one piece.

A large paste that arrives as keystrokes (no bracketed paste) costs prompt_toolkit a key press,
a parser step and a new document per character: quadratic time and memory. Here a run of
printable characters long enough that no escape sequence can span it becomes one paste-like key
press, inserted at once. Shorter runs, escape sequences, Enter and control keys are parsed as
usual, in order.
"""

from __future__ import annotations

import re
import select

from prompt_toolkit.input.vt100 import Vt100Input
from prompt_toolkit.input.vt100_parser import Vt100Parser
from prompt_toolkit.key_binding import KeyPress
from prompt_toolkit.keys import Keys

from repl.ui.term.focus import WINDOW

RUN = re.compile(r"[^\x00-\x1f\x7f]{64,}")  # printable text without control characters
SLACK = 16  # the longest escape sequence a run could finish is parsed with what came before it
DRAIN_LIMIT = 16 * 1024 * 1024
CHUNK = 64 * 1024
PASTE_GAP = 0.02  # seconds to wait for the rest of a paste that stopped mid-run
IN_RUN = re.compile(r"[^\x00-\x1f\x7f]{64}")


def feed(parser: Vt100Parser, data: str, out: list[KeyPress]) -> None:
    """``parser.feed(data)`` whose callback appends to ``out``, with long runs taken whole (and
    the terminal's focus reports taken out: they are not keys)."""
    data = WINDOW.take(data)
    pos = 0
    for m in RUN.finditer(data):
        if parser._in_bracketed_paste:  # the terminal marked a paste: the parser collects it
            break
        start = m.start() + SLACK
        parser.feed(data[pos:start])
        if parser._in_bracketed_paste:
            pos = start
            break
        parser.flush()  # nothing pending can continue into this much plain text
        out.append(KeyPress(Keys.BracketedPaste, data[start:m.end()]))
        pos = m.end()
    parser.feed(data[pos:])


def parse(data: str) -> list[KeyPress]:
    """Key presses for text typed ahead (read while a cell ran)."""
    keys: list[KeyPress] = []
    parser = Vt100Parser(keys.append)
    feed(parser, data, keys)
    parser.flush()
    return keys


class FastInput(Vt100Input):
    """The terminal's input for the prompt, reading long runs of plain text whole."""

    def read_keys(self) -> list[KeyPress]:
        data = self.stdin_reader.read(CHUNK)
        while len(data) < DRAIN_LIMIT and select.select([self.stdin_reader.stdin_fd], [], [], self._gap(data))[0]:
            more = self.stdin_reader.read(CHUNK)  # a paste arrives in terminal-sized pieces: take it all
            if not more:
                break
            data += more
        feed(self.vt100_parser, data, self._buffer)
        result, self._buffer = self._buffer, []
        return result

    @staticmethod
    def _gap(data: str) -> float:
        """How long to wait for more: a moment when the text stopped inside a long run of plain
        text (a paste the terminal is still writing, so it becomes one insertion, one undo step
        and one redraw), else not at all."""
        return PASTE_GAP if IN_RUN.fullmatch(data, max(len(data) - 64, 0)) else 0
