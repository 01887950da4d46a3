"""Whether the terminal's window has the focus, from its focus reports (ESC [ I, ESC [ O).

The reports arrive among the keys: :func:`take` removes them from what was read (prompt_toolkit
would type them as ``[I``) and notes them. Unknown until the first report: never "away" then.
"""

from __future__ import annotations

IN, OUT = "\x1b[I", "\x1b[O"


class WindowFocus:
    def __init__(self) -> None:
        self.focused: bool | None = None  # None: no report yet

    def away(self) -> bool:
        return self.focused is False

    def take(self, data: str) -> str:
        """``data`` without focus reports, the last of them noted."""
        if "\x1b[" not in data or (IN not in data and OUT not in data):
            return data
        last = max(data.rfind(IN), data.rfind(OUT))
        self.focused = data.startswith(IN, last)
        return data.replace(IN, "").replace(OUT, "")


WINDOW = WindowFocus()  # the one terminal repl runs in
