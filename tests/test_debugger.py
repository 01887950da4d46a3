"""The kernel's debugger from the terminal: breakpoints, stepping, variables, exceptions, pause,
over the Jupyter debug protocol. The real `repl` in a pty against real servers and ipykernel
(with debugpy)."""

import re

import pytest

DEF = "def f(n):\n    t = 0\n    for i in range(n):\n        t += i\n    return t\n"


def paste(t, code: str) -> None:
    """A multi-line cell as a terminal pastes it, then Enter."""
    t.type("\x1b[200~" + code + "\x1b[201~")
    t.type("\r")


def after(t, marker: str) -> str:
    """What the program wrote after the last ``marker`` (escape sequences removed)."""
    return t.plain().rsplit(marker, 1)[-1]


def stop_in_f(t, n: int = 4) -> None:
    t.wait_prompt(1)
    paste(t, DEF)
    t.wait_prompt(2)
    t.enter("/break 1:4")
    t.wait_for("breakpoint at In [1] line 4")
    t.enter(f"f({n})")
    t.wait_for("(dbg) f:4>")


def test_breakpoint_step_variables_continue(term, server):
    t = term(gw=server)
    stop_in_f(t)
    assert "stopped at a breakpoint: In [1] line 4, in f" in t.plain()
    t.wait_for(lambda t: "stopped at In [1] line 4 in f" in t.text().rstrip().splitlines()[-1])  # the toolbar
    t.enter("t + 100")  # evaluated in the frame
    t.wait_for("Out: 100")
    for line in (3, 4, 3):  # through the loop: i=0 done, i=1 starts, t += 1 done
        t.enter("n")
        t.wait_for(lambda t, line=line: f"(dbg) f:{line}>" in after(t, "> n"))
    t.enter("v")
    t.wait_for(lambda t: "t = 1  (int)" in after(t, "> v"))
    assert "i = 1  (int)" in after(t, "> v") and "n = 4  (int)" in after(t, "> v")
    t.enter("c")  # the breakpoint again, i = 2
    t.wait_for(lambda t: "stopped at a breakpoint" in after(t, "> c"))
    t.enter("p i")
    t.wait_for("Out: 2")
    t.enter("q")  # breakpoints gone, the cell goes on to its result
    t.wait_for("Out[2]: 6")
    t.wait_prompt(3)
    t.enter("/break")
    t.wait_for("no breakpoints on")


def test_conditional_breakpoint_where_and_up(term):
    t = term()
    t.wait_prompt(1)
    paste(t, DEF)
    t.wait_prompt(2)
    t.enter("/break 1:4 if i == 3")
    t.wait_for("breakpoint at In [1] line 4 if i == 3")
    t.enter("/break")
    t.wait_for("In [1] line 4  if i == 3")
    t.enter("f(6)")
    t.wait_for("(dbg) f:4>")
    t.enter("i")
    t.wait_for("Out: 3")
    t.enter("w")
    t.wait_for(lambda t: "<module>  In [2] line 1" in after(t, "> w"))
    assert ">  0  f  In [1] line 4" in after(t, "> w")
    t.enter("u")
    t.wait_for("(dbg) <module>:1>")
    t.ctrl("d")  # Ctrl-D continues
    t.wait_for("Out[2]: 15")


def test_stop_on_a_raised_exception_names_it(term):
    t = term()
    t.wait_prompt(1)
    t.enter("/break raised")
    t.wait_for("stops on every exception raised")
    paste(t, "try:\n    1/0\nexcept ZeroDivisionError:\n    caught = True\n")
    t.wait_for("(dbg) <module>:2>")
    assert "stopped on ZeroDivisionError: division by zero: In [1] line 2" in t.plain()
    t.ctrl("c")  # clears the line, stays stopped
    t.enter("c")
    t.wait_prompt(2)
    t.enter("/break noexc")
    t.wait_for("no longer stops on exceptions")
    t.enter("caught")
    t.wait_for("Out[2]: True")


