"""``--profile-startup``: where the time went, from the process's start to the first prompt and
to the kernel ready behind it."""

from __future__ import annotations

import os
import time


def process_age() -> float:
    """Seconds since this process was started (Linux, to 1/100 s); else since this module loaded."""
    try:
        with open("/proc/self/stat", "rb") as f:
            stat = f.read()
        ticks = int(stat[stat.rindex(b")") + 2:].split()[19])  # field 22: starttime, in clock ticks since boot
        return time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return time.monotonic() - _LOADED


_LOADED = time.monotonic()


class StartupProfile:
    def __init__(self, on: bool) -> None:
        self.on = on
        self.marks: list[tuple[str, float]] = []
        self.mark("python started, repl's command line read")

    def mark(self, what: str) -> None:
        """Note that ``what`` is done, now (once: the first time counts)."""
        if self.on and all(w != what for w, _ in self.marks):
            self.marks.append((what, process_age()))

    def lines(self) -> list[str]:
        """One line a step: the time since launch and the step's own share."""
        out, last = ["start-up, from launch:"], 0.0
        for what, at in sorted(self.marks, key=lambda m: m[1]):
            out.append(f"{at * 1000:7.0f} ms  (+{(at - last) * 1000:4.0f})  {what}")
            last = at
        return out
