"""Drive the real `repl` command in a pseudo-terminal and read the screen as a person sees it."""

from __future__ import annotations

import os
import re
import sys
import time

import pexpect
import pyte


class _Screen(pyte.Screen):
    """A screen that answers the terminal queries prompt_toolkit makes (cursor position)."""

    def __init__(self, cols, rows, reply):
        super().__init__(cols, rows)
        self._reply = reply

    def write_process_input(self, data):
        self._reply(data)


class Term:
    def __init__(self, args=(), env=None, cols=110, rows=36, cwd=None):
        full_env = dict(os.environ if env is None else env)
        full_env.setdefault("TERM", "xterm")
        if env is None:
            full_env.pop("NO_COLOR", None)
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "repl", *args],
            env=full_env,
            dimensions=(rows, cols),
            encoding="utf-8",
            codec_errors="replace",
            cwd=cwd,
        )
        self.child.delaybeforesend = None  # pexpect sleeps 50 ms before every send by default
        self.screen = _Screen(cols, rows, self.child.send)
        self.stream = pyte.Stream(self.screen)
        self.transcript = ""
        self.emulate = True  # False: keep only the tail of the output, unparsed (for floods)
        self._fed = 0  # reads so far: a wait asks its question again when something came

    # ------------------------------------------------------------ reading

    def pump(self, wait: float = 0.02) -> None:
        for _ in range(256):  # bounded: a program that never stops writing must not trap us here
            try:
                data = self.child.read_nonblocking(65536, timeout=wait)
            except pexpect.TIMEOUT:
                return
            except pexpect.EOF:
                return
            self._take(data)
            wait = 0

    def plain(self) -> str:
        """Everything the program wrote, without escape sequences (for output scrolled off screen)."""
        return re.sub(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b\[[0-?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]|\r", "",
                      self.transcript)  # (OSC too: the prompt marks and the title)

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    def wait_for(self, what, timeout: float = 60.0):
        pred = (lambda t: what in t.text()) if isinstance(what, str) else what
        deadline = time.monotonic() + timeout
        fed, asked = -1, 0.0
        while True:
            self.pump()
            now = time.monotonic()
            if fed != self._fed or now - asked > 0.25:  # (asked again when something came, or now and then)
                if pred(self):
                    return
                fed, asked = self._fed, now
            if time.monotonic() > deadline or (not self.child.isalive() and not self._has_more()):
                raise AssertionError(f"timed out waiting for {what!r}; screen:\n{self.text()}")

    def _has_more(self) -> bool:
        try:
            data = self.child.read_nonblocking(65536, timeout=0.1)
        except (pexpect.TIMEOUT, pexpect.EOF):
            return False
        self._take(data)
        return True

    def _take(self, data: str) -> None:
        self._fed += 1
        if self.emulate:
            self.transcript += data
            self.stream.feed(data)
        else:
            self.transcript = (self.transcript + data)[-65536:]

    def cells_of(self, text: str, line_start: bool = False) -> list:
        """The screen cells (with colours) of the first on-screen occurrence of ``text``."""
        for y, line in enumerate(self.screen.display):
            x = line.find(text)
            if x >= 0 and (x == 0 or not line_start):
                return [self.screen.buffer[y][x + i] for i in range(len(text))]
        raise AssertionError(f"{text!r} not on screen:\n{self.text()}")

    def wait_prompt(self, n: int, timeout: float = 60.0) -> None:
        """``In [n]:`` with the kernel up (the first prompt comes before it: its toolbar says
        "type ahead" until then)."""
        def up(t) -> bool:
            text = t.text()
            if f"In [{n}]:" not in text or "type ahead:" in text:
                return False
            # the very first prompt may be drawn before its toolbar (which says whether the
            # kernel is up); later ones come after cells ran, and may be gone again at once
            return n > 1 or any(line.count("│") >= 2 for line in text.splitlines())

        self.wait_for(up, timeout)

    # ------------------------------------------------------------ typing

    def type(self, text: str) -> None:
        self.child.send(text)

    def enter(self, line: str) -> None:
        self.child.send(line)
        self.child.send("\r")

    def ctrl(self, key: str) -> None:
        self.child.sendcontrol(key)

    # ------------------------------------------------------------ ending

    def wait_exit(self, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        while self.child.isalive():
            self.pump(0.05)
            if time.monotonic() > deadline:
                raise AssertionError(f"repl did not exit; screen:\n{self.text()}")
        self.pump(0)
        self.child.close()
        return self.child.exitstatus if self.child.exitstatus is not None else -(self.child.signalstatus or 0)

    def close(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)
