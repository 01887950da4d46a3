"""Debug mode in the real `repl` in a pty against a real gateway."""

import json


def positions(text, *needles, after=0):
    out = []
    for n in needles:
        at = text.find(n, after)
        assert at >= 0, f"{n!r} not in trace:\n{text[after:]}"
        out.append(at)
    return out


def test_trace_shows_a_cell_in_order_then_filters(term, gateway):
    t = term("--debug", rows=60, token_flag=True)
    t.wait_prompt(1)
    first = t.text()
    assert "⇄ http    GET /api 200" in first and "• ws      open python3, subprotocol v1.kernel.websocket.jupyter.org" in first
    t.enter("6*7")
    t.wait_for("Out[1]: 42")
    t.wait_prompt(2)
    text = t.plain()
    start = text.find("⇢ shell   execute_request")
    req, busy, inp, res = positions(text, "execute_request", "status(busy)", "execute_input", "execute_result", after=start)
    assert req < busy < inp < res
    (reply,) = positions(text, "execute_reply", after=req)
    t.enter("/debug on execute_reply")
    t.wait_for("debug trace is on: execute_reply")
    mark = len(t.transcript)
    t.enter("7*6")
    t.wait_prompt(3)
    tail = t.transcript[mark:]
    assert "execute_reply" in tail and "status(" not in tail and "execute_input" not in tail
    assert gateway.token not in t.transcript


def test_last_after_a_silent_cell_and_full_mode(term, gateway):
    t = term(rows=60, token_flag=True)
    t.wait_prompt(1)
    t.enter("quiet = 1")
    t.wait_prompt(2)
    assert "execute_request" not in t.transcript
    t.enter("/last")
    t.wait_for(lambda t: '"code": "quiet = 1"' in t.plain() and "status(idle)" in t.plain())
    assert "execute_reply" in t.plain()
    t.enter("/debug full")
    t.enter("print('y' * 1000)")
    t.wait_for(lambda t: "more chars>" in t.plain())
    assert gateway.token not in t.transcript


def test_traffic_log_is_jsonl_without_the_token(term, gateway, tmp_path):
    log = tmp_path / "traffic.jsonl"
    t = term("--log-traffic", str(log), rows=60, token_flag=True)
    t.wait_prompt(1)
    t.enter("print('logged')")
    t.wait_for("logged\n")
    t.wait_prompt(2)  # a Ctrl-D in the instant between the cell's end and the prompt is a known race
    t.ctrl("d")
    assert t.wait_exit() == 0
    raw = log.read_text()
    records = [json.loads(line) for line in raw.splitlines()]
    kinds = [r.get("msg", {}).get("header", {}).get("msg_type") for r in records]
    assert "execute_request" in kinds and "stream" in kinds and "execute_reply" in kinds
    assert any(r.get("event") == "http" for r in records) and all("ts" in r and "dir" in r for r in records)
    assert gateway.token not in raw
    assert gateway.token not in t.transcript
