"""The foreground cell: run it, read the keyboard while it runs, and what Ctrl-C and Ctrl-Z do to it.

The one owner of which cell is in the foreground (:class:`Running`), of the keyboard while it runs
(:class:`repl.ui.cellinput.CellInput`), of a Ctrl-C or Ctrl-Z pressed between the prompt and the
cell (read by the prompt after Enter, or raised as a signal before the cell's keyboard is up), and of
a cell waiting its turn behind our background cells (:mod:`repl.ui.turn`). What a key or an event
means for the cell is decided by the pure state machine in :mod:`repl.ui.foreground`; this module
waits and acts on its verdicts (interrupt through the REST API, give up waiting, send the cell to
the background). Output is drawn by others (:mod:`repl.ui.routing`).
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Awaitable, Callable

from prompt_toolkit.input.typeahead import get_typeahead, store_typeahead
from prompt_toolkit.keys import Keys

from repl import eager, errors
from repl.ui import turn
from repl.ui.slash import commands
from repl.ui.prompt import editor
from repl.ui.cellinput import CellInput
from repl.ui.output.console import Console
from repl.ui.foreground import Do, Foreground
from repl.ui.output.view import OutputView

if TYPE_CHECKING:  # imported when a kernel comes, after the first prompt is drawn
    from prompt_toolkit.buffer import Buffer
    from prompt_toolkit.input import Input

    from repl.cell import Cell
    from repl.kernel import Kernel
    from repl.protocol import session as s


NOT_SENT = "repl: not sent: the kernel's connection is not up; the cell is in the prompt again"


@dataclass
class Running:  # the foreground cell while we wait for it
    kernel: Kernel
    cell: Cell
    machine: Foreground
    wake: asyncio.Future  # set when the cell goes to the background


@dataclass
class Early:  # a cell sent at its Enter, while the prompt drew its last
    kernel: Kernel
    code: str
    wake: asyncio.Future
    sending: asyncio.Future | None = None
    prompt_over: bool = False  # the prompt is done: the cell's output begins below it


@dataclass(frozen=True)
class Hooks:
    """What the runner needs from the rest of the UI, as narrow callables."""

    prompt_input: Callable[[], Input | None]  # the prompt's input, to hand typeahead to
    set_next_input: Callable[[str], None]  # text for the next prompt
    notice: Callable[[str], None]  # a word for the next prompt's toolbar, until the next input
    cell_ended: Callable[[], None]  # the questions of the cell are over
    ctrl_c_for_pdb: Callable[[], bool]  # True: a Ctrl-C typed before pdb's next prompt is for it
    other_waits: Callable[[], bool]  # True: a Ctrl-C or Ctrl-D was taken by another wait (the (dbg) prompt's)
    detach_widgets: Callable[[s.Request, str], None]  # a cell's widgets go to the background with it
    ctrl_c: Callable[[], None]  # the app's Ctrl-C, which offers the key to every wait in turn (then to us)
    page: Callable[[str], Awaitable[str | None]]  # text longer than the screen in $PAGER: None, or why not


class Runner:
    def __init__(self, view: OutputView, console: Console, hooks: Hooks) -> None:
        self.view = view
        self.console = console
        self.hooks = hooks
        self.foreground: Running | None = None
        self.keyboard: CellInput | None = None  # while a cell runs in the foreground
        self._early_sigint = False  # Ctrl-C between the prompt and the cell: meant for the cell
        self._early_sigtstp = False  # Ctrl-Z between the prompt and the cell: the same
        self._turn_wait: asyncio.Future | None = None  # a cell waiting while our background cells run
        self._sending: asyncio.Future | None = None  # the foreground cell on its way to the kernel
        self._early: Early | None = None  # the cell Enter sent before the prompt was done
        self.last: Cell | None = None  # the cell the last run_cell ran (None: it was not sent)

    def is_foreground(self, req: s.Request | None) -> bool:
        return self.foreground is not None and req is self.foreground.cell.request

    def prompt_showing(self) -> None:
        """A prompt is up: a Ctrl-C or Ctrl-Z from now is the prompt's."""
        self._early_sigint = self._early_sigtstp = False

    def send_at_enter(self, buffer: Buffer, kernel: Callable[[], Kernel | None],
                      before: Callable[[Kernel], Awaitable[None]]) -> None:
        """A cell is sent the moment Enter accepts it, before the prompt draws itself a last time
        (2-7 ms here, the link's round trip again where the terminal is remote), when ``kernel()``
        says which it is for (None: the first kernel is not up yet; then, for /commands, and behind
        our background cells, what Enter does waits for the prompt to be done); ``before(kernel)``
        first (what a kernel is told before each cell: the terminal's width). run_cell takes it
        up; its output waits for the prompt to be done (:meth:`prompt_ended`)."""
        accept = buffer.accept_handler

        def accept_early(buf: Buffer) -> bool:
            text = buf.text
            k = kernel() if text.strip() else None
            if k is not None and not k.background and self._early is None \
                    and isinstance(code := commands.parse(text), str):
                early = self._early = Early(k, code, asyncio.get_running_loop().create_future())

                async def send() -> Cell:
                    await before(k)
                    return await k.execute(code, before_send=self._foreground(k, early.wake, early))

                early.sending = eager.start(send())  # (on the wire before prompt_toolkit is done with the key)
            return bool(accept(buf)) if accept is not None else False

        buffer.accept_handler = accept_early

    def _foreground(self, kernel: Kernel, wake: asyncio.Future, early: Early | None = None) -> Callable[[Cell], None]:
        """What makes a cell the foreground one, just before it is sent (its first event is ours);
        its output begins now, or (sent at Enter) once the prompt is done."""
        def foreground(cell: Cell) -> None:
            self.foreground = Running(kernel, cell, Foreground(cell.request), wake)
            if early is None or early.prompt_over:
                self._output_begins()
        return foreground

    def _output_begins(self) -> None:
        """The foreground cell's output begins here; a Ctrl-C typed with its Enter is for it."""
        self.view.begin_cell()
        self._ctrl_c_with_enter()

    def _ctrl_c_with_enter(self) -> None:
        if self._early_sigint:
            self._early_sigint = False
            self.hooks.ctrl_c()

    def prompt_ended(self) -> bool:
        """The prompt is done (its rows counted, nothing written after it yet); True if its Enter
        sent a cell already."""
        early = self._early
        if early is not None and not early.prompt_over:
            early.prompt_over = True
            if self.foreground is not None and self.foreground.wake is early.wake:
                self.view.begin_cell()
        return early is not None

    def _take_early(self, kernel: Kernel, code: str) -> Early | None:
        """The cell Enter sent already, if it is this one; reads the keys typed after Enter."""
        early, self._early = self._early, None
        if early is not None and (early.kernel is not kernel or early.code != code):
            early = None  # (cannot be: Enter accepted this code for this kernel)
        self._keys_after_enter()
        return early

    def _keys_after_enter(self) -> None:
        """Ctrl-C and Ctrl-Z the prompt read after Enter (it keeps them for the next prompt, where
        they would clear the line or do nothing) are for the cell that Enter sent."""
        prompt_input = self.hooks.prompt_input()
        if prompt_input is None:
            return
        keys = get_typeahead(prompt_input)  # (takes them)
        self._early_sigint |= any(k.key == Keys.ControlC for k in keys)
        self._early_sigtstp |= any(k.key == Keys.ControlZ for k in keys)
        store_typeahead(prompt_input, [k for k in keys if k.key not in (Keys.ControlC, Keys.ControlZ)])

    async def run_cell(self, kernel: Kernel, code: str) -> bool:
        """Run one cell in the foreground; True if the kernel asked the REPL to exit."""
        loop = asyncio.get_running_loop()
        keyboard = self.keyboard = CellInput(self.on_sigtstp, self.hooks.ctrl_c, on_eof=self._on_eof)
        early = self._take_early(kernel, code)
        wake = early.wake if early is not None else loop.create_future()
        self.last = None

        fg = None
        try:
            with keyboard:
                if early is not None and early.sending is not None:
                    sending = self._sending = early.sending
                    if self.foreground is not None:  # (on its way: a Ctrl-C typed with its Enter is for it)
                        self._ctrl_c_with_enter()
                else:
                    if kernel.background and not await self._turn(kernel, code):
                        return False
                    sending = self._sending = asyncio.ensure_future(
                        kernel.execute(code, before_send=self._foreground(kernel, wake)))
                try:
                    await asyncio.wait([sending])
                finally:
                    self._sending = None
                if sending.cancelled():  # Ctrl-C or Ctrl-D while it waited for the kernel's connection
                    self.hooks.set_next_input(code)
                    self.view.line(NOT_SENT, "err")
                    return False
                cell = sending.result()
                fg = self.foreground
                if self._early_sigtstp:
                    self._early_sigtstp = False
                    self.on_sigtstp()
                await asyncio.wait([cell.done, wake], return_when=asyncio.FIRST_COMPLETED)
            if cell.done.done() and cell.done.exception() is not None:
                raise cell.done.exception()
        except errors.ReplError as exc:
            self.view.line(f"repl: {exc}", "err")
            if isinstance(exc, errors.UsageError):  # e.g. too large to send: the text is not lost
                self.hooks.set_next_input(code)
                # (a cell taller than the screen hides the line above: the toolbar says it too)
                self.hooks.notice(f"not sent: {str(exc).split(',')[0]}; the cell is back to edit (Ctrl-C clears it)")
        finally:
            self.foreground = None
            self.keyboard = None
            self.hooks.cell_ended()
            prompt_input = self.hooks.prompt_input()
            if prompt_input is not None:
                keyboard.hand_to(prompt_input)
        return await self._ended(kernel, fg)

    async def _ended(self, kernel: Kernel, fg: Running | None) -> bool:
        if fg is not None:
            self.last = fg.cell
            for line in fg.machine.summary():
                self.view.dim(line)
            next_input, pages = self.view.payloads(fg.cell.request)
            for text in pages:  # (``obj??`` longer than the screen)
                why = await self.hooks.page(text)
                if why is not None:
                    self.view.line(f"repl: {why}", "err")
                    self.console.write("out", text)
            if next_input:
                self.hooks.set_next_input(next_input)
        self.console.ensure_newline()
        self.view.between_cells()
        edit = fg.cell.edit_asked if fg is not None else None
        if edit is not None:
            return await self._edit_magic(kernel, *edit)
        keep = fg.cell.exit_asked if fg is not None else None
        if keep:
            kernel.started_here = False  # %exit -k style: leave the kernel running
        return keep is not None

    async def _turn(self, kernel: Kernel, code: str) -> bool:
        """Wait while our background cells keep ``kernel`` busy; False if Ctrl-C took the cell back."""
        waiting = self._turn_wait = asyncio.ensure_future(turn.wait(kernel, self.view.dim))
        if self._early_sigint:  # Ctrl-C typed with its Enter: for this cell, not the one running
            self._early_sigint = False
            waiting.cancel()
        try:
            if await turn.finished(waiting):
                return True
        finally:
            self._turn_wait = None
        self.hooks.set_next_input(code)
        self.view.line(turn.TAKEN_BACK, "err")
        return False

    async def _edit_magic(self, kernel: Kernel, path: str, line: int | None) -> bool:
        """``%edit``: the file in the user's editor, then run, as IPython does."""
        if not os.path.isfile(path):
            self.view.line(f"repl: %edit: {path} is on the kernel's machine, not this one", "err")
            return False
        try:
            argv = editor.command(os.environ)
            try:
                await asyncio.get_running_loop().run_in_executor(None, editor.edit_file, argv, path, line)
            finally:
                self.view.screen_lost()  # the editor had the terminal: rows above are not ours to count
            with open(path, encoding="utf-8", errors="replace") as f:
                code = f.read()
        except (editor.EditorError, OSError) as exc:
            self.view.line(f"repl: %edit: {exc}", "err")
            return False
        return await self.run_cell(kernel, code) if code.strip() else False

    # ------------------------------------------------------------ keys while a cell runs

    def on_sigint(self) -> bool:
        """Ctrl-C while no prompt is showing, for the foreground cell or one waiting its turn;
        False if there is neither (the key may be for something else)."""
        fg = self.foreground
        if fg is None:
            if self._turn_wait is not None and not self._turn_wait.done():  # a cell waiting its turn
                self.console.write("out", "\n")
                self._turn_wait.cancel()
                return True
            return False
        self.console.write("out", "\n")  # after the terminal's ^C echo
        if self._take_back():
            return True
        if self.hooks.ctrl_c_for_pdb():
            return True  # typed before pdb's next prompt showed: it leaves pdb there
        do = fg.machine.ctrl_c(time.time(), fg.kernel.session.clock_offset)
        if do is Do.GIVE_UP:
            self.view.line("repl: no longer waiting for this cell; it goes on in the background", "err")
            self._detach(fg)
        elif do is Do.INTERRUPT:
            asyncio.ensure_future(self.interrupt(fg.kernel))
        return True

    def _take_back(self) -> bool:
        """The cell is still waiting for the kernel's connection (it cannot be sent yet): take it
        back, unsent, instead of waiting on; True if so."""
        fg, sending = self.foreground, self._sending
        if fg is None or sending is None or sending.done() or fg.kernel.connected:
            return False
        sending.cancel()
        return True

    def _on_eof(self) -> bool:
        """Ctrl-D while a cell runs: for a wait that takes it (the (dbg) prompt's), else it takes
        back a cell that cannot be sent yet; otherwise it is kept as typeahead."""
        if self.hooks.other_waits():
            return True
        if self._take_back():
            self.console.write("out", "\n")
            return True
        return False

    def ctrl_c_before_the_cell(self) -> None:
        """A Ctrl-C between the prompt and the cell: it is meant for the cell about to run."""
        self._early_sigint = True

    def on_sigtstp(self) -> None:
        """Ctrl-Z while a cell runs (read as a key, or a real SIGTSTP); before it is sent, for it."""
        fg = self.foreground
        if fg is None:
            self._early_sigtstp = True
        elif fg.machine.ctrl_z() is Do.DETACH:
            self.view.dim(f"[{fg.kernel.label}] cell sent to the background; its output will be tagged")
            self._detach(fg)

    def _detach(self, fg: Running) -> None:
        fg.kernel.to_background(fg.cell)
        self.foreground = None
        self.hooks.detach_widgets(fg.cell.request, f"[{fg.kernel.label}] ")
        if not fg.wake.done():
            fg.wake.set_result(None)

    async def interrupt(self, kernel: Kernel) -> None:
        try:
            await kernel.interrupt()
        except errors.ReplError as exc:
            self.view.line(f"repl: interrupt failed: {exc}", "err")
