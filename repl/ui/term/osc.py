"""The terminal sequences repl writes of its own accord. Pure: text in, sequences out.

Every word from a kernel or a server that goes into one (a kernel's name in the title, a link's
target) is made plain first: no control character can end the sequence early or start another.
"""

from __future__ import annotations

import base64

from repl.ui.output.render import strip_ansi
from repl.ui.output.sanitize import label

ST = "\x1b\\"  # the string terminator
PUSH_TITLE = "\x1b[22;0t"  # xterm's title stack: the title before ours comes back at exit
POP_TITLE = "\x1b[23;0t"
FOCUS_ON = "\x1b[?1004h"  # the terminal reports focus in (ESC [ I) and out (ESC [ O)
FOCUS_OFF = "\x1b[?1004l"
BELL = "\a"
TITLE_CHARS = 200


def osc(body: str) -> str:
    return f"\x1b]{body}{ST}"


def plain(text: str, limit: int = TITLE_CHARS) -> str:
    """A kernel's or server's words as plain text for inside a sequence: through the sanitizer's
    :func:`label` (every control shown as ``<U+XXXX>``), then without its colours."""
    return strip_ansi(label(text.replace("\n", " ")))[:limit]


def prompt_start(continuation: bool = False) -> str:
    return osc("133;A;k=s" if continuation else "133;A")


def input_start() -> str:
    return osc("133;B")


def output_start() -> str:
    return osc("133;C")


def command_end(status: int) -> str:
    return osc(f"133;D;{status}")


def title(text: str) -> str:
    return osc("2;" + plain(text))


def tmux(seq: str) -> str:
    """``seq`` wrapped for tmux to pass on to the terminal outside it (every ESC doubled)."""
    return "\x1bPtmux;" + seq.replace("\x1b", "\x1b\x1b") + ST


def clipboard(text: str) -> str:
    """OSC 52: ``text`` to the clipboard."""
    return osc("52;c;" + base64.b64encode(text.encode("utf-8")).decode("ascii"))


def notification(kind: str, heading: str, body: str) -> str:
    """A desktop notification in the terminal's own sequence: ``osc9`` (iTerm2, WezTerm, ghostty),
    ``osc777`` (VTE terminals, foot), ``osc99`` (kitty); else the bell."""
    heading, body = plain(heading, 100), plain(body, 200)
    if kind == "osc9":
        return osc(f"9;{heading}: {body}")
    if kind == "osc777":
        return osc(f"777;notify;{heading.replace(';', ',')};{body.replace(';', ',')}")
    if kind == "osc99":
        return osc(f"99;i=repl:d=0;{heading}") + osc(f"99;i=repl:d=1:p=body;{body}")
    return BELL
