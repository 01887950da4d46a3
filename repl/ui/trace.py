"""Debug mode: the message traffic as it happens, /last, and the optional JSONL traffic log.

The channel and the REST client call :class:`Tracer` with one record per event (``send``,
``recv``, ``http``, ``ws-open``, ``ws-close``, ``ws-reconnect``, ``malformed``). Every record is
kept in a bounded ring (for ``/last``) whether or not the trace is showing. The token is
scrubbed from every line and every log entry.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections import OrderedDict, deque
from datetime import datetime, timezone
from typing import Callable

from repl.scrub import scrub

COLORS = {"shell": "34", "iopub": "32", "stdin": "35", "control": "33", "http": "36", "ws": "2"}
RING_RECORDS = 4000
RING_BYTES = 8 * 1024 * 1024  # of memory: a record costs its frame's size and RECORD_COST more
RECORD_COST = 3000  # a decoded message's dicts, header strings and ids (measured: ~3 KB beyond its frame)
LONG_STRING = 240


def shorten(obj, key: str = ""):
    """A copy of a message fit to read: long strings cut and marked, binary payloads summarised."""
    if isinstance(obj, dict):
        return {k: shorten(v, str(k)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [shorten(v, key) for v in obj]
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return f"<binary buffer, {len(obj)} bytes>"
    if isinstance(obj, str) and len(obj) > LONG_STRING:
        if key.startswith(("image/", "application/pdf")) or key.endswith("base64"):
            return f"<base64 {key}, {len(obj)} chars>"
        return obj[:LONG_STRING] + f"… <{len(obj) - LONG_STRING} more chars>"
    return obj


def short_id(msg_id: str) -> str:
    """8 characters that tell messages apart: ipykernel's ids share a session prefix, so the tail."""
    return msg_id[-8:]


def _jsonable(obj):
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return {"base64": base64.b64encode(bytes(obj)).decode()}
    return obj


def _cost(record: dict) -> int:
    """What a record in the ring takes in memory, near enough."""
    return int(record.get("size") or 0) + RECORD_COST


