"""Tab completion: /commands and their arguments locally, code from the kernel, asynchronously.

Typing never waits for the kernel: prompt_toolkit runs ``get_completions_async`` as a task and
drops its result if the text changed meanwhile; a reply slower than the timeout is dropped too.

Tab on code (:meth:`ReplCompleter.tab`) asks the kernel at once, inside the key's handler, and
opens prompt_toolkit's completion with the answer when it comes. Its own Tab would ask a loop turn
later and first draw the unchanged screen (its "loading" state shows nothing), ~2 ms of drawing
while the kernel works; the menu, the common part inserted and a later Tab are prompt_toolkit's.
"""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

from prompt_toolkit.buffer import Buffer
from prompt_toolkit.completion import Completer, Completion
from prompt_toolkit.document import Document

from repl import eager

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
        # Tab's question on its way: the text it is about, and its task (held: asyncio keeps only weak
        # references to tasks)
        self._asking: tuple[Document, asyncio.Future] | None = None
        self._answered: tuple[Document, dict | None] | None = None  # its answer, for the completion it opens

    @staticmethod
    def _is_command(text: str) -> bool:
        return text.lstrip().startswith("/") and not text.lstrip().startswith("//")

    def tab(self, buffer: Buffer) -> bool:
        """Tab pressed: True if the kernel is being asked for this text (the menu opens with its
        answer); False leaves the key to prompt_toolkit (a menu already open, a command, a blank line)."""
        doc = buffer.document
        if buffer.complete_state is not None or self._is_command(doc.text_before_cursor) or not doc.text.strip():
            return False
        if self._asking is None or self._asking[0] != doc:  # (a second Tab before the answer asks nothing more)
            self._asking = (doc, eager.start(self._answer(buffer, doc)))
        return True

    async def _answer(self, buffer: Buffer, doc: Document) -> None:
        try:
            reply = await self.ask(doc.text, doc.cursor_position)
        finally:
            if self._asking is not None and self._asking[0] == doc:
                self._asking = None
        if buffer.document != doc or buffer.complete_state is not None:
            return  # typed on, run or cleared meanwhile: the answer is for a text no longer there
        self._answered = (doc, reply)
        buffer.start_completion(insert_common_part=True)

    def _commands(self, text: str):
        partial = text.rsplit(" ", 1)[-1] if " " in text else text
        for value, meta in commands.complete(text, self.args_for):
            yield Completion(value, start_position=-len(partial), display=label(value), display_meta=label(meta))

    def get_completions(self, document, complete_event):
        text = document.text_before_cursor
        if self._is_command(text):
            yield from self._commands(text.lstrip())

    async def get_completions_async(self, document, complete_event):
        text = document.text_before_cursor
        if self._is_command(text) and "\n" not in text:
            for c in self._commands(text.lstrip()):
                yield c
            return
        if not document.text.strip():
            return
        answered, self._answered = self._answered, None
        if answered is not None and answered[0] == document:
            reply = answered[1]  # (asked by Tab already)
        else:
            reply = await self.ask(document.text, document.cursor_position)
        matches, offset = kernel_matches(reply, document.cursor_position)
        for text_, kind in matches:
            yield Completion(text_, start_position=offset, display=label(text_), display_meta=label(kind))  # the kernel's words
