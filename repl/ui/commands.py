"""REPL /commands: recognising them, parsing them, completing their names."""

from __future__ import annotations

from dataclasses import dataclass

COMMANDS: dict[str, str] = {
    "help": "list commands",
    "interrupt": "interrupt the current kernel",
    "restart": "restart the current kernel (its state is lost)",
    "quit": "exit (also Ctrl-D)",
}


@dataclass(frozen=True)
class Command:
    name: str
    arg: str


def parse(line: str) -> Command | str:
    """A Command for ``/known-command args``; otherwise the code to send to the kernel.

    ``//`` at the start sends a literal ``/``; an unknown ``/word`` is code, not a command.
    """
    stripped = line.strip()
    if line.lstrip().startswith("//"):
        return line.lstrip()[1:]
    if stripped.startswith("/") and "\n" not in stripped:
        name, _, arg = stripped[1:].partition(" ")
        if name in COMMANDS:
            return Command(name, arg.strip())
    return line


def help_text() -> str:
    width = max(len(n) for n in COMMANDS) + 1
    lines = [f"  /{name:<{width}} {text}" for name, text in COMMANDS.items()]
    lines += [
        "  //...      send a line starting with / to the kernel",
        "  Ctrl-C     interrupt the running cell; at the prompt, clear the line",
        "  Ctrl-D     exit; kernels this repl started are shut down, attached ones keep running",
    ]
    return "\n".join(lines)


def complete(prefix: str) -> list[str]:
    if not prefix.startswith("/") or " " in prefix:
        return []
    return ["/" + n for n in COMMANDS if ("/" + n).startswith(prefix)]
