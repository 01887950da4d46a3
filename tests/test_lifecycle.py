"""The world misbehaving while a cell runs: restarts and deletes by another client, a link that
freezes, a kernel kept busy by someone else, Ctrl-C handlers, input() from the background, Ctrl-D
with running jobs. The real `repl` in a pty against a real Kernel Gateway."""

import re
import subprocess
import sys
import time

import httpx
import pytest

from tests.proxy import CutProxy



def kernel_id(t, gateway):
    """The id of the kernel this repl started (its start line shows the first 8 characters)."""
    prefix = re.search(r"(?:started|attached to) \w+ kernel ([0-9a-f]{8})", t.text()).group(1)
    kernels = httpx.get(f"{gateway.url}/api/kernels", headers={"Authorization": f"token {gateway.token}"}).json()
    (kid,) = [k["id"] for k in kernels if k["id"].startswith(prefix)]
    return kid


def rest(gateway, method, path):
    return httpx.request(method, f"{gateway.url}/api/{path}", headers={"Authorization": f"token {gateway.token}"},
                         timeout=60)


def toolbar(t):
    return t.text().rstrip().splitlines()[-1]


def test_restart_by_another_client_mid_cell_ends_the_cell(term, gateway):
    t = term()
    t.wait_prompt(1)
    t.enter("x = 1")
    t.wait_prompt(2)
    t.enter("import time; [(print('tick', i, flush=True), time.sleep(0.1)) for i in range(1000)]")
    t.wait_for("tick 3")
    assert rest(gateway, "POST", f"kernels/{kernel_id(t, gateway)}/restart").status_code == 200
    t.wait_for("was restarted: its state (variables, imports) is lost", timeout=30)
    # back, numbered by the new kernel (the traceback may have scrolled the first prompt away)
    t.wait_for(lambda t: "In [1]:" in t.plain().split("was restarted")[-1], timeout=30)
    t.enter("'x' in dir()")
    t.wait_for("Out[1]: False")


def test_restart_by_another_client_while_idle_resets_the_prompt_number(term, gateway):
    t = term()
    t.wait_prompt(1)
    t.enter("y = 2")
    t.wait_prompt(2)
    assert rest(gateway, "POST", f"kernels/{kernel_id(t, gateway)}/restart").status_code == 200
    t.wait_for("was restarted", timeout=30)
    t.wait_for(lambda t: "In [1]:" in t.plain().split("was restarted")[-1])
    t.enter("1/0")
    t.wait_for("ZeroDivisionError")
    assert "Cell In[1]" in t.plain()


def test_delete_by_another_client_while_idle(term, gateway):
    t = term()
    t.wait_prompt(1)
    kid = kernel_id(t, gateway)
    assert rest(gateway, "DELETE", f"kernels/{kid}").status_code == 204
    t.wait_for("is gone from the server; /new starts another", timeout=30)
    t.wait_for(lambda t: "│ gone │" in toolbar(t))
    t.enter("1+1")
    t.wait_for(lambda t: t.text().count("is gone from the server") >= 2, timeout=10)
    assert "Out[" not in t.text()
    t.enter(f"/use {kid[:8]}")
    t.wait_for(lambda t: t.text().count("gone") >= 4 and "switched" not in t.text(), timeout=10)
    t.enter("/new")
    t.wait_for("started python3 kernel", timeout=60)
    t.enter("3*3")
    t.wait_for("Out[1]: 9")


def test_delete_by_another_client_mid_cell(term, gateway):
    t = term()
    t.wait_prompt(1)
    t.enter("import time; print('started', flush=True); time.sleep(300)")
    t.wait_for(lambda t: "\nstarted" in t.text())
    assert rest(gateway, "DELETE", f"kernels/{kernel_id(t, gateway)}").status_code == 204
    t.wait_for("is gone from the server", timeout=30)
    t.wait_for(lambda t: "│ gone │" in toolbar(t), timeout=10)


