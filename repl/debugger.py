"""A kernel's debugger, driven over the Jupyter debug protocol: one per :class:`repl.kernel.Kernel`.

Requests go to the kernel as ``debug_request`` on control (through :meth:`Kernel.ask`); DAP events
arrive as iopub ``debug_event`` and are handed here by the kernel. The bookkeeping (sequence
numbers, the stop and its frames, breakpoints) is :class:`repl.protocol.dap.Dap`; this module does
the waiting. Started lazily, on the first breakpoint or pause; after a kernel restart the
breakpoints are sent again to the new process (a cell's breakpoint follows its code).

Only the user's code is debugged (debugpy's ``justMyCode``, as JupyterLab's default): no stops in
IPython's or a library's frames, for exceptions raised and caught there or for steps. A step that
runs off the end of its cell ends there: the stop it would make in the next cell is continued.
A condition that does not compile is refused; one that raises when evaluated is reported once
(debugpy does not stop where it raises).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any, Protocol

from repl import errors
from repl.protocol import dap
from repl.protocol.dap import Breakpoint, Frame

if TYPE_CHECKING:
    from repl.cell import Cell
    from repl.gateway.rest import KernelModel, RestClient
    from repl.protocol import messages as m
    from repl.protocol.session import KernelSession


class DebuggedKernel(Protocol):
    """What the debugger needs of its kernel (:class:`repl.kernel.Kernel` has it): the debugger
    knows this shape, not the kernel's module."""

    model: KernelModel
    rest: RestClient
    session: KernelSession
    cells: list[Cell]

    @property
    def label(self) -> str: ...

    @property
    def language_info(self) -> dict: ...

    async def ask(self, kind: m.Question, timeout: float | None, **args: Any) -> dict | None: ...

    async def code_of(self, count: int) -> str: ...

ANSWER_WAIT = 15.0
INITIALIZE_WAIT = 10.0  # debugpy starts within a second or two
INITIALIZE = {
    "clientID": "repl", "clientName": "repl", "adapterID": "python", "pathFormat": "path",
    "linesStartAt1": True, "columnsStartAt1": True, "supportsVariableType": True,
    "supportsVariablePaging": True, "supportsRunInTerminalRequest": False, "locale": "en",
}
STEPS = {"n": "next", "s": "stepIn", "r": "stepOut", "c": "continue"}
ATTACH = {"justMyCode": True}  # ipykernel asks for its stdlib too (DebugStdLib) unless told
ALREADY_STARTED = "already started"  # debugpy's answer to a second client's attach


class DebugError(errors.ReplError):
    pass


class EvaluationError(DebugError):
    """The code evaluated in the frame raised: the text is the kernel's (its traceback), not ours."""


