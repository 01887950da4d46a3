"""A large paste that arrives as keystrokes (one line, no bracketed paste): how long until its end
is on the screen, and the program's peak memory.

Runs `repl` and `jupyter console` in ptys on one machine, side by side, over a local Kernel Gateway
(repl) and direct ZMQ (console). The text is written in 4 KB pieces as a terminal writes a paste,
while the program's output is read. Sizes beyond CONSOLE_LIMIT are not given to jupyter console
(it takes minutes on them). Usage: python bench/paste.py
Needs: pip install -e '.[bench]'
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from roundtrip import PtyClient, start_gateway  # noqa: E402

SIZES = [10_000, 30_000, 100_000, 1_000_000]
CONSOLE_LIMIT = 30_000


def peak_mib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) // 1024


def paste(client: PtyClient, n: int, tag: str) -> float:
    """Seconds from the first piece written to ``tag`` (the text's end) on the screen."""
    text = "s = '" + "x" * n + f"{tag}'"
    started = time.perf_counter()
    for i in range(0, len(text), 4096):
        client.child.send(text[i:i + 4096])
        client._read(0)
    took = client.wait_for(tag, 600) - started
    client.child.sendcontrol("u")  # clear the line: nothing is run
    client.settle()
    return took


def main() -> None:
    gw, url, token = start_gateway()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_GATEWAY")}
    env.update({"JUPYTER_GATEWAY_URL": url, "JUPYTER_GATEWAY_AUTH_TOKEN": token, "REPL_DATA_DIR": "/tmp/repl-bench"})
    rows = []
    try:
        for name, argv in (("repl", [sys.executable, "-m", "repl"]),
                           ("jupyter console", [sys.executable, "-m", "jupyter_console", "--kernel", "python3"])):
            client = PtyClient(argv, env)
            client.wait_for("In [1]:", 120)
            client.settle()
            for n in SIZES:
                if name != "repl" and n > CONSOLE_LIMIT:
                    rows.append(f"{name:<16} {n // 1000:>5} KB   not run (minutes)")
                    continue
                took = paste(client, n, f"END{n}")
                rows.append(f"{name:<16} {n // 1000:>5} KB   on screen after {took:6.2f} s   peak RSS {peak_mib(client.child.pid)} MiB")
            client.close()
    finally:
        os.killpg(gw.pid, signal.SIGTERM)
        gw.wait(20)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
