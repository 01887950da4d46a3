"""JupyterHub's API as data (repl/protocol/hub.py): where a URL says the hub and the server are,
the models, the progress stream and the scopes a refusal names; and how Enter judges code typed
while a server spawns. Pure: no server."""

from repl.protocol import hub as h


def test_a_hub_origin_says_no_user_or_server():
    assert h.locate("https://hub.example.org/") == h.HubURL("https://hub.example.org/")
    assert h.locate("https://example.org/jhub/") == h.HubURL("https://example.org/jhub/")


def test_a_user_url_says_the_user_and_the_server():
    assert h.locate("https://hub.example.org/user/alice/") == h.HubURL("https://hub.example.org/", "alice", h.DEFAULT)
    assert h.locate("http://h:8000/pre/user/alice/gpu/") == h.HubURL("http://h:8000/pre/", "alice", "gpu")


def test_the_hubs_own_pages_say_the_same():
    assert h.locate("https://h/hub/") == h.HubURL("https://h/")
    assert h.locate("https://h/hub/home") == h.HubURL("https://h/")
    assert h.locate("https://h/hub/spawn/alice/gpu") == h.HubURL("https://h/", "alice", "gpu")
    assert h.locate("https://h/pre/hub/user/alice/") == h.HubURL("https://h/pre/", "alice", h.DEFAULT)


def test_api_paths_quote_names():
    assert h.api_path("alice", h.DEFAULT) == "hub/api/users/alice/server"
    assert h.api_path("a b", "x/y", "progress") == "hub/api/users/a%20b/servers/x%2Fy/progress"


def test_server_states():
    assert h.ServerModel.from_json("", {"ready": True, "pending": None, "stopped": False, "url": "/user/a/"}).state == "ready"
    assert h.ServerModel.from_json("", {"ready": False, "pending": "spawn", "stopped": False}).state == "starting"
    assert h.ServerModel.from_json("", {"ready": False, "pending": "stop", "stopped": False}).state == "stopping"
    assert h.ServerModel.from_json("gpu", {"ready": False, "pending": None, "stopped": True}).state == "stopped"
    assert h.ServerModel.from_json("gpu", None).state == "stopped"


def test_a_user_without_read_servers_has_no_server_list():
    few = h.UserModel.from_json({"name": "alice", "scopes": ["access:servers!user=alice"]})
    assert few.servers is None and few.scopes == ("access:servers!user=alice",)
    full = h.UserModel.from_json({"name": "alice", "servers": {"": {"ready": True, "url": "/user/alice/"}}})
    assert full.servers is not None and full.servers[""].ready and full.servers[""].url == "/user/alice/"


def test_the_event_stream_is_read_across_chunks():
    stream = h.EventStream()
    assert stream.feed("\n\ndata: {\"progress\": 0, \"mess") == []
    assert stream.feed("age\": \"Server requested\"}\n") == []
    assert stream.feed("\ndata: {\"progress\": 100, \"ready\": true, \"url\": \"/user/a/\"}\r\n\r\n: keepalive\n\n") == [
        '{"progress": 0, "message": "Server requested"}', '{"progress": 100, "ready": true, "url": "/user/a/"}']


def test_progress_events():
    assert h.progress_event('{"progress": 50, "message": " Spawning server... "}') == h.Progress(50, "Spawning server...")
    ready = h.progress_event('{"progress": 100, "ready": true, "message": "Server ready", "url": "/user/a/"}')
    assert ready is not None and ready.ready and ready.url == "/user/a/"
    failed = h.progress_event('{"progress": 100, "failed": true, "message": "Spawn failed: no GPUs"}')
    assert failed is not None and failed.failed and failed.message == "Spawn failed: no GPUs"
    assert h.progress_event("not json") is None and h.progress_event("[1]") is None
    assert h.progress_event('{"progress": true}') == h.Progress(None)


def test_the_scope_a_refusal_names():
    message = "Action is not authorized with current scopes; requires any of [start:servers]"
    assert h.missing_scopes(message) == "start:servers"
    assert h.missing_scopes("requires any of ['read:servers', 'servers']") == "read:servers, servers"
    assert h.missing_scopes("Forbidden") is None


def test_enter_before_a_spawning_servers_language_is_known_continues_an_open_block():
    from repl.ui.output.console import Console
    from repl.ui.prompt.asking import Asking

    asking = Asking(lambda: None, Console(), color=False)
    assert asking._early("for i in range(3):", None) == "incomplete"
    assert asking._early("print((1,", None) == "incomplete"
    assert asking._early("x <- c(1, 2)", None) == "complete"  # not Python: runs (the kernel will say)
    assert asking._early("for i in range(3):", "r") == "complete"
