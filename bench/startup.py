"""Launch → first prompt drawn (and → first result), side by side in one run, in ptys.

  attach    `repl --attach ID` to a kernel of a local Kernel Gateway,
            against `jupyter console --existing` on the same kernel (its connection file)
  embedded  `repl` with no server (it starts its own gateway and kernel),
            against `jupyter console` (it starts its own kernel); also launch → `1+1` result

Rounds alternate between the programs so machine noise hits both. Usage: python bench/startup.py [ROUNDS]
Needs: pip install -e '.[bench]'
"""

from __future__ import annotations

import os
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))

from roundtrip import PtyClient, start_gateway  # noqa: E402


READY = re.compile(r"In \[\d+\]|│ idle │")


def launch(argv: list[str], env: dict, result: bool = False) -> tuple[float, float, float | None]:
    """Seconds to the first prompt on screen, to the kernel ready (jupyter console draws its first
    prompt once the kernel answered; repl draws its prompt first, and says ``idle`` in its toolbar,
    or numbers its prompt, once the kernel answered), and (``result``) to the answer of ``1+1`` typed as soon as a prompt shows (repl
    keeps what is typed before its kernel is up; then the moment of readiness is not taken)."""
    t0 = time.perf_counter()
    client = PtyClient(argv, env, screen=True)
    try:
        prompt = client.wait_for("In [", 120, keep=True) - t0
        if result:
            client.child.send("1+1\r")
            return prompt, float("nan"), client.wait_for("Out[", 60) - t0
        return prompt, client.wait_screen(READY, 120) - t0, None  # (on the screen: a redraw may write one digit)
    finally:
        client.close()


def runtime_dir() -> Path:
    out = subprocess.run([sys.executable, "-m", "jupyter", "--runtime-dir"], capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    gw, url, token = start_gateway()
    base = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_GATEWAY")}
    base["REPL_DATA_DIR"] = "/tmp/repl-bench"
    times: dict[str, list[float]] = {k: [] for k in ("repl attach", "console --existing", "repl embedded",
                                                      "console (own kernel)", "repl embedded 1+1", "console 1+1")}
    try:
        kid = httpx.post(f"{url}/api/kernels", json={"name": "python3"},
                         headers={"Authorization": f"token {token}"}).json()["id"]
        connection = runtime_dir() / f"kernel-{kid}.json"
        for _ in range(100):
            if connection.exists():
                break
            time.sleep(0.1)
        attach_env = {**base, "JUPYTER_GATEWAY_URL": url, "JUPYTER_GATEWAY_AUTH_TOKEN": token}
        for _ in range(rounds):
            times["repl attach"].append(launch([sys.executable, "-m", "repl", "--attach", kid], attach_env)[1])
            times["console --existing"].append(
                launch([sys.executable, "-m", "jupyter_console", "--existing", str(connection)], base)[1])
            prompt, _, answer = launch([sys.executable, "-m", "repl"], base, result=True)
            times["repl embedded"].append(prompt)
            times["repl embedded 1+1"].append(answer or 0.0)
            prompt, _, answer = launch([sys.executable, "-m", "jupyter_console", "--kernel", "python3"], base, result=True)
            times["console (own kernel)"].append(prompt)
            times["console 1+1"].append(answer or 0.0)
    finally:
        os.killpg(gw.pid, signal.SIGTERM)
        gw.wait(20)
    med = {k: statistics.median(v) for k, v in times.items()}
    for name, value in med.items():
        print(f"{name:<22} median {value * 1000:7.0f} ms   n={len(times[name])}")
    print(f"attach:   repl / jupyter console --existing = {med['repl attach'] / med['console --existing']:.2f}x (target <= 0.6x)")
    print(f"embedded: repl / jupyter console to the prompt = {med['repl embedded'] / med['console (own kernel)']:.2f}x; "
          f"to the first result = {med['repl embedded 1+1'] / med['console 1+1']:.2f}x (target <= 2x)")


if __name__ == "__main__":
    main()
