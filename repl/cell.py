"""One execute request of this REPL, from Enter to its end: the one owner of a cell's state.

A :class:`Cell` holds the protocol request (reply, status, execution count), the code, the message
as sent (sent again, once, if the kernel never received it), when it started, whether it runs in
the background, the outputs kept for ``/save`` (in nbformat's shape, bounded) and the future that
completes when the request is done or lost. The kernel that owns it keeps its cells in a list.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from dataclasses import dataclass, field

from repl.protocol import session as s

MAX_CHARS = 4 * 1024 * 1024  # a flood must not grow memory without bound
OPEN_LINE_CHARS = 4096  # of a line left unfinished when we leave, what the record keeps (its end)
_OUTPUTS = (s.Stream, s.DisplayData, s.ExecuteResult, s.ErrorOutput, s.RequestDone)


@dataclass(eq=False)
class Cell:
    request: s.Request
    message: dict
    done: asyncio.Future
    started: float = field(default_factory=time.perf_counter)
    sent_at: float = field(default_factory=time.time)  # POSIX seconds (this machine's clock)
    background: bool = False
    count_before: int | None = None  # the kernel's execution count when it was sent
    sent_on: int = 0  # the generation of the socket it was written to (0: not written yet)
    resent: bool = False
    outputs: list = field(default_factory=list)
    kept_chars: int = 0
    rate_limited: bool = False  # the server dropped some of its output (said once)
    resumed: bool = False  # sent by an earlier process of this session (``repl --resume``)
    asking: dict | None = None  # the input() it waits for, not answered yet: prompt, password, header
    carried: tuple[str, str] | None = None  # (stream, text): the line it was printing when the repl before left

    @property
    def code(self) -> str:
        return self.request.code or ""

    @property
    def execution_count(self) -> int | None:
        return self.request.execution_count

    @property
    def running(self) -> bool:
        return not self.done.done()

    @property
    def exit_asked(self) -> bool | None:
        """The kernel's ``ask_exit`` payload (IPython's ``exit``/``quit``): None if it did not ask,
        else whether the kernel is to be kept running."""
        for p in self.request.payload:
            if p.get("source") == "ask_exit":
                return bool(p.get("keepkernel", False))
        return None

    @property
    def edit_asked(self) -> tuple[str, int | None] | None:
        """IPython's ``%edit`` payload: the file (on the kernel's machine) and the line to open."""
        for p in self.request.payload:
            if p.get("source") == "edit_magic" and isinstance(p.get("filename"), str):
                line = p.get("line_number")
                return p["filename"], line if isinstance(line, int) else None
        return None

    def ran_for(self, clock_offset: float | None) -> float:
        """Seconds from sending to its reply (by the kernel's clock when it ended while we were
        away), or until now while it runs."""
        end = s.kernel_time(self.request.replied_at) if self.resumed else None
        if end is None:
            return time.perf_counter() - self.started
        return max(0.0, end + (clock_offset or 0.0) - self.sent_at)

    def open_line(self) -> tuple[str, str] | None:
        """The line its output ends in, not finished yet (its stream and text), if any."""
        last = self.outputs[-1] if self.outputs and self.kept_chars < MAX_CHARS else None
        if last is None or last["output_type"] != "stream" or not last["text"] or last["text"].endswith("\n"):
            return None
        return last["name"], last["text"].rsplit("\n", 1)[-1][-OPEN_LINE_CHARS:]

    def with_carried(self, ev: s.Event) -> list[s.Event]:
        """``ev``, after the line this cell was printing when the repl before left: the server replays
        from where that repl stopped reading, so the line's end comes now and is shown whole."""
        if self.carried is None or not isinstance(ev, _OUTPUTS):
            return [ev]
        (name, text), self.carried = self.carried, None
        if isinstance(ev, s.Stream) and ev.name == name:
            return [dataclasses.replace(ev, text=text + ev.text)]
        return [s.Stream(ev.request, ev.other, name, text, date=ev.date), ev]

    def finish(self) -> None:
        if not self.done.done():
            self.done.set_result(self.request)

    def fail(self, exc: BaseException) -> None:
        if not self.done.done():
            self.done.set_exception(exc)
            self.done.exception()  # retrieved: nobody may be waiting any more

    def add(self, ev: s.Event) -> None:
        """Keep an output event in nbformat's shape (at most MAX_CHARS of text)."""
        if self.kept_chars >= MAX_CHARS:
            if self.kept_chars == MAX_CHARS:
                self.kept_chars += 1
                self.outputs.append({"output_type": "stream", "name": "stderr",
                                     "text": "\n[repl: output beyond this point was not kept]\n"})
            return
        if isinstance(ev, s.Stream):
            self.kept_chars = min(MAX_CHARS, self.kept_chars + len(ev.text))
            last = self.outputs[-1] if self.outputs else None
            if last and last["output_type"] == "stream" and last["name"] == ev.name:
                last["text"] += ev.text
            else:
                self.outputs.append({"output_type": "stream", "name": ev.name, "text": ev.text})
        elif isinstance(ev, s.ExecuteResult):
            self.outputs.append({"output_type": "execute_result", "execution_count": ev.execution_count,
                                 "data": dict(ev.data), "metadata": dict(ev.metadata)})
        elif isinstance(ev, s.DisplayData):
            self._display(ev)
        elif isinstance(ev, s.ErrorOutput):
            self.outputs.append({"output_type": "error", "ename": ev.ename, "evalue": ev.evalue,
                                 "traceback": list(ev.traceback)})
        elif isinstance(ev, s.ClearOutput):
            self.outputs.clear()

    def _display(self, ev: s.DisplayData) -> None:
        out = {"output_type": "display_data", "data": dict(ev.data), "metadata": dict(ev.metadata)}
        if ev.update and ev.display_id:
            for old in self.outputs:
                if old.get("_display_id") == ev.display_id:
                    old["data"], old["metadata"] = out["data"], out["metadata"]
            return
        if ev.display_id:
            out["_display_id"] = ev.display_id
        self.outputs.append(out)
