"""KernelSession: the state of one client session with one kernel, without any I/O.

The adapter registers each request it sends (:meth:`KernelSession.track`) and feeds every
decoded incoming message to :meth:`KernelSession.receive`, which returns events. Routing is by
``parent_header.msg_id`` only. A request is done when both its reply and its iopub ``idle``
have arrived, in either order. Messages whose parent is not one of ours are reported with
``request=None`` and ``other=True`` when they belong to another client's session.
Messages are de-duplicated by ``msg_id`` (a reconnect may replay what was already seen).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field as dc_field
from typing import Any

from repl.protocol import messages as m

RECENT_REQUESTS = 256
SEEN_IDS = 8192


@dataclass(eq=False)
class Request:
    msg_id: str
    msg_type: str
    channel: str = "shell"
    code: str | None = None
    silent: bool = False
    reply: dict | None = None
    reply_type: str = ""
    idle: bool = False
    status: str | None = None  # ok / error / aborted from the reply; "lost" if the kernel died
    execution_count: int | None = None
    payload: list = dc_field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.status == "lost" or (self.reply is not None and self.idle)

    @property
    def failed(self) -> bool:
        return self.status not in ("ok", None)


@dataclass(frozen=True)
class Event:
    request: Request | None
    other: bool  # caused by another client's request


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
    """The kernel restarted or died: its state is gone and pending requests will never finish."""

    state: str  # "restarting" or "dead"


@dataclass(frozen=True)
class Unhandled(Event):
    """A message this client does not act on (unknown type, or a reply to nobody)."""

    msg: dict


def _str_list(value: Any) -> list:
    return [str(x) for x in value] if isinstance(value, list) else []


class KernelSession:
    def __init__(self, session_id: str | None = None) -> None:
        self.session_id = session_id or m.new_id()
        self.state = "unknown"
        self.next_count = 1
        self.kernel_info: dict | None = None
        self.pending: dict[str, Request] = {}
        self._recent: OrderedDict[str, Request] = OrderedDict()
        self._seen: OrderedDict[str, None] = OrderedDict()

    # ------------------------------------------------------------ requests

    @property
    def language_info(self) -> dict:
        info = m.field(self.kernel_info, "language_info", dict, {})
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

    def execute(self, code: str, **kwargs: Any) -> tuple[dict, Request]:
        msg = m.execute_request(self.session_id, code, **kwargs)
        return msg, self.track(msg, code)

    def kernel_info_request(self) -> tuple[dict, Request]:
        msg = m.kernel_info_request(self.session_id)
        return msg, self.track(msg)

    # ------------------------------------------------------------ incoming

    def receive(self, msg: dict) -> list[Event]:
        mid = m.msg_id(msg)
        if mid:
            if mid in self._seen:
                return []
            self._seen[mid] = None
            if len(self._seen) > SEEN_IDS:
                self._seen.popitem(last=False)
        pid = m.parent_id(msg)
        req = self.pending.get(pid) or self._recent.get(pid)
        parent_session = msg.get("parent_header", {}).get("session")
        other = req is None and bool(pid) and parent_session != self.session_id
        channel = msg.get("channel")
        kind = m.msg_type(msg)
        content = msg.get("content", {})
        if channel == "iopub":
            return self._iopub(kind, content, req, other, msg)
        if channel == "stdin" and kind == "input_request":
            prompt = m.field(content, "prompt", str, "")
            password = bool(m.field(content, "password", bool, False))
            return [InputRequest(req, other, prompt, password, dict(msg.get("header", {})))]
        if channel in ("shell", "control") and kind.endswith("_reply") and req is not None:
            return self._reply(kind, content, req)
        return [Unhandled(req, other, msg)]

    def _iopub(self, kind: str, content: dict, req: Request | None, other: bool, msg: dict) -> list[Event]:
        if kind == "status":
            state = m.field(content, "execution_state", str, "")
            if not state:
                return [Unhandled(req, other, msg)]
            self.state = state
            events: list[Event] = [Status(req, other, state)]
            if state in ("restarting", "dead"):
                events += self._lose_all(state)
            elif state == "idle" and req is not None and not req.idle:
                req.idle = True
                events += self._maybe_done(req)
            return events
        if kind == "stream":
            name = m.field(content, "name", str, "stdout")
            return [Stream(req, other, name, m.field(content, "text", str, ""))]
        if kind == "execute_input":
            count = m.field(content, "execution_count", int, None)
            if count is not None and (other or (req is not None and not req.silent)):
                self.next_count = max(self.next_count, count + 1)
            return [ExecuteInput(req, other, m.field(content, "code", str, ""), count)]
        if kind == "execute_result":
            return [
                ExecuteResult(
                    req,
                    other,
                    m.field(content, "execution_count", int, None),
                    m.field(content, "data", dict, {}),
                    m.field(content, "metadata", dict, {}),
                )
            ]
        if kind in ("display_data", "update_display_data"):
            transient = m.field(content, "transient", dict, {})
            return [
                DisplayData(
                    req,
                    other,
                    m.field(content, "data", dict, {}),
                    m.field(content, "metadata", dict, {}),
                    m.field(transient, "display_id", str, None),
                    kind == "update_display_data",
                )
            ]
        if kind == "error":
            return [
                ErrorOutput(
                    req,
                    other,
                    m.field(content, "ename", str, "Error"),
                    m.field(content, "evalue", str, ""),
                    _str_list(content.get("traceback") if isinstance(content, dict) else None),
                )
            ]
        if kind == "clear_output":
            return [ClearOutput(req, other, bool(m.field(content, "wait", bool, False)))]
        return [Unhandled(req, other, msg)]

    def _reply(self, kind: str, content: dict, req: Request) -> list[Event]:
        if req.reply is not None:
            return [Unhandled(req, False, {"duplicate_reply": kind})]
        req.reply = content if isinstance(content, dict) else {}
        req.reply_type = kind
        req.status = m.field(content, "status", str, "ok")
        if kind == "execute_reply":
            count = m.field(content, "execution_count", int, None)
            req.execution_count = count
            req.payload = [p for p in m.field(content, "payload", list, []) if isinstance(p, dict)]
            if count is not None and not req.silent:
                self.next_count = max(self.next_count, count + 1)
        elif kind == "kernel_info_reply":
            self.kernel_info = req.reply
        if self.state in ("restarting", "dead", "starting", "unknown"):
            self.state = "idle"  # a kernel that replies is alive, whatever stale status came before
        events: list[Event] = [Reply(req, False, kind, req.reply)]
        return events + self._maybe_done(req)

    def _maybe_done(self, req: Request) -> list[Event]:
        if not req.done:
            return []
        self._finish(req)
        return [RequestDone(req, False)]

    def _finish(self, req: Request) -> None:
        self.pending.pop(req.msg_id, None)
        self._recent[req.msg_id] = req
        if len(self._recent) > RECENT_REQUESTS:
            self._recent.popitem(last=False)

    def _lose_all(self, state: str) -> list[Event]:
        events: list[Event] = [KernelLost(None, False, state)]
        if state == "restarting":
            self.next_count = 1
        for req in list(self.pending.values()):
            req.status = "lost"
            self._finish(req)
            events.append(RequestDone(req, False))
        return events
