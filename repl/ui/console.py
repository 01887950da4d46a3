"""Where kernel output goes: straight to the terminal while no prompt is showing, and above the
prompt (through prompt_toolkit's run_in_terminal, batched per tick) while one is."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from prompt_toolkit.application import Application, run_in_terminal


class Console:
    def __init__(self, out: TextIO | None = None, err: TextIO | None = None, batch_delay: float = 0.01) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.at_line_start = True
        self.app: Application | None = None  # the prompt's application while it is showing
        self.batch_delay = batch_delay
        self._pending: list[tuple[str, str]] = []
        self._scheduled = False

    def _file(self, stream: str) -> TextIO:
        return self.err if stream == "err" else self.out

    def write(self, stream: str, text: str) -> None:
        if not text:
            return
        if self.app is not None and self.app.is_running:
            self._pending.append((stream, text))
            if not self._scheduled:
                self._scheduled = True
                asyncio.get_running_loop().call_later(self.batch_delay, self._flush_above_prompt)
        else:
            self.flush_pending()
            f = self._file(stream)
            f.write(text)
            f.flush()
        self.at_line_start = text.endswith("\n")

    def line(self, text: str, stream: str = "out") -> None:
        """A whole line of our own (notices, errors), starting on a fresh line."""
        self.ensure_newline()
        self.write(stream, text + "\n")

    def ensure_newline(self) -> None:
        if not self.at_line_start:
            self.write("out", "\n")

    def flush_pending(self) -> None:
        pending, self._pending = self._pending, []
        for stream, text in pending:
            f = self._file(stream)
            f.write(text)
        if pending:
            if not pending[-1][1].endswith("\n"):
                self.out.write("\n")  # the prompt redraws below: finish the line
                self.at_line_start = True
            self.out.flush()
            self.err.flush()

    def _flush_above_prompt(self) -> None:
        self._scheduled = False
        if not self._pending:
            return
        if self.app is not None and self.app.is_running:
            run_in_terminal(self.flush_pending, in_executor=False)
        else:
            self.flush_pending()
