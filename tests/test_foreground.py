"""The foreground cell's state machine, walked through every timing, without a terminal."""

from repl.protocol import session as s
from repl.ui.foreground import PATIENCE_INTERRUPTS, Do, Foreground

T0 = 1_700_000_000.0  # a kernel-clock time


def date(t: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(t, timezone.utc).isoformat()


def new():
    req = s.Request("m1", "execute_request", code="x")
    return Foreground(req), req


def out(req, text, t=T0):
    return s.Stream(req, False, "stdout", text, date=date(t))


def test_ctrl_c_before_the_kernel_starts_the_cell_waits_for_it():
    fg, req = new()
    assert fg.ctrl_c(T0, 0.0) is Do.NOTHING and fg.interrupt_on_start
    assert fg.event(s.Status(req, False, "busy")) is Do.NOTHING  # ipykernel ignores SIGINT a moment yet
    assert fg.event(s.ExecuteInput(req, False, "x", 1)) is Do.INTERRUPT
    assert fg.started and not fg.interrupt_on_start
    assert fg.event(s.ExecuteInput(req, False, "x", 1)) is Do.NOTHING  # only once


def test_ctrl_c_after_busy_waits_for_execute_input():
    """ipykernel says busy while it still ignores SIGINT: an interrupt then was lost (seen under load)."""
    fg, req = new()
    assert fg.event(s.Status(req, False, "busy")) is Do.NOTHING
    assert fg.ctrl_c(T0, 0.0) is Do.NOTHING and fg.interrupt_on_start
    assert fg.event(s.ExecuteInput(req, False, "x", 1)) is Do.INTERRUPT


def test_a_kernel_that_never_says_execute_input_is_interrupted_by_a_second_press():
    fg, req = new()
    fg.event(s.Status(req, False, "busy"))
    assert [fg.ctrl_c(T0, 0.0) for _ in range(PATIENCE_INTERRUPTS)] == [Do.NOTHING, Do.INTERRUPT, Do.GIVE_UP]


def test_ctrl_c_while_running_interrupts_at_once():
    fg, req = new()
    assert fg.event(s.ExecuteInput(req, False, "x", 1)) is Do.NOTHING
    assert fg.ctrl_c(T0, 0.0) is Do.INTERRUPT


def test_backlog_before_the_press_is_skipped_output_after_it_is_drawn():
    fg, req = new()
    fg.event(s.ExecuteInput(req, False, "x", 1))
    # local clock runs 5 s ahead of the kernel's
    assert fg.ctrl_c(T0 + 5, clock_offset=5.0) is Do.INTERRUPT
    assert fg.event(out(req, "flood 1\n", T0 - 1)) is Do.SKIP
    assert fg.event(out(req, "flood 2\nflood 3\n", T0 - 0.5)) is Do.SKIP
    # the handler's print, on a line of its own: the skipped backlog may have ended mid-line
    assert fg.event(out(req, "partial ", T0 + 0.1)) is Do.NEWLINE_THEN_DRAW
    assert fg.event(out(req, "result\n", T0 + 0.2)) is Do.DRAW  # the same line goes on
    err = s.ErrorOutput(req, False, "KeyboardInterrupt", "", [], date=date(T0 - 2))
    assert fg.event(err) is Do.DRAW  # an error is never skipped
    assert fg.skipped == 2
    assert fg.summary() == ["[2 output messages produced before the interrupt skipped; the last lines:]",
                            "flood 1", "flood 2", "flood 3"]


def test_without_a_clock_everything_after_the_press_is_backlog():
    fg, req = new()
    fg.event(s.ExecuteInput(req, False, "x", 1))
    fg.ctrl_c(T0, None)
    assert fg.event(out(req, "x\n", T0 + 100)) is Do.SKIP


def test_third_press_gives_up_and_ctrl_z_detaches():
    fg, req = new()
    fg.event(s.ExecuteInput(req, False, "x", 1))
    presses = [fg.ctrl_c(T0, 0.0) for _ in range(PATIENCE_INTERRUPTS)]
    assert presses == [Do.INTERRUPT] * (PATIENCE_INTERRUPTS - 1) + [Do.GIVE_UP]
    assert fg.detached and fg.ctrl_c(T0, 0.0) is Do.NOTHING and fg.ctrl_z() is Do.NOTHING
    fg2, _ = new()
    assert fg2.ctrl_z() is Do.DETACH and fg2.ctrl_z() is Do.NOTHING


def test_ctrl_c_during_input_interrupts_the_started_cell():
    fg, req = new()
    fg.event(s.ExecuteInput(req, False, "input()", 1))
    # input() waits: the prompt reads the key, the machine decides
    assert fg.ctrl_c(T0, 0.0) is Do.INTERRUPT


def test_finish_after_reply_then_idle_and_idle_then_reply():
    for order in (("reply", "idle"), ("idle", "reply")):
        ks = s.KernelSession("me")
        _, req = ks.execute("1")
        fg = Foreground(req)
        msgs = {
            "reply": {"channel": "shell", "header": {"msg_id": "r" + order[0], "msg_type": "execute_reply"},
                      "parent_header": {"msg_id": req.msg_id}, "content": {"status": "ok", "execution_count": 1}},
            "idle": {"channel": "iopub", "header": {"msg_id": "i" + order[0], "msg_type": "status"},
                     "parent_header": {"msg_id": req.msg_id}, "content": {"execution_state": "idle"}},
        }
        dos = [fg.event(ev) for name in order for ev in ks.receive(msgs[name])]
        assert dos[-1] is Do.FINISH and dos.count(Do.FINISH) == 1


def test_clear_output_now_and_on_the_next_output():
    fg, req = new()
    assert fg.event(s.ClearOutput(req, False, False)) is Do.CLEAR
    assert fg.event(s.ClearOutput(req, False, True)) is Do.NOTHING
    assert fg.event(s.Status(req, False, "idle")) is Do.NOTHING  # not an output: keeps waiting
    assert fg.event(out(req, "next\n")) is Do.CLEAR_THEN_DRAW
    assert fg.event(out(req, "more\n")) is Do.DRAW