def test_pause_a_cell_running_in_the_background(term):
    t = term()
    t.wait_prompt(1)
    t.enter("import time")
    t.wait_prompt(2)
    t.enter("/break uncaught")  # the debugger starts while the kernel is idle (ipykernel needs that)
    t.wait_for("stops on exceptions nothing catches")
    paste(t, "print('loop' + 'ing', flush=True)\nwhile True: time.sleep(0.05)\n")
    t.wait_for("looping")
    t.ctrl("z")
    t.wait_for("cell sent to the background")
    t.wait_prompt(3)
    t.enter("/pause")
    t.wait_for("paused: In [2] line 2, in <module>")
    t.wait_for("(dbg) <module>:2>")
    t.enter("q")
    t.wait_for("debugger detached")
    t.wait_prompt(3)
    t.enter("/interrupt")
    t.wait_for("background cell In [2] failed")
    t.enter("/pause")
    t.wait_for("nothing runs on python3")


def test_breakpoints_hold_across_a_reconnect(term, proxy):
    t = term(url=proxy.url)
    t.wait_prompt(1)
    paste(t, DEF)
    t.wait_prompt(2)
    t.enter("/break 1:4")
    t.wait_for("breakpoint at In [1] line 4")
    assert proxy.cut() >= 1
    t.wait_for("reconnected to kernel", timeout=60)
    t.enter("f(3)")
    t.wait_for("(dbg) f:4>")
    t.enter("q")
    t.wait_for("Out[2]: 3")


def test_a_restart_while_stopped_ends_the_dbg_prompt_and_breakpoints_are_set_again(term, gateway):
    import httpx

    t = term()
    stop_in_f(t, 2)
    kid = re.search(r"started python3 kernel ([0-9a-f]{8})", t.plain()).group(1)
    headers = {"Authorization": f"token {gateway.token}"}
    (full,) = [k["id"] for k in httpx.get(f"{gateway.url}/api/kernels", headers=headers).json() if k["id"].startswith(kid)]
    assert httpx.post(f"{gateway.url}/api/kernels/{full}/restart", headers=headers, timeout=60).status_code == 200
    t.wait_for(lambda t: "execution went on" in t.plain(), timeout=30)  # the (dbg) prompt goes away by itself
    t.wait_for(lambda t: "1 breakpoint(s) set again on the restarted python3" in t.plain(), timeout=60)
    assert "internal error" not in t.plain() and "Return value already set" not in t.plain()
    t.wait_for(lambda t: "In [1]:" in after(t, "set again"))
    paste(t, DEF)  # the same code in the new kernel: its breakpoint holds
    t.wait_prompt(2)
    t.enter("f(2)")
    t.wait_for("(dbg) f:4>")
    t.enter("q")
    t.wait_for("Out[2]: 1")


def test_a_kernel_without_a_debugger_says_so(term):
    t = term("--kernel", "bash")
    t.wait_for("started bash kernel")
    t.enter("echo hi")
    t.wait_for("hi")
    t.enter("/break 1:1")
    t.wait_for("kernel bash has no debugger")
    t.enter("/break")
    t.wait_for("no breakpoints on bash")
    t.enter("echo still here")
    t.wait_for(lambda t: "still here" in after(t, "echo still here"))


@pytest.mark.parametrize("leave", ["q", "ctrl-c"])
def test_ipdb_over_stdin_has_line_editing_history_and_leaves(term, leave):
    t = term()
    t.wait_prompt(1)
    paste(t, "def g():\n    x = 6\n    1/0\n")
    t.wait_prompt(2)
    t.enter("g()")
    t.wait_for("ZeroDivisionError")
    t.wait_prompt(3)
    t.enter("%debug")
    t.wait_for("ipdb>")
    t.enter("p x * 7")
    # asked again (the answer's output and the next question travel on different channels: either first)
    t.wait_for(lambda t: "42" in t.text() and t.text().rstrip().endswith("ipdb>"))
    t.type("\x1b[A")  # Up: the last answer comes back, no escape garbage
    t.wait_for(lambda t: t.text().rstrip().splitlines()[-1].endswith("ipdb> p x * 7"))
    t.enter("")
    t.wait_for(lambda t: t.text().count("42") >= 2)
    assert "^[[A" not in t.plain() and "[A" not in t.text()
    if leave == "q":
        t.enter("q")
    else:
        t.ctrl("c")
    t.wait_prompt(4, timeout=30)


