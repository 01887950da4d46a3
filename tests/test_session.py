"""KernelSession routing: dicts in, events out, no sockets."""

import itertools

from repl.protocol import session as s
from repl.protocol import messages as m

_ids = itertools.count()


def incoming(channel, msg_type, content, parent=None, parent_session=None, msg_id=None):
    parent_header = {}
    if parent is not None:
        parent_header = {"msg_id": parent.msg_id if isinstance(parent, s.Request) else parent}
        if parent_session:
            parent_header["session"] = parent_session
    return {
        "channel": channel,
        "header": {"msg_id": msg_id or f"k{next(_ids)}", "msg_type": msg_type},
        "parent_header": parent_header,
        "metadata": {},
        "content": content,
        "buffers": [],
    }


def kinds(events):
    return [type(e).__name__ for e in events]


def test_execute_request_has_all_parts():
    ks = s.KernelSession("sess")
    msg, req = ks.execute("1+1")
    assert msg["channel"] == "shell"
    assert msg["header"]["session"] == "sess" and msg["header"]["msg_type"] == "execute_request"
    assert msg["parent_header"] == {} and msg["metadata"] == {}
    assert msg["content"]["allow_stdin"] is True
    assert ks.pending[req.msg_id] is req


def test_done_needs_reply_and_idle_reply_first():
    ks = s.KernelSession("sess")
    _, req = ks.execute("1+1")
    assert kinds(ks.receive(incoming("iopub", "status", {"execution_state": "busy"}, req))) == ["Status"]
    ev = ks.receive(incoming("iopub", "execute_result", {"execution_count": 1, "data": {"text/plain": "2"}}, req))
    assert kinds(ev) == ["ExecuteResult"] and ev[0].data["text/plain"] == "2" and ev[0].request is req
    ev = ks.receive(incoming("shell", "execute_reply", {"status": "ok", "execution_count": 1}, req))
    assert kinds(ev) == ["Reply"] and not req.done
    ev = ks.receive(incoming("iopub", "status", {"execution_state": "idle"}, req))
    assert kinds(ev) == ["Status", "RequestDone"] and req.done
    assert ks.next_count == 2 and req.msg_id not in ks.pending


def test_done_needs_reply_and_idle_idle_first():
    ks = s.KernelSession("sess")
    _, req = ks.execute("x")
    assert kinds(ks.receive(incoming("iopub", "status", {"execution_state": "idle"}, req))) == ["Status"]
    assert not req.done
    ev = ks.receive(incoming("shell", "execute_reply", {"status": "error", "execution_count": 4}, req))
    assert kinds(ev) == ["Reply", "RequestDone"] and req.failed and ks.next_count == 5


def test_routing_by_parent_only():
    ks = s.KernelSession("sess")
    _, a = ks.execute("a")
    _, b = ks.execute("b")
    ev = ks.receive(incoming("iopub", "stream", {"name": "stdout", "text": "B\n"}, b, "sess"))
    assert ev[0].request is b and not ev[0].other
    ev = ks.receive(incoming("iopub", "stream", {"name": "stderr", "text": "A\n"}, a, "sess"))
    assert ev[0].request is a and ev[0].name == "stderr"


def test_other_client_messages_are_marked():
    ks = s.KernelSession("mine")
    ev = ks.receive(incoming("iopub", "execute_input", {"code": "x=1", "execution_count": 7}, "theirs-req", "theirs"))
    assert ev[0].other and ev[0].request is None and ev[0].code == "x=1"
    assert ks.next_count == 8
    ev = ks.receive(incoming("iopub", "stream", {"name": "stdout", "text": "hi"}, "theirs-req", "theirs"))
    assert ev[0].other


def test_duplicate_msg_ids_are_dropped():
    ks = s.KernelSession("sess")
    _, req = ks.execute("x")
    msg = incoming("iopub", "stream", {"name": "stdout", "text": "once\n"}, req, msg_id="dup")
    assert kinds(ks.receive(msg)) == ["Stream"]
    assert ks.receive(msg) == []


def test_wrongly_typed_fields_do_not_raise():
    ks = s.KernelSession("sess")
    _, req = ks.execute("x")
    for content in ({"text": 5, "name": []}, {"data": "nope"}, {"traceback": "x"}, None, []):
        for kind in ("stream", "execute_result", "error", "display_data", "status", "clear_output", "bogus"):
            ks.receive(incoming("iopub", kind, content, req))
    ev = ks.receive(incoming("shell", "execute_reply", {"status": 3, "execution_count": "x"}, req))
    assert kinds(ev)[0] == "Reply"
    ev = ks.receive(incoming("shell", "execute_reply", {"status": "ok"}, "nobody"))
    assert kinds(ev) == ["Unhandled"]


def test_kernel_death_finishes_pending_requests():
    ks = s.KernelSession("sess")
    _, req = ks.execute("import os; os._exit(1)")
    ev = ks.receive(incoming("iopub", "status", {"execution_state": "restarting"}))
    assert kinds(ev) == ["Status", "KernelLost", "RequestDone"]
    assert req.done and req.status == "lost" and req.failed and not ks.pending


