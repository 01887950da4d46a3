"""Drawing a plot with half blocks, against the kernel's own time to produce that plot.

A real kernel behind a local Kernel Gateway makes a 1000×800 matplotlib figure and times itself
(plot + PNG encoding, as the inline backend does); `repl -c` brings the PNG back; then the same
PNG is drawn as blocks here, as repl draws it for a 100-column terminal, and timed.
Usage: python bench/blocks.py [ROUNDS]     Needs: pip install -e '.[test]' (matplotlib in the kernel)
"""

from __future__ import annotations

import base64
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))

from roundtrip import start_gateway  # noqa: E402

from repl.ui.output import blocks  # noqa: E402

KERNEL_CODE = """
import io, time, base64
import matplotlib
matplotlib.use("agg")
import matplotlib.pyplot as plt
times = []
for i in range({rounds}):
    t0 = time.perf_counter()
    fig = plt.figure(figsize=(10, 8), dpi=100)
    plt.plot([1, 3, 2, 5, 4]); plt.title("bench")
    buf = io.BytesIO(); fig.savefig(buf, format="png"); plt.close(fig)
    times.append(time.perf_counter() - t0)
print("TIMES", " ".join(f"{{t:.6f}}" for t in times))
print("PNG", base64.b64encode(buf.getvalue()).decode())
"""


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    gw, url, token = start_gateway()
    try:
        env = {**os.environ, "JUPYTER_GATEWAY_URL": url, "JUPYTER_GATEWAY_AUTH_TOKEN": token}
        out = subprocess.run([sys.executable, "-m", "repl", "-c", KERNEL_CODE.format(rounds=rounds)], env=env,
                             capture_output=True, text=True, timeout=300, check=True).stdout
    finally:
        os.killpg(gw.pid, signal.SIGTERM)
        gw.wait(20)
    kernel = [float(x) for x in out.split("TIMES ", 1)[1].split("\n", 1)[0].split()]
    png = base64.b64decode(out.split("PNG ", 1)[1].split("\n", 1)[0])
    drawing = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        text = blocks.draw(png, 99, 24, True)
        drawing.append(time.perf_counter() - t0)
    k, d = statistics.median(kernel), statistics.median(drawing)
    print(f"kernel: 1000×800 plot + PNG   median {k * 1000:7.1f} ms   n={len(kernel)}")
    print(f"repl: the PNG as blocks        median {d * 1000:7.1f} ms   n={len(drawing)}   "
          f"({text.count(chr(10))} rows, {len(text) // 1024} KiB of text)")
    print(f"blocks / kernel: {d / k:.2f}x (target < 1)")


if __name__ == "__main__":
    main()
