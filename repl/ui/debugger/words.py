"""What the user types to the debugger: ``/break`` and ``/unbreak`` arguments, and lines at the
``(dbg)`` prompt (pdb's words). Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from repl import errors

EXCEPTION_MODES = ("raised", "uncaught", "noexc")


@dataclass(frozen=True)
class Place:
    cell: int | None  # In [N], or None for a file
    path: str
    line: int


@dataclass(frozen=True)
class SetBreak:
    place: Place
    condition: str


def place(text: str) -> Place:
    """``N:L`` (line L of cell In [N]) or ``PATH:L`` (a file on the kernel's machine)."""
    where, colon, line = text.strip().rpartition(":")
    if not colon or not where or not line.strip().isdigit() or int(line) < 1:
        raise errors.UsageError(f"not a place: {text.strip() or '(nothing)'} — give N:LINE for cell In [N], or PATH:LINE")
    if where.isdigit():
        return Place(int(where), "", int(line))
    return Place(None, where, int(line))


def parse_break(arg: str) -> None | str | SetBreak:
    """None: list the breakpoints; an exception mode; or a breakpoint to set."""
    arg = arg.strip()
    if not arg:
        return None
    if arg in EXCEPTION_MODES:
        return arg
    spot, _, cond = arg.partition(" if ")
    if " " in spot.strip():
        raise errors.UsageError("usage: /break N:LINE [if COND] | PATH:LINE [if COND] | raised | uncaught | noexc")
    if " if " in f" {arg} " and not cond.strip():
        raise errors.UsageError("the condition after 'if' is missing")
    return SetBreak(place(spot), cond.strip())


def parse_unbreak(arg: str) -> Place | None:
    """The place to clear, or None for all of them."""
    arg = arg.strip()
    if arg == "all":
        return None
    if not arg:
        raise errors.UsageError("usage: /unbreak N:LINE | PATH:LINE | all")
    return place(arg)


# ---------------------------------------------------------------- the (dbg) prompt

WORDS = {
    "n": "n", "next": "n", "s": "s", "step": "s", "r": "r", "return": "r", "c": "c", "cont": "c", "continue": "c",
    "w": "w", "where": "w", "bt": "w", "u": "u", "up": "u", "d": "d", "down": "d", "l": "l", "list": "l",
    "v": "v", "vars": "v", "q": "q", "quit": "q", "h": "h", "help": "h", "p": "p", "!": "p",
}

HELP = """\
  n / s / r        next line / step into / step out (return)
  c                continue (Ctrl-D too)
  w                the stack, current frame marked; u / d move up / down
  l                source around the current line
  v [NAME [FROM]]  variables of the current frame; v NAME expands one (FROM: the item to start at)
  q                stop debugging: remove breakpoints, continue, detach
  p EXPR, !EXPR    evaluate (also anything that is not one of these words)"""


def dbg_line(text: str) -> tuple[str, str]:
    """(action, argument) for a line at the ``(dbg)`` prompt; action ``p`` evaluates the argument."""
    stripped = text.strip()
    if stripped.startswith("!"):
        return "p", stripped[1:].strip()
    word, _, rest = stripped.partition(" ")
    action = WORDS.get(word)
    if action is None or (rest and action not in ("v", "p")):
        return "p", text.strip("\n")  # code: evaluated in the frame (``n = 3`` is code, not next)
    return action, rest.strip()