def test_input_request_carries_header():
    ks = s.KernelSession("sess")
    _, req = ks.execute("input('name? ')")
    msg = incoming("stdin", "input_request", {"prompt": "name? ", "password": False}, req)
    (ev,) = ks.receive(msg)
    assert isinstance(ev, s.InputRequest) and ev.prompt == "name? " and ev.header == msg["header"]


def test_kernel_info_reply_sets_language():
    ks = s.KernelSession("sess")
    _, req = ks.kernel_info_request()
    content = {"status": "ok", "language_info": {"name": "python", "pygments_lexer": "ipython3"}}
    ks.receive(incoming("shell", "kernel_info_reply", content, req))
    assert ks.language_info["pygments_lexer"] == "ipython3"


def test_the_count_is_known_once_the_kernel_says():
    ks = s.KernelSession("sess")
    assert not ks.count_known  # an attached kernel: next_count 1 is only a guess
    _, probe = ks.execute("", silent=True, store_history=False)
    ks.receive(incoming("shell", "execute_reply", {"status": "ok", "execution_count": 4}, probe))
    assert not ks.count_known and ks.last_count == 4  # a silent reply: the kernel's learner decides
    ks.learn_count(4)
    assert ks.count_known and ks.next_count == 5
    other = s.KernelSession("other")
    other.receive(incoming("iopub", "execute_input", {"code": "x", "execution_count": 7}, "theirs-req", "theirs"))
    assert other.count_known and other.next_count == 8  # another client's cell tells it too
    lost = s.KernelSession("lost")
    lost.receive(incoming("iopub", "status", {"execution_state": "restarting"}))
    assert lost.count_known and lost.next_count == 1  # a restarted kernel starts again at 1


def test_silent_execute_does_not_advance_count():
    ks = s.KernelSession("sess")
    _, req = ks.execute("", silent=True, store_history=False)
    ks.receive(incoming("shell", "execute_reply", {"status": "ok", "execution_count": 9}, req))
    assert ks.next_count == 1


def signed(channel, msg_type, content, parent=None, kernel_session="kA", msg_id=None):
    msg = incoming(channel, msg_type, content, parent, msg_id=msg_id)
    msg["header"]["session"] = kernel_session
    return msg


def test_restart_by_another_client_ends_the_cell_and_resets_the_count():
    # what Kernel Gateway sends when someone POSTs /restart while our cell runs (measured)
    ks = s.KernelSession("me")
    _, req = ks.execute("while True: pass")
    ks.receive(signed("iopub", "status", {"execution_state": "busy"}, req))
    ks.receive(signed("iopub", "execute_input", {"code": "x", "execution_count": 3}, req))
    assert ks.next_count == 4 and req.execution_count == 3
    ks.receive(signed("iopub", "status", {"execution_state": "busy"}, "srv"))
    ev = ks.receive(signed("iopub", "shutdown_reply", {"status": "ok", "restart": True}, "srv"))
    assert kinds(ev) == ["Unhandled", "KernelLost", "RequestDone"] and ev[1].state == "restarted"
    assert req.done and req.status == "lost" and ks.next_count == 1
    # the old kernel's last words still route to the cell; nothing is lost twice
    ev = ks.receive(signed("iopub", "error", {"ename": "KeyboardInterrupt", "evalue": "", "traceback": []}, req))
    assert kinds(ev) == ["ErrorOutput"] and ev[0].request is req
    assert kinds(ks.receive(signed("iopub", "status", {"execution_state": "idle"}, req))) == ["Status"]
    # the new kernel answers a new request: adopted without another loss
    _, nxt = ks.execute("1+1")
    ev = ks.receive(signed("iopub", "status", {"execution_state": "busy"}, nxt, "kB"))
    assert kinds(ev) == ["Status"]


def test_a_new_kernel_session_means_a_restart_we_did_not_see():
    ks = s.KernelSession("me")
    _, a = ks.execute("a")
    ks.receive(signed("iopub", "status", {"execution_state": "busy"}, a, "kA"))
    _, b = ks.execute("b")
    ev = ks.receive(signed("shell", "execute_reply", {"status": "ok", "execution_count": 1}, b, "kB"))
    assert kinds(ev) == ["KernelLost", "RequestDone", "Reply"]
    assert a.status == "lost" and b.status == "ok" and not b.done  # b is the new kernel's: it goes on


def test_status_starting_after_the_handshake_is_a_restart():
    ks = s.KernelSession("me")
    _, info = ks.kernel_info_request()
    ks.receive(signed("shell", "kernel_info_reply", {"status": "ok"}, info, "kA"))
    _, req = ks.execute("x")
    ev = ks.receive(signed("iopub", "status", {"execution_state": "starting"}, None, "kB"))
    assert kinds(ev)[:2] == ["Status", "KernelLost"] and req.status == "lost" and info.status == "lost"


