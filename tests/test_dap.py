"""The DAP bookkeeping (protocol/dap.py) and what the user types to the debugger (ui/debugger/words.py),
without sockets."""

import pytest

from repl import errors
from repl.protocol import dap
from repl.protocol.session import DebugEvent, KernelSession
from repl.ui.debugger.words import Place, SetBreak, dbg_line, parse_break, parse_unbreak, place

CODE = "def f(n):\n    t = 0\n    for i in range(n):\n        t += i\n    return t\n"


def response(seq, command, success=True, body=None, message=""):
    return {"type": "response", "request_seq": seq, "command": command, "success": success,
            "body": body or {}, "message": message, "seq": 99}


def event(name, **body):
    return {"type": "event", "event": name, "body": body, "seq": 7}


def test_requests_are_numbered_and_replies_matched_once():
    d = dap.Dap()
    a = d.request("initialize", {"clientID": "repl"})
    b = d.request("threads")
    assert (a["seq"], b["seq"]) == (1, 2) and a["type"] == "request" and "arguments" not in b
    assert d.response(response(3, "pause")) is None  # nobody asked
    r = d.response(response(2, "threads", body={"threads": [{"id": 1}]}))
    assert r == dap.Response("threads", True, {"threads": [{"id": 1}]}, "")
    assert d.response(response(2, "threads")) is None  # answered already
    failed = d.response(response(1, "initialize", success=False, message="no debugpy"))
    assert failed is not None and not failed.success and failed.message == "no debugpy"
    assert d.waiting == {}
    c = d.request("next", {"threadId": 1})
    d.forget(c)  # timed out
    assert d.response(response(c["seq"], "next")) is None


def test_stopped_continued_and_other_events():
    d = dap.Dap()
    assert d.event({"type": "response"}) is None
    assert isinstance(d.event(event("thread", reason="started", threadId=5)), dap.Other)
    stop = d.event(event("stopped", reason="exception", threadId=1, text="ZeroDivisionError",
                         description="division by zero"))
    assert stop == dap.Stopped(1, "exception", "division by zero", "ZeroDivisionError") and d.stopped is stop
    frames = d.set_frames({"stackFrames": [
        {"id": 6, "name": "f", "line": 4, "source": {"path": "/tmp/k/1.py"}},
        {"id": "bad"},
        {"id": 7, "name": "<module>", "line": 1, "source": {"path": "/tmp/k/2.py"}}]})
    assert [f.id for f in frames] == [6, 7] and d.current == frames[0]
    assert d.move(1) and d.current == frames[1] and not d.move(1)  # the outermost frame: no further
    assert d.move(-1) and not d.move(-1)
    d.event(event("continued", threadId=2, allThreadsContinued=False))  # another thread: still stopped
    assert d.stopped is stop
    assert d.event(event("continued", threadId=1, allThreadsContinued=True)) == dap.Continued(1)
    assert d.stopped is None and d.frames == [] and d.current is None
    d.event(event("stopped", reason="pause", threadId=1))
    assert isinstance(d.event(event("terminated")), dap.Terminated) and d.stopped is None
    assert isinstance(d.event(event("stopped", reason="pause")), dap.Other)  # no thread: not a stop


def test_breakpoints_of_a_file_are_sent_together_and_verified_in_order():
    d = dap.Dap()
    d.breakpoints += [dap.Breakpoint(4, "i == 2", cell=1, code=CODE, path="/tmp/k/1.py"),
                      dap.Breakpoint(2, path="/tmp/k/1.py", cell=1, code=CODE),
                      dap.Breakpoint(10, path="/srv/mod.py")]
    args = d.set_breakpoints_args("/tmp/k/1.py")
    assert args["source"] == {"path": "/tmp/k/1.py"}
    assert args["breakpoints"] == [{"line": 4, "condition": "i == 2"}, {"line": 2}]
    d.verified("/tmp/k/1.py", {"breakpoints": [{"verified": True}, {"verified": False}]})
    assert [b.verified for b in d.breakpoints] == [True, False, False]
    assert [b.where() for b in d.breakpoints] == ["In [1] line 4", "In [1] line 2", "/srv/mod.py:10"]


def test_cell_files_are_named_as_ipykernel_names_them():
    # measured on ipykernel 7.4: debugInfo's seed, and the path dumpCell gave for CODE
    files = dap.CellFiles("/tmp/ipykernel_5205/", ".py", 3339675911, "Murmur2")
    assert files.path(CODE) == "/tmp/ipykernel_5205/3336874688.py"
    assert dap.murmur2("", 0) == 0 and dap.murmur2("héllo €", 1) != dap.murmur2("héllo €", 2)
    d = dap.Dap(files=files)
    assert d.cell_of("/tmp/ipykernel_5205/3336874688.py", [(1, CODE), (2, "f(3)"), (5, CODE)]) == (5, CODE)
    assert d.cell_of("/srv/mod.py", [(1, CODE)]) is None
    assert dap.CellFiles().path(CODE) is None  # before debugInfo: unknown