@pytest.mark.parametrize("protocol", ["v1", "legacy"])
def test_link_freezes_mid_cell(term, proxy, protocol):
    t = term("--ping-interval", "0.5", "--ping-timeout", "1", "--protocol", protocol, url=proxy.url)
    t.wait_prompt(1)
    t.enter("import time; [(print('line', i, flush=True), time.sleep(0.1)) for i in range(100)]")
    t.wait_for("line 5")
    started = time.monotonic()
    assert proxy.freeze() >= 1
    t.wait_for("may be lost: the connection was dead", timeout=30)
    t.wait_for("reconnected to kernel")
    t.wait_for("line 99", timeout=30)  # the output goes on streaming over the new connection
    t.wait_prompt(2, timeout=30)  # and the cell ends: never a hang
    print(f"freeze mid-cell ({protocol}): prompt back {time.monotonic() - started:.1f} s after the freeze")
    t.enter("'after'")
    t.wait_for("Out[2]: 'after'")


@pytest.mark.parametrize("protocol", ["v1", "legacy"])
def test_link_frozen_when_a_cell_is_sent_runs_it_once(term, proxy, protocol, tmp_path):
    marks = tmp_path / "runs"
    t = term("--ping-interval", "0.5", "--ping-timeout", "1", "--protocol", protocol, url=proxy.url)
    t.wait_prompt(1)
    assert proxy.freeze() >= 1
    t.enter(f"open({str(marks)!r}, 'a').write('x'); 'ran'")
    t.wait_for("never received the cell; sent it again", timeout=30)
    t.wait_for("Out[1]: 'ran'", timeout=30)
    assert marks.read_text() == "x"
    t.wait_prompt(2)


