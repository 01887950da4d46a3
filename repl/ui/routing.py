"""Where each kernel event goes: the foreground cell, a background cell, a widget, a question, the
debugger's prompt, or a notice.

Events come from every kernel of the workspace (:meth:`Router.kernel_events`, called by
:class:`repl.kernel.Kernel` through its listener). The foreground cell's events go through its
state machine (:mod:`repl.ui.foreground`); other cells' output is tagged ``[label]`` (``[label
elsewhere]`` for other clients'); ``input()`` and debugger stops become questions; comm messages
go to the widget view. The owner of the widget view (made with the first widget) and of the
``(dbg)`` prompt (made with the first stop).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Awaitable, Callable

from repl.protocol import session as s
from repl.ui.slash import commands
from repl.ui.output import mime
from repl.ui.output import render
from repl.ui.output.console import Console
from repl.ui.widgets.focus import Focus
from repl.ui.foreground import Do
from repl.ui.output.view import RATE_LIMITED, OutputView
from repl.ui.questions import Ask, Item
from repl.ui.runner import Running

if TYPE_CHECKING:  # imported when a kernel comes, after the first prompt is drawn
    from repl.gateway.channel import ChannelState
    from repl.kernel import Kernel
    from repl.ui.debugger.prompt import DebugPrompt
    from repl.ui.widgets.view import WidgetView


QUESTIONS = frozenset({"complete_request", "inspect_request", "is_complete_request"})


def _unseen(ev: s.Event) -> bool:
    """An event that changes nothing on the screen: the busy, idle and reply around a question the
    prompt asked (its answer goes to whoever waits for it). A redraw for it costs 3-5 ms, and the
    answer that comes during one waits for it: Tab's menu came that much later."""
    return isinstance(ev, (s.Status, s.Reply, s.RequestDone)) and ev.request is not None \
        and ev.request.msg_type in QUESTIONS


