"""Questions the prompt asks the current kernel: is the cell complete, completions, documentation.

Each goes through :meth:`repl.kernel.Kernel.ask`; a kernel that is gone or slow gives the
harmless answer (run the cell, no completions, one line saying there is no documentation).
"""

from __future__ import annotations

from typing import Callable, TYPE_CHECKING

from repl import errors
from repl.ui.output import mime
from repl.ui.prompt import helptext
from repl.ui.prompt.completion import TIMEOUT as COMPLETE_TIMEOUT
from repl.ui.output.console import Console, terminal_size
from repl.ui.prompt.keys import (INSPECT_TIMEOUT, IS_COMPLETE_TIMEOUT, offline_python_verdict, python_indent, python_verdict,
                          verdict_of)
from repl.ui.output.sanitize import clean

if TYPE_CHECKING:  # imported when a kernel comes, after the first prompt is drawn
    from repl.kernel import Kernel
    from repl.opening import Opening

LANGUAGE_WAIT = 5.0  # Enter typed before the kernel's language is known waits this long for it
LARGE = 256 * 1024  # characters in a cell beyond which Enter runs it without asking whether it is complete


class Asking:
    def __init__(self, current: Callable[[], Kernel | None], console: Console, color: bool,
                 coming: Callable[[], Opening | None] = lambda: None) -> None:
        self.current = current
        self.console = console
        self.color = color
        self.coming = coming  # the first kernel, while it is on its way

    def _early(self, code: str, language: str | None) -> str:
        """A verdict for code typed before the kernel is up: Python's own for a Python kernel; for
        one whose language is not known yet (a JupyterHub server still spawning), Python's
        "incomplete" only (an open block or bracket), as most such kernels are Python's."""
        if language == "python":
            return offline_python_verdict(code)
        if language is None and offline_python_verdict(code) == "incomplete":
            return "incomplete"
        return "complete"

    def quick_verdict(self, code: str) -> str | None:
        """A verdict without a round trip, when one can be had: keeps fast typists' keys in order.
        A cell too big to have been typed (from the editor, a paste) runs: asking the kernel would
        cost it seconds per MB, and compiling it here would stall the prompt."""
        if len(code) > LARGE:
            return "complete"
        kernel = self.current()
        if kernel is None:
            opening = self.coming()
            if opening is not None and opening.pending and not opening.language_known.is_set():
                return None  # the kernel's language is not known yet: wait for it (keys wait too)
            return self._early(code, opening.language if opening is not None else None)
        if kernel.language_info.get("name") == "python":
            return python_verdict(code)  # complete, incomplete, or None: ask the kernel
        return None

    async def kernel_verdict(self, code: str) -> tuple[str, str]:
        kernel = self.current()
        opening = self.coming()
        if kernel is None and opening is not None and opening.pending:
            return _indented(self._early(code, await opening.language_soon(LANGUAGE_WAIT)), code)
        if kernel is None:
            return "complete", ""
        python = kernel.language_info.get("name") == "python"
        if python and kernel.session.state == "busy":  # it answers between cells only: a block stays open
            return _indented(offline_python_verdict(code), code)
        # keys wait meanwhile, so a far kernel gets time: a few of its round trips, within bounds
        timeout = max(IS_COMPLETE_TIMEOUT, min(5.0, 4 * (kernel.link_rtt or 0)))
        try:
            reply = await kernel.ask("is_complete", timeout, code=code)
        except errors.ReplError:
            reply = None
        if reply is None and python:  # no answer in time: our own verdict, not "run it"
            return _indented(offline_python_verdict(code), code)
        return verdict_of(reply)

    async def complete(self, code: str, cursor: int) -> dict | None:
        kernel = self.current()
        if kernel is None:
            return None
        try:
            return await kernel.ask("complete", COMPLETE_TIMEOUT, code=code, cursor_pos=cursor)
        except errors.ReplError:
            return None

    async def inspect(self, code: str, cursor: int) -> None:
        kernel = self.current()
        if kernel is None:
            return
        try:
            reply = await kernel.ask("inspect", INSPECT_TIMEOUT, code=code, cursor_pos=cursor)
        except errors.ReplError as exc:
            self.console.line(f"repl: {exc}", "err")
            return
        if reply is None:
            self.console.line("repl: the kernel did not answer the inspection in time", "err")
        elif reply.get("status") == "ok" and reply.get("found") and isinstance(reply.get("data"), dict):
            columns, rows = terminal_size()
            text = clean(mime.to_text(reply["data"], columns, self.color))
            text = helptext.brief(text, helptext.name_at(code, cursor), rows, ("\x1b[2m", "\x1b[0m") if self.color else ("", ""))
            self.console.write("out", text.rstrip("\n") + "\n")
        else:
            self.console.line("no documentation for the name at the cursor")


def _indented(verdict: str, code: str) -> tuple[str, str]:
    """A verdict of our own (no kernel's), with the indent the next line gets when it is open."""
    return verdict, python_indent(code) if verdict == "incomplete" else ""