def test_attach_to_a_kernel_another_client_keeps_busy(term, gateway):
    kid = rest(gateway, "POST", "kernels").json()["id"]
    other = subprocess.Popen([sys.executable, "-m", "repl", "--attach", kid, "-c", "import time; time.sleep(40)"],
                             env=gateway.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while rest(gateway, "GET", f"kernels/{kid}").json()["execution_state"] != "busy":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        launched = time.monotonic()
        t = term("--attach", kid)
        t.wait_for(lambda t: "In [" in t.text() and "│ busy" in toolbar(t), timeout=15)
        took = time.monotonic() - launched
        print(f"attach to a busy kernel: prompt after {took:.1f} s")
        assert took < 15 and other.poll() is None  # the other client's cell still runs
        t.ctrl("d")
        assert t.wait_exit() == 0
    finally:
        other.kill()
        rest(gateway, "DELETE", f"kernels/{kid}")


def test_output_after_ctrl_c_is_shown(term):
    t = term()
    t.wait_prompt(1)
    t.enter(r"""exec("try:\n while True: print('flood', flush=True)\nexcept KeyboardInterrupt:\n print('partial result')")""")
    t.wait_for(lambda t: t.plain().count("flood") > 50)
    t.ctrl("c")
    t.wait_prompt(2, timeout=60)
    # printed after the interrupt: shown as a line of its own, whatever backlog was skipped
    t.wait_for(lambda t: re.search(r"^partial result$", t.plain(), re.M))


def test_bash_runs_on_after_ctrl_c(term):
    t = term("--kernel", "bash")
    t.wait_prompt(1, timeout=90)
    t.enter("echo started; sleep 100; echo after-the-sleep")
    t.wait_for(lambda t: "\nstarted" in t.text())
    t.ctrl("c")
    t.wait_for("after-the-sleep", timeout=30)


def test_input_from_a_background_cell_is_asked_in_turn(term):
    t = term()
    t.wait_prompt(1)
    t.enter("import time; print('started', flush=True); time.sleep(3); name = input('who? '); print('hello', name)")
    t.wait_for(lambda t: "\nstarted" in t.text())
    t.ctrl("z")
    t.wait_for("sent to the background")
    t.wait_prompt(2)
    t.type("half_typed = 12")
    t.wait_for("[python3] who?", timeout=30)
    assert t.text().count("In [2]") <= 1  # no prompt drawn over the question
    t.enter("bob")
    t.wait_for("[python3] hello bob")
    t.wait_for("In [2]: half_typed = 12")  # the half-typed line came back
    t.enter("")
    t.enter("half_typed")
    t.wait_for("Out[3]: 12")


def test_ctrl_d_with_a_background_cell_asks_first(term):
    t = term()
    t.wait_prompt(1)
    t.enter("import time; print('started', flush=True); time.sleep(120)")
    t.wait_for(lambda t: "\nstarted" in t.text())
    t.ctrl("z")
    t.wait_prompt(2)
    t.ctrl("d")
    t.wait_for("still running in the background: In [1] on python3; Ctrl-D again exits")
    assert t.child.isalive()
    t.ctrl("d")
    assert t.wait_exit() == 0


def test_restart_with_a_background_cell_reports_it_with_its_number(term):
    t = term()
    t.wait_prompt(1)
    t.enter("a = 1")
    t.wait_prompt(2)
    t.enter("import time; print('started', flush=True); time.sleep(120)")
    t.wait_for(lambda t: "\nstarted" in t.text())
    t.ctrl("z")
    t.wait_prompt(3)
    t.wait_for(lambda t: "1 busy in background" in toolbar(t))
    t.enter("/restart")
    t.wait_for("[python3] background cell In [2] was lost with the kernel", timeout=30)
    t.wait_for(lambda t: "busy in background" not in toolbar(t) and "In [1]:" in t.text())


def test_exit_in_ipython_leaves_the_repl_and_the_kernel_is_shut_down(term, gateway):
    t = term()
    t.wait_prompt(1)
    kid = kernel_id(t, gateway)
    t.enter("exit")
    assert t.wait_exit() == 0
    deadline = time.monotonic() + 30
    while rest(gateway, "GET", f"kernels/{kid}").status_code != 404:  # never a restarting kernel left behind
        assert time.monotonic() < deadline, "the kernel this repl started is still on the server"
        time.sleep(0.1)
    assert "died" not in t.plain()


def test_one_shot_kernel_that_exits_is_not_left_behind(gateway):
    before = {k["id"] for k in rest(gateway, "GET", "kernels").json()}
    r = subprocess.run([sys.executable, "-m", "repl", "-c", "import os; os._exit(3)"], env=gateway.env(),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    deadline = time.monotonic() + 30
    while {k["id"] for k in rest(gateway, "GET", "kernels").json()} - before:
        assert time.monotonic() < deadline, "the kernel repl -c started is still on the server"
        time.sleep(0.1)


def test_after_a_restart_over_a_slow_link_the_next_cell_runs_promptly(term, gateway):
    slow = CutProxy(int(gateway.url.rsplit(":", 1)[1]), delay=0.15)
    try:
        t = term(url=slow.url)
        t.wait_prompt(1, timeout=90)
        t.enter("import time; [(print('tick', i, flush=True), time.sleep(0.2)) for i in range(1000)]")
        t.wait_for("tick 3", timeout=30)
        kid = kernel_id(t, gateway)
        # a second client queues a cell behind ours
        other = subprocess.Popen([sys.executable, "-m", "repl", "--attach", kid, "-c", "print('second')"],
                                 env=gateway.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while rest(gateway, "GET", f"kernels/{kid}").json().get("connections", 0) < 2:
            assert time.monotonic() < deadline, "the second client did not connect"
            time.sleep(0.1)
        assert rest(gateway, "POST", f"kernels/{kid}/restart").status_code == 200
        t.wait_for("was restarted", timeout=30)
        t.wait_for(lambda t: "In [1]:" in t.plain().split("was restarted")[-1], timeout=30)
        other.wait(60)
        asked = time.monotonic()
        t.enter("'alive'")
        # the restarted kernel says nothing until asked: repl asks, rather than waiting 30 s for it
        t.wait_for("Out[1]: 'alive'", timeout=15)
        print(f"restart over a slow link: next cell answered {time.monotonic() - asked:.1f} s after Enter")
    finally:
        slow.close()


# ------------------------------------------------------------ issue 19 (16): however repl ends, its kernel goes


def _kernels_now(gateway) -> set:
    return {k["id"] for k in rest(gateway, "GET", "kernels").json()}


def _none_left(gateway, before: set, what: str) -> None:
    deadline = time.monotonic() + 30
    while left := _kernels_now(gateway) - before:
        assert time.monotonic() < deadline, f"{what}: the kernel this repl started is still on the server: {left}"
        time.sleep(0.1)


@pytest.mark.parametrize("how", ["terminal closed", "SIGHUP twice", "SIGTERM twice"])
def test_a_kernel_started_here_is_shut_down_however_repl_ends(term, gateway, how, request):
    """Closing the terminal hangs up the pty (the prompt reads EOF) and sends SIGHUP, and the shell
    passes its own SIGHUP on: signals keep coming while repl cleans up, and must not cut that short
    (over a slow link, so that the clean-up takes a while)."""
    import os
    import signal

    slow = CutProxy(int(gateway.url.rsplit(":", 1)[1]), delay=0.1)
    request.addfinalizer(slow.close)
    t = term(url=slow.url)
    t.wait_prompt(1)
    t.enter("print(6 * 7)")
    t.wait_for(lambda t: re.search(r"^42$", t.text(), re.M))
    t.wait_prompt(2)
    kid = kernel_id(t, gateway)
    signum = signal.SIGTERM if how.startswith("SIGTERM") else signal.SIGHUP
    if how == "terminal closed":
        t.child.ptyproc.fileobj.close()  # the terminal's side of the pty goes away
        t.child.ptyproc.closed = True  # (and its fd is not closed again at the end: the number is reused by then)
    deadline = time.monotonic() + 30
    while t.child.isalive():  # the signal again and again, until it has left
        os.kill(t.child.pid, signum)
        assert time.monotonic() < deadline, "repl did not exit"
        time.sleep(0.01)
    deadline = time.monotonic() + 30
    while rest(gateway, "GET", f"kernels/{kid}").status_code != 404:
        assert time.monotonic() < deadline, f"{how}: the kernel this repl started is still on the server"
        time.sleep(0.1)


def test_a_launch_timeout_leaves_no_kernel_starting(gateway):
    before = _kernels_now(gateway)
    r = subprocess.run([sys.executable, "-m", "repl", "--launch-timeout", "0.01", "-c", "1"], env=gateway.env(),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert "0.01" in r.stderr or "launch-timeout" in r.stderr, r.stderr  # it says which bound it was
    _none_left(gateway, before, "--launch-timeout 0.01")


def test_keys_typed_while_a_command_runs_wait_for_the_next_prompt(term, gateway):
    """A terminal in canonical mode takes a Ctrl-D typed while nobody reads as an end-of-file
    mark, lost when the next prompt starts; and echoes other keys over the output."""
    t = term()
    t.wait_prompt(1)
    t.enter("/new")
    t.wait_for("starting a default kernel…")
    t.child.send("y = 41")  # typed while the kernel starts: not echoed, in the next prompt
    t.wait_for("it is now current")
    t.wait_for(lambda t: t.text().count("y = 41") == 1 and "In [1]: y = 41" in t.text())
    t.ctrl("u")
    t.enter("/new")
    t.wait_for(lambda t: t.text().count("starting a default kernel…") == 2)
    t.ctrl("d")  # typed while the second kernel starts: leaves at the next prompt
    assert t.wait_exit() == 0
    kernels = rest(gateway, "GET", "kernels").json()
    assert not [k for k in kernels if k["id"][:8] in t.plain()]
