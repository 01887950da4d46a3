"""Websocket frame codecs for Jupyter messages.

A message here is a dict with ``channel``, ``header``, ``parent_header``, ``metadata``,
``content`` and ``buffers`` (a list of bytes). Three framings exist on the wire:

* legacy JSON: a text frame holding the message as JSON (no buffers);
* legacy binary: a binary frame ``nbufs:u32be, offsets:u32be*nbufs, json, buffers...``
  (used by the legacy protocol when a message carries buffers);
* ``v1.kernel.websocket.jupyter.org``: a binary frame
  ``n:u64le, offsets:u64le*n, channel, header, parent_header, metadata, content, buffers...``
  where the offsets are byte positions from the start of the frame, the last one its end.

Decoding raises :class:`WireError` on anything malformed; it never raises anything else.
"""

from __future__ import annotations

import json
import struct
from typing import Any

V1_SUBPROTOCOL = "v1.kernel.websocket.jupyter.org"

_PARTS = ("header", "parent_header", "metadata", "content")


class WireError(ValueError):
    """A frame that cannot be decoded into a message."""


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def _loads_dict(data: bytes | str, what: str) -> dict:
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WireError(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise WireError(f"{what} is not a JSON object")
    return obj


def _normalise(msg: dict) -> dict:
    for part in _PARTS:
        value = msg.get(part)
        if value is None:
            msg[part] = {}
        elif not isinstance(value, dict):
            raise WireError(f"message {part} is not an object")
    buffers = msg.get("buffers") or []
    if not isinstance(buffers, list):
        raise WireError("message buffers is not a list")
    msg["buffers"] = buffers
    if not isinstance(msg.get("channel"), str):
        raise WireError("message has no channel")
    return msg


# ---------------------------------------------------------------- legacy protocol


def encode_legacy(msg: dict) -> str | bytes:
    """A text frame, or a legacy binary frame when the message has buffers."""
    body = {k: msg.get(k, {}) for k in _PARTS}
    body["channel"] = msg["channel"]
    buffers = [bytes(b) for b in msg.get("buffers") or []]
    if not buffers:
        return json.dumps(body, ensure_ascii=False, default=str)
    parts = [_dumps(body), *buffers]
    nbufs = len(parts)
    offsets = [4 * (nbufs + 1)]
    for part in parts[:-1]:
        offsets.append(offsets[-1] + len(part))
    return struct.pack(f"!{nbufs + 1}I", nbufs, *offsets) + b"".join(parts)


def decode_legacy(frame: str | bytes) -> dict:
    if isinstance(frame, str):
        return _normalise(_loads_dict(frame, "frame"))
    frame = bytes(frame)
    if len(frame) < 4:
        raise WireError("binary frame shorter than its header")
    (nbufs,) = struct.unpack("!I", frame[:4])
    if nbufs < 1 or 4 * (nbufs + 1) > len(frame):
        raise WireError("binary frame has an impossible buffer count")
    offsets = list(struct.unpack(f"!{nbufs}I", frame[4 : 4 * (nbufs + 1)]))
    _check_offsets(offsets + [len(frame)], 4 * (nbufs + 1), len(frame))
    ends = offsets[1:] + [len(frame)]
    parts = [frame[a:b] for a, b in zip(offsets, ends, strict=False)]
    msg = _loads_dict(parts[0], "binary frame JSON")
    msg["buffers"] = parts[1:]
    return _normalise(msg)


# ---------------------------------------------------------------- v1 protocol


def encode_v1(msg: dict) -> bytes:
    parts = [_dumps(msg.get(k) or {}) for k in _PARTS]
    parts += [bytes(b) for b in msg.get("buffers") or []]
    channel = msg["channel"].encode("utf-8")
    n = len(parts) + 2
    offsets = [8 * (n + 1), 8 * (n + 1) + len(channel)]
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    head = struct.pack(f"<{n + 1}Q", n, *offsets)
    return head + channel + b"".join(parts)


def decode_v1(frame: bytes | str) -> dict:
    if isinstance(frame, str):
        raise WireError("text frame on the v1 protocol")
    frame = bytes(frame)
    if len(frame) < 8:
        raise WireError("v1 frame shorter than its header")
    (n,) = struct.unpack("<Q", frame[:8])
    if n < 6 or 8 * (n + 1) > len(frame):
        raise WireError("v1 frame has an impossible offset count")
    offsets = list(struct.unpack(f"<{n}Q", frame[8 : 8 * (n + 1)]))
    _check_offsets(offsets, 8 * (n + 1), len(frame))
    pieces = [frame[a:b] for a, b in zip(offsets, offsets[1:], strict=False)]
    try:
        channel = pieces[0].decode("utf-8")
    except UnicodeDecodeError:
        raise WireError("v1 channel is not UTF-8") from None
    msg: dict[str, Any] = {"channel": channel}
    for name, piece in zip(_PARTS, pieces[1:5], strict=False):
        msg[name] = _loads_dict(piece, f"v1 {name}")
    msg["buffers"] = pieces[5:]
    return _normalise(msg)


def _check_offsets(offsets: list[int], start: int, end: int) -> None:
    if offsets[0] != start:
        raise WireError("frame offsets do not start after the header")
    for a, b in zip(offsets, offsets[1:], strict=False):
        if b < a:
            raise WireError("frame offsets go backwards")
    if offsets[-1] > end:
        raise WireError("frame offsets point past the end")


class Codec:
    """Picks the framing from the negotiated subprotocol (None means legacy)."""

    def __init__(self, subprotocol: str | None) -> None:
        self.subprotocol = subprotocol
        self.v1 = subprotocol == V1_SUBPROTOCOL

    def encode(self, msg: dict) -> str | bytes:
        return encode_v1(msg) if self.v1 else encode_legacy(msg)

    def decode(self, frame: str | bytes) -> dict:
        return decode_v1(frame) if self.v1 else decode_legacy(frame)
