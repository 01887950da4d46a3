"""The record of a REPL session, kept so that another process can come back to its kernels.

What is recorded (never a token): the server's URL and hub server, the embedded gateway's
address when there is one, and per kernel its id, websocket ``session_id`` (the server replays
what it buffered for that id), alias, whether this REPL started it, the kernel process's own
session (to tell a restart), and the cells not done yet. Pure data and JSON, no I/O.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

VERSION = 1


@dataclass
class CellEntry:
    msg_id: str
    count: int | None
    code: str
    background: bool
    started: float  # POSIX seconds, this machine's clock, when it was sent
    asking: dict | None = None  # an input() it waits for: {"prompt", "password", "header"} of the request
    open_line: list[str] | None = None  # [stream, text]: the line it was printing when we left, not ended yet


@dataclass
class KernelEntry:
    id: str
    name: str
    session_id: str
    alias: str | None = None
    started_here: bool = False
    kernel_session: str | None = None  # the kernel process's own session id, when last heard
    clock_offset: float | None = None  # this machine's clock minus the kernel's, as estimated
    last_number: int | None = None  # after /detach: the count of the last message of it we had (see Away)
    cells: list[CellEntry] = field(default_factory=list)


def label_of(kernel: KernelEntry, rec: Record) -> str:
    """The kernel's name as the prompt shows it (repl.kernel.Kernel.label): its alias, else its
    spec, with the id's start when another kernel of the session has the same spec."""
    if kernel.alias:
        return kernel.alias
    name = kernel.name or "kernel"
    return f"{name}-{kernel.id[:4]}" if [k.name for k in rec.kernels].count(kernel.name) > 1 else name


@dataclass
class Record:
    id: str
    pid: int
    url: str  # the server, as shown (no token)
    named_server: str | None = None  # on a JupyterHub
    gateway: dict | None = None  # the embedded gateway: url, pid, token, log_path (its own, made by repl)
    current: str | None = None  # kernel id
    kernels: list[KernelEntry] = field(default_factory=list)
    detached: bool = False
    left: float | None = None  # when /detach left (POSIX seconds); None: live, or killed
    written: float = 0.0

    def to_json(self) -> str:
        data = dict(vars(self), version=VERSION)  # (dataclasses.asdict deep-copies: 10 times slower)
        data["kernels"] = [dict(vars(k), cells=[vars(c) for c in k.cells]) for k in self.kernels]
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Record:
        """The record in ``text``; ValueError if it is not one (another version, damaged)."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not JSON: {exc}") from None
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise ValueError("not a record of this version")
        try:
            kernels = [KernelEntry(**{**k, "cells": [CellEntry(**c) for c in k.get("cells", [])]})
                       for k in data.get("kernels", [])]
            return cls(**{**{k: v for k, v in data.items() if k != "version"}, "kernels": kernels})
        except TypeError as exc:
            raise ValueError(f"unexpected fields: {exc}") from None

    @property
    def since(self) -> float:
        """When it was left: detached, or (killed) last written."""
        return self.left if self.left is not None else self.written

    @property
    def embedded(self) -> bool:
        return self.gateway is not None

    def where(self) -> str:
        if self.embedded:
            return "the local gateway"
        return self.url + (f" (server {self.named_server})" if self.named_server else "")


def ago(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} days ago"


def summary(rec: Record, now: float | None = None) -> str:
    """One line for a list of sessions to choose from: server, kernels, when left."""
    now = time.time() if now is None else now
    kernels = ", ".join(label_of(k, rec) + (f" ({len(k.cells)} running)" if k.cells else "") for k in rec.kernels)
    how = "detached" if rec.detached else "killed"
    return f"{rec.where()}: {kernels or 'no kernels'}; {how} {ago(now - rec.since)}"


def matches(rec: Record, server: str) -> bool:
    """Whether ``server`` (a URL, or part of one) names the record's server."""
    want = server.strip().rstrip("/")
    if not want:
        return True
    if want in ("local", "embedded"):
        return rec.embedded
    return want in rec.url.rstrip("/") or (rec.gateway is not None and want in str(rec.gateway.get("url", "")))


GREETING = 3  # counts a kernel spends on the server's greeting of a new connection (see Away.missed)


@dataclass
class Away:
    """Coming back to a kernel: what tells whether its output while no REPL was attached is all
    here. The server replays what it buffered for our session id, all or nothing: it buffers only
    once the last connection closes, and drops the buffer when a connection with another id comes.
    A kernel that numbers its messages (``messages.message_number``) tells more: after /detach the
    first message that comes back must follow the last one we had; a gap is what someone else took.
    Silence (no reason) means nothing was lost."""

    back_at: float  # when we came back, by the kernel's clock: a message dated before was buffered
    unfinished: int  # cells of ours not done when the session was left
    shared: bool  # another client is connected now (when we left, or since: no buffer is ours)
    active: bool  # the kernel sent messages while we were away (its last activity is after we left)
    replayed: int = 0
    restarted: bool = False
    lost_ends: int = 0  # cells whose end never came: it was in a buffer that was dropped
    last_number: int | None = None  # the count of the last message we had before leaving (after /detach)
    first_number: int | None = None  # the lowest count among the messages that came since

    def saw(self, when: float | None, number: int | None = None) -> None:
        """A message came, dated ``when`` (kernel clock, POSIX seconds), with the kernel process's
        count ``number`` (None: the kernel does not count, or it is another process)."""
        if when is not None and when < self.back_at:
            self.replayed += 1
        if number is not None and (self.first_number is None or number < self.first_number):
            self.first_number = number

    @property
    def missed(self) -> int:
        """Messages the kernel sent between the last we had and the first that came back. The
        server greets a new connection of ours with a kernel_info request on shell and control,
        whose reply and busy/idle can take up to GREETING counts we never see: a gap that small is
        taken for that unless the kernel is known to have sent something while we were away."""
        if self.last_number is None or self.first_number is None:
            return 0
        gap = self.first_number - self.last_number - 1
        return gap if gap > (0 if self.replayed or self.active else GREETING) else 0

    def verdict(self) -> str | None:
        if self.restarted:
            return "the kernel was restarted since"
        if not self.unfinished:
            return None
        if self.lost_ends:
            return f"the end of {self.lost_ends} cell{'s' if self.lost_ends > 1 else ''} never came"
        if self.shared:
            return "another client is connected to it"
        if self.missed:
            return f"{self.missed} of its messages went to another connection"
        if self.active and not self.replayed:
            return "it printed while away and the server replayed nothing"
        return None