def test_file_breakpoint_paged_variables_completion_trace_and_use(term, tmp_path):
    mod = tmp_path / "modx.py"
    mod.write_text("def g(k):\n    data = list(range(k))\n    return len(data)\n")
    t = term(rows=60)
    t.wait_prompt(1)
    t.enter(f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import modx")
    t.wait_prompt(2)
    t.enter(f"/break {mod}:3")
    t.wait_for(f"breakpoint at {mod}:3 on python3")
    assert "not confirmed" not in t.text()
    t.enter("/new")  # breakpoints belong to their kernel, through /use switches
    t.wait_for("it is now current")
    t.enter("/break")
    t.wait_for("no breakpoints on python3-")
    first = re.search(r"started python3 kernel ([0-9a-f]{8})", t.plain()).group(1)
    t.enter(f"/use {first}")
    t.wait_for("switched to python3")
    t.enter("/break")
    t.wait_for(f"{mod}:3")
    t.enter("/debug on")
    t.wait_for("trace")
    t.enter("modx.g(120)")
    t.wait_for("(dbg) g:3>")
    assert f"stopped at a breakpoint: {mod}:3, in g" in t.plain()
    assert "return len(data)" in t.plain()  # the file's source, from the debugger
    plain = t.plain()
    assert "debug_request(stackTrace)" in plain and "debug_reply(stackTrace)" in plain  # the trace shows them
    assert "debug_event(stopped)" in plain
    t.enter("v data")
    t.wait_for(": v data 50")  # a page, and how to get the next
    assert "000 = 0  (int)" in after(t, "> v data") and "100 = 100" not in after(t, "> v data")
    t.enter("v data 100")  # debugpy lists a hundred items, then a group of the rest
    t.wait_for(lambda t: "more [100:120]: v data.more" in after(t, "> v data 100"))
    assert "047 = 47" not in after(t, "> v data 100") and "099 = 99" in after(t, "> v data 100")
    t.enter("v data.more")
    t.wait_for(lambda t: "119 = 119" in after(t, "> v data.more"))
    t.type("dat\t")  # Tab completes from the debugger
    t.wait_for(lambda t: "(dbg) g:3> data" in t.text())
    t.type("\x15")  # clear the line
    t.enter("q")
    t.wait_for("Out[2]: 120")


def test_input_evaluated_at_dbg_is_asked_and_the_next_cell_runs(term):
    t = term()
    stop_in_f(t)
    t.enter('input("name? ")')  # the question shows at once; the (dbg) prompt waits for its answer
    t.wait_for(lambda t: "name?" in after(t, 'input("name? ")'), timeout=10)
    t.enter("bob")
    t.wait_for("Out: 'bob'")
    t.wait_for(lambda t: "(dbg) f:4>" in after(t, "Out: 'bob'"))
    t.enter("q")
    t.wait_for("Out[2]: 6")
    t.wait_prompt(3)
    t.enter("6*7")  # runs: nothing takes it as the answer to an old input()
    t.wait_for("Out[3]: 42")


def test_stepping_off_the_end_of_a_cell_ends_the_stop(term):
    t = term()
    stop_in_f(t, 2)
    t.enter("/unbreak all")  # a /command at (dbg) is a command there too
    t.wait_for("removed 1 breakpoint(s) from python3")
    t.enter("r")  # out of f, back in the cell
    t.wait_for(lambda t: "(dbg) <module>:1>" in after(t, "> r"))
    t.enter("n")  # past the cell's end: it finishes
    t.wait_for("Out[2]: 1")
    t.wait_prompt(3)
    t.enter("40+2")  # the next cell is not stopped by the old step
    t.wait_for("Out[3]: 42")
    assert "(dbg)" not in after(t, "Out[2]: 1")


def test_conditions_that_cannot_work_are_said_so(term):
    t = term()
    t.wait_prompt(1)
    paste(t, DEF)
    t.wait_prompt(2)
    t.enter("/break 1:4 if i >")
    t.wait_for("the condition 'i >' does not compile: invalid syntax")
    t.enter("/break")
    t.wait_for("no breakpoints on python3")
    t.enter("/break 1:4 if 1/0")
    t.wait_for("breakpoint at In [1] line 4 if 1/0")
    t.enter("f(3)")
    t.wait_for("Out[2]: 3")
    assert after(t, "f(3)").count("the condition '1/0' of a breakpoint on python3 raised ZeroDivisionError") == 1


def test_library_frames_are_skipped_and_dbg_takes_commands(term):
    t = term(rows=60)
    t.wait_prompt(1)
    t.enter("/break raised")
    t.wait_for("stops on every exception raised")
    t.enter("d = {i: i for i in range(200000)}; 1/0")
    t.wait_for("(dbg) <module>:1>")
    t.enter("v d")  # debugpy lists 500 of them: the size is the dict's
    t.wait_for(lambda t: "more: v d 50 (d has 200,000 items; the debugger lists the first 500)" in after(t, "> v d"))
    assert "of 504" not in t.plain()
    t.enter("/kernels")  # a command, not Python
    t.wait_for(lambda t: "python3" in after(t, "> /kernels") and "(dbg) <module>:1>" in after(t, "> /kernels"))
    assert "SyntaxError" not in t.plain()
    t.enter("/break")
    t.wait_for(lambda t: "on raised exceptions" in after(t, "> /break"))
    t.enter("c")  # IPython formats the traceback (asttokens raises and catches inside): no stop there
    t.wait_for(lambda t: "ZeroDivisionError: division by zero" in after(t, "> c"))
    t.wait_prompt(2)
    assert "(dbg)" not in after(t, "> c")


def test_a_second_client_joins_the_debugging_session(term):
    a = term()
    a.wait_prompt(1)
    kid = re.search(r"started python3 kernel ([0-9a-f]{8})", a.plain()).group(1)
    paste(a, DEF)
    a.wait_prompt(2)
    a.enter("/break 1:4")
    a.wait_for("breakpoint at In [1] line 4")
    b = term("--attach", kid)
    b.wait_for(f"attached to python3 kernel {kid}")
    b.enter("/break uncaught")
    b.wait_for("stops on exceptions nothing catches")
    assert "Invalid message" not in b.plain() and "already started" not in b.plain()
    b.ctrl("d")  # leaving does not end the other client's session
    b.wait_exit()
    a.enter("f(2)")
    a.wait_for("(dbg) f:4>")
    a.enter("q")
    a.wait_for("Out[2]: 1")


def test_ctrl_c_and_ctrl_d_stop_waiting_at_dbg_when_the_link_is_down(term, proxy):
    t = term(url=proxy.url, rows=60)
    stop_in_f(t)
    t.enter("/debug on debug_request")  # (a command at (dbg)) shows when the request is on its way
    t.wait_for("debug trace is on")
    proxy.refusing = True  # the link goes silent, and no new one comes
    assert proxy.freeze() >= 1
    t.enter("v")
    t.wait_for(lambda t: "debug_request(scopes)" in after(t, "> v"))
    t.ctrl("c")
    t.wait_for(lambda t: "stopped waiting for the debugger of python3" in after(t, "> v"), timeout=5)
    t.wait_for(lambda t: "(dbg) f:4>" in after(t, "stopped waiting"))
    t.enter("v")
    t.wait_for(lambda t: "debug_request(scopes)" in after(t, "> v"))
    t.ctrl("d")
    t.wait_for(lambda t: "stopped waiting for the debugger" in after(t, "> v"), timeout=5)
    assert "interrupt failed" not in t.plain() and "did not answer" not in t.plain()
    t.wait_for(lambda t: "(dbg) f:4>" in after(t, "stopped waiting"))
    proxy.refusing = False
    proxy.frozen.clear()  # the link comes back: the cell goes on
    t.enter("q")
    t.wait_for("Out[2]: 6", timeout=90)
