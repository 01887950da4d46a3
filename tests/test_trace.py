"""Tracer unit tests: formatting, filters, shortening, the ring and the token scrub."""

import json

from repl.ui.trace import Tracer, shorten


def msg(channel, kind, mid, parent="", content=None):
    return {"channel": channel, "header": {"msg_id": mid, "msg_type": kind}, "parent_header": {"msg_id": parent} if parent else {},
            "metadata": {}, "content": content or {}, "buffers": []}


def test_line_format_and_time_since_request():
    lines = []
    tr = Tracer(lines.append, color=False)
    tr.mode = "on"
    tr({"event": "send", "msg": msg("shell", "execute_request", "aaaaaaaa11111111"), "size": 300, "t": 100.0})
    tr({"event": "recv", "msg": msg("iopub", "status", "k_1", "aaaaaaaa11111111", {"execution_state": "busy"}),
        "size": 90, "t": 100.0125})
    assert lines[0] == "⇢ shell   execute_request              11111111                           300 B"
    assert lines[1] == "⇠ iopub   status(busy)                 k_1      ← 11111111   +12.5 ms      90 B"


def test_filters_by_channel_and_type():
    lines = []
    tr = Tracer(lines.append, color=False)
    assert tr.configure("on iopub execute_reply") == "debug trace is on: execute_reply, iopub"
    tr({"event": "recv", "msg": msg("shell", "execute_reply", "r1", "p")})
    tr({"event": "recv", "msg": msg("shell", "kernel_info_reply", "r2", "p")})
    tr({"event": "recv", "msg": msg("iopub", "stream", "r3", "p", {"name": "stdout"})})
    tr({"event": "http", "method": "GET", "path": "/api", "status": 200, "ms": 1.0})
    assert [line.split()[2] for line in lines] == ["execute_reply", "stream(stdout)"]
    assert tr.configure("off").startswith("debug trace is off")
    tr({"event": "recv", "msg": msg("shell", "execute_reply", "r4", "p")})
    assert len(lines) == 2


def test_shorten_marks_long_strings_and_payloads():
    out = shorten({"text": "x" * 1000, "data": {"image/png": "A" * 5000}, "b": [b"\x00" * 10]})
    assert out["text"].endswith("… <760 more chars>") and len(out["text"]) < 300
    assert out["data"]["image/png"] == "<base64 image/png, 5000 chars>"
    assert out["b"] == ["<binary buffer, 10 bytes>"]


def test_last_shows_the_latest_execute_even_when_off():
    tr = Tracer(lambda line: None, color=False)
    tr({"event": "send", "msg": msg("shell", "execute_request", "first")})
    tr({"event": "send", "msg": msg("shell", "execute_request", "second", content={"code": "x = 1"})})
    tr({"event": "recv", "msg": msg("shell", "execute_reply", "rep", "second", {"status": "ok"})})
    tr({"event": "send", "msg": msg("shell", "complete_request", "third")})
    text = tr.last()
    assert '"code": "x = 1"' in text and "execute_reply" in text and "first" not in text and "third" not in text


def test_ring_is_bounded():
    tr = Tracer(lambda line: None, color=False)
    for i in range(10000):
        tr({"event": "recv", "msg": msg("iopub", "stream", f"m{i}", "p"), "size": 10})
    assert len(tr.ring) <= 4000


def test_the_ring_counts_what_small_messages_take_in_memory():
    """A decoded message costs ~3 KB beyond its frame: a long cell of small messages keeps the ring
    near RING_BYTES of memory, not RING_RECORDS of them whatever their size."""
    from repl.ui.trace import RECORD_COST, RING_BYTES

    tr = Tracer(lambda line: None, color=False)
    for i in range(10000):
        tr({"event": "recv", "msg": msg("iopub", "stream", f"m{i}", "p"), "size": 300})
    assert len(tr.ring) == RING_BYTES // (300 + RECORD_COST)
    for i in range(20):
        tr({"event": "recv", "msg": msg("iopub", "stream", f"b{i}", "p"), "size": 1 << 20})
    assert 6 <= len(tr.ring) <= 8 and tr.ring[-1]["msg"]["header"]["msg_id"] == "b19"


def test_token_is_scrubbed_from_lines_and_log(tmp_path):
    lines = []
    log = tmp_path / "traffic.jsonl"
    tr = Tracer(lines.append, token="s3cr3t-token", color=False, log_path=str(log))
    tr.mode = "full"
    tr({"event": "recv", "msg": msg("iopub", "stream", "m", "p", {"text": "leaked s3cr3t-token here"}), "size": 5})
    tr({"event": "send", "msg": {**msg("shell", "execute_request", "x"), "buffers": [b"\x01\x02"]}})
    tr.close()
    assert "s3cr3t-token" not in "\n".join(lines)
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["dir"] for r in records] == ["in", "out"]
    assert "s3cr3t-token" not in log.read_text()
    assert records[1]["msg"]["buffers"] == [{"base64": "AQI="}]
    assert (log.stat().st_mode & 0o777) == 0o600