def test_a_starting_status_from_the_process_already_heard_is_not_another_restart():
    """After a restart the new process may answer before its own 'starting' comes (the server's
    nudge): that 'starting' is not a second restart, and its process is not retired."""
    ks = s.KernelSession("me")
    _, info = ks.kernel_info_request()
    ks.receive(signed("shell", "kernel_info_reply", {"status": "ok"}, info, "kB"))
    _, req = ks.execute("x")
    ev = ks.receive(signed("iopub", "status", {"execution_state": "starting"}, None, "kB"))
    assert kinds(ev) == ["Status"] and req.status is None and ks.kernel_session == "kB"


def test_shutdown_reply_without_restart_is_a_shutdown():
    ks = s.KernelSession("me")
    _, req = ks.execute("x")
    ev = ks.receive(signed("iopub", "shutdown_reply", {"status": "ok", "restart": False}, "srv"))
    assert [e.state for e in ev if isinstance(e, s.KernelLost)] == ["shutdown"] and req.status == "lost"


def test_give_up_ends_a_request_whose_end_was_lost():
    ks = s.KernelSession("me")
    _, req = ks.execute("x")
    assert kinds(ks.give_up(req)) == ["RequestDone"] and req.done and req.status == "unknown"
    assert ks.give_up(req) == []


def test_seen_and_clock_offset():
    ks = s.KernelSession("me")
    _, req = ks.execute("x")
    assert not req.seen
    msg = signed("iopub", "status", {"execution_state": "busy"}, req)
    msg["header"]["date"] = "2026-01-01T00:00:00+00:00"
    ks.receive(msg, now=s.kernel_time("2026-01-01T00:00:02+00:00"))
    assert req.seen and ks.clock_offset == 2.0
    assert s.kernel_time("garbage") is None and s.kernel_time("") is None


def test_status_around_other_requests_does_not_hide_a_busy_shell():
    ks = s.KernelSession("me")
    ks.state = "busy"  # another client's cell runs
    _, info = ks.kernel_info_request(channel="control")
    nudge = "server-nudge"
    for parent in (info, nudge):
        for state in ("busy", "idle"):
            msg = incoming("iopub", "status", {"execution_state": state}, parent)
            msg["parent_header"]["msg_type"] = "kernel_info_request"
            ks.receive(msg)
    ks.receive(incoming("control", "kernel_info_reply", {"status": "ok"}, info))
    assert info.done and ks.state == "busy"
    _, cell = ks.execute("x")
    msg = incoming("iopub", "status", {"execution_state": "idle"}, cell)
    msg["parent_header"]["msg_type"] = "execute_request"
    ks.receive(msg)
    assert ks.state == "idle"
    ks.state = "starting"  # a restarted kernel: the server's nudge is its first sign of life
    msg = incoming("iopub", "status", {"execution_state": "idle"}, nudge)
    msg["parent_header"]["msg_type"] = "kernel_info_request"
    ks.receive(msg)
    assert ks.state == "idle"


def test_a_comm_message_is_done_when_the_kernel_is_idle_after_it_and_its_output_is_routed_to_it():
    ks = s.KernelSession("sess")
    msg, req = ks.comm("c1", {"method": "update", "state": {"value": 3}, "buffer_paths": []})
    assert msg["channel"] == "shell" and msg["header"]["msg_type"] == "comm_msg"
    assert msg["content"] == {"comm_id": "c1", "data": {"method": "update", "state": {"value": 3}, "buffer_paths": []}}
    assert kinds(ks.receive(incoming("iopub", "status", {"execution_state": "busy"}, req))) == ["Status"]
    (out,) = ks.receive(incoming("iopub", "stream", {"name": "stdout", "text": "f(3)\n"}, req))
    assert out.request is req and not out.other and not req.done
    ev = ks.receive(incoming("iopub", "status", {"execution_state": "idle"}, req))
    assert kinds(ev) == ["Status", "RequestDone"] and req.done and req.msg_id not in ks.pending


def test_the_kernel_processes_message_counts_are_followed_and_reset_with_the_process():
    assert m.message_number({"header": {"msg_id": "kA_1832_47", "session": "kA"}}) == 47
    assert m.message_number({"header": {"msg_id": "48a22665efc881f9", "session": "kA"}}) is None  # a uuid: no count
    assert m.message_number({"header": {"msg_id": "kB_1832_47", "session": "kA"}}) is None  # not its own
    assert m.message_number({"header": {"msg_id": "kA_x_", "session": "kA"}}) is None
    ks = s.KernelSession("me")
    _, req = ks.execute("x")
    ks.receive(signed("iopub", "status", {"execution_state": "busy"}, req, msg_id="kA_9_5"))
    assert ks.last_number is None  # the process is not known yet (its first reply tells it)
    ks.receive(signed("shell", "execute_reply", {"status": "ok", "execution_count": 1}, req, msg_id="kA_9_7"))
    ks.receive(signed("iopub", "status", {"execution_state": "idle"}, req, msg_id="kA_9_6"))  # (iopub's own thread)
    assert ks.last_number == 7
    _, req2 = ks.execute("y")
    ks.receive(signed("shell", "execute_reply", {"status": "ok", "execution_count": 1}, req2, kernel_session="kB",
                      msg_id="kB_10_3"))
    assert ks.last_number is None  # a new process (a restart) counts from its own start
