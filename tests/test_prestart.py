"""The embedded gateway's first kernel starts with the gateway, before its imports, and the
gateway takes it for the first kernel of that name it is asked for (repl.gateway.prestart): a
real gateway, real kernels, and the processes they leave."""

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
from jupyter_core.paths import jupyter_runtime_dir

from repl.gateway import prestart
from repl.gateway.local import LocalGateway, descendants
from tests.conftest import wait_until
from tests.test_local_gateway import _alive, _cmdline


def _kernels(gw: LocalGateway) -> dict[int, str]:
    """The kernel processes under the gateway: pid → command line."""
    return {p: _cmdline(p) for p in descendants(gw.pid) if "kernel" in _cmdline(p)}


async def _kernel_info(gw: LocalGateway, kid: str, timeout: float = 60) -> dict:
    """The kernel's answer to kernel_info_request, through the gateway's websocket."""
    from websockets.asyncio.client import connect

    url = f"{gw.url.replace('http', 'ws', 1)}api/kernels/{kid}/channels"
    async with connect(url, additional_headers={"Authorization": f"token {gw.token}"}) as ws:
        await ws.send(json.dumps({"header": {"msg_id": "ki", "msg_type": "kernel_info_request", "session": "t",
                                             "username": "", "version": "5.3", "date": ""},
                                  "parent_header": {}, "metadata": {}, "content": {}, "channel": "shell"}))
        async with asyncio.timeout(timeout):
            while True:
                msg = json.loads(await ws.recv())
                if msg.get("msg_type") == "kernel_info_reply":
                    return msg["content"]


def _log(gw: LocalGateway) -> str:
    return Path(gw.log_path).read_text(errors="replace")


async def _post(gw: LocalGateway, path: str, body: dict | None = None) -> httpx.Response:
    async with httpx.AsyncClient(headers={"Authorization": f"token {gw.token}"}, timeout=60) as client:
        return await client.post(f"{gw.url}api/kernels{path}", json=body or {})


async def test_the_first_kernel_is_the_one_started_with_the_gateway_and_behaves_as_any():
    gw = LocalGateway.spawn(kernel="")
    try:
        early = wait_until(lambda: [p for p, cmd in _kernels(gw).items() if "repl-prestart" in cmd], 30, 0.01,
                           "the kernel to start with the gateway")
        await gw.ready()
        r = await _post(gw, "")
        assert r.status_code == 201, r.text
        kid = r.json()["id"]
        assert f"took the python3 kernel started with the gateway (pid {early[0]})" in _log(gw)
        assert not (Path(jupyter_runtime_dir()) / f"kernel-repl-prestart-{gw.pid}.json").exists()
        assert (await _post(gw, f"/{kid}/interrupt")).status_code == 204
        assert (await _post(gw, f"/{kid}/restart")).status_code == 200  # a kernel of its own, on the same ports
        wait_until(lambda: not _alive(early[0]), 30, 0.05, "the first kernel process to be replaced")
        assert len(_kernels(gw)) == 1
        second = await _post(gw, "")  # the next one is started as always
        assert second.status_code == 201 and _log(gw).count("took the python3 kernel") == 1
        wait_until(lambda: len(_kernels(gw)) == 2, 30, 0.05, "two kernels")
    finally:
        tree = [gw.pid, *descendants(gw.pid)]
        await gw.stop()
    assert not [p for p in tree if _alive(p)]


async def test_a_kernel_started_with_the_gateway_and_not_what_is_asked_is_stopped():
    gw = LocalGateway.spawn(kernel="")
    try:
        early = wait_until(lambda: list(_kernels(gw)), 30, 0.01, "the kernel to start with the gateway")
        await gw.ready()
        r = await _post(gw, "", {"env": {"KERNEL_SOMETHING": "else"}})  # the gateway would start another
        assert r.status_code == 201, r.text
        assert "the kernel started with the gateway is not taken: its environment differs in" in _log(gw)
        assert "else" not in _log(gw)  # (names only: a value can be a secret)
        wait_until(lambda: not _alive(early[0]), 30, 0.05, "the kernel not taken to be stopped")
        assert len(_kernels(gw)) == 1
    finally:
        await gw.stop()
    gw = LocalGateway.spawn(kernel="")  # never asked for: it goes with the gateway
    try:
        early = wait_until(lambda: list(_kernels(gw)), 30, 0.01, "the kernel to start with the gateway")
        await gw.ready()
    finally:
        await gw.stop()
    assert not _alive(early[0]) and not _alive(gw.pid)


def test_the_embedded_repl_runs_its_first_cell_in_the_kernel_started_with_the_gateway(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_GATEWAY")}
    env["REPL_DATA_DIR"] = str(tmp_path / "data")
    code = "import os, sys; print(sys.argv[-1], os.environ.get('KERNEL_GATEWAY'), 'KG_AUTH_TOKEN' in os.environ)"
    out = subprocess.run([sys.executable, "-m", "repl", "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    path, gateway, token = out.stdout.split()
    assert "kernel-repl-prestart-" in path  # its connection file: the one written before the gateway's imports
    assert gateway == "1" and token == "False"  # as the gateway starts a kernel: told, and never given the token


async def test_a_kernel_taken_before_it_has_read_its_connection_file_comes_up(tmp_path, monkeypatch):
    """Under load the gateway can take the kernel before the kernel has read its connection file
    (ipykernel reads it late in its start); a kernel that finds none makes up other ports, and
    the gateway waited for it forever. A kernel that waits 2 s before starting ipykernel plays it."""
    spec = tmp_path / "kernels" / "slowpy"
    spec.mkdir(parents=True)
    later = "import os, sys, time; time.sleep(2); os.execv(sys.executable, [sys.executable, '-m', 'ipykernel_launcher', '-f', sys.argv[1]])"
    (spec / "kernel.json").write_text(json.dumps({"argv": [sys.executable, "-c", later, "{connection_file}"],
                                                  "display_name": "slow", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    gw = LocalGateway.spawn(kernel="slowpy")
    try:
        await gw.ready()
        r = await _post(gw, "", {"name": "slowpy"})
        assert r.status_code == 201, r.text
        assert "took the slowpy kernel started with the gateway" in _log(gw)
        assert await _kernel_info(gw, r.json()["id"]), _log(gw)[-2000:]
        wait_until(lambda: not list(Path(jupyter_runtime_dir()).glob(f"kernel-repl-prestart-{gw.pid}.json")), 30, 0.05,
                   "its connection file to go once read")
    finally:
        await gw.stop()


def test_a_spec_is_found_by_the_name_the_server_lists_it_under_only(tmp_path, monkeypatch):
    """jupyter_client lists a kernel's folder in lower case and finds no other: ``--kernel Python3``
    is refused by the server, so no kernel is started for it with the gateway."""
    folder = tmp_path / "kernels" / "MyKernel"
    folder.mkdir(parents=True)
    (folder / "kernel.json").write_text('{"argv": ["x", "{connection_file}"], "language": "python"}')
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    spec, where = prestart._find_spec("mykernel")
    assert spec is not None and spec["argv"][0] == "x" and where == str(folder)
    assert prestart._find_spec("MyKernel") == (None, "")
    assert prestart._find_spec("Python3") == (None, "")