class Tracer:
    def __init__(
        self,
        emit: Callable[[str], None],
        token: str | None = None,
        color: bool = True,
        log_path: str | None = None,
        labels: Callable[[str], str] | None = None,
        mode: str = "off",
    ) -> None:
        self.emit = emit
        self._token = token or ""
        self.color = color
        self.mode = mode
        self.filters: set[str] = set()
        self.labels = labels or (lambda kid: kid[:8])
        self.ring: deque[dict] = deque()
        self._ring_bytes = 0
        self._sent: OrderedDict[str, float] = OrderedDict()
        self._log = None
        self.last_request: str | None = None
        if log_path:
            fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            self._log = os.fdopen(fd, "a", encoding="utf-8", buffering=1)

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def set_token(self, token: str | None) -> None:
        self._token = token or ""

    def scrub(self, text: str) -> str:
        return scrub(text, self._token)

    # ------------------------------------------------------------ the hook

    def __call__(self, record: dict) -> None:
        record.setdefault("t", time.time())
        event = record.get("event")
        msg = record.get("msg")
        if event == "send" and isinstance(msg, dict):
            mid = msg.get("header", {}).get("msg_id", "")
            self._sent[mid] = record["t"]
            if len(self._sent) > 2000:
                self._sent.popitem(last=False)
            if msg.get("header", {}).get("msg_type") == "execute_request":
                self.last_request = mid
        self._keep(record)
        if self._log is not None:
            self._write_log(record)
        if self.mode != "off" and self._wanted(record):
            self.emit(self.scrub(self.format(record)))

    def _keep(self, record: dict) -> None:
        self.ring.append(record)
        self._ring_bytes += _cost(record)
        while self.ring and (len(self.ring) > RING_RECORDS or self._ring_bytes > RING_BYTES):
            self._ring_bytes -= _cost(self.ring.popleft())

    def _write_log(self, record: dict) -> None:
        entry = {
            "ts": datetime.fromtimestamp(record["t"], timezone.utc).isoformat(),
            "dir": {"send": "out", "recv": "in"}.get(record.get("event", ""), "event"),
        }
        entry.update({k: v for k, v in record.items() if k != "t"})
        try:
            line = json.dumps(_jsonable(entry), ensure_ascii=False, default=str)
            assert self._log is not None
            self._log.write(self.scrub(line) + "\n")
        except (OSError, ValueError):
            pass

    def _wanted(self, record: dict) -> bool:
        if not self.filters:
            return True
        msg = record.get("msg")
        if isinstance(msg, dict):
            keys = {msg.get("channel", ""), msg.get("header", {}).get("msg_type", "")}
        elif record.get("event") == "http":
            keys = {"http"}
        else:
            keys = {"ws"}
        return bool(keys & self.filters)

    # ------------------------------------------------------------ formatting

    def _paint(self, channel: str, text: str) -> str:
        code = COLORS.get(channel)
        return f"\x1b[{code}m{text}\x1b[0m" if self.color and code else text

    def format(self, record: dict) -> str:
        event = record.get("event")
        if event in ("send", "recv") and isinstance(record.get("msg"), dict):
            return self.format_full(record) if self.mode == "full" else self.format_line(record)
        if event == "http":
            status = record.get("status") or "failed"
            text = f"⇄ http    {record.get('method')} {record.get('path')} {status}  {record.get('ms', 0):.1f} ms"
            return self._paint("http", text)
        kernel = self.labels(str(record.get("kernel", "")))
        if event == "ws-open":
            text = f"• ws      open {kernel}, subprotocol {record.get('subprotocol') or 'none (legacy JSON)'}"
        elif event == "ws-close":
            text = f"• ws      closed {kernel}, code {record.get('code')}"
        elif event == "ws-reconnect":
            text = f"• ws      reconnecting {kernel}, attempt {record.get('attempt')}"
        elif event == "malformed":
            text = f"✗ ws      malformed frame from {kernel} ({record.get('size')} B): {record.get('error')}"
        else:
            text = f"• {event} {kernel}"
        return self._paint("ws", text)

    def format_line(self, record: dict) -> str:
        msg = record["msg"]
        header = msg.get("header", {})
        channel = str(msg.get("channel", "?"))
        kind = str(header.get("msg_type", "?"))
        content = msg.get("content", {})
        if kind == "status" and isinstance(content, dict):
            kind += f"({content.get('execution_state', '?')})"
        elif kind == "stream" and isinstance(content, dict):
            kind += f"({content.get('name', '?')})"
        elif kind in ("debug_request", "debug_reply", "debug_event") and isinstance(content, dict):
            kind += f"({content.get('event') or content.get('command') or '?'})"  # the DAP command or event
        arrow = "⇢" if record["event"] == "send" else "⇠"
        parent = msg.get("parent_header", {}).get("msg_id", "") if isinstance(msg.get("parent_header"), dict) else ""
        since = ""
        if record["event"] == "recv" and parent in self._sent:
            since = f"+{(record['t'] - self._sent[parent]) * 1000:.1f} ms"
        mid = short_id(str(header.get("msg_id", "")))
        par = f"← {short_id(str(parent))}" if parent else ""
        text = f"{arrow} {channel:<7} {kind:<28} {mid:<8} {par:<10} {since:>10} {record.get('size', 0):>7} B"
        return self._paint(channel, text.rstrip())

    def format_full(self, record: dict) -> str:
        head = self.format_line(record)
        body = json.dumps(shorten(record["msg"]), indent=2, ensure_ascii=False, default=str)
        if self.color:
            from pygments import highlight  # (with the first message shown in full: ~20 ms at start otherwise)
            from pygments.formatters import TerminalFormatter
            from pygments.lexers import JsonLexer

            body = highlight(body, JsonLexer(), TerminalFormatter()).rstrip("\n")
        return f"{head}\n{body}"

    # ------------------------------------------------------------ commands

    def describe(self) -> str:
        if self.mode == "off":
            return "debug trace is off (/debug on, /debug full, /debug on iopub status …)"
        what = ", ".join(sorted(self.filters)) if self.filters else "all messages"
        return f"debug trace is {self.mode}: {what}"

    def configure(self, arg: str) -> str:
        words = arg.split()
        if not words:
            return self.describe()
        mode, filters = words[0], words[1:]
        if mode not in ("on", "off", "full"):
            raise ValueError("usage: /debug [on|off|full] [CHANNEL|MSG_TYPE …]")
        self.mode = mode
        self.filters = set(filters)
        return self.describe()

    def last(self) -> str:
        """The full traffic of the most recent request, from the ring."""
        mid = self.last_request
        if mid is None:
            return "no request sent yet"
        records = [
            r for r in self.ring
            if isinstance(r.get("msg"), dict)
            and (r["msg"].get("header", {}).get("msg_id") == mid or r["msg"].get("parent_header", {}).get("msg_id") == mid)
        ]
        if not records:
            return "the most recent request is no longer in the trace buffer"
        saved = self.mode
        self.mode = "full"
        try:
            return self.scrub("\n".join(self.format(r) for r in records))
        finally:
            self.mode = saved
