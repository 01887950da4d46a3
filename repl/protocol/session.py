"""KernelSession: the state of one client session with one kernel, without any I/O.

The adapter builds each request here (:meth:`KernelSession.execute`, :meth:`KernelSession.request`),
which registers it before it is sent, and feeds every decoded incoming message to
:meth:`KernelSession.receive`, which returns events. Routing is by ``parent_header.msg_id`` only.
A request is done when both its reply and its iopub ``idle`` have arrived, in either order.
Messages whose parent is not one of ours are reported with ``request=None`` and ``other=True``
when they belong to another client's session. Messages are de-duplicated by ``msg_id`` (a
reconnect may replay what was already seen).

The kernel's life is followed here too: a kernel restarted by anyone (iopub ``shutdown_reply``
with ``restart``, ``status: restarting`` or ``starting``, or replies signed by a new kernel
session), shut down (``shutdown_reply`` without restart), or dead ends every pending request
with status ``lost`` and one :class:`KernelLost` event.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field as dc_field
from datetime import datetime
from typing import Any, Literal

from repl.protocol import messages as m

RECENT_REQUESTS = 256
SEEN_IDS = 8192

ExecutionState = Literal["unknown", "starting", "idle", "busy", "restarting", "dead"]
LostReason = Literal["restarting", "restarted", "dead", "shutdown", "gone", "server-stopped"]
_STATES: tuple[str, ...] = ("starting", "idle", "busy", "restarting", "dead")


NO_REPLY = ("comm_msg", "comm_open", "comm_close")  # shell messages the kernel does not answer


@dataclass(eq=False)
class Request:
    msg_id: str
    msg_type: str
    channel: str = "shell"
    code: str | None = None
    silent: bool = False
    reply: dict | None = None
    idle: bool = False
    seen: bool = False  # the kernel sent something about it: it was received
    status: str | None = None  # ok / error / aborted from the reply; "lost" if the kernel went away
    execution_count: int | None = None
    payload: list = dc_field(default_factory=list)
    replied_at: str = ""  # the kernel's date on the reply (its clock)

    @property
    def done(self) -> bool:
        # (a comm message has no reply: it is handled when the kernel is idle after it)
        return self.status == "lost" or (self.idle and (self.reply is not None or self.msg_type in NO_REPLY))

    @property
    def failed(self) -> bool:
        return self.status not in ("ok", None)


@dataclass(frozen=True)
class Event:
    request: Request | None
    other: bool  # caused by another client's request
    date: str = dc_field(default="", kw_only=True)  # the kernel's header date (its clock)


@dataclass(frozen=True)
class Status(Event):
    state: str


@dataclass(frozen=True)
class Stream(Event):
    name: str
    text: str


@dataclass(frozen=True)
class ExecuteInput(Event):
    code: str
    execution_count: int | None


@dataclass(frozen=True)
class ExecuteResult(Event):
    execution_count: int | None
    data: dict
    metadata: dict


@dataclass(frozen=True)
class DisplayData(Event):
    data: dict
    metadata: dict
    display_id: str | None
    update: bool


@dataclass(frozen=True)
class ErrorOutput(Event):
    ename: str
    evalue: str
    traceback: list


@dataclass(frozen=True)
class ClearOutput(Event):
    wait: bool


@dataclass(frozen=True)
class InputRequest(Event):
    prompt: str
    password: bool
    header: dict


@dataclass(frozen=True)
class Reply(Event):
    msg_type: str
    content: dict


@dataclass(frozen=True)
class RequestDone(Event):
    pass


@dataclass(frozen=True)
class KernelLost(Event):
    """The kernel restarted, shut down or died: its state is gone and pending requests end."""

    state: LostReason


@dataclass(frozen=True)
class Unhandled(Event):
    """A message this client does not act on (unknown type, a reply to nobody, a duplicate reply)."""

    msg: dict


@dataclass(frozen=True)
class DebugEvent(Event):
    """A DAP event from the kernel's debugger (iopub ``debug_event``), read by :mod:`repl.protocol.dap`."""

    content: dict


@dataclass(frozen=True)
class CommEvent(Event):
    """``comm_open`` / ``comm_msg`` / ``comm_close`` from the kernel, read by :mod:`repl.protocol.comms`."""

    kind: str
    content: dict
    buffers: list


