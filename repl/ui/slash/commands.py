"""REPL /commands: recognising them, the help text, and completing names and arguments.

Pure: no I/O. What a command does lives in :mod:`repl.ui.slash.actions`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

# name -> (argument synopsis, description)
COMMANDS: dict[str, tuple[str, str]] = {
    "help": ("", "list commands and keys"),
    "kernels": ("", "running kernels on the server (* current, + also open in this repl)"),
    "specs": ("", "kernelspecs on the server"),
    "new": ("[SPEC] [--path NB.ipynb]", "start a kernel and switch to it (--path: as that notebook's, Jupyter Server)"),
    "use": ("TARGET", "switch to a kernel: index from /kernels, alias, notebook name or path, or id prefix"),
    "name": ("ALIAS", "give the current kernel an alias (remembered)"),
    "interrupt": ("", "interrupt the current kernel"),
    "restart": ("", "restart the current kernel (its state is lost)"),
    "shutdown": ("[TARGET]", "shut a kernel down (default: the current one)"),
    "edit": ("N", "open cell In [N] in $VISUAL / $EDITOR; it comes back to the prompt"),
    "save": ("[-f] FILE.ipynb|DIR", "save this session's cells of the current kernel as a notebook (-f: overwrite)"),
    "pager": ("[N]", "the output of cell In [N] (default: the last) in $PAGER (less -R), colours kept"),
    "copy": ("[N]", "the text of cell In [N]'s output (default: the last) to the clipboard (through the terminal, OSC 52)"),
    "debug": ("[on|off|full] [FILTER…]", "message trace: a line per message, or full JSON; filter by channel or msg_type"),
    "last": ("", "the full traffic of the most recent cell, even with the trace off"),
    "break": ("[N:LINE|PATH:LINE [if COND]|raised|uncaught|noexc]",
              "the kernel's debugger: list breakpoints, stop at a line of cell In [N] or of a file, or on exceptions"),
    "unbreak": ("N:LINE|PATH:LINE|all", "remove breakpoints"),
    "pause": ("[TARGET]", "stop a running cell where it is and open the (dbg) prompt"),
    "hub": ("[start|stop [NAME]]", "your JupyterHub servers: list them, or start or stop one (default: this repl's)"),
    "widgets": ("", "the widgets on screen that take the keyboard, numbered for /widget"),
    "widget": ("[N]", "the keyboard to the newest widget (or the N-th of /widgets); Esc or F2 gives it back"),
    "upload": ("[-f] LOCAL… [REMOTE]", "send files to the server (globs; relative to the kernel's directory; -f overwrites)"),
    "download": ("[-f] REMOTE… [LOCAL]", "fetch files from the server (globs; -f overwrites)"),
    "terminal": ("[NAME]", "a shell on the server, full screen: Ctrl-] comes back (it keeps running), exit ends it"),
    "terminals": ("", "the server's terminals"),
    "detach": ("", "leave, keeping every kernel and its cells running; repl --resume comes back"),
    "quit": ("", "exit (also Ctrl-D)"),
}
WITHOUT_KERNEL = ("quit", "help", "hub")  # commands that do not wait for the first kernel

KEYS = [
    ("Ctrl-C", "interrupt the running cell; at the prompt, clear the line"),
    ("Ctrl-Z", "send the running cell to the background (output keeps coming, tagged); at the prompt, suspend repl"),
    ("Ctrl-D", "exit (asks first while cells run in the background); kernels this repl started are shut down "
               "(/detach keeps them)"),
    ("Enter", "run the cell, or continue it when the kernel says it is incomplete"),
    ("Alt-Enter", "insert a newline (multi-line cell)"),
    ("F2", "the keyboard to the newest widget with controls (sliders, buttons, text…) and back"),
    ("Ctrl-X Ctrl-E", "edit the cell in $VISUAL / $EDITOR (vi mode: v)"),
    ("Tab", "complete code (from the kernel), commands and their arguments"),
    ("Shift-Tab", "show the kernel's documentation for the name at the cursor"),
    ("Up/Down", "history search by the typed prefix; Ctrl-R searches all history"),
    ("//...", "send a line starting with / to the kernel"),
    ("(dbg) h", "at the debugger's prompt: n s r c w u d l v q (pdb's words); anything else is evaluated there"),
]


ALIASES = {"exit": "quit"}
HELP_COLUMN = 30  # synopses longer than this go on a line of their own in /help


@dataclass(frozen=True)
class Command:
    name: str
    arg: str


@dataclass(frozen=True)
class Unknown:
    """A line that is one ``/word`` and no command: a typo, not code (IPython would autocall it)."""

    name: str


def parse(line: str) -> Command | Unknown | str:
    """A Command for ``/known-command args``, Unknown for a lone unknown ``/word``; otherwise the
    code to send to the kernel.

    ``//`` at the start sends a literal ``/``; a line that looks like a path (``/usr/bin/env ls``,
    a second ``/``) or calls with arguments (``/f 1``) is code.
    """
    stripped = line.strip()
    if line.lstrip().startswith("//"):
        return line.lstrip()[1:]
    if stripped.startswith("/") and "\n" not in stripped:
        name, _, arg = stripped[1:].partition(" ")
        name = ALIASES.get(name, name)
        if name in COMMANDS:
            return Command(name, arg.strip())
        if not arg and name.isidentifier():
            return Unknown(name)
    return line


def help_text() -> str:
    rows = [(f"/{name} {syn}".rstrip(), text) for name, (syn, text) in COMMANDS.items()] + KEYS
    width = max(len(a) for a, _ in rows if len(a) <= HELP_COLUMN) + 2
    # a long synopsis gets its own line, so the descriptions stay in one column
    return "\n".join(f"  {a:<{width}}{b}" if len(a) <= HELP_COLUMN else f"  {a}\n  {'':<{width}}{b}" for a, b in rows)


ArgSource = Callable[[str], Iterable[tuple[str, str]]]


def complete(text: str, args_for: ArgSource | None = None) -> list[tuple[str, str]]:
    """(completion, description) pairs for the text before the cursor.

    ``args_for(command_name)`` lists the possible arguments of a command with descriptions.
    """
    if not text.startswith("/") or "\n" in text:
        return []
    if " " not in text:
        found = [n for n in COMMANDS if ("/" + n).startswith(text)]
        # a lone command that takes arguments completes with its space, ready for the argument
        space = " " if len(found) == 1 and COMMANDS[found[0]][0] else ""
        return [("/" + n + space, COMMANDS[n][1]) for n in found]
    name, _, partial = text[1:].partition(" ")
    if name not in COMMANDS or args_for is None or " " in partial:
        return []
    return [(a, d) for a, d in args_for(name) if a.startswith(partial) and a != partial]
