"""JupyterHub (#21): from a hub's URL and a token to the user's kernel, starting the server when it
is stopped. The real `repl` (in a pty, or with -c) against a real JupyterHub with the npm
configurable-http-proxy and a spawner that is slow or fails on request (tests/hub.py)."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys

import pytest

from tests.hub import BROKEN_MESSAGE
from tests.proxy import CutProxy
from tests.test_resume import shown
from tests.term import Term


def hub_env(hub, tmp_path, token=None) -> dict:
    env = dict(os.environ)
    for name in ("JUPYTER_GATEWAY_URL", "JUPYTER_GATEWAY_WS_URL", "REPL_CONFIG"):
        env.pop(name, None)
    env["JUPYTER_GATEWAY_AUTH_TOKEN"] = token or hub.token
    env["REPL_DATA_DIR"] = str(tmp_path / "data")
    return env


@pytest.fixture
def hub_term(hub, tmp_path):
    terms = []

    def make(url, *args, token=None, rows=40):
        t = Term(["--url", url, *args], env=hub_env(hub, tmp_path, token), rows=rows, cols=140)
        terms.append(t)
        return t

    yield make
    for t in terms:
        t.close()


def one_shot(hub, tmp_path, url, *args, code="print(6 * 7)", token=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "repl", "--url", url, *args, "-c", code], env=hub_env(hub, tmp_path, token),
                          capture_output=True, text=True, timeout=timeout)


@contextlib.contextmanager
def hub_proxy(hub, **kw):
    """A test proxy in front of the hub's public port (tests/proxy.py)."""
    proxy = CutProxy(int(hub.url.rstrip("/").rsplit(":", 1)[1]), **kw)
    try:
        yield proxy
    finally:
        proxy.close()


def toolbar(t) -> str:
    return next((line for line in reversed(t.text().splitlines()) if line.count("│") >= 2), "")


def ensure(hub, name: str, running: bool) -> None:
    if running and not hub.running(name):
        hub.start_server(name)
    elif not running and hub._active(name):
        hub.stop_server(name)


def test_a_hub_origin_starts_the_stopped_server_with_progress_and_runs_what_was_typed_meanwhile(hub, hub_term):
    ensure(hub, "", running=False)
    t = hub_term(hub.url, "--option", "delay=3", "--option", "colour=teal")
    t.wait_for("starting alice's default server on the hub at")
    t.wait_for(lambda t: "· alice" in toolbar(t) and "starting the default server" in toolbar(t), timeout=30)
    t.enter("import os; print('options:', os.environ['REPL_HUB_OPTIONS'])")  # typed while the server spawns
    t.wait_for("hub: ", timeout=60)  # the spawn's progress, as lines above the prompt
    t.wait_for("started python3 kernel", timeout=120)
    t.wait_for('options: {"delay": "3", "colour": "teal"}', timeout=60)
    text = t.plain()
    assert re.search(r"hub: \d+% test hub: waiting \d s for a slot", text), text
    assert "on alice's default server on the hub at" in text
    assert text.index("hub: ") < text.index("started python3 kernel")
    assert hub.running("")
    t.wait_for(lambda t: "· alice │ python3" in toolbar(t))


def test_a_running_server_by_its_user_url_or_the_hub_origin(hub, tmp_path):
    ensure(hub, "", running=True)
    for url in (hub.server_url(""), hub.url, hub.url + "hub/home"):
        done = one_shot(hub, tmp_path, url)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "42"
        assert "starting" not in done.stderr


def test_a_named_server_by_flag_then_by_url(hub, tmp_path):
    ensure(hub, "nb1", running=False)
    code = "import os; print(os.environ['JUPYTERHUB_SERVER_NAME'])"
    first = one_shot(hub, tmp_path, hub.url, "--named-server", "nb1", code=code)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "nb1"
    assert "starting alice's server 'nb1' on the hub at" in first.stderr
    again = one_shot(hub, tmp_path, hub.server_url("nb1"), code=code)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "nb1" and "starting" not in again.stderr
    both = one_shot(hub, tmp_path, hub.server_url("nb1"), "--named-server", "other")
    assert both.returncode == 2
    assert both.stderr.strip() == "repl: the URL names server 'nb1' and --named-server 'other': give one of them"


def test_a_failed_spawn_is_one_line_with_the_hubs_message(hub, tmp_path, hub_term):
    done = one_shot(hub, tmp_path, hub.url, "--named-server", "broken")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines[-1] == (f"repl: the hub at {hub.url.rstrip('/')} could not start server 'broken' of alice: "
                         f"Spawn failed: {BROKEN_MESSAGE}"), done.stderr
    assert "Traceback" not in done.stderr and len(lines) == 2  # the start, and why it failed
    t = hub_term(hub.url, "--named-server", "broken")  # the prompt is up meanwhile, and ends with that line
    t.wait_for(f"Spawn failed: {BROKEN_MESSAGE}")
    assert t.wait_exit() == 2


