"""A fake Jupyter server whose words are hostile: names, paths, languages and error messages
full of escape sequences and invisible characters (a websockets server: GETs and the channels).

It answers ``GET /api``, the kernelspecs, the kernel list and one kernel (``KID``), sessions (a broken
one answers ``500`` with a hostile message for the kernel list and ``BAD``); on ``/api/kernels/KID/channels`` it is a kernel that answers
kernel_info and runs any cell by printing :data:`HOSTILE`. Run in a thread of its own so a
test driving `repl` in a pty can use it.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid

from websockets.asyncio.server import serve
from websockets.datastructures import Headers
from websockets.http11 import Response

ESC, BEL = "\x1b", "\x07"
# A window title, a clipboard write, a cursor-position query, a full reset, a right-to-left
# override and a zero-width space, each between two letters.
HOSTILE = (f"A{ESC}]0;PWNED{BEL}B{ESC}]52;c;cHduZWQ={BEL}C{ESC}[6nD{ESC}cE\u202eF\u200bG")
# What must never reach the terminal raw (each with a neighbour: prompt_toolkit asks ESC[6n itself).
FORBIDDEN = (f"{ESC}]0;PWNED", f"{ESC}]52;", f"C{ESC}[6n", f"{ESC}c", "\u202e", "\u200b")
KID = "1234abcd-0000-4000-8000-000000000001"
OTHER = "5678ef01-0000-4000-8000-000000000002"
BAD = "baadbaad-0000-4000-8000-000000000003"


def raw_leaks(transcript: str) -> list[str]:
    """The forbidden sequences found in what repl wrote."""
    return [f for f in FORBIDDEN if f in transcript]


def _model(kid: str, name: str, state: str = "idle") -> dict:
    return {"id": kid, "name": name, "execution_state": state, "connections": 1,
            "last_activity": "2026-01-01T00:00:00Z"}


def _spec(display: str, language: str) -> dict:
    return {"display_name": display, "language": language, "argv": ["python"], "metadata": {}}


ROUTES: dict[str, tuple[int, object]] = {
    "/api": (200, {"version": "2.0.0"}),
    "/api/kernelspecs": (200, {"default": "py", "kernelspecs": {
        "py": {"name": "py", "spec": _spec("Py " + HOSTILE, "python"), "resources": {}},
        "x" + HOSTILE: {"name": "x" + HOSTILE, "spec": _spec("X", "lang" + HOSTILE), "resources": {}},
    }}),
    "/api/kernels": (200, [_model(KID, "py"), _model(OTHER, "n" + HOSTILE, "idle" + HOSTILE)]),
    f"/api/kernels/{KID}": (200, _model(KID, "py")),
    f"/api/kernels/{OTHER}": (200, _model(OTHER, "n" + HOSTILE)),
    f"/api/kernels/{BAD}": (500, {"message": "boom " + HOSTILE, "reason": None}),
    "/api/sessions": (200, [{"id": "s1", "path": "nb" + HOSTILE + ".ipynb", "type": "notebook",
                             "name": "nb", "kernel": _model(OTHER, "n" + HOSTILE)}]),
}


BROKEN = {"/api/kernels": ROUTES[f"/api/kernels/{BAD}"]}


def _respond(connection, request, broken: bool):
    path = request.path.split("?", 1)[0]
    if path.endswith("/channels"):
        return None  # the kernel's websocket
    status, body = (BROKEN if broken else {}).get(path) or ROUTES.get(path, (404, {"message": "not found"}))
    data = json.dumps(body).encode()
    headers = Headers([("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return Response(status, "OK" if status == 200 else "Error", headers, data)


async def _kernel(ws) -> None:
    count = 0
    async for frame in ws:
        msg = json.loads(frame)
        parent = msg["header"]
        kind = parent["msg_type"]

        async def send(channel: str, msg_type: str, content: dict, parent: dict = parent) -> None:
            header = {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "session": "fake", "username": "",
                      "date": "2026-01-01T00:00:00Z", "version": "5.3"}
            await ws.send(json.dumps({"channel": channel, "header": header, "parent_header": parent,
                                      "metadata": {}, "content": content, "buffers": []}))

        await send("iopub", "status", {"execution_state": "busy"})
        if kind == "kernel_info_request":
            await send("shell", "kernel_info_reply", {
                "status": "ok", "protocol_version": "5.3", "implementation": "fake", "implementation_version": "1",
                "language_info": {"name": "python", "version": "3", "file_extension": ".py"}, "banner": ""})
        elif kind == "execute_request":
            count += 1
            await send("iopub", "execute_input", {"code": msg["content"].get("code", ""), "execution_count": count})
            await send("iopub", "stream", {"name": "stdout", "text": "out " + HOSTILE + "\n"})
            await send("shell", "execute_reply", {"status": "ok", "execution_count": count, "payload": [],
                                                  "user_expressions": {}})
        elif kind == "is_complete_request":
            await send("shell", "is_complete_reply", {"status": "complete"})
        else:
            await send(msg.get("channel", "shell"), kind.replace("_request", "_reply"), {"status": "ok"})
        await send("iopub", "status", {"execution_state": "idle"})


class FakeServer:
    def __init__(self, broken: bool = False) -> None:
        self.url = ""
        self.broken = broken
        self._ready = threading.Event()
        self._stop: asyncio.Future | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the fake server did not start")

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = self._loop.create_future()
        async with serve(_kernel, "127.0.0.1", 0, process_request=lambda c, r: _respond(c, r, self.broken), max_size=None) as server:
            self.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
            self._ready.set()
            await self._stop

    def close(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(lambda: self._stop.done() or self._stop.set_result(None))  # type: ignore[union-attr]
        self._thread.join(10)
