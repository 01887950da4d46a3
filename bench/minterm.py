"""How close a terminal client can get to the bare floor: a raw-mode client of ~40 lines (reads
keys, sends the line at Enter over one kept websocket, writes ``Out[n]: value``) beside repl and the
bare client, interleaved, Enter → value on screen, 0.2 s idle before each Enter. What repl adds over
it is repl's own; what it adds over the bare client is the pty's.

Usage: python bench/minterm.py [ROUNDS]      (the client itself: python bench/minterm.py --client URL TOKEN KERNEL)
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


async def client(url: str, token: str, kid: str) -> None:
    import termios
    import tty

    from websockets.asyncio.client import connect

    ws = await connect(url.replace("http", "ws", 1) + f"/api/kernels/{kid}/channels?session_id={uuid.uuid4().hex}",
                       additional_headers={"Authorization": f"token {token}"}, max_size=None, compression=None,
                       ping_interval=None)
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setraw(fd)
    line: list[str] = []

    def readable() -> None:
        for ch in os.read(fd, 1024).decode():
            if ch == "\r":
                msg = {"header": {"msg_id": uuid.uuid4().hex, "msg_type": "execute_request", "session": "m",
                                  "username": "m", "version": "5.3", "date": ""},
                       "parent_header": {}, "metadata": {}, "channel": "shell",
                       "content": {"code": "".join(line), "silent": False, "store_history": True,
                                   "user_expressions": {}, "allow_stdin": False}}
                line.clear()
                asyncio.ensure_future(ws.send(json.dumps(msg)))
                os.write(1, b"\r\n")
            elif ch == "\x04":
                termios.tcsetattr(fd, termios.TCSADRAIN, saved)
                os._exit(0)
            else:
                line.append(ch)
                os.write(1, ch.encode())

    asyncio.get_running_loop().add_reader(fd, readable)
    os.write(1, b"In [1]: ")
    async for frame in ws:
        m = json.loads(frame)
        if m["msg_type"] == "execute_result":
            n = m["content"]["execution_count"]
            os.write(1, f"Out[{n}]: {m['content']['data']['text/plain']}\r\n\r\nIn [{n + 1}]: ".encode())


def main() -> None:
    from all import Bare, Term, delete_kernel, new_kernel
    from roundtrip import start_gateway

    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    gw, url, token = start_gateway()
    kid = new_kernel(url, token)
    try:
        env = dict(os.environ, JUPYTER_GATEWAY_URL=url, JUPYTER_GATEWAY_AUTH_TOKEN=token)
        repl = Term([sys.executable, "-m", "repl", "--attach", kid], env)
        repl.up()
        mini = Term([sys.executable, __file__, "--client", url, token, kid], env)
        mini.until("In [1]")
        mini.quiet(0.5)
        bare = Bare(url, token, kid)
        took: dict[str, list[float]] = {"repl": [], "raw-mode client": [], "bare websockets": []}
        for i in range(rounds):
            value = str(12345 * 6789 + i)
            for name, term in (("repl", repl), ("raw-mode client", mini)):
                took[name].append(term.round(f"12345*6789+{i}", f"{value}\r\n"))
            took["bare websockets"].append(bare.run(f"12345*6789+{i}", value))
        floor = statistics.median(took["bare websockets"])
        for name, xs in took.items():
            print(f"{name:18} {statistics.median(xs) * 1000:6.2f} ms  {statistics.median(xs) / floor:.2f}x the bare client")
        bare.close()
        for term in (repl, mini):
            term.child.sendcontrol("d")
            term.close()
    finally:
        delete_kernel(url, token, kid)
        os.killpg(gw.pid, signal.SIGTERM)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--client"]:
        asyncio.run(client(*sys.argv[2:5]))
    else:
        main()