class Router:
    def __init__(self, view: OutputView, console: Console, style: render.Style,
                 foreground: Callable[[], Running | None], interrupt: Callable[[Kernel], Awaitable[None]],
                 ask: Callable[[Kernel, Item], None], refresh: Callable[[], None],
                 run_command: Callable[[commands.Command], Awaitable[object]], toolbar: Callable[[], str]) -> None:
        self.view = view
        self.console = console
        self.style = style
        self.foreground = foreground
        self.interrupt = interrupt
        self.ask = ask
        self.refresh = refresh
        self.run_command = run_command  # a /command typed at the (dbg) prompt
        self.toolbar = toolbar
        self._widget_view: WidgetView | None = None
        self.focus = Focus(lambda: self._widget_view, refresh, lambda text: view.line(text, "err"))  # F2
        self._debugging: DebugPrompt | None = None

    @property
    def widgets(self) -> WidgetView:
        if self._widget_view is None:
            from repl.ui.widgets.view import WidgetView  # (and the widget drawing): with the first widget

            self._widget_view = WidgetView(self.view)
        return self._widget_view

    @property
    def drawn_widgets(self) -> WidgetView | None:
        """The widgets on screen, if any came yet."""
        return self._widget_view

    def detach_widgets(self, request: s.Request, tag: str) -> None:
        """A cell went to the background: its widgets are tagged from now on."""
        if self._widget_view is not None:
            self._widget_view.detach(request, tag)

    # ------------------------------------------------------------ from the kernels

    def kernel_events(self, kernel: Kernel, events: list[s.Event]) -> None:
        fg = self.foreground()
        for ev in events:
            if self._not_output(kernel, ev) or (kernel.comms.models and self.widgets.capture(kernel, ev)):
                continue
            if isinstance(ev, s.RequestDone) and self._widget_view is not None:
                self._widget_view.flush(kernel, ev.request)  # widgets its cells changed out of place, as they end
            if fg is not None and ev.request is fg.cell.request:
                self._foreground(fg, ev)
            elif isinstance(ev, s.RequestDone):
                self._background_done(kernel, ev.request)
            else:
                self._draw(kernel, ev, self._tag(kernel, ev))
        if self._debugging is not None:
            self._debugging.check(kernel)
        if self.focus.active:
            self.focus.check()  # (a widget closed, disabled, or its kernel gone gives the keyboard back)
        if not all(map(_unseen, events)):
            self.refresh()

    def kernel_state(self, kernel: Kernel, state: ChannelState, before: ChannelState) -> None:
        self.kernel_notice(kernel, render.connection_change(kernel.label, state.label, before.label))

    def kernel_notice(self, kernel: Kernel, text: str | None) -> None:
        if text:
            self.view.line("repl: " + text, "err")
        self.refresh()

    def _not_output(self, kernel: Kernel, ev: s.Event) -> bool:
        """Handle an event that is not a cell's output (the kernel lost, a question, the debugger,
        widgets); False for output."""
        if isinstance(ev, s.KernelLost):
            if self._widget_view is not None:
                self._widget_view.lost(kernel)  # (before the line: a widget just above is redrawn in place)
            self.view.line("repl: " + render.kernel_lost(ev.state, kernel.label), "err")
        elif isinstance(ev, s.InputRequest):
            if not ev.other:
                self.ask(kernel, ev)
        elif isinstance(ev, s.DebugEvent):
            for note in kernel.debugger.take_notes():
                self.view.line("repl: " + note, "err")
            stop = kernel.debugger.take_stop()
            if stop is not None:
                self.ask(kernel, stop)
        elif isinstance(ev, s.CommEvent):
            self.widgets.changed(kernel, ev)
        else:
            return False
        return True

    def _foreground(self, fg: Running, ev: s.Event) -> None:
        do = fg.machine.event(ev)
        if do is Do.INTERRUPT:
            asyncio.ensure_future(self.interrupt(fg.kernel))
        elif do in (Do.CLEAR, Do.CLEAR_THEN_DRAW):
            self.view.clear()
        if do is Do.NEWLINE_THEN_DRAW:
            self.console.ensure_newline()
        if do in (Do.DRAW, Do.CLEAR_THEN_DRAW, Do.NEWLINE_THEN_DRAW):
            self._draw(fg.kernel, ev, None)

    def _draw(self, kernel: Kernel, ev: s.Event, tag: str | None) -> None:
        if isinstance(ev, s.Stream) and RATE_LIMITED.search(ev.text):
            self.view.rate_limited(kernel.label, next((c for c in reversed(kernel.cells) if c.request is ev.request), None))
        data = ev.data if isinstance(ev, (s.DisplayData, s.ExecuteResult)) else None
        if not (data and mime.WIDGET_VIEW in data and self.widgets.show(kernel, ev, tag)):
            self.view.show(kernel.id, ev, tag)

    @staticmethod
    def _tag(kernel: Kernel, ev: s.Event) -> str:
        """``[label]`` before another cell's output; a cell left running by the session we came back
        to says which it is (``[label In [N]]``), and another client's is ``[label elsewhere]``."""
        if ev.other:
            return f"[{kernel.label} elsewhere] "
        cell = kernel.cell_of(ev.request)
        if cell is not None and cell.resumed:
            return f"[{kernel.label} In [{cell.execution_count if cell.execution_count is not None else '?'}]] "
        return f"[{kernel.label}] "

    def _background_done(self, kernel: Kernel, req: s.Request | None) -> None:
        cell = next((c for c in reversed(kernel.cells) if c.request is req), None)
        if cell is not None and cell.background:
            self.view.dim(render.background_done(kernel.label, cell.execution_count, cell.request.status,
                                                 cell.ran_for(kernel.session.clock_offset),
                                                 "cell" if cell.resumed else "background cell"))

    # ------------------------------------------------------------ debugger stops

    async def debug(self, kernel: Kernel, ask: Ask) -> None:
        """The ``(dbg)`` prompt for a stopped kernel, until execution goes on."""
        if self._debugging is None:  # (imported with the first stop)
            from repl.ui.debugger.prompt import DebugPrompt

            self._debugging = DebugPrompt(self.view.line, self.style, self.toolbar, self.run_command)
        await self._debugging.run(kernel, ask)

    def stop_waiting(self) -> bool:
        """Ctrl-C or Ctrl-D while the (dbg) prompt waits for the debugger: it stops waiting."""
        if self._debugging is None or not self._debugging.stop_waiting():
            return False
        self.console.write("out", "\n")
        return True
