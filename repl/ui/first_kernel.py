"""The first kernel, brought up behind a prompt that is already showing (:class:`repl.opening.Opening`).

While it comes the toolbar counts its seconds; input typed meanwhile waits for it
(:class:`repl.ui.early.EarlyInput`). When it is up its greeting (and ``--profile-startup``'s lines)
is printed and the kernelspecs are learned for ``/new`` completion; when it cannot come, its error
is kept (:attr:`FirstKernel.failed`) and the prompt is asked to step aside, so the prompt loop ends
and raises it. The one owner of that failure and of the early input, and of the end of start-up:
then what start-up made is taken out of the garbage collector's full passes (:func:`settle_heap`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from typing import TYPE_CHECKING, Callable

from repl import errors
from repl.timing import StartupProfile
from repl.ui.early import EarlyInput, Waited
from repl.ui.output.view import OutputView

if TYPE_CHECKING:
    from repl.opening import Opening
    from repl.ui.prompt.parts import PromptParts
    from repl.workspace import Workspace

SETTLE_AFTER = 1.0  # s after the first kernel is up: start-up's imports (the lexer's too, in a thread) are done


class FirstKernel:
    def __init__(self, view: OutputView, profile: StartupProfile, refresh: Callable[[], None],
                 step_aside: Callable[[], object], early: EarlyInput) -> None:
        self.view = view
        self.profile = profile
        self.refresh = refresh  # redraw the prompt (its toolbar)
        self.step_aside = step_aside  # end the prompt that is showing
        self.early = early
        self.failed: BaseException | None = None  # it could not be brought up

    def follow(self, ws: Workspace, parts: PromptParts) -> None:
        """Watch ``ws.opening`` (if any) from a prompt about to be shown."""
        opening = ws.opening
        if opening is None:
            learn_specs(ws, parts)
            asyncio.get_running_loop().call_later(SETTLE_AFTER, settle_heap)
            return
        opening.task.add_done_callback(lambda task: self._opened(ws, parts, opening))
        ticker = asyncio.ensure_future(self._tick(opening))
        opening.task.add_done_callback(lambda task: ticker.cancel())

    def up(self, ws: Workspace) -> bool:
        """The first kernel is up and announced (or there was none to wait for)."""
        return self.failed is None and (ws.opening is None or ws.opening.announced)

    def drawn(self, opening: Opening | None) -> None:
        """The prompt is on screen: the first kernel is brought up now."""
        self.profile.mark("prompt drawn")
        if opening is not None:
            opening.start()

    async def wait(self, opening: Opening, prompt_input) -> bool | None:
        """Input typed before the first kernel came waits for it: True to go on, False to drop
        the input, None to leave repl."""
        waited = await self.early.wait(opening, prompt_input)
        if waited is Waited.DROPPED:
            self.view.line(f"repl: cancelled; {opening.still()}", "err")
        if waited is Waited.LEAVE:
            return None
        return waited is Waited.UP

    def _opened(self, ws: Workspace, parts: PromptParts, opening: Opening) -> None:
        task = opening.task
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self.failed = exc
            self.step_aside()
            return
        self.view.line(opening.greeting(task.result()))
        if self.profile.on:
            for line in self.profile.lines():
                self.view.dim(line)

        def announced() -> None:
            opening.announced = True
            self.refresh()

        self.view.console.when_shown(announced)
        learn_specs(ws, parts)
        asyncio.get_running_loop().call_later(SETTLE_AFTER, settle_heap)

    async def _tick(self, opening: Opening) -> None:
        while opening.showing:  # the toolbar counts the seconds of a slow start
            await asyncio.sleep(1.0)
            self.refresh()


def settle_heap() -> None:
    """What start-up made (modules, classes, the prompt's layout: ~40k objects) lives as long as
    repl does; frozen, the collector's full passes no longer walk it. A full pass took 13 ms here
    during a flood of output, and a keystroke's echo waited for it; frozen, none came in the same
    flood. Once, at an idle prompt: the one collection before it takes ~8 ms."""
    gc.collect()
    gc.freeze()


def learn_specs(ws: Workspace, parts: PromptParts) -> None:
    """The server's kernelspecs, for ``/new`` completion (in the background)."""
    async def learn() -> None:
        with contextlib.suppress(errors.ReplError):
            parts.specs = sorted((await ws.rest.kernelspecs())["kernelspecs"])
    asyncio.ensure_future(learn())