class Debugger:
    def __init__(self, kernel: DebuggedKernel) -> None:
        self.kernel = kernel
        self.dap = dap.Dap()
        self.attached = False
        self.new_stop = False  # a stop the UI has not taken yet
        self.joined = False  # attached to a debugging session another client started (theirs to end)
        self.notes: list[str] = []  # what the debugger said that the UI has not shown yet
        self._raised: set[str] = set()  # conditions already reported as raising
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task] = set()

    # ------------------------------------------------------------ state

    async def supported(self) -> bool:
        """Whether the kernel offers a debugger: its kernel_info says ``debugger: true`` (xeus),
        its kernelspec's metadata does (ipykernel 6 and 7), or ipykernel itself lists it in
        ``supported_features`` (ipykernel's base class lists it for every kernel built on it,
        bash_kernel included, so only the IPython kernel's own word counts)."""
        info = self.kernel.session.kernel_info or {}
        features = info.get("supported_features")
        if info.get("debugger") is True:
            return True
        if info.get("implementation") == "ipython" and isinstance(features, list) and "debugger" in features:
            return True
        try:
            specs = await self.kernel.rest.kernelspecs()
        except errors.ReplError:
            return False
        entry = specs.get("kernelspecs", {}).get(self.kernel.model.name)
        spec = entry.get("spec") if isinstance(entry, dict) else None
        metadata = spec.get("metadata") if isinstance(spec, dict) else None
        return isinstance(metadata, dict) and metadata.get("debugger") is True

    @property
    def stopped(self) -> dap.Stopped | None:
        return self.dap.stopped

    def receive(self, content: dict) -> None:
        """A ``debug_event`` from the kernel."""
        if not self.attached:
            return  # another client's debugging session: not ours to show
        ev = self.dap.event(content)
        if isinstance(ev, dap.Stopped):
            self.new_stop = True
        elif isinstance(ev, dap.RanOff):
            self._go_on(ev.thread)
        elif isinstance(ev, dap.Terminated):
            self.attached = False
        elif isinstance(ev, dap.Output):
            raised = dap.condition_raised(ev)
            if raised is not None and raised[0] not in self._raised:
                self._raised.add(raised[0])
                self.notes.append(f"the condition {raised[0]!r} of a breakpoint on {self.kernel.label} raised "
                                  f"{raised[1]} when evaluated: it does not stop where the condition raises (/break again with another condition)")

    def cell_boundary(self) -> None:
        """A cell of this kernel ended or began (a step under way has left its cell)."""
        self.dap.cell_boundary()

    def take_notes(self) -> list[str]:
        notes, self.notes = self.notes, []
        return notes

    def _go_on(self, thread: int) -> None:
        async def go() -> None:
            with contextlib.suppress(errors.ReplError):
                await self.call("continue", {"threadId": thread})
        task = asyncio.ensure_future(go())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def take_stop(self) -> dap.Stopped | None:
        """The stop the UI has not shown yet, once."""
        if not self.new_stop:
            return None
        self.new_stop = False
        return self.dap.stopped

    def kernel_lost(self) -> None:
        """The kernel process is gone (restarted): its debugger with it. Ours is sent again to the
        new process once it answers, if there is anything to send."""
        self.attached = False
        self.new_stop = False
        self.dap.running()
        self.dap.waiting.clear()
        for b in self.dap.breakpoints:
            b.verified = False

    @property
    def wanted(self) -> bool:
        return bool(self.dap.breakpoints) or self.dap.exceptions != "noexc"

    # ------------------------------------------------------------ talking to it

    async def call(self, command: str, arguments: dict | None = None, wait: float | None = ANSWER_WAIT) -> dict:
        content = self.dap.request(command, arguments)
        try:
            reply = await self.kernel.ask("debug", wait, content=content)
        except BaseException:  # the wait was given up (Ctrl-C), or the kernel is gone
            self.dap.forget(content)
            raise
        if reply is None:
            self.dap.forget(content)
            raise DebugError(f"the debugger of {self.kernel.label} did not answer {command}")
        response = self.dap.response(reply)
        if response is None:
            raise DebugError(f"the debugger of {self.kernel.label} answered {command} with something else")
        if not response.success:
            raise DebugError(response.message or f"the debugger of {self.kernel.label} refused {command}")
        return response.body

    async def start(self) -> None:
        """Initialize and attach, once; then send what we want (after a restart: all of it again)."""
        if not self.attached and not await self.supported():
            raise DebugError(f"kernel {self.kernel.label} has no debugger (neither its kernel_info nor its kernelspec offers one)")
        async with self._lock:
            if self.attached:
                return
            try:
                await self.call("initialize", INITIALIZE, wait=INITIALIZE_WAIT)
            except DebugError as exc:
                if self.kernel.session.state == "busy":  # ipykernel starts debugpy by running code
                    raise DebugError(f"the debugger of {self.kernel.label} can only start while the kernel is idle: "
                                     "set a breakpoint (/break) before running the cell") from None
                raise DebugError(f"kernel {self.kernel.label} has no working debugger: {exc}") from None
            try:
                await self.call("attach", dict(ATTACH))
                self.joined = False
            except DebugError as exc:  # another client debugs this kernel: its session is ours too
                if ALREADY_STARTED not in str(exc).lower():
                    raise
                self.joined = True
            info = await self.call("debugInfo")
            self.dap.files = dap.CellFiles(str(info.get("tmpFilePrefix", "")), str(info.get("tmpFileSuffix", "")),
                                           int(info.get("hashSeed", 0) or 0), str(info.get("hashMethod", "")))
            self.attached = True
            for b in self.dap.breakpoints:
                if b.cell is not None:
                    b.path = await self._cell_file(b.code)
            for path in {b.path for b in self.dap.breakpoints}:
                self.dap.verified(path, await self.call("setBreakpoints", self.dap.set_breakpoints_args(path)))
            await self.call("setExceptionBreakpoints", {"filters": dap.EXCEPTION_FILTERS[self.dap.exceptions]})
            await self.call("configurationDone")

    async def restore(self) -> str | None:
        """After a restart: attach to the new kernel's debugger and set our breakpoints again."""
        if not self.wanted or self.attached:
            return None
        try:
            await self.start()
        except errors.ReplError as exc:
            return f"breakpoints of {self.kernel.label} could not be set again after the restart: {exc}"
        what = [f"{len(self.dap.breakpoints)} breakpoint(s)"] if self.dap.breakpoints else []
        if self.dap.exceptions != "noexc":
            what.append(f"the stop on {self.dap.exceptions} exceptions")
        return f"{' and '.join(what)} set again on the restarted {self.kernel.label}"

    async def _cell_file(self, code: str) -> str:
        body = await self.call("dumpCell", {"code": code})
        path = body.get("sourcePath")
        if not isinstance(path, str) or not path:
            raise DebugError("the debugger did not say which file the cell is compiled from")
        return path

    # ------------------------------------------------------------ breakpoints

    async def add(self, cell: int | None, path: str, line: int, condition: str) -> Breakpoint:
        wrong = dap.condition_error(condition, str(self.kernel.language_info.get("name", "")))
        if wrong is not None:
            raise DebugError(wrong)
        await self.start()
        b = Breakpoint(line, condition, cell=cell, path=path)
        self._raised.discard(condition)
        if cell is not None:
            b.code = await self.kernel.code_of(cell)
            lines = b.code.count("\n") + (0 if b.code.endswith("\n") else 1)
            if not 1 <= line <= lines:
                raise DebugError(f"In [{cell}] has {lines} line{'s' if lines != 1 else ''}; there is no line {line}")
            b.path = await self._cell_file(b.code)
        old = [x for x in self.dap.breakpoints if x.path == b.path and x.line == line]
        for x in old:
            self.dap.breakpoints.remove(x)  # the same place again: the new condition wins
        self.dap.breakpoints.append(b)
        await self._send(b.path)
        return b

    async def remove(self, cell: int | None, path: str, line: int | None) -> list[Breakpoint]:
        """Remove breakpoints at a place (``line`` None: every breakpoint)."""
        if line is None:
            gone = list(self.dap.breakpoints)
        else:
            gone = [b for b in self.dap.breakpoints if b.line == line and (b.cell == cell if cell is not None
                                                                            else b.path == path and b.cell is None)]
        for b in gone:
            self.dap.breakpoints.remove(b)
        if self.attached:
            for p in {b.path for b in gone}:
                await self._send(p)
        return gone

    async def leave(self) -> bool:
        """Before detaching: take every breakpoint (and exception stop) out of the kernel, since
        nobody would be there to go on from a stop. True if there were any."""
        had = bool(self.dap.breakpoints) or self.dap.exceptions != "noexc"
        if self.attached and had:
            await self.remove(None, "", None)
            await self.exceptions("noexc")
        if self.attached and self.dap.stopped is not None:  # (a hangup while stopped: it goes on)
            await self.resume("c")
        return had and self.attached

    async def _send(self, path: str) -> None:
        self.dap.verified(path, await self.call("setBreakpoints", self.dap.set_breakpoints_args(path)))

    async def exceptions(self, mode: str) -> None:
        if mode != "noexc" or self.attached:
            await self.start()
            await self.call("setExceptionBreakpoints", {"filters": dap.EXCEPTION_FILTERS[mode]})
        self.dap.exceptions = mode

    # ------------------------------------------------------------ running and stopping

    async def pause(self) -> None:
        await self.start()
        threads = (await self.call("threads")).get("threads", [])
        ids = [t.get("id") for t in threads if isinstance(t, dict) and t.get("name") == "MainThread"]
        if not ids:
            raise DebugError(f"the debugger of {self.kernel.label} lists no main thread to pause")
        await self.call("pause", {"threadId": ids[0]})

    async def resume(self, key: str) -> None:
        """``n``, ``s``, ``r`` or ``c``: the stopped thread goes on."""
        stop = self.dap.stopped
        if stop is None:
            return
        self.dap.stepped(key != "c")
        await self.call(STEPS[key], {"threadId": stop.thread})
        if self.dap.stopped is stop:
            self.dap.running()  # unless it already stopped again (events and replies race)

    async def stack(self) -> list[Frame]:
        stop = self.dap.stopped
        if stop is None:
            return []
        body = await self.call("stackTrace", {"threadId": stop.thread})
        if self.dap.stopped is not stop:
            return []
        return self.dap.set_frames(body)

    def _cell(self, frame: Frame) -> tuple[int, str] | None:
        cells = [(c.execution_count, c.code) for c in self.kernel.cells if c.execution_count is not None]
        return self.dap.cell_of(frame.path, cells)

    def where(self, frame: Frame) -> str:
        """``In [N] line L`` for a cell of ours, else ``path:L``."""
        found = self._cell(frame)
        return f"In [{found[0]}] line {frame.line}" if found is not None else f"{frame.path}:{frame.line}"

    async def source(self, frame: Frame) -> tuple[str, list[str]]:
        """Where a frame is and its file's lines (empty if the debugger cannot say)."""
        found = self._cell(frame)
        if found is not None:
            return self.where(frame), found[1].splitlines()
        text = ""
        with contextlib.suppress(errors.ReplError):
            text = str((await self.call("source", {"source": {"path": frame.path}})).get("content", ""))
        return self.where(frame), text.splitlines()

    async def scopes(self, frame: Frame) -> list[dict]:
        scopes = (await self.call("scopes", {"frameId": frame.id})).get("scopes", [])
        return [x for x in scopes if isinstance(x, dict)]

    async def variables(self, ref: int) -> list[dict]:
        found = (await self.call("variables", {"variablesReference": ref})).get("variables", [])
        return [v for v in found if isinstance(v, dict)]

    async def evaluate(self, expression: str, frame: Frame | None) -> dict:
        args: dict = {"expression": expression, "context": "repl"}
        if frame is not None:
            args["frameId"] = frame.id
        try:
            return await self.call("evaluate", args, wait=None)  # code may take its time, or ask (input())
        except DebugError as exc:
            if type(exc) is DebugError and "Traceback" in str(exc):
                raise EvaluationError(str(exc)) from None
            raise

    async def completions(self, text: str, column: int, frame: Frame | None) -> list[dict]:
        args: dict = {"text": text, "column": column}
        if frame is not None:
            args["frameId"] = frame.id
        targets = (await self.call("completions", args, wait=3.0)).get("targets", [])
        return [t for t in targets if isinstance(t, dict)]

    async def quit(self) -> int:
        """Remove this session's breakpoints, let the kernel go on, detach. How many were removed."""
        removed = len(await self.remove(None, "", None))
        if self.attached:
            with contextlib.suppress(errors.ReplError):
                await self.call("setExceptionBreakpoints", {"filters": []})
            self.dap.exceptions = "noexc"
            stop = self.dap.stopped
            if stop is not None:
                with contextlib.suppress(errors.ReplError):
                    await self.call("continue", {"threadId": stop.thread})
            if not self.joined:  # another client's session goes on for them
                with contextlib.suppress(errors.ReplError):
                    await self.call("disconnect", {"restart": False, "terminateDebuggee": False})
        self.attached = self.joined = False
        self.dap.running()
        return removed
