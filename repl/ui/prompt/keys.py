"""Key bindings for the prompt, as a factory (ptpython style).

Enter runs the cell or continues it. Plain Python one-liners are decided locally (complete: run;
incomplete: newline and indent). Otherwise Enter asks the kernel (is_complete_request), and every
key typed until the answer comes is held, then replayed after it, in order: each Enter is honoured
as if the answer had come at once, typeahead is never merged into the line, and keys after an
Enter that runs the cell go to the next prompt. A kernel slower than the timeout runs the cell
for that Enter only; the next Enter asks again. Ctrl-C and Ctrl-D are never held: while Enter
waits they stop the wait at once (Ctrl-C drops the line, Ctrl-D leaves). A prompt that ends while
Enter waits (it stepped aside) hands that Enter and the keys held after it to the next prompt.
Alt-Enter always inserts a newline. Tab on code asks the kernel at once (:meth:`repl.ui.prompt.
completion.ReplCompleter.tab`); otherwise it is prompt_toolkit's. Shift-Tab shows the kernel's inspection of the name at the cursor.
In a Ctrl-R search these keys are the search's (:mod:`repl.ui.prompt.histsearch`).
"""

from __future__ import annotations

import asyncio
import codeop
import warnings
from typing import Awaitable, Callable

from prompt_toolkit.buffer import Buffer
from prompt_toolkit.filters import (Condition, completion_is_selected, emacs_insert_mode, emacs_mode, has_completions,
                                    vi_insert_mode, vi_navigation_mode)
from prompt_toolkit.input.typeahead import store_typeahead
from prompt_toolkit.key_binding import KeyBindings, KeyBindingsBase, KeyPress, merge_key_bindings
from prompt_toolkit.key_binding.bindings.completion import generate_completions
from prompt_toolkit.keys import Keys

from repl.ui.prompt import histsearch
from repl.ui.prompt.histsearch import at_the_line

IS_COMPLETE_TIMEOUT = 0.5
INSPECT_TIMEOUT = 3.0

QuickVerdict = Callable[[str], "str | None"]
KernelVerdict = Callable[[str], Awaitable[tuple[str, str]]]
Inspect = Callable[[str, int], Awaitable[None]]


def python_indent(code: str) -> str:
    """The indent of a new line after ``code`` (a line ending in ``:`` opens a block)."""
    last = code.split("\n")[-1]
    indent = last[: len(last) - len(last.lstrip())]
    return indent + "    " if last.rstrip().endswith(":") else indent


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


def offline_python_verdict(code: str) -> str:
    """IPython's verdict, without a kernel to ask (code typed before it is up): a block goes on
    until a blank line; what does not compile goes to the kernel, which shows the error."""
    quick = python_verdict(code)
    if quick is not None:
        return quick
    last = code.rsplit("\n", 1)[-1]
    if not last.strip():
        return "complete"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compiled = codeop.compile_command(code, symbol="exec")
    except (SyntaxError, ValueError, OverflowError):
        return "complete"
    return "incomplete" if compiled is None or last[:1] in (" ", "\t") else "complete"


def verdict_of(reply: dict | None) -> tuple[str, str]:
    """(status, indent) from an is_complete_reply; ('complete', '') when there is none."""
    if not isinstance(reply, dict):
        return "complete", ""
    status = reply.get("status") if isinstance(reply.get("status"), str) else "unknown"
    indent = reply.get("indent") if isinstance(reply.get("indent"), str) else ""
    return str(status), str(indent)


