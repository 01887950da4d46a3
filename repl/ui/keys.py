"""Key bindings for the prompt, as a factory (ptpython style).

Enter asks the kernel whether the cell is complete (is_complete_request): ``incomplete`` inserts a
newline and the kernel's indent, anything else runs the cell. A reply slower than the timeout
runs the cell for that Enter only; the next Enter asks again. Alt-Enter always inserts a newline.
Shift-Tab shows the kernel's inspection of the name at the cursor.
"""

from __future__ import annotations

import codeop
import warnings
from typing import Awaitable, Callable

from prompt_toolkit.filters import completion_is_selected, has_completions
from prompt_toolkit.key_binding import KeyBindings

IS_COMPLETE_TIMEOUT = 0.5
INSPECT_TIMEOUT = 3.0

QuickVerdict = Callable[[str], "str | None"]
KernelVerdict = Callable[[str], Awaitable[tuple[str, str]]]
Inspect = Callable[[str, int], Awaitable[None]]


def python_verdict(code: str) -> str | None:
    """'complete' / 'incomplete' for plain Python one-liners decided locally; None: ask the kernel."""
    if "\n" in code or code.lstrip().startswith(("%", "!", "?")) or code.rstrip().endswith("?"):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compiled = codeop.compile_command(code, symbol="exec")
    except (SyntaxError, ValueError, OverflowError):
        return None
    return "complete" if compiled is not None else "incomplete"


def verdict_of(reply: dict | None) -> tuple[str, str]:
    """(status, indent) from an is_complete_reply; ('complete', '') when there is none."""
    if not isinstance(reply, dict):
        return "complete", ""
    status = reply.get("status") if isinstance(reply.get("status"), str) else "unknown"
    indent = reply.get("indent") if isinstance(reply.get("indent"), str) else ""
    return str(status), str(indent)


def make_bindings(quick_verdict: QuickVerdict, kernel_verdict: KernelVerdict, inspect: Inspect) -> KeyBindings:
    kb = KeyBindings()

    @kb.add("enter", filter=has_completions & completion_is_selected)
    def _(event):
        event.current_buffer.complete_state = None  # take the highlighted completion

    @kb.add("enter", filter=~(has_completions & completion_is_selected))
    def _(event):
        buf = event.current_buffer
        text = buf.text
        if not text.strip() or text.lstrip().startswith("/"):
            buf.validate_and_handle()
            return
        if buf.cursor_position < len(text) and "\n" in text:
            buf.insert_text("\n")  # editing inside a multi-line cell: Enter opens a line there
            return
        if quick_verdict(text) == "complete":
            buf.validate_and_handle()
            return

        async def ask() -> None:
            status, indent = await kernel_verdict(text)
            if buf.text != text:
                return  # the user typed on meanwhile; they will press Enter again
            if status == "incomplete":
                buf.insert_text("\n" + indent)
            else:
                buf.validate_and_handle()

        event.app.create_background_task(ask())

    @kb.add("escape", "enter")
    def _(event):
        event.current_buffer.insert_text("\n")

    @kb.add("s-tab")
    async def _(event):
        doc = event.current_buffer.document
        await inspect(doc.text, doc.cursor_position)

    return kb
