"""One attached kernel: its REST model, its websocket, its protocol session and its cells.

The one request API of the REPL: :meth:`Kernel.execute` (a :class:`repl.cell.Cell`),
:meth:`Kernel.ask` (complete, inspect, is_complete, kernel_info: the reply's content or None),
:meth:`Kernel.answer_input` and :meth:`Kernel.interrupt`. Each request is registered with the
:class:`KernelSession` before it is sent. Incoming messages become events here, complete the
cells and questions they finish, and are then handed to the listener (the UI), in order.

The kernel's life is followed too: restarted, shut down or deleted by anyone, dead, or reached
over a link that went silent. A request the kernel has not acknowledged after a few seconds makes
us ask the server whether the kernel still exists; after a reconnect, pending cells are reconciled
(sent again exactly once if the kernel never got them, ended if their end was lost), so a cell
always ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any, Callable, Protocol

from repl import errors
from repl.cell import Cell
from repl.debugger import Debugger
from repl.keep import Keep
from repl.gateway.channel import ChannelOptions, ChannelState, KernelChannel, Reopened
from repl.gateway.rest import KernelModel, RestClient
from repl.protocol import messages as m
from repl.protocol import controls
from repl.protocol.comms import WIDGET_TARGET, Comms, Opened
from repl.protocol import session as s
from repl.protocol.record import Away, CellEntry, KernelEntry

HANDSHAKE_WAIT = 5.0  # connect() waits this long for kernel_info, then the answer comes when it comes
WATCH_AFTER = 3.0  # a cell not acknowledged after this long: does the kernel still exist?
WATCH_EVERY = 10.0
GONE_CHECKS = (0.3, 1.0, 3.0)  # after a shutdown_reply: when to ask whether the kernel was deleted
LEARN_WAIT = 1.0  # a cell sent while we ask for the widgets made before we came waits this long
RESTART_WAIT = 30.0  # after a restart, cells wait this long for the new kernel to show itself
IOPUB_WAIT = 3.0  # a restarted kernel whose shell answers and iopub stays silent this long: fresh sockets
START_WATCH_AFTER = 2.0  # a websocket not open after this long: ask the server whether the kernel died,
START_WATCH_EVERY = 1.0  # and again this often
RECORDED_CODE = 64 * 1024  # of a running cell's code, the session record keeps this much (it is rewritten often)


class Listener(Protocol):
    def kernel_events(self, kernel: Kernel, events: list[s.Event]) -> None: ...

    def kernel_state(self, kernel: Kernel, state: ChannelState, before: ChannelState) -> None: ...

    def kernel_notice(self, kernel: Kernel, text: str | None) -> None: ...


class Kernel:
    def __init__(
        self,
        model: KernelModel,
        rest: RestClient,
        ws_base: str,
        options: ChannelOptions,
        listener: Listener,
        *,
        started_here: bool,
        alias: str | None = None,
        trace: Any = None,
        on_link_down: Callable[[Kernel], None] | None = None,
        on_change: Callable[[], None] = lambda: None,
        session_id: str | None = None,
        keep: Keep | None = None,
    ) -> None:
        self.model = model
        self.keep = keep  # the session's budget for the outputs its recorded cells keep (the workspace's)
        self.rest = rest
        self.started_here = started_here
        self.alias = alias
        self.listener = listener
        self.on_link_down = on_link_down  # its link dropped (the workspace asks a hub what became of the server)
        self.on_change = on_change  # what the session record says of it changed (a cell sent or ended)
        self.session = s.KernelSession(session_id)  # (an earlier process's id, resumed: the server replays to it)
        if started_here:
            self.session.learn_count(0)  # a new kernel has run nothing
        if model.execution_state in ("idle", "busy", "starting"):
            self.session.state = model.execution_state  # type: ignore[assignment]
        self.channel = KernelChannel(
            ws_base, model.id, self.session.session_id, options,
            on_message=self._on_message, on_malformed=self._on_malformed, on_state=self._on_state,
            on_reopen=self._on_reopen, headers=rest.ws_headers, trace=trace, display_url=rest.display_url,
            really_gone=self._really_gone if rest.behind_hub else None,  # (another server may answer for a hub's stopped one)
        )
        self.cells: list[Cell] = []  # this session's cells, in order (for /save)
        self.last_rtt_ms: float | None = None
        self.link_rtt: float | None = None  # the quickest question round trip seen (s): the link's floor
        self.same_spec_attached = False  # another attached kernel has the same spec: show the id too
        self.told_width: int | None = None  # the terminal's width this kernel was told (repl.ui.term.width)
        self.gone = False
        self.server_stopped = False  # gone because its server was stopped (a JupyterHub's)
        self._conn_state = ChannelState.DISCONNECTED
        self._up = False  # connect() has returned
        self._ready = asyncio.Event()  # cleared while a restarted kernel has not shown itself yet
        self._ready.set()
        self._live: dict[str, Cell] = {}  # cells not done yet, by msg_id
        self._asks: dict[str, asyncio.Future] = {}
        self._tasks: set[asyncio.Task] = set()
        self.debugger = Debugger(self)
        self.comms = Comms()  # widget models, kept as the kernel changes them
        self.sync = controls.Sync(self.post_comm)  # our changes to them on their way, and the echoes to drop
        self._learning: asyncio.Task | None = None  # asking for the widgets made before we came
        self.away: Away | None = None  # coming back to it (``repl --resume``): what was missed
        self._inputs: set[str] = set()  # input_requests of our cells seen (one asked again on resume comes once)

    # ------------------------------------------------------------ what it is

    @property
    def id(self) -> str:
        return self.model.id

    @property
    def label(self) -> str:
        if self.alias:
            return self.alias
        name = self.model.name or "kernel"
        return f"{name}-{self.id[:4]}" if self.same_spec_attached else name

    @property
    def state(self) -> str:
        """For the toolbar: the connection's state, else the kernel's execution state."""
        if self.gone:
            return "gone"
        if self.channel.state != ChannelState.CONNECTED:
            return self.channel.state.label
        return self.session.state if self.session.state != "unknown" else "connected"

    @property
    def connected(self) -> bool:
        """Its websocket is up (a message sent now goes at once)."""
        return self.channel.state == ChannelState.CONNECTED

    @property
    def next_count(self) -> int | None:
        """The execution count the next cell will get; None until the kernel has told us (an
        attached kernel answers our probe when what it runs has ended)."""
        return self.session.next_count if self.session.count_known else None

    @property
    def language_info(self) -> dict:
        return self.session.language_info

    @property
    def background(self) -> list[Cell]:
        return [c for c in self._live.values() if c.background]

    def to_background(self, cell: Cell) -> None:
        cell.background = True
        self.on_change()

    def cell_of(self, req: s.Request | None) -> Cell | None:
        """The cell of a request still running."""
        return self._live.get(req.msg_id) if req is not None else None

    # ------------------------------------------------------------ leaving and coming back

    def entry(self) -> KernelEntry:
        """What the session record says of this kernel."""
        closed = self.channel.state == ChannelState.CLOSED  # (we left: no more of its output comes to us)
        cells = [CellEntry(c.request.msg_id, c.execution_count, c.code[:RECORDED_CODE], c.background, c.sent_at,
                           c.asking, list(c.open_line() or ()) if closed else None)
                 for c in self._live.values() if not c.request.silent]
        return KernelEntry(self.id, self.model.name, self.session.session_id, self.alias, self.started_here,
                           self.session.kernel_session, self.session.clock_offset,
                           self.session.last_number if closed else None, cells)

    def adopt(self, entry: KernelEntry, left: float) -> None:
        """Take back the cells an earlier process of this session left running (before connecting:
        what the server replays is theirs), and note what tells whether anything was missed."""
        self.session.kernel_session = entry.kernel_session  # a message signed by another process: restarted
        self.session.count_known = False  # (even one started here has run cells: its count comes with the probe)
        self.session.clock_offset = entry.clock_offset
        self.session.last_number = entry.last_number
        loop = asyncio.get_running_loop()
        now, since = time.time(), time.perf_counter()
        for c in entry.cells:
            req = self.session.expect(c.msg_id, c.code, c.count)
            cell = Cell(req, {}, loop.create_future(), started=since - max(0.0, now - c.started), sent_at=c.started,
                        background=True, sent_on=1, resent=True, resumed=True, asking=c.asking,
                        carried=_line(c.open_line), keep=self.keep)
            self._live[c.msg_id] = cell
            self.cells.append(cell)
        last = s.kernel_time(self.model.last_activity)
        offset = entry.clock_offset or 0.0
        self.away = Away(back_at=now - offset, unfinished=len(entry.cells), shared=bool(self.model.connections),
                         active=last is not None and last + offset > left + 1.0, last_number=entry.last_number)

    def judge_away_soon(self) -> None:
        """(Connected.) An input() the earlier process had on screen is asked again: the kernel
        waits for it, and the server does not replay what it already delivered."""
        for cell in [c for c in self._live.values() if c.resumed and c.asking]:
            a = cell.asking or {}
            header = dict(a.get("header") or {})
            if header.get("msg_id") not in self._inputs:  # (unless the server replayed it after all)
                self._dispatch([s.InputRequest(cell.request, False, str(a.get("prompt", "")), bool(a.get("password")),
                                               header)])
        self._spawn(self.judge_away())

    async def judge_away(self) -> None:
        """Once what the server replayed is in (a silent probe queues behind every older request),
        end the cells whose end never came and say when the output while away may be incomplete;
        the prompt numbers go on from the kernel's."""
        away = self.away
        if away is None:
            return
        why = away.verdict()  # (connected: what the server replayed came before its answer to our handshake)
        if why:
            self.listener.kernel_notice(self, f"the output of {self.label} while away may be incomplete: {why}")
        try:
            count = await self._probe()
        except errors.ReplError:
            return
        finally:
            self.away = None
        if count is not None:
            self.session.learn_count(count)
        for cell in [c for c in self._live.values() if c.resumed and not c.request.done]:
            away.lost_ends += 1
            self._dispatch(self.session.give_up(cell.request))
        late = away.verdict() if not why else None
        self.listener.kernel_notice(self, f"the output of {self.label} while away may be incomplete: {late}" if late else None)

    # ------------------------------------------------------------ the request API

    async def connect(self, wait: float = HANDSHAKE_WAIT) -> None:
        """Open the websocket and ask for kernel_info on shell and control (a busy kernel answers
        on control); wait up to ``wait`` seconds for it, then go on: the answer comes when it comes."""
        await self._open_channel()
        handshake = self._spawn(self._handshake())
        gave_up = self._spawn(self.channel.gave_up.wait())
        await asyncio.wait([handshake, gave_up], timeout=wait, return_when=asyncio.FIRST_COMPLETED)
        gave_up.cancel()
        if self.channel.failure is not None and not handshake.done():
            raise self.channel.failure  # the link does not work at all (a proxy breaking it)
        self._up = True

    async def _open_channel(self) -> None:
        """``channel.connect()``, watching the server's model of the kernel meanwhile: the server
        answers the websocket only once the kernel does (Kernel Gateway waits 60 s), and a kernel
        that dies as it starts is restarted and then removed from the server, answering nothing."""
        opening = asyncio.ensure_future(self.channel.connect())
        watch = asyncio.ensure_future(self._watch_start())
        try:
            await asyncio.wait([opening, watch], return_when=asyncio.FIRST_COMPLETED)
        finally:
            watch.cancel()
            if not opening.done():
                opening.cancel()
                with contextlib.suppress(BaseException):
                    await opening
        if opening.cancelled() and watch.done() and not watch.cancelled():
            raise watch.result()
        opening.result()  # (its error, if it failed)

    async def _watch_start(self) -> errors.ReplError:
        """Poll the kernel's model until it says the kernel died (then return the error to raise)."""
        await asyncio.sleep(START_WATCH_AFTER)
        while True:
            try:
                model = await self.rest.kernel(self.id)
            except errors.NoSuchKernel as exc:
                if not self.started_here:
                    return exc
                break
            except errors.ReplError:
                model = None
            if model is not None and model.execution_state == "dead":
                break
            await asyncio.sleep(START_WATCH_EVERY)
        name = self.model.name or "default"
        if not self.started_here:
            return errors.KernelDead(f"kernel {name} {self.id[:8]} is dead on the server; /new starts another")
        return errors.KernelDead(f"kernel {name} {self.id[:8]} died while starting: the server restarted it and "
                                 f"gave up; check the '{name}' kernelspec (the command it runs)")

    async def _handshake(self) -> None:
        asks = [asyncio.ensure_future(self.ask("kernel_info", None, channel=ch)) for ch in ("shell", "control")]
        try:
            await asyncio.wait(asks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for a in asks:
                a.cancel()

    def learn_count(self) -> None:
        """Continue the prompt numbers from the kernel's own count (attached kernels), in the
        background: a busy kernel answers when its cell ends."""
        self._spawn(self._learn_count())

    def learn_widgets(self) -> None:
        """Widgets another client's cells made before we attached: ask which widget comms are
        open, and their state (widget protocol: ``request_state``), in the background. A cell sent
        meanwhile waits (up to LEARN_WAIT) so the states are asked first: the kernel answers in
        order, so a widget the cell displays has its state when it comes."""
        self._learning = self._spawn(self._learn_widgets())

    async def _learn_widgets(self) -> None:
        with contextlib.suppress(errors.ReplError):
            reply = await self.ask("comm_info", HANDSHAKE_WAIT, target_name=WIDGET_TARGET)
            comms = reply.get("comms") if isinstance(reply, dict) else None
            for comm_id, info in (comms or {}).items():
                if isinstance(info, dict) and info.get("target_name") == WIDGET_TARGET:
                    self.comms.expect(comm_id)
                    await self.channel.send(m.comm_msg(self.session.session_id, comm_id, {"method": "request_state"}))

    async def _learn_count(self) -> None:
        with contextlib.suppress(errors.ReplError):
            count = await self._probe()
            if count is not None:
                self.session.learn_count(count)
                self.listener.kernel_notice(self, None)  # (the prompt shows the number now)

    async def _probe(self) -> int | None:
        """The kernel's execution count, from a silent request: it queues behind whatever the
        kernel runs, so when it is done every older request has ended."""
        probe = await self.execute("", silent=True, store_history=False, allow_stdin=False, record=False)
        await probe.done
        return probe.execution_count

    async def execute(self, code: str, *, silent: bool = False, store_history: bool = True,
                      allow_stdin: bool = True, record: bool = True,
                      before_send: Callable[[Cell], None] | None = None,
                      user_expressions: dict[str, str] | None = None) -> Cell:
        """Send code to run; the returned cell's ``done`` completes when the request ends.
        ``before_send`` sees the cell before any event of it can arrive; ``user_expressions``
        come back evaluated in the reply (``cell.request.reply``).

        Raises :class:`errors.ChannelError` (or a subclass) if the kernel cannot be reached.
        """
        self._usable()
        if not self._ready.is_set():  # a message sent while the kernel restarts may never reach it
            with contextlib.suppress(asyncio.TimeoutError, TimeoutError):
                await asyncio.wait_for(self._ready.wait(), RESTART_WAIT)
        if self._learning is not None and not self._learning.done() and self.session.state != "busy":
            await asyncio.wait([self._learning], timeout=LEARN_WAIT)  # (busy: both wait their turn anyway)
        msg, req = self.session.execute(code, silent=silent, store_history=store_history, allow_stdin=allow_stdin,
                                        user_expressions=user_expressions)
        cell = Cell(req, msg, asyncio.get_running_loop().create_future(), count_before=self.session.last_count,
                    keep=self.keep if record else None)
        self._live[req.msg_id] = cell
        if record:
            self.cells.append(cell)
        if before_send is not None:
            before_send(cell)
        if record:
            self.on_change()  # recorded before it is sent: a repl killed now can still be resumed to it
        try:
            cell.sent_on = await self.channel.send(msg)
        except (errors.ReplError, asyncio.CancelledError) as exc:  # (cancelled: taken back before it was sent)
            self._live.pop(req.msg_id, None)
            self.session.forget(req)
            cell.fail(exc if isinstance(exc, errors.ReplError) else errors.ChannelError("taken back before it was sent"))
            if record and self.cells and self.cells[-1] is cell:
                self.cells.pop()
                self.on_change()
            raise
        if record:
            self._spawn(self._watch(cell))
        return cell

    async def ask(self, kind: m.Question, timeout: float | None, **args: Any) -> dict | None:
        """The reply content to a question, or None if it does not come in time (or the kernel went)."""
        self._usable()
        msg, req = self.session.question(kind, **args)
        loop = asyncio.get_running_loop()
        fut = self._asks[req.msg_id] = loop.create_future()
        timer: asyncio.TimerHandle | None = None
        try:
            await self.channel.send(msg)
            sent = time.perf_counter()
            if timeout is not None:  # (a timer, not asyncio.timeout: Tab and Enter ask from a key handler, outside a task)
                timer = loop.call_later(timeout, _too_late, fut)
            reply = await fut  # (awaited directly: the answer wakes the asker in one loop turn, not three)
            rtt = time.perf_counter() - sent
            self.link_rtt = rtt if self.link_rtt is None else min(self.link_rtt, rtt)
            return reply
        except (asyncio.TimeoutError, TimeoutError):
            return None  # a late reply is dropped: nobody waits for it any more
        finally:
            if timer is not None:
                timer.cancel()
            self._asks.pop(req.msg_id, None)
            self.session.forget(req)

    def post_comm(self, comm_id: str, data: dict) -> str:
        """Send on a widget's comm (a change, a click), in the background: the message's id ("" if
        the kernel is gone). :attr:`sync` hears when the kernel has handled it."""
        if self.gone:
            return ""
        msg, req = self.session.comm(comm_id, data)
        self._spawn(self._post(msg, req))
        return req.msg_id

    async def _post(self, msg: dict, req: s.Request) -> None:
        try:
            await self.channel.send(msg)
        except errors.ReplError as exc:
            self.session.forget(req)
            self.sync.done(req.msg_id)
            self.listener.kernel_notice(self, f"a widget's change was not sent to {self.label}: {exc}")

    async def code_of(self, count: int) -> str:
        """The code of ``In [count]`` on this kernel: a cell of ours, else the kernel's own history."""
        for cell in reversed(self.cells):
            if cell.execution_count == count:
                return cell.code
        reply = await self.ask("history", HANDSHAKE_WAIT * 3, start=count, stop=count + 1)
        if reply is None:  # (busy, or held by its debugger: its shell answers nothing meanwhile)
            raise errors.UsageError(f"{self.label} did not say what In [{count}] was (it is busy or stopped in its "
                                    "debugger); try again when it is idle")
        for entry in reply.get("history", []):
            if isinstance(entry, list) and len(entry) == 3 and entry[1] == count and isinstance(entry[2], str):
                return entry[2]
        raise errors.UsageError(f"no cell In [{count}] on {self.label}")

    async def answer_input(self, value: str, request_header: dict) -> None:
        await self.channel.send(self.session.input_reply(value, request_header))
        for cell in self._live.values():
            if cell.asking is not None and cell.asking.get("header") == request_header:
                cell.asking = None
                self.on_change()

    async def interrupt(self) -> None:
        """Interrupt through the REST API (works for kernels this REPL did not start)."""
        self._usable()
        try:
            await self.rest.interrupt(self.id)
        except errors.NoSuchKernel:
            await self._mark_gone()
            raise

    async def check(self) -> bool:
        """Ask the server whether the kernel still exists; mark it gone if not. True if it does
        (or if the server cannot say right now)."""
        try:
            await self.rest.kernel(self.id)
        except errors.NoSuchKernel:
            await self._mark_gone()
            return False
        except errors.ReplError:
            return True
        return True

    async def _really_gone(self) -> bool:
        """The server says the kernel does not exist (not: it cannot say, or another answered)."""
        try:
            await self.rest.kernel(self.id)
        except errors.NoSuchKernel:
            return True
        except errors.ReplError:
            return False
        return False

    async def leave(self) -> None:
        """Stop reading, leaving it running: its cells stay as they are, for the session record."""
        for task in list(self._tasks):
            task.cancel()
        await self.channel.close(drain=True)  # (what it sent before the server heard us leave: ours to show)

    async def close(self) -> None:
        await self.leave()
        self._end_all(errors.ChannelError("the connection to the kernel was closed"))

    def _usable(self) -> None:
        if self.gone:
            raise self.gone_error()

    def gone_error(self) -> errors.KernelDead:
        if self.server_stopped:
            return errors.KernelDead(f"kernel {self.label} is gone with its server: /hub start brings the server back, "
                                     "then /new starts a kernel")
        return errors.KernelDead(f"kernel {self.label} is gone from the server; /new starts another")

    # ------------------------------------------------------------ incoming

    def _on_message(self, msg: dict, now: float) -> None:
        if msg.get("channel") == "stdin" and msg.get("header", {}).get("msg_id") in self._inputs:
            return  # an input() already asked (again, on resume)
        if self.away is not None:
            date = msg.get("header", {}).get("date")
            self.away.saw(s.kernel_time(date) if isinstance(date, str) else None, self.session.number(msg))
        process = self.session.kernel_session
        self._dispatch(self.session.receive(msg, now))
        if self.session.kernel_session != process and self.session.kernel_session is not None:
            self.on_change()  # a new kernel process (restarted): the record tells it from the one we knew
        if not self._ready.is_set() and self.session.kernel_session is not None and msg.get("channel") == "iopub":
            self._ready.set()  # the new kernel has spoken, where its output comes

    def _on_malformed(self, error: str) -> None:
        self._dispatch([s.Malformed(None, False, error)])

    def _dispatch(self, events: list[s.Event]) -> None:
        events = self._carry(events)
        for ev in events:
            req = ev.request
            if isinstance(ev, s.ExecuteInput) or (isinstance(ev, s.RequestDone) and req is not None
                                                  and req.msg_type == "execute_request"):
                self._cell_boundary(ev)
            if isinstance(ev, s.KernelLost):
                self._lost(ev.state)
            elif isinstance(ev, s.DebugEvent):
                self.debugger.receive(ev.content)
            elif isinstance(ev, s.CommEvent):
                self._comm(ev)
            elif req is None:
                continue
            elif isinstance(ev, s.Reply):
                self._resolve(req.msg_id, ev.content)
            elif isinstance(ev, s.RequestDone):
                self._resolve(req.msg_id, req.reply)
                self._finished(req)
            else:
                cell = self._live.get(req.msg_id)
                if cell is not None:
                    self._to_cell(cell, ev)
        if not events:
            return
        try:
            self.listener.kernel_events(self, events)
        except Exception as exc:  # a bug in showing output must not stop the reader: keep reading
            self.listener.kernel_notice(self, f"internal error while showing output ({exc!r}); still reading")

    def _carry(self, events: list[s.Event]) -> list[s.Event]:
        """A line a resumed cell was printing when the repl before left is shown whole: with its end."""
        if not any(c.carried for c in self._live.values()):
            return events
        out: list[s.Event] = []
        for ev in events:
            cell = self._live.get(ev.request.msg_id) if ev.request is not None else None
            out += cell.with_carried(ev) if cell is not None else [ev]
        return out

    def _to_cell(self, cell: Cell, ev: s.Event) -> None:
        if isinstance(ev, s.InputRequest):
            cell.asking = {"prompt": ev.prompt, "password": ev.password, "header": ev.header}
            self._inputs.add(str(ev.header.get("msg_id")))
            self.on_change()  # (a repl killed now asks it again when resumed)
        else:
            cell.add(ev)

    def _cell_boundary(self, ev: s.Event) -> None:
        self.debugger.cell_boundary()
        req = ev.request
        if isinstance(ev, s.ExecuteInput) and req is not None and not req.silent and req.msg_id in self._live:
            self.on_change()  # (the record gets its In [N])

    def _resolve(self, msg_id: str, content: dict | None) -> None:
        fut = self._asks.get(msg_id)
        if fut is not None and not fut.done():
            fut.set_result(content)

    def _finished(self, req: s.Request) -> None:
        if req.msg_type == "comm_msg":
            self.sync.done(req.msg_id)  # (the next change waiting for it goes out)
            return
        cell = self._live.pop(req.msg_id, None)
        if cell is None:
            return
        if req.status == "ok" and not cell.background and not req.silent:
            self.last_rtt_ms = (time.perf_counter() - cell.started) * 1000
        cell.finish()
        if not req.silent:
            self.on_change()

    def _comm(self, ev: s.CommEvent) -> None:
        content, buffers = ev.content, ev.buffers
        if ev.kind == "comm_msg":  # an echo of an older value of ours is not applied
            content, buffers = self.sync.filter(content, ev.request.msg_id if ev.request is not None else "", buffers)
        elif ev.kind == "comm_close":
            self.sync.forget(str(content.get("comm_id", "")))
        change = self.comms.receive(ev.kind, content, buffers)
        if isinstance(change, Opened) and change.model is None and not ev.other and ev.request is not None:
            # A comm one of our cells opened for a target we have no handler for: close it, as
            # JupyterLab does, so the kernel does not keep it (and its object) forever.
            comm_id = str(ev.content.get("comm_id"))
            self.comms.others.discard(comm_id)
            self._spawn(self._send_quietly(m.comm_close(self.session.session_id, comm_id)))

    async def _send_quietly(self, msg: dict) -> None:
        with contextlib.suppress(errors.ReplError):
            await self.channel.send(msg)

    def _lost(self, reason: s.LostReason) -> None:
        if self.away is not None and reason in ("restarting", "restarted"):
            self.away.restarted = True
        self.debugger.kernel_lost()
        self.told_width = None  # (a new process: it knows nothing)
        self.comms.reset()
        self.sync.reset()
        if reason in ("restarting", "restarted") and self._ready.is_set():
            self._ready.clear()
            self._spawn(self._await_new_kernel())
        if reason == "restarting":
            # The kernel comes back on new ports: a fresh websocket (same session) follows it.
            self._spawn(self.channel.cycle("kernel restarted"))
        elif reason == "shutdown":
            self._spawn(self._check_after_shutdown())

    async def _await_new_kernel(self) -> None:
        """A restarted kernel says nothing until asked, and a request sent while it restarts may be
        lost: ask, again each second, until it answers (or the wait is over)."""
        deadline = time.monotonic() + RESTART_WAIT
        answered: float | None = None  # when its shell first answered, iopub silent
        try:
            while not self._ready.is_set() and time.monotonic() < deadline:
                if await self.ask("kernel_info", 1.0) is not None and not self._ready.is_set():
                    answered = answered or time.monotonic()  # (or the old process, on its way out)
                    if time.monotonic() - answered > IOPUB_WAIT and self.connected:
                        answered = None
                        await self._renew("its output stopped coming after the restart")
                    await asyncio.sleep(0.2)
        except errors.ReplError:
            pass
        finally:
            self._ready.set()
        if self.debugger.wanted and not self.gone:
            self.listener.kernel_notice(self, await self.debugger.restore())

    async def _renew(self, why: str) -> None:
        """The shell answers and iopub says nothing: the server kept, for our session id, sockets
        that no longer hear the restarted kernel (seen with Kernel Gateway after a kernel died).
        A fresh session id gets fresh ones; nothing is lost (the kernel is new)."""
        self.session.session_id = m.new_id()
        self.on_change()  # (the record names the session id the server knows us by now)
        await self.channel.renew(self.session.session_id, why)  # (the trace shows it: ws-cycle)

    def _on_state(self, state: ChannelState) -> None:
        before, self._conn_state = self._conn_state, state
        if state == ChannelState.GONE and not self.gone:
            self.gone = True
            self._dispatch(self.session.lose("gone"))
        if self._up or state == ChannelState.GONE:  # (a link that drops while connecting: connect() says how it ends)
            self.listener.kernel_state(self, state, before)
        if self._up and state in (ChannelState.RECONNECTING, ChannelState.DISCONNECTED, ChannelState.GONE) \
                and self.on_link_down is not None:
            self.on_link_down(self)
        failure = self.channel.failure
        if state == ChannelState.DISCONNECTED and failure is not None and not self.gone:
            # said once: by a cell waiting in the foreground, which raises it; while connecting, by connect()
            if self._up and not any(not (c.background or c.request.silent) for c in self._live.values()):
                self.listener.kernel_notice(self, str(failure))
            self._end_all(failure)  # its cells and questions end: nothing more will come for them

    async def _mark_gone(self) -> None:
        if self.gone:
            return
        self.gone = True
        self._dispatch(self.session.lose("gone"))
        await self.channel.gone(self.gone_error())

    async def lose_with_server(self) -> None:
        """Its server was stopped (a JupyterHub says so): the kernel is gone with it, and what
        waits for it ends now rather than when the server is back."""
        if self.gone:
            return
        self.gone = True
        self.server_stopped = True
        self._dispatch(self.session.lose("server-stopped"))
        await self.channel.gone(self.gone_error())

    def _end_all(self, exc: errors.ReplError) -> None:
        for cell in list(self._live.values()):
            cell.fail(exc)
        if self._live:
            self._live.clear()
            self.on_change()
        for fut in self._asks.values():
            if not fut.done():
                fut.set_result(None)

    # ------------------------------------------------------------ keeping watch

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _watch(self, cell: Cell) -> None:
        """A cell the kernel does not acknowledge: the kernel may have been deleted under us, or
        the request lost (sent while it restarted). An idle kernel that has not started it never
        got it: settle it."""
        await asyncio.sleep(WATCH_AFTER)
        while cell.running and not cell.request.seen and not self.gone:
            if self.channel.state == ChannelState.CONNECTED:
                try:
                    model = await self.rest.kernel(self.id)
                except errors.NoSuchKernel:
                    await self._mark_gone()
                    return
                except errors.ReplError:
                    model = None
                if model is not None and model.execution_state == "idle":
                    await self._settle([cell], link_was_live=True)
            await asyncio.sleep(WATCH_EVERY)

    async def _check_after_shutdown(self) -> None:
        for delay in GONE_CHECKS:
            await asyncio.sleep(delay)
            if self.gone or not await self.check():
                return

    def _on_reopen(self, reopened: Reopened) -> None:
        self._spawn(self._reconcile(reopened))

    async def _reconcile(self, reopened: Reopened) -> None:
        """After a reconnect: what did the kernel get, and what did we miss?

        A silent probe queues behind whatever the kernel runs, so when it is done every older
        request has ended and its end has arrived, unless that end was lost with the old socket.
        A cell the kernel never acknowledged, with the execution count unchanged, never reached
        it: it is sent again, once. Any other cell still open lost its end: it is ended.
        """
        # Only cells written to an older socket can have been lost with it: one sent on the new
        # socket reaches the kernel in order, and must never be sent twice.
        before = [c for c in self._live.values() if 0 < c.sent_on < reopened.generation]
        if not reopened.clean and any(c.request.code for c in before):
            span = f"{_clock(reopened.silent_since)} and {_clock(reopened.at)}"
            self.listener.kernel_notice(self, f"output of {self.label} between {span} may be lost: the connection was dead")
        await self._settle(before)

    async def _settle(self, cells: list[Cell], link_was_live: bool = False) -> None:
        """Send a silent probe; once it is done, send again (once) each of ``cells`` the kernel never
        received, and end those whose end was lost. Over a link that stayed up nothing is lost in
        transit, so a cell the kernel never acknowledged was never received; after a dead link,
        only an unchanged execution count says so."""
        try:
            count = await self._probe()
        except errors.ReplError:
            return
        for cell in cells:
            if cell.request.done:
                continue
            unchanged = count is not None and count == cell.count_before
            if not cell.request.seen and not cell.resent and (link_was_live or unchanged):
                cell.resent = True
                self.listener.kernel_notice(self, f"{self.label}: the kernel never received the cell; sent it again")
                with contextlib.suppress(errors.ReplError):
                    cell.sent_on = await self.channel.send(cell.message)
            else:
                self._dispatch(self.session.give_up(cell.request))


def _clock(t: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(t))


def _line(recorded: object) -> tuple[str, str] | None:
    """A recorded open line ([stream, text]), if it is one."""
    if isinstance(recorded, list) and len(recorded) == 2 and all(isinstance(x, str) for x in recorded) and recorded[1]:
        return recorded[0], recorded[1]
    return None


def _too_late(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_exception(TimeoutError())
