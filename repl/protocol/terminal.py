"""A Jupyter Server terminal's websocket (terminado), as data: JSON arrays in text frames.

To the server: ``["stdin", text]``, ``["set_size", rows, cols, height_px, width_px]``. From it:
``["setup", {}]`` once, ``["stdout", text]``, and ``["disconnect", code]`` when the shell has
ended (the server then closes the socket). Keys typed here are split at the key that leaves the
terminal (Ctrl-], 0x1d, as telnet's). Pure: no I/O.
"""

from __future__ import annotations

import codecs
import json
from dataclasses import dataclass
from datetime import datetime, timezone

LEAVE = 0x1D  # Ctrl-]


def stdin(text: str) -> str:
    return json.dumps(["stdin", text])


def set_size(rows: int, cols: int) -> str:
    return json.dumps(["set_size", max(1, rows), max(1, cols), 0, 0])


@dataclass(frozen=True)
class Frame:
    kind: str  # stdout, setup, disconnect, or another word the server says
    text: str = ""


def parse(frame: str | bytes) -> Frame | None:
    """What a frame from the server says; None for one that is not a terminado message."""
    try:
        data = json.loads(frame)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, list) or not data or not isinstance(data[0], str):
        return None
    text = data[1] if len(data) > 1 and isinstance(data[1], str) else ""
    return Frame(data[0], text)


class Keys:
    """Bytes typed at the terminal, decoded (a UTF-8 character split across reads waits for its
    end), up to the key that leaves."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, data: bytes) -> tuple[str, bool]:
        """(text to send, whether Ctrl-] was typed: what follows it is not sent)."""
        at = data.find(bytes([LEAVE]))
        text = self._decoder.decode(data if at < 0 else data[:at], final=at >= 0)
        return text, at >= 0


def ago(iso: str, now: datetime) -> str:
    """A server's UTC ISO time (``2026-12-02T14:03:55.805067Z``) as a person reads it: ``just
    now``, ``5 min ago``, ``3 h ago``, else the local date and time; what is no time, as it is."""
    try:
        when = datetime.fromisoformat(iso.strip().replace("Z", "+00:00"))
    except ValueError:
        return iso
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    seconds = (now - when).total_seconds()
    if -60 < seconds < 60:
        return "just now"
    if 0 < seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if 0 < seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return when.astimezone(now.tzinfo).strftime("%Y-%m-%d %H:%M")