@dataclass(frozen=True)
class Malformed(Event):
    """A frame that could not be decoded (reported, never raised)."""

    error: str


def _str_list(value: Any) -> list:
    return [str(x) for x in value] if isinstance(value, list) else []


def kernel_time(date: str) -> float | None:
    """A header date as POSIX seconds, or None when it is missing or not a date."""
    if not date:
        return None
    try:
        when = datetime.fromisoformat(date.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.timestamp() if when.tzinfo is not None else None


class KernelSession:
    def __init__(self, session_id: str | None = None) -> None:
        self.session_id = session_id or m.new_id()
        self.state: ExecutionState = "unknown"
        self.next_count = 1
        self.count_known = False  # next_count is the kernel's (a new kernel, or it told us), not a guess
        self.last_count: int | None = None  # the kernel's latest execution count, silent replies too
        self.kernel_info: dict | None = None
        self.pending: dict[str, Request] = {}
        self.clock_offset: float | None = None  # min(local − kernel time): skew plus the least latency
        self.kernel_session: str | None = None  # the kernel process's own session id
        self.last_number: int | None = None  # the highest message count of that process seen (m.message_number)
        self._retired: set[str] = set()  # kernel sessions of processes that are gone
        self._recent: OrderedDict[str, Request] = OrderedDict()
        self._seen: OrderedDict[str, None] = OrderedDict()

    # ------------------------------------------------------------ requests

    @property
    def language_info(self) -> dict:
        info: dict = m.field(self.kernel_info, "language_info", dict, {})
        return info

    def track(self, msg: dict, code: str | None = None) -> Request:
        req = Request(
            msg_id=m.msg_id(msg),
            msg_type=m.msg_type(msg),
            channel=msg.get("channel", "shell"),
            code=code,
            silent=bool(msg.get("content", {}).get("silent", False)),
        )
        self.pending[req.msg_id] = req
        return req

    def expect(self, msg_id: str, code: str, execution_count: int | None) -> Request:
        """An execute request sent by an earlier process of this session (resumed): its messages
        are routed to it as to one sent here."""
        req = Request(msg_id=msg_id, msg_type="execute_request", code=code, execution_count=execution_count)
        self.pending[msg_id] = req
        return req

    def execute(self, code: str, **kwargs: Any) -> tuple[dict, Request]:
        msg = m.execute_request(self.session_id, code, **kwargs)
        return msg, self.track(msg, code)

    def question(self, kind: m.Question, **args: Any) -> tuple[dict, Request]:
        """A request that only asks (complete, inspect, is_complete, history, kernel_info), registered."""
        msg = m.QUESTIONS[kind](self.session_id, **args)
        return msg, self.track(msg)

    def comm(self, comm_id: str, data: dict) -> tuple[dict, Request]:
        """A message on a comm (a widget's change, a click), registered: what the kernel prints
        while handling it (an ``interact`` function's output) is routed to it."""
        msg = m.comm_msg(self.session_id, comm_id, data)
        return msg, self.track(msg)

    def kernel_info_request(self, channel: str = "shell") -> tuple[dict, Request]:
        return self.question("kernel_info", channel=channel)

    def input_reply(self, value: str, request_header: dict) -> dict:
        return m.input_reply(self.session_id, value, request_header)

    def give_up(self, req: Request) -> list[Event]:
        """End a request whose end will never arrive (it was lost with a dead connection)."""
        if req.done:
            return []
        req.status = "unknown"
        req.reply = req.reply or {}
        req.idle = True
        self._finish(req)
        return [RequestDone(req, False)]

    def learn_count(self, count: int) -> None:
        """The kernel's count when nothing runs (from a silent request's reply, which does not
        advance it): the next cell is ``count + 1``."""
        self.next_count = max(self.next_count, count + 1)
        self.last_count = count if self.last_count is None else max(self.last_count, count)
        self.count_known = True

    def forget(self, req: Request) -> None:
        """Stop routing to a request nobody waits for (a timed-out question)."""
        self.pending.pop(req.msg_id, None)

    # ------------------------------------------------------------ incoming

    def receive(self, msg: dict, now: float | None = None) -> list[Event]:
        """Events for one incoming message; ``now`` (POSIX seconds) feeds the clock estimate."""
        mid = m.msg_id(msg)
        if mid:
            if mid in self._seen:
                return []
            self._seen[mid] = None
            if len(self._seen) > SEEN_IDS:
                self._seen.popitem(last=False)
        self._count(msg)
        pid = m.parent_id(msg)
        req = self.pending.get(pid) or self._recent.get(pid)
        parent_session = msg.get("parent_header", {}).get("session")
        other = req is None and bool(pid) and parent_session != self.session_id
        channel = msg.get("channel")
        kind = m.msg_type(msg)
        content = msg.get("content", {})
        date = msg.get("header", {}).get("date")
        date = date if isinstance(date, str) else ""
        if req is not None:
            req.seen = True
        if channel == "iopub":
            if kind == "status" and now is not None:
                self._clock(date, now)
            return self._iopub(kind, content, req, other, msg, date)
        if channel == "stdin" and kind == "input_request":
            prompt = m.field(content, "prompt", str, "")
            password = bool(m.field(content, "password", bool, False))
            return [InputRequest(req, other, prompt, password, dict(msg.get("header", {})), date=date)]
        if channel in ("shell", "control") and kind.endswith("_reply") and req is not None:
            lost = self._identity(msg, keep=req)
            return lost + self._reply(kind, content, req, msg, date)
        return [Unhandled(req, other, msg, date=date)]

    def _clock(self, date: str, now: float) -> None:
        when = kernel_time(date)
        if when is not None:
            offset = now - when
            self.clock_offset = offset if self.clock_offset is None else min(self.clock_offset, offset)

    def number(self, msg: dict) -> int | None:
        """The message's count (m.message_number) if the kernel process we know sent it."""
        mine = self.kernel_session is not None and msg.get("header", {}).get("session") == self.kernel_session
        return m.message_number(msg) if mine else None

    def _count(self, msg: dict) -> None:
        n = self.number(msg)
        if n is not None and (self.last_number is None or n > self.last_number):
            self.last_number = n

    def _identity(self, msg: dict, keep: Request | None = None) -> list[Event]:
        """A message signed by a kernel process never seen before means the kernel was replaced."""
        ses = msg.get("header", {}).get("session")
        if not isinstance(ses, str) or not ses or ses == self.kernel_session or ses in self._retired:
            return []
        previous, self.kernel_session = self.kernel_session, ses
        self.last_number = None
        if previous is None:
            return []  # the first one we see, or the successor of one already reported lost
        return self.lose("restarted", keep)

    def _iopub(self, kind: str, content: dict, req: Request | None, other: bool, msg: dict, date: str) -> list[Event]:
        if kind == "status":
            return self._status(content, req, other, msg, date)
        if kind == "shutdown_reply":
            restart = bool(m.field(content, "restart", bool, False))
            return [Unhandled(req, other, msg, date=date), *self.lose("restarted" if restart else "shutdown")]
        if kind == "stream":
            name = m.field(content, "name", str, "stdout")
            return [Stream(req, other, name, m.field(content, "text", str, ""), date=date)]
        if kind == "execute_input":
            count = m.field(content, "execution_count", int, None)
            if count is not None:
                self.last_count = count
            if count is not None and (other or (req is not None and not req.silent)):
                self.next_count = max(self.next_count, count + 1)
                self.count_known = True
                if req is not None:
                    req.execution_count = count
            return [ExecuteInput(req, other, m.field(content, "code", str, ""), count, date=date)]
        if kind == "execute_result":
            return [ExecuteResult(req, other, m.field(content, "execution_count", int, None),
                                  m.field(content, "data", dict, {}), m.field(content, "metadata", dict, {}), date=date)]
        if kind in ("display_data", "update_display_data"):
            transient = m.field(content, "transient", dict, {})
            return [DisplayData(req, other, m.field(content, "data", dict, {}), m.field(content, "metadata", dict, {}),
                                m.field(transient, "display_id", str, None), kind == "update_display_data", date=date)]
        if kind == "error":
            traceback = _str_list(content.get("traceback") if isinstance(content, dict) else None)
            return [ErrorOutput(req, other, m.field(content, "ename", str, "Error"), m.field(content, "evalue", str, ""),
                                traceback, date=date)]
        return self._iopub_rest(kind, content, req, other, msg, date)

    @staticmethod
    def _iopub_rest(kind: str, content: dict, req: Request | None, other: bool, msg: dict, date: str) -> list[Event]:
        if kind in ("comm_open", "comm_msg", "comm_close"):
            buffers = msg.get("buffers")
            return [CommEvent(req, other, kind, content if isinstance(content, dict) else {},
                              buffers if isinstance(buffers, list) else [], date=date)]
        if kind == "clear_output":
            return [ClearOutput(req, other, bool(m.field(content, "wait", bool, False)), date=date)]
        if kind == "debug_event":
            return [DebugEvent(req, other, content if isinstance(content, dict) else {}, date=date)]
        return [Unhandled(req, other, msg, date=date)]

    def _status(self, content: dict, req: Request | None, other: bool, msg: dict, date: str) -> list[Event]:
        state = m.field(content, "execution_state", str, "")
        if state not in _STATES:
            return [Unhandled(req, other, msg, date=date)]
        lost: list[Event] = []
        signer = msg.get("header", {}).get("session")
        if state == "starting" and self.kernel_session is not None and signer != self.kernel_session:
            # a new kernel process announced itself (the one we already hear from may announce
            # itself late: its start is not another restart, and its messages are not a retired one's)
            lost = self.lose("restarted")
        if m.parent_id(msg) or state == "starting":
            lost += self._identity(msg, keep=req)
        parent_type = msg.get("parent_header", {}).get("msg_type")
        up = state == "idle" and self.state not in ("busy", "idle")
        if state not in ("busy", "idle") or parent_type in ("execute_request", None) or up:
            # Kernels say busy/idle around every request, kernel_info and the server's nudges on
            # control included, while the shell may still run a cell: only cells move between
            # busy and idle; any status tells a starting or restarting kernel is up.
            self.state = state  # checked against _STATES above
        events: list[Event] = [Status(req, other, state, date=date), *lost]
        if state in ("restarting", "dead"):
            events += self.lose(state)
        elif state == "idle" and req is not None and not req.idle:
            req.idle = True
            events += self._maybe_done(req)
        return events

    def _reply(self, kind: str, content: dict, req: Request, msg: dict, date: str) -> list[Event]:
        if req.reply is not None:
            return [Unhandled(req, False, msg, date=date)]  # a duplicate reply
        req.reply = content if isinstance(content, dict) else {}
        req.status = m.field(content, "status", str, "ok")
        req.replied_at = date
        if kind == "execute_reply":
            count = m.field(content, "execution_count", int, None)
            req.execution_count = count
            if count is not None:
                self.last_count = count
            req.payload = [p for p in m.field(content, "payload", list, []) if isinstance(p, dict)]
            if count is not None and not req.silent:
                self.next_count = max(self.next_count, count + 1)
                self.count_known = True
        elif kind == "kernel_info_reply":
            self.kernel_info = req.reply
        if self.state in ("restarting", "dead", "starting", "unknown") and req.channel != "control":
            self.state = "idle"  # a kernel that replies is alive, whatever stale status came before
        events: list[Event] = [Reply(req, False, kind, req.reply, date=date)]
        return events + self._maybe_done(req)

    def _maybe_done(self, req: Request) -> list[Event]:
        if not req.done or req.msg_id not in self.pending:
            return []  # not yet, or ended already (lost with its kernel)
        self._finish(req)
        return [RequestDone(req, False)]

    def _finish(self, req: Request) -> None:
        self.pending.pop(req.msg_id, None)
        self._recent[req.msg_id] = req
        if len(self._recent) > RECENT_REQUESTS:
            self._recent.popitem(last=False)

    def lose(self, reason: LostReason, keep: Request | None = None) -> list[Event]:
        """The kernel as we knew it is gone: end every pending request but ``keep`` (which the new
        kernel is answering). Also called when the server says the kernel is gone."""
        if self.kernel_session is not None:
            self._retired.add(self.kernel_session)
        self.kernel_session = None
        self.last_number = None
        if reason in ("restarting", "restarted"):
            self.next_count = 1
            self.last_count = 0
            self.count_known = True
        events: list[Event] = [KernelLost(None, False, reason)]
        for req in list(self.pending.values()):
            if req is keep:
                continue
            req.status = "lost"
            self._finish(req)
            events.append(RequestDone(req, False))
        return events