def test_a_start_after_a_failed_one_is_not_told_the_old_failure(hub, tmp_path):
    ensure(hub, "again", running=False)
    first = one_shot(hub, tmp_path, hub.url, "--named-server", "again", "--option", "fail=the first start failed")
    assert first.returncode == 2 and "Spawn failed: the first start failed" in first.stderr, first.stderr
    second = one_shot(hub, tmp_path, hub.url, "--named-server", "again", "--option", "colour=red")
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "42" and "first start failed" not in second.stderr


def test_a_spawn_the_hub_times_out_is_one_line_with_the_hubs_message(hub, tmp_path):
    done = one_shot(hub, tmp_path, hub.url, "--named-server", "stuck")
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert re.fullmatch(r"repl: the hub at \S+ could not start server 'stuck' of alice: Spawn failed: .*didn't respond in 3 "
                        r"seconds.*", last), done.stderr
    assert "Traceback" not in done.stderr
    assert not hub._active("stuck")


@pytest.mark.parametrize("default_running", [False, True], ids=["hub-answers", "default-server-answers"])
def test_a_server_stopped_under_us_is_said_and_hub_start_brings_it_back(hub, hub_term, default_running):
    # Its address is then answered by the hub (302 to /hub/, then 424), or, while the default
    # server runs, by that server (an HTML 404: its route covers /user/alice/…).
    ensure(hub, "", running=default_running)
    ensure(hub, "cull", running=True)
    t = hub_term(hub.server_url("cull"))
    t.wait_prompt(1)
    t.enter("import time; [print('tick', i) or time.sleep(0.5) for i in range(600)]")
    t.wait_for("tick 2")
    hub.stop_server("cull")  # as from the hub's page, or the idle culler, while a cell runs
    t.wait_for("alice's server 'cull' on the hub at", timeout=30)
    t.wait_for("has stopped", timeout=30)
    t.wait_for("kernel python3 is gone with its server", timeout=30)  # the running cell ends with it
    t.wait_prompt(2)
    t.enter("/interrupt")  # was "rejected the token"
    t.wait_for(lambda t: re.search(r"gone with its server: /hub start brings the server back", t.plain()))
    t.enter("/hub")
    t.wait_for(lambda t: re.search(r"\*cull\s+stopped", t.text()))
    t.enter("/hub start")
    t.wait_for("alice's server 'cull' on the hub at", timeout=30)
    t.wait_for(lambda t: re.search(r"server 'cull' on the hub at \S+ is up", t.text()), timeout=120)
    t.wait_for(lambda t: "gone" in toolbar(t), timeout=30)  # the kernel did not survive its server
    t.enter("/new")
    t.wait_for("it is now current", timeout=60)
    t.enter("6 * 7")
    t.wait_for("Out[1]: 42")
    assert "rejected the token" not in t.plain()


def test_hub_stop_and_start_another_server(hub, hub_term):
    ensure(hub, "", running=True)
    ensure(hub, "side", running=True)
    t = hub_term(hub.url)
    t.wait_prompt(1)
    t.enter("/hub stop side")
    t.wait_for("stopped alice's server 'side'", timeout=60)
    assert not hub._active("side")
    t.enter("/hub")
    t.wait_for(lambda t: re.search(r"side\s+stopped", t.text()) and re.search(r"\*\(default\)\s+ready", t.text()))
    t.enter("/hub start side")
    t.wait_for(lambda t: re.search(r"server 'side' on the hub at \S+ is up", t.text()), timeout=120)
    assert hub.running("side")
    t.enter("/hub frob")
    t.wait_for("usage: /hub (your servers), /hub start [NAME], /hub stop [NAME]")


def test_a_bad_token_is_said_to_be_one(hub, tmp_path):
    done = one_shot(hub, tmp_path, hub.url, token="not-a-token-of-this-hub")
    assert done.returncode == 2
    assert done.stderr.startswith(f"repl: the hub at {hub.url.rstrip('/')} rejected the token (HTTP 403)"), done.stderr
    assert "not-a-token-of-this-hub" not in done.stderr + done.stdout
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_token_with_too_few_scopes_is_told_which_it_lacks(hub, tmp_path):
    ensure(hub, "", running=True)
    ensure(hub, "scoped", running=False)
    few = hub.make_token(["access:servers!user=alice"])
    works = one_shot(hub, tmp_path, hub.url, token=few)  # enough for a running server
    assert works.returncode == 0 and works.stdout.strip() == "42", works.stderr
    refused = one_shot(hub, tmp_path, hub.url, "--named-server", "scoped", token=few)
    assert refused.returncode == 2
    assert "the token lacks the scope start:servers; make one with it on the hub's Token page" in refused.stderr
    assert f"({hub.url}hub/token)" in refused.stderr
    assert few not in refused.stderr
    unaccessed = hub.make_token(["read:servers!user=alice", "servers!user=alice"])
    denied = one_shot(hub, tmp_path, hub.url, token=unaccessed)
    assert denied.returncode == 2
    assert "the token lacks the scope access:servers, which using a server needs" in denied.stderr, denied.stderr


