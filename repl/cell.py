"""One execute request of this REPL, from Enter to its end: the one owner of a cell's state.

A :class:`Cell` holds the protocol request (reply, status, execution count), the code, the message
as sent (sent again, once, if the kernel never received it), when it started, whether it runs in
the background, the outputs kept for ``/save`` (in nbformat's shape, bounded: at most ``MAX_KEPT`` a cell and the
session's budget, :mod:`repl.keep`, for all of them) and the future that completes when the request
is done or lost. The kernel that owns it keeps its cells in a list.

A stream's text is kept as the pieces it came in (joined when read: no copy of the whole for each
message), under the output's ``_pieces``; :meth:`Cell.saved_outputs` gives them in nbformat's shape.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from dataclasses import dataclass, field

from repl.keep import Keep, size_of
from repl.protocol import session as s

MAX_KEPT = 4 * 1024 * 1024  # bytes of output one cell keeps: a flood must not grow memory without bound
CUT = "\n[repl: output beyond this point was not kept]\n"
JOIN_RUN = 64  # a stream's pieces are joined this many at a time
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
    keep: Keep | None = None  # the session's budget for kept output (None: this cell's own cap only)
    kept: int = 0  # bytes its outputs take (counted against the budget)
    full: bool = False  # it reached its cap: nothing more is kept (a marker says so)
    outputs_dropped: bool = False  # the budget let its outputs go for newer cells' (a marker says so)
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
        last = self.outputs[-1] if self.outputs and not self.full else None
        if last is None or last["output_type"] != "stream":
            return None
        tail: list[str] = []
        for piece in reversed(last["_pieces"]):  # back to the last newline, or enough of the line
            tail.append(piece)
            if "\n" in piece or sum(map(len, tail)) >= OPEN_LINE_CHARS:
                break
        text = "".join(reversed(tail))
        if not text or text.endswith("\n"):
            return None
        return last["name"], text.rsplit("\n", 1)[-1][-OPEN_LINE_CHARS:]

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
        """Keep an output event in nbformat's shape (at most MAX_KEPT bytes, and the budget's)."""
        if isinstance(ev, s.ClearOutput):
            self.outputs.clear()
            self.full = self.outputs_dropped = False
            self._grew(-self.kept)
            return
        if isinstance(ev, s.DisplayData) and ev.update and ev.display_id:
            self._update(ev)
            return
        out: dict | None = None
        if isinstance(ev, s.Stream):
            size = size_of(ev.text)
            last = self.outputs[-1] if self.outputs else None
            if last and last["output_type"] == "stream" and last["name"] == ev.name and not self._over(size):
                self._piece(last, ev.text, size)
                return
            out = {"output_type": "stream", "name": ev.name, "_pieces": [ev.text], "_joined": 0}
        elif isinstance(ev, s.ExecuteResult):
            out = {"output_type": "execute_result", "execution_count": ev.execution_count,
                   "data": dict(ev.data), "metadata": dict(ev.metadata)}
        elif isinstance(ev, s.DisplayData):
            out = {"output_type": "display_data", "data": dict(ev.data), "metadata": dict(ev.metadata)}
            if ev.display_id:
                out["_display_id"] = ev.display_id
        elif isinstance(ev, s.ErrorOutput):
            out = {"output_type": "error", "ename": ev.ename, "evalue": ev.evalue, "traceback": list(ev.traceback)}
        if out is None:
            return
        size = size_of(out)
        if not self._over(size):
            self.outputs.append(out)
            self._grew(size)

    def _piece(self, out: dict, text: str, size: int) -> None:
        """One more piece of a stream's text; every ``JOIN_RUN`` pieces since the last run are
        joined into one (each character copied once: linear, and many small messages do not keep
        a string's overhead each)."""
        pieces = out["_pieces"]
        pieces.append(text)
        self._grew(size)
        start = out["_joined"]
        if len(pieces) - start >= JOIN_RUN:
            run = pieces[start:]
            del pieces[start:]
            pieces.append("".join(run))
            out["_joined"] = start + 1
            self._grew(size_of(pieces[-1]) - sum(map(size_of, run)))

    def _over(self, size: int) -> bool:
        """Whether ``size`` more bytes is beyond what this cell may keep (said once, by a marker)."""
        if self.full:
            return True
        cap = MAX_KEPT if self.keep is None else min(MAX_KEPT, self.keep.limit)
        if self.kept + size <= cap:
            return False
        self.full = True
        self.outputs.append({"output_type": "stream", "name": "stderr", "_pieces": [CUT], "_joined": 0})
        return True

    def _update(self, ev: s.DisplayData) -> None:
        data, metadata = dict(ev.data), dict(ev.metadata)
        for old in self.outputs:
            if old.get("_display_id") == ev.display_id:
                was = size_of(old["data"]) + size_of(old["metadata"])
                old["data"], old["metadata"] = data, metadata
                self._grew(size_of(data) + size_of(metadata) - was)

    def _grew(self, by: int) -> None:
        if self.keep is None:
            self.kept += by
        elif self.kept + by <= 0:
            self.keep.forget(self)
        else:
            self.keep.grew(self, by)

    def drop_outputs(self, why: str) -> None:
        """The budget lets this cell's outputs go (for newer cells'): a marker stands in for them.
        Output still to come is kept after it."""
        self.outputs = [{"output_type": "stream", "name": "stderr",
                         "_pieces": [f"[repl: output before this point was not kept: {why}]\n"], "_joined": 0}]
        self.outputs_dropped, self.full = True, False

    def saved_outputs(self) -> list[dict]:
        """Its outputs in nbformat's shape (a stream's text whole, our own keys left out)."""
        saved = []
        for out in self.outputs:
            if out["output_type"] == "stream":
                text = "".join(out["_pieces"])
                out["_pieces"], out["_joined"] = [text], 1  # (joined once: read again, no join)
                saved.append({"output_type": "stream", "name": out["name"], "text": text})
            else:
                saved.append({k: v for k, v in out.items() if not k.startswith("_")})
        return saved
