"""Frame codecs: byte-exact vectors, round trips, and malformed frames."""

import json
import struct

import pytest

from repl.protocol import wire

MSG = {
    "channel": "shell",
    "header": {"msg_id": "a1", "msg_type": "execute_request"},
    "parent_header": {},
    "metadata": {},
    "content": {"code": "print('héllo ✓')"},
    "buffers": [],
}


def test_v1_encode_is_byte_exact():
    frame = wire.encode_v1(MSG)
    parts = [
        b"shell",
        b'{"msg_id":"a1","msg_type":"execute_request"}',
        b"{}",
        b"{}",
        "{\"code\":\"print('héllo ✓')\"}".encode("utf-8"),
    ]
    n = len(parts) + 1  # offsets: one per part start, plus the end
    offsets = [8 * (n + 1)]
    for p in parts:
        offsets.append(offsets[-1] + len(p))
    expected = struct.pack("<Q", n) + b"".join(struct.pack("<Q", o) for o in offsets) + b"".join(parts)
    assert frame == expected
    # Offsets count bytes, not characters: é and ✓ take 2 and 3 bytes.
    assert offsets[-1] - offsets[-2] == len("{\"code\":\"print('héllo ✓')\"}") + 3


def test_v1_matches_jupyter_server_reference():
    server = pytest.importorskip("jupyter_server.services.kernels.connection.base")
    ref = server.serialize_msg_to_ws_v1(
        {k: MSG[k] for k in ("header", "parent_header", "metadata", "content")},
        "shell",
        pack=lambda o: json.dumps(o, ensure_ascii=False, separators=(",", ":")).encode(),
    )
    assert wire.encode_v1(MSG) == ref
    channel, parts = server.deserialize_msg_from_ws_v1(wire.encode_v1({**MSG, "buffers": [b"\x00\xff"]}))
    assert channel == "shell" and parts[-1] == b"\x00\xff"


def test_v1_round_trip_with_buffers():
    msg = {**MSG, "buffers": [b"\x00\x01\x02", b"", "€".encode()]}
    back = wire.decode_v1(wire.encode_v1(msg))
    assert back["content"] == MSG["content"]
    assert back["buffers"] == [b"\x00\x01\x02", b"", "€".encode()]
    assert back["channel"] == "shell"


def test_legacy_text_round_trip_keeps_non_ascii():
    frame = wire.encode_legacy(MSG)
    assert isinstance(frame, str) and "héllo ✓" in frame
    assert wire.decode_legacy(frame)["content"] == MSG["content"]


def test_legacy_binary_with_buffers_matches_reference():
    server = pytest.importorskip("jupyter_server.services.kernels.connection.base")
    msg = {**MSG, "buffers": [b"abc", b"\xff"]}
    frame = wire.encode_legacy(msg)
    assert isinstance(frame, bytes)
    ref = server.deserialize_binary_message(frame)
    assert ref["content"] == MSG["content"] and ref["buffers"] == [b"abc", b"\xff"]
    back = wire.decode_legacy(server.serialize_binary_message({**MSG, "buffers": [b"xyz"]}))
    assert back["buffers"] == [b"xyz"] and back["header"] == MSG["header"]


@pytest.mark.parametrize(
    "frame",
    [
        b"",
        b"\x01",
        struct.pack("<Q", 2**40),
        struct.pack("<Q", 6) + b"\x00" * 48,
        struct.pack("<7Q", 6, 56, 57, 58, 59, 60, 1000) + b"x" * 10,
        struct.pack("<7Q", 6, 56, 50, 58, 59, 60, 61) + b"x" * 10,
        wire.encode_v1(MSG)[:-3],
        "text on v1",
    ],
)
def test_v1_malformed_raises_wire_error(frame):
    with pytest.raises(wire.WireError):
        wire.decode_v1(frame)


@pytest.mark.parametrize(
    "frame",
    ["not json", "[1,2]", '{"header": 3, "channel": "iopub"}', '{"header": {}}', b"\x00\x00", b"\xff\xff\xff\xff" + b"x" * 8],
)
def test_legacy_malformed_raises_wire_error(frame):
    with pytest.raises(wire.WireError):
        wire.decode_legacy(frame)


def test_missing_parts_are_filled():
    back = wire.decode_legacy('{"channel": "iopub", "header": {"msg_type": "status"}}')
    assert back["parent_header"] == {} and back["content"] == {} and back["buffers"] == []


def test_codec_picks_framing():
    assert isinstance(wire.Codec(wire.V1_SUBPROTOCOL).encode(MSG), bytes)
    assert isinstance(wire.Codec(None).encode(MSG), str)
