"""Kernel output events → terminal text. Pure functions: events in, (stream, text) pieces out.

``stream`` is ``"out"`` or ``"err"``. Nothing here writes to a terminal, so every rule is
tested by comparing strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from repl.protocol import session as s
from repl.ui.output import mime
from repl.ui.output.images import Drawing

Piece = tuple[str, str]

ANSI_RE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")

RED = "\x1b[31m"
BOLD_RED = "\x1b[1;31m"
DIM = "\x1b[2m"
RESET = "\x1b[0m"


def strip_ansi(text: str) -> str:
    return ANSI_RE.sub("", text)


@dataclass
class Style:
    color: bool = True
    width: int = 80
    images: Drawing = field(default_factory=Drawing)  # how images are drawn
    escapes: bool = True  # False for TERM=dumb: the terminal shows escape sequences as text
    hyperlinks: bool = False  # links drawn as the terminal's (OSC 8); else the address after the text

    def paint(self, code: str, text: str) -> str:
        """``text`` in the SGR ``code``, line by line: a line break never sits inside a colour, so
        a tag put at the start of each line stays one tag."""
        if not (self.color and text):
            return text
        if "\n" not in text:
            return f"{code}{text}{RESET}"
        return "\n".join(f"{code}{line}{RESET}" if line else line for line in text.split("\n"))


def out_prompt(count: int | None, style: Style) -> str:
    label = f"Out[{count if count is not None else ' '}]: "
    return style.paint(RED, label)


def execute_result(ev: s.ExecuteResult, style: Style) -> list[Piece]:
    prompt = out_prompt(ev.execution_count, style)
    pieces = bundle(ev.data, style)
    stream, text = pieces[0]
    if stream == "image" or "\n" in text.rstrip("\n"):
        return [("out", prompt + "\n"), *pieces]
    return [("out", f"{prompt}{text.rstrip(chr(10))}\n")]


def bundle(data: dict, style: Style) -> list[Piece]:
    """A mime bundle as the terminal can show it."""
    return mime.pieces(data, style.width, style.color, style.images, style.hyperlinks)


def display_data(ev: s.DisplayData, style: Style) -> list[Piece]:
    return bundle(ev.data, style)


def error(ev: s.ErrorOutput, style: Style) -> list[Piece]:
    text = "\n".join(ev.traceback) if ev.traceback else style.paint(BOLD_RED, ev.ename) + (f": {ev.evalue}" if ev.evalue else "")
    if not style.color:
        text = strip_ansi(text)
    return [("err", text + "\n")]


def stream(ev: s.Stream, style: Style) -> list[Piece]:
    if ev.name == "stderr":
        return [("err", style.paint(RED, ev.text) if "\x1b[" not in ev.text else ev.text)]
    return [("out", ev.text)]


def other_input(ev: s.ExecuteInput, style: Style) -> list[Piece]:
    count = ev.execution_count if ev.execution_count is not None else " "
    head = style.paint(DIM, f"In [{count}]: ")  # the output view tags it [label elsewhere]
    code = ev.code.replace("\n", "\n" + " " * len(f"In [{count}]: "))
    return [("out", f"{head}{code}\n")]


def render(ev: s.Event, style: Style) -> list[Piece]:
    """Pieces to print for one event ([] for events that print nothing)."""
    if isinstance(ev, s.Stream):
        return stream(ev, style)
    if isinstance(ev, s.ExecuteResult):
        return execute_result(ev, style)
    if isinstance(ev, s.DisplayData):
        return display_data(ev, style)
    if isinstance(ev, s.ErrorOutput):
        return error(ev, style)
    if isinstance(ev, s.ExecuteInput) and ev.other:
        return other_input(ev, style)
    return []


def background_done(label: str, count: int | None, status: str | None, secs: float, what: str = "background cell") -> str:
    how = {"ok": "finished", "lost": "was lost with the kernel",
           "unknown": "ended (its end was lost with the connection)"}.get(status or "", "failed")
    when = f"; sent {secs:.1f} s ago" if status == "unknown" else f" after {secs:.1f} s"  # (how long it ran is not known)
    return f"[{label}] {what} In [{count if count is not None else '?'}] {how}{when}"


def connection_change(label: str, state: str, before: str) -> str | None:
    """The line for a change of a kernel's connection, or None when it needs none."""
    if state == "reconnecting":
        return f"lost the connection to kernel {label}; reconnecting…"
    if before == "reconnecting" and state == "connected":
        return f"reconnected to kernel {label}"
    if before == "reconnecting" and state == "disconnected":
        return f"gave up reconnecting to kernel {label}"
    return None


def kernel_lost(reason: str, label: str) -> str:
    """The line that says a kernel as we knew it is gone (see KernelLost)."""
    return {
        "restarting": f"kernel {label} died and is restarting: its state (variables, imports) is lost",
        "restarted": f"kernel {label} was restarted: its state (variables, imports) is lost",
        "shutdown": f"kernel {label} was shut down",
        "gone": f"kernel {label} is gone from the server; /new starts another",
        "server-stopped": f"kernel {label} is gone with its server",
    }.get(reason, f"kernel {label} is dead and will not restart; start another with /new")
