"""What this terminal takes of our own sequences, read from the environment once at start.

Nothing is written to a dumb terminal or when output is not a terminal. Inside tmux the
sequences tmux does not handle itself (the clipboard, notifications) are wrapped for it to pass
on; OSC 133 marks and the title tmux handles. Hyperlinks: the terminals known to draw OSC 8;
elsewhere (tmux before 3.4 drops them) the address is shown after the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from repl.ui.term import osc

HYPERLINK_PROGRAMS = ("iTerm.app", "WezTerm", "vscode", "ghostty", "Hyper", "Tabby", "rio")


@dataclass(frozen=True)
class Terminal:
    escapes: bool = False  # a terminal that takes our sequences (a tty, not TERM=dumb)
    tmux: bool = False  # inside tmux ($TMUX): the clipboard and notifications wrapped for it
    hyperlinks: bool = False  # OSC 8 links drawn; else the address after the text
    notify: str = "bell"  # osc9 | osc777 | osc99 | bell
    title: bool = False  # the window title shows the kernel and its state
    notify_after: float = 10.0  # a cell that ran longer says when it ends while the window is away (0: never)

    def passthrough(self, seq: str) -> str:
        """``seq`` as it must be written to reach the terminal (through tmux when inside it)."""
        return osc.tmux(seq) if self.tmux else seq


def notification_kind(env: Mapping[str, str]) -> str:
    term = env.get("TERM", "")
    program = env.get("TERM_PROGRAM", "")
    if term == "xterm-kitty" or env.get("KITTY_WINDOW_ID"):
        return "osc99"
    if program in ("iTerm.app", "WezTerm", "ghostty") or env.get("ITERM_SESSION_ID") or env.get("WEZTERM_PANE") \
            or env.get("LC_TERMINAL") == "iTerm2":
        return "osc9"
    if term.startswith("foot") or env.get("VTE_VERSION"):
        return "osc777"
    return "bell"


def hyperlinks_known(env: Mapping[str, str]) -> bool:
    if env.get("TMUX") or env.get("TERM", "").startswith("screen"):
        return False  # (tmux 3.3 drops them; a user with 3.4 says REPL_HYPERLINKS=on)
    term = env.get("TERM", "")
    vte = env.get("VTE_VERSION", "")
    return bool(env.get("TERM_PROGRAM") in HYPERLINK_PROGRAMS or term in ("xterm-kitty", "alacritty")
                or term.startswith(("foot", "xterm-ghostty", "wezterm")) or env.get("KITTY_WINDOW_ID")
                or env.get("WT_SESSION") or env.get("KONSOLE_VERSION") or (vte.isdigit() and int(vte) >= 5000))


def detect(env: Mapping[str, str], tty: bool, title: bool = True, hyperlinks: str = "auto",
           notify_after: float = 10.0) -> Terminal:
    """The terminal as ``env`` describes it; ``tty``: output is a terminal. ``hyperlinks`` is
    auto, on or off (the setting)."""
    escapes = tty and env.get("TERM", "") not in ("dumb", "")
    if not escapes:
        return Terminal()
    links = hyperlinks == "on" or (hyperlinks == "auto" and hyperlinks_known(env))
    return Terminal(escapes=True, tmux=bool(env.get("TMUX")), hyperlinks=links, notify=notification_kind(env),
                    title=title, notify_after=notify_after)
