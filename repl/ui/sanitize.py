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

# Anything _TOKEN might change (it keeps \t \n \r \b): plain text, the bulk of a flood, is
# passed over by one scan for these instead of _TOKEN's alternation tried at every character.
_SPECIAL = re.compile(r"[\x00-\x07\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_PLAIN = bytes(range(0x20, 0x7F)) + b"\t\n\r\b"  # ASCII that passes as it is (a C-speed check)

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
        m = _PARTIAL.search(text, max(0, len(text) - MAX_PENDING))  # (only a short tail is held back)
        if m:
            self._pending = text[m.start():]
            text = text[: m.start()]
        return _sub(text)


def _sub(text: str) -> str:
    if text.isascii() and not text.encode("ascii").translate(None, _PLAIN):
        return text
    first = _SPECIAL.search(text)
    if first is None:
        return text
    at = first.start()
    return text[:at] + _TOKEN.sub(_replace, text[at:])


def clean(text: str) -> str:
    """Sanitize a complete piece of text (no sequence continues after it)."""
    return _sub(_strip_partial(text))


def _strip_partial(text: str) -> str:
    m = _PARTIAL.search(text)
    return text[: m.start()] if m else text
