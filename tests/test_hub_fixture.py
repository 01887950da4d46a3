"""The test JupyterHub itself (tests/hub.py): what the hub tests of repl rely on."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
import websockets
from websockets.sync.client import connect

from tests.hub import BROKEN_MESSAGE, start_hub, wait_for


def test_hub_api_answers_without_auth_and_the_token_is_alices(hub):
    r = httpx.get(f"{hub.url}hub/api/", timeout=30)
    assert r.status_code == 200 and r.json()["version"].split(".")[0].isdigit()
    assert httpx.get(f"{hub.url}hub/api/user", timeout=30).status_code == 403
    me = hub.api("GET", "user")
    assert me.status_code == 200 and me.json()["name"] == "alice"
    assert "start:servers!user=alice" in me.json()["scopes"]


def test_make_token_has_only_the_scopes_asked_for(hub):
    token = hub.make_token(["access:servers!user=alice"])
    me = hub.api("GET", "user", token=token).json()
    assert "access:servers!user=alice" in me["scopes"] and "servers" not in me  # no read:servers, no server list
    r = hub.api("POST", hub.server_path("x"), token=token)
    assert r.status_code == 403 and "start:servers" in r.json()["message"]


def test_slow_spawn_shows_progress_before_ready(hub):
    r = hub.start_server("slow", wait=False)
    assert r.status_code == 202  # pending: the fixture hub answers at once
    try:
        events = list(hub.progress("slow"))
        *before, last = events
        assert last[1]["ready"] is True and last[1]["url"] == "/user/alice/slow/", events
        ours = [(t, e) for t, e in before if e.get("message", "").startswith("test hub:")]
        assert len(ours) >= 3, events
        # they came as the spawn went on, not all at the end
        assert last[0] - ours[0][0] > 2, events
        assert hub.server("slow")["ready"]
        assert httpx.get(f"{hub.server_url('slow')}api/kernels", headers=hub.headers(), timeout=30).status_code == 200
    finally:
        hub.stop_server("slow")


def test_user_options_reach_the_servers_environment(hub):
    options = {"color": "teal", "size": 3}
    hub.start_server("opts", user_options=options)
    try:
        assert hub.server("opts")["user_options"] == options
        printed = hub.execute("import os; print(os.environ['REPL_HUB_OPTIONS'])", name="opts")
        assert json.loads(printed) == options
    finally:
        hub.stop_server("opts")


@pytest.mark.parametrize(("name", "options", "message"), [
    ("broken", None, BROKEN_MESSAGE),
    ("failing", {"fail": "quota exceeded for alice"}, "quota exceeded for alice"),
])
def test_a_failing_spawn_says_its_message(hub, name, options, message):
    r = hub.start_server(name, user_options=options, wait=False)
    assert r.status_code in (201, 202)  # 201 when it failed before the hub answered: no longer pending
    events = [e for _, e in hub.progress(name)]
    assert events[-1]["failed"] is True and message in events[-1]["message"], events
    model = wait_for(lambda: (m := hub.server(name)) and not m["pending"] and m, 30, "the failed spawn to settle")
    assert model["stopped"] and not model["ready"]


def test_default_server_stopped_from_the_browser(stopped_hub):
    hub = stopped_hub
    assert hub.server("")["stopped"]
    hub.start_server()
    assert hub.running()
    kernel = httpx.post(f"{hub.server_url()}api/kernels", headers=hub.headers(), json={}, timeout=60).json()["id"]
    channels = f"{hub.ws_url()}api/kernels/{kernel}/channels"
    with connect(channels, additional_headers=hub.headers(), open_timeout=60) as ws:
        hub.stop_server()
        deadline = time.monotonic() + 30
        with pytest.raises(websockets.ConnectionClosed):
            while time.monotonic() < deadline:
                ws.recv(timeout=deadline - time.monotonic())
        assert ws.close_code == 1006  # the server went away: no close frame
    assert not hub.running()
    r = httpx.get(f"{hub.server_url()}api/kernels", headers=hub.headers(), timeout=30)
    assert r.status_code == 302 and r.headers["location"] == "/hub/user/alice/api/kernels"
    r = httpx.get(f"{hub.server_url()}api/kernels", headers=hub.headers(), timeout=30, follow_redirects=True)
    assert r.status_code == 424 and "no longer running" in r.json()["message"]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_close_leaves_no_process(tmp_path):
    """A hub of its own, with one server up and one still spawning: close() leaves none of them."""
    own = start_hub(tmp_path / "hub")
    try:
        own.start_server()
        own.start_server("slow", user_options={"delay": 30}, wait=False)
        wait_for(lambda: len(list((own.dir / "pids").iterdir())) == 2, 60, "both servers to be started")
    finally:
        pids = [int(p.name) for p in (own.dir / "pids").iterdir()]
        chp = int((own.dir / "proxy.pid").read_text())
        own.close()
    assert own.proc is not None and own.proc.poll() is not None
    wait_for(lambda: not any(_alive(pid) for pid in [*pids, chp]), 30, "the servers and the proxy to be gone")
