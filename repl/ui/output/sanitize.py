"""Kernel output is data, not control of the user's terminal.

Keeps what output needs: text, colours and styles (SGR), cursor movement and erasing within the
screen, \\r \\b \\t \\n. Drops what reaches beyond the screen: OSC (window titles, clipboard
writes OSC 52, colour queries), DCS/APC/PM/SOS strings, terminal queries that make the terminal
type an answer (DSR, DA, DECRQM, window reports), mode switches (mouse reporting, alternate
screen, bracketed paste), full resets and C1 controls. Bidi embeddings, overrides and isolates
(U+202A-U+202E, U+2066-U+2069), which reorder the text after them so that it reads unlike what it
is, and zero-width spaces (U+200B, U+2060-U+2064, U+FEFF) are shown as ``<U+202E>``; the joiners
and marks that scripts and emoji need (U+200C, U+200D, U+200E, U+200F) pass. Stateful, because
a sequence can be split across two stream messages.

:func:`label` is for text of our own that holds words from the kernel or the server (notices,
errors, tables, the debugger, the toolbar): there only colours pass, and every other control or
invisible character (``ESC`` of any other sequence, ``\\r``, ``\\b``, bidi marks, zero-width spaces
and joiners, the BOM) is shown as ``<U+XXXX>``, so a name cannot hide, move or reorder text around
it, nor lose part of itself.
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
  | (?P<reorder>[\u202a-\u202e\u2066-\u2069\u200b\u2060-\u2064\ufeff])             # bidi reordering, zero-width
    """,
    re.VERBOSE | re.DOTALL,
)

# Anything _TOKEN might change (it keeps \t \n \r \b): plain text, the bulk of a flood, is
# passed over by one scan for these instead of _TOKEN's alternation tried at every character.
_SPECIAL = re.compile("[\x00-\x07\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200b\u2060-\u2064\ufeff]")
_PLAIN = bytes(range(0x20, 0x7F)) + b"\t\n\r\b"  # ASCII that passes as it is (a C-speed check)

# An escape sequence that is not finished yet at the end of a chunk.
_PARTIAL = re.compile(r"\x1b(?:\[[0-?]*[ -/]*|[\]PX^_](?:[^\x07\x9c\x1b]|\x1b(?=[^\\]))*\x1b?|[ -/]*)?\Z", re.DOTALL)
MAX_PENDING = 4096


def _replace(m: re.Match) -> str:
    text = m.group(0)
    if text in _KEEP_C0:
        return text
    if m.group("reorder"):
        return visible(text)
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


def visible(char: str) -> str:
    """``<U+202E>``: a character that would act on the text instead of showing itself."""
    return f"<U+{ord(char):04X}>"


# What a label keeps as it is: printable ASCII, tab and newline (a C-speed check, as _PLAIN).
_LABEL_PLAIN = bytes(range(0x20, 0x7F)) + b"\t\n"
_LABEL_TOKEN = re.compile(
    "\x1b\\[[0-9;:]*m"  # colours (SGR) pass
    "|\r\n"  # a line end from a Windows server's message
    # every other control (ESC included: what follows it shows as the text it is), bidi marks,
    # embeddings, overrides and isolates, zero-width spaces and joiners, invisible operators, the
    # soft hyphen, the BOM, line and paragraph separators
    "|[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff]",
)


def _label_part(m: re.Match) -> str:
    text = m.group(0)
    if text.startswith("\x1b["):
        return text  # a colour
    if text == "\r\n":
        return "\n"
    return visible(text)


def label(text: str) -> str:
    """Text of our own holding the kernel's or the server's words, made safe to print and
    truthful: colours only; every other escape sequence and invisible character is shown as the
    text it is (``<U+001B>]0;title<U+0007>``), so a name reads as what it is (see the module
    docstring)."""
    if text.isascii() and not text.encode("ascii").translate(None, _LABEL_PLAIN):
        return text
    return _LABEL_TOKEN.sub(_label_part, text)