def test_a_spawn_through_a_proxy_that_buffers_its_progress_shows_the_state_polled(hub, hub_term):
    ensure(hub, "buffered", running=False)
    with hub_proxy(hub, buffer_event_streams=True) as proxy:
        t = hub_term(proxy.url + "/", "--named-server", "buffered", "--option", "delay=4")
        t.wait_for("starting alice's server 'buffered'")
        t.wait_for(lambda t: "the hub says it is starting" in toolbar(t), timeout=30)
        assert "hub: " not in t.plain()  # no progress line has come through the proxy yet
        t.enter("1 + 1")
        t.wait_for("repl: waiting:")
        t.ctrl("c")  # stops waiting: the spawn goes on, and the kernel comes
        t.wait_for("repl: cancelled; alice's server 'buffered' on the hub at")
        t.wait_for(lambda t: "goes on starting (/hub stop stops it); the kernel comes when it is up" in t.plain())
        t.wait_for("started python3 kernel", timeout=120)
        t.wait_prompt(1)
        t.enter("2 + 3")
        t.wait_for("Out[1]: 5")


def test_the_hub_gone_from_under_us_is_said(hub, hub_term):
    ensure(hub, "", running=True)
    with hub_proxy(hub) as proxy:
        t = hub_term(proxy.url + "/")
        t.wait_prompt(1)
        proxy.refusing = True  # the hub's machine gone: nothing answers there any more
        proxy.cut()
        t.wait_for(lambda t: "does not answer either" in t.plain(), timeout=30)
        assert "rejected the token" not in t.plain()
        proxy.refusing = False  # back: the server never stopped, the kernel is still there
        t.wait_for(lambda t: "│ idle │" in toolbar(t), timeout=60)
        t.enter("6 * 7")
        t.wait_for("Out[1]: 42")


def test_leaving_while_the_server_starts_says_that_the_spawn_goes_on(hub, hub_term):
    ensure(hub, "left", running=False)
    t = hub_term(hub.url, "--named-server", "left", "--option", "delay=30")
    t.wait_for(lambda t: "starting server 'left'" in toolbar(t))
    t.ctrl("d")
    t.wait_exit()
    assert "alice's server 'left' on the hub at" in t.plain()
    assert "goes on starting; /hub stop (or the hub's page) stops it" in t.plain()
    assert hub._active("left")
    hub.stop_server("left")


def test_the_hubs_words_reach_the_terminal_through_the_sanitizer(hub, hub_term):
    ensure(hub, "hostile", running=False)
    evil = "\x1b]52;c;aGVsbG8=\x07 and \x1b]0;pwned\x07 title"
    t = hub_term(hub.url, "--named-server", "hostile", "--option", f"fail={evil}")
    t.wait_for(lambda t: "could not start server 'hostile'" in t.plain())
    assert t.wait_exit() == 2
    raw = t.transcript
    assert "\x1b]52" not in raw and "\x1b]0;pwned" not in raw
    assert "<U+001B>]52;c;aGVsbG8=" in t.plain()


def test_detach_on_a_hub_and_resume_through_it(hub, hub_term, tmp_path):
    """The record names the hub and the server (not the token); coming back goes through the hub."""
    ensure(hub, "", running=True)
    a = hub_term(hub.url)
    a.wait_for("started python3 kernel", timeout=120)
    a.enter("import time\nfor i in range(15): print('beat', i, flush=True); time.sleep(0.2)\n")
    a.wait_for("beat 1")
    a.ctrl("z")
    a.wait_for("cell sent to the background")
    a.enter("/detach")
    assert a.wait_exit() == 0
    (path,) = (tmp_path / "data" / "sessions").glob("*.jsonl")
    text = path.read_text()
    assert hub.token not in text and hub.url.rstrip("/") in text
    b = hub_term(hub.url, "--resume")
    b.wait_for("back to python3 kernel", timeout=120)
    b.wait_for(lambda t: re.search(r"cell In \[\d\] finished", t.text()), timeout=60)
    beats = shown(a.plain(), b.plain(), word="beat")
    assert beats == list(range(15)), beats
    b.ctrl("d")
    assert b.wait_exit() == 0