def test_debug_events_and_replies_travel_through_the_session():
    ks = KernelSession()
    msg, req = ks.question("debug", content={"type": "request", "seq": 1, "command": "threads"})
    assert msg["channel"] == "control" and msg["header"]["msg_type"] == "debug_request"
    assert msg["content"]["command"] == "threads"
    reply = {"channel": "control", "header": {"msg_id": "r1", "msg_type": "debug_reply", "session": "k"},
             "parent_header": {"msg_id": req.msg_id, "session": ks.session_id}, "content": response(1, "threads")}
    events = ks.receive(reply)
    assert events[0].content["request_seq"] == 1  # type: ignore[attr-defined]
    ev = {"channel": "iopub", "header": {"msg_id": "e1", "msg_type": "debug_event", "session": "k"},
          "parent_header": {}, "content": event("stopped", reason="breakpoint", threadId=1)}
    (got,) = ks.receive(ev)
    assert isinstance(got, DebugEvent) and got.content["event"] == "stopped"


def test_places_and_break_arguments():
    assert place("3:4") == Place(3, "", 4)
    assert place("/srv/pkg/mod.py:12") == Place(None, "/srv/pkg/mod.py", 12)
    assert place("C:/x.py:2") == Place(None, "C:/x.py", 2)
    for bad in ("3", "3:x", ":4", "3:0", ""):
        with pytest.raises(errors.UsageError):
            place(bad)
    assert parse_break("") is None
    assert parse_break(" raised ") == "raised" and parse_break("noexc") == "noexc"
    assert parse_break("2:3 if x > 1 and y") == SetBreak(Place(2, "", 3), "x > 1 and y")
    assert parse_break("m.py:3") == SetBreak(Place(None, "m.py", 3), "")
    with pytest.raises(errors.UsageError):
        parse_break("2:3 when x")
    with pytest.raises(errors.UsageError):
        parse_break("2:3 if ")
    assert parse_unbreak("all") is None and parse_unbreak("1:2") == Place(1, "", 2)
    with pytest.raises(errors.UsageError):
        parse_unbreak("")


def test_dbg_prompt_words_and_code():
    assert dbg_line("n") == ("n", "") and dbg_line(" next ") == ("n", "")
    assert dbg_line("c") == ("c", "") and dbg_line("where") == ("w", "") and dbg_line("q") == ("q", "")
    assert dbg_line("v") == ("v", "") and dbg_line("v data 50") == ("v", "data 50")
    assert dbg_line("p t * 2") == ("p", "t * 2") and dbg_line("!n") == ("p", "n")
    assert dbg_line("n = 3") == ("p", "n = 3")  # code that starts with a command's letter is code
    assert dbg_line("t + 100") == ("p", "t + 100")
    assert dbg_line("c.real") == ("p", "c.real")


def test_a_step_that_leaves_its_cell_is_not_a_stop():
    d = dap.Dap()
    d.event(event("stopped", threadId=1, reason="breakpoint"))
    d.stepped(True)  # n
    d.running()
    d.event(event("stopped", threadId=1, reason="step"))  # within the cell: a stop
    assert d.stopped is not None and not d.stepping
    d.stepped(True)
    d.running()
    d.cell_boundary()  # the cell ended before the step stopped: it ran off the end
    ev = d.event(event("stopped", threadId=1, reason="step"))  # in the next cell
    assert ev == dap.RanOff(1) and d.stopped is None and not d.stepping
    d.stepped(True)
    d.cell_boundary()
    hit = d.event(event("stopped", threadId=1, reason="breakpoint"))  # a breakpoint in the next cell still stops
    assert isinstance(hit, dap.Stopped) and d.stopped is hit
    d.stepped(False)  # c: not a step, a later cell boundary changes nothing
    d.cell_boundary()
    assert isinstance(d.event(event("stopped", threadId=1, reason="step")), dap.Stopped)


def test_a_condition_that_raised_is_read_from_debugpys_output():
    text = ("pydevd: Error while evaluating expression in conditional breakpoint: 1/0\n"
            "Traceback (most recent call last):\n  File \"<string>\", line 1, in <module>\n"
            "ZeroDivisionError: division by zero\n")
    out = dap.Dap().event(event("output", category="important", output=text))
    assert out == dap.Output("important", text)
    assert dap.condition_raised(out) == ("1/0", "ZeroDivisionError: division by zero")
    assert dap.condition_raised(dap.Output("stdout", text)) is None  # the user's own print
    assert dap.condition_raised(dap.Output("important", "pydevd: something else\n")) is None


@pytest.mark.parametrize("cond, wrong", [("i >", "does not compile: invalid syntax"), ("i == 3", None),
                                         ("1/0", None), ("x\x00", "does not compile")])
def test_a_condition_that_does_not_compile_is_refused(cond, wrong):
    said = dap.condition_error(cond, "python")
    assert (said is None) if wrong is None else (wrong in said and repr(cond) in said)
    assert dap.condition_error("i >", "bash") is None  # another language's conditions are its own