class Enter:
    """Enter at the prompt, and the keys typed while it waits for the kernel's verdict."""

    def __init__(self, quick_verdict: QuickVerdict, kernel_verdict: KernelVerdict) -> None:
        self.quick_verdict = quick_verdict
        self.kernel_verdict = kernel_verdict
        self.waiting = False
        self.held: list[KeyPress] = []
        self._asking: asyncio.Task | None = None

    def press(self, event) -> None:
        buf = event.current_buffer
        text = buf.text
        if not text.strip() or text.lstrip().startswith("/"):
            buf.validate_and_handle()
        elif buf.cursor_position < len(text) and "\n" in text:
            buf.insert_text("\n")  # editing inside a multi-line cell: Enter opens a line there
        else:
            local = self.quick_verdict(text)
            if local == "complete":
                buf.validate_and_handle()
            elif local == "incomplete":
                buf.insert_text("\n" + python_indent(text))
            else:
                self.waiting = True
                self._asking = event.app.create_background_task(self._ask(event, buf, text))

    async def _ask(self, event, buf: Buffer, text: str) -> None:
        try:
            status, indent = await self.kernel_verdict(text)
        finally:
            self.waiting = False
            self._asking = None
        held, self.held = self.held, []
        if event.app.is_done:  # the prompt ended meanwhile (stepped aside): the next one has the Enter
            store_typeahead(event.app.input, [KeyPress(Keys.ControlM, "\r"), *held])
            return
        keys = event.app.key_processor
        keys.feed_multiple(held, first=True)  # typed after this Enter: they come after it
        if status == "incomplete":
            buf.insert_text("\n" + indent)
            keys.process_keys()
        else:
            buf.validate_and_handle()  # what is left in the queue goes to the next prompt

    def stop(self) -> None:
        """Stop waiting for the verdict (Ctrl-C or Ctrl-D while Enter waits); held keys are dropped."""
        if self._asking is not None:
            self._asking.cancel()
        self.waiting, self._asking, self.held = False, None, []

    def hold(self, event) -> None:
        for press in event.key_sequence:
            if press.key == Keys.CPRResponse:  # the terminal's answer about the cursor: not typing
                event.app.renderer.report_absolute_cursor_row(int(press.data[2:-1].split(";")[0]))
            else:
                self.held.append(press)


def make_bindings(quick_verdict: QuickVerdict, kernel_verdict: KernelVerdict, inspect: Inspect,
                  edit: Callable[[Buffer], Awaitable[None]], late_ctrl_c: Callable[[], None],
                  tab: Callable[[Buffer], bool]) -> KeyBindingsBase:
    kb = KeyBindings()
    enter = Enter(quick_verdict, kernel_verdict)
    waiting = Condition(lambda: enter.waiting)

    @kb.add("enter", filter=has_completions & completion_is_selected & ~waiting & at_the_line)
    def _(event):
        event.current_buffer.complete_state = None  # take the highlighted completion

    # (in a Ctrl-R search, Enter is the search's: it accepts the match)
    kb.add("enter", filter=~(has_completions & completion_is_selected) & ~waiting & at_the_line)(enter.press)
    kb.add(Keys.Any, filter=waiting, eager=True)(enter.hold)  # wins over every other binding meanwhile

    @kb.add("c-c", filter=waiting, eager=True)  # (added after Keys.Any: these win over it)
    @kb.add("c-d", filter=waiting, eager=True)
    def _(event):
        enter.stop()
        if event.app.is_running and not event.app.is_done:
            leave = event.key_sequence[0].key == Keys.ControlD
            event.app.exit(exception=EOFError() if leave else KeyboardInterrupt(), style="class:aborting")

    @kb.add("escape", "enter", filter=at_the_line)
    def _(event):
        event.current_buffer.insert_text("\n")

    @kb.add("c-c", filter=~waiting, eager=True)
    def _(event):
        app = event.app
        if app.is_running and not app.future.done():
            app.exit(exception=KeyboardInterrupt(), style="class:aborting")  # clears the line
        else:
            late_ctrl_c()  # read with the Enter that ended the prompt: meant for the cell it sent

    @kb.add("tab", filter=(vi_insert_mode | emacs_insert_mode) & at_the_line)  # (where prompt_toolkit's Tab is)
    def _(event):
        if tab(event.current_buffer):
            return NotImplemented  # (nothing to draw until the kernel answers)
        generate_completions(event)
        return None

    @kb.add("s-tab", filter=at_the_line)
    async def _(event):
        doc = event.current_buffer.document
        await inspect(doc.text, doc.cursor_position)

    @kb.add("c-x", "c-e", filter=emacs_mode & at_the_line)
    @kb.add("v", filter=vi_navigation_mode & at_the_line)
    async def _(event):
        await edit(event.current_buffer)  # the cell in $VISUAL / $EDITOR

    return merge_key_bindings([kb, histsearch.bindings()])
