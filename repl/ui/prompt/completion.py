"""Tab completion: /commands and their arguments locally, code from the kernel, asynchronously.

Typing never waits for the kernel: prompt_toolkit runs ``get_completions_async`` as a task and
drops its result if the text changed meanwhile; a reply slower than the timeout is dropped too.
"""

from __future__ import annotations

from typing import Awaitable, Callable

from prompt_toolkit.completion import Completer, Completion

from repl.ui.slash import commands
from repl.ui.output.sanitize import label

TIMEOUT = 2.0


def kernel_matches(reply: dict | None, cursor: int) -> tuple[list[tuple[str, str]], int]:
    """(text, type) pairs and the start offset relative to the cursor, from a complete_reply."""
    if not isinstance(reply, dict) or reply.get("status") != "ok":
        return [], 0
    matches = [x for x in reply.get("matches") or [] if isinstance(x, str)]
    start = reply.get("cursor_start")
    start = start if isinstance(start, int) and 0 <= start <= cursor else cursor
    types: dict[str, str] = {}
    meta = reply.get("metadata")
    experimental = meta.get("_jupyter_types_experimental") if isinstance(meta, dict) else None
    if isinstance(experimental, list):
        for item in experimental:
            if isinstance(item, dict) and isinstance(item.get("text"), str):
                kind = str(item.get("type") or "")
                types[item["text"]] = "" if kind == "<unknown>" else kind  # (said only where the kernel knows it)
    return [(x, types.get(x, "")) for x in matches], start - cursor


class ReplCompleter(Completer):
    def __init__(self, args_for: commands.ArgSource, ask: Callable[[str, int], Awaitable[dict | None]]) -> None:
        self.args_for = args_for  # a command's possible arguments
        self.ask = ask  # the kernel's complete_reply for (code, cursor), or None

    def _commands(self, text: str):
        partial = text.rsplit(" ", 1)[-1] if " " in text else text
        for value, meta in commands.complete(text, self.args_for):
            yield Completion(value, start_position=-len(partial), display=label(value), display_meta=label(meta))

    def get_completions(self, document, complete_event):
        text = document.text_before_cursor
        if text.lstrip().startswith("/") and not text.lstrip().startswith("//"):
            yield from self._commands(text.lstrip())

    async def get_completions_async(self, document, complete_event):
        text = document.text_before_cursor
        if text.lstrip().startswith("/") and not text.lstrip().startswith("//") and "\n" not in text:
            for c in self._commands(text.lstrip()):
                yield c
            return
        if not document.text.strip():
            return
        reply = await self.ask(document.text, document.cursor_position)
        matches, offset = kernel_matches(reply, document.cursor_position)
        for text_, kind in matches:
            yield Completion(text_, start_position=offset, display=label(text_), display_meta=label(kind))  # the kernel's words
