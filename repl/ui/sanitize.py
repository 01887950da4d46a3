"""Kernel output is data, not control of the user's terminal.

Keeps what output needs: text, colours and styles (SGR), cursor movement and erasing within the
screen, \\r \\b \\t \\n. Drops what reaches beyond the screen: OSC (window titles, clipboard
writes OSC 52, colour queries), DCS/APC/PM/SOS strings, terminal queries that make the terminal
type an answer (DSR, DA, DECRQM, window reports), mode switches (mouse reporting, alternate
screen, bracketed paste), full resets and C1 controls. Stateful, because a sequence can be split
across two stream messages.
"""

from __future__ import annotations

import re

# CSI final bytes we let through: SGR, cursor moves, erase, scroll, save/restore cursor.
_CSI_ALLOWED = set("mABCDEFGHJKSTfsu")
_ESC_ALLOWED = set("78")  # save / restore cursor
_KEEP_C0 = {"\n", "\r", "\t", "\b", "\x1b"}

_TOKEN = re.compile(
    r"""
    \x1b\[ (?P<csi_params>[0-?]*) (?P<csi_inter>[ -/]*) (?P<csi_final>[@-~])   # CSI
  | \x1b[\]PX^_] .*? (?:\x07|\x1b\\|\x9c)                                      # OSC DCS SOS PM APC
  | \x1b [ -/]* [0-~]                                                          # other escapes
  | [\x80-\x9f]                                                                # C1 controls
  | [\x00-\x08\x0b-\x0c\x0e-\x1a\x1c-\x1f\x7f]                                 # C0 but \t \n \r \x1b
    """,
    re.VERBOSE | re.DOTALL,
)

# An escape sequence that is not finished yet at the end of a chunk.
_PARTIAL = re.compile(r"\x1b(?:\[[0-?]*[ -/]*|[\]PX^_](?:[^\x07\x9c\x1b]|\x1b(?=[^\\]))*\x1b?|[ -/]*)?\Z", re.DOTALL)
MAX_PENDING = 4096


def _replace(m: re.Match) -> str:
    text = m.group(0)
    if text in _KEEP_C0:
        return text
    final = m.group("csi_final")
    if final is not None:
        if final in _CSI_ALLOWED and not m.group("csi_inter") and not m.group("csi_params").startswith(("?", ">", "=", "<")):
            return text
        return ""
    if len(text) == 2 and text[0] == "\x1b" and text[1] in _ESC_ALLOWED:
        return text
    return ""


class Sanitizer:
    def __init__(self) -> None:
        self._pending = ""

    def feed(self, text: str) -> str:
        text = self._pending + text
        self._pending = ""
        m = _PARTIAL.search(text)
        if m and len(text) - m.start() <= MAX_PENDING:
            self._pending = text[m.start():]
            text = text[: m.start()]
        return _TOKEN.sub(_replace, text)


def clean(text: str) -> str:
    """Sanitize a complete piece of text (no sequence continues after it)."""
    return _TOKEN.sub(_replace, _strip_partial(text))


def _strip_partial(text: str) -> str:
    m = _PARTIAL.search(text)
    return text[: m.start()] if m else text
