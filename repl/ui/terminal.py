"""A server's terminal, full screen (``/terminal``): the REPL steps aside, the tty goes raw, keys go
to the shell as ``["stdin", …]`` and its ``["stdout", …]`` comes straight to the screen (a shell's
output is meant to drive the terminal: vim, htop, colours), in the terminal's alternate screen
so the REPL's scrollback comes back as it was. The size is sent at the start and on every
SIGWINCH. Ctrl-] leaves (the shell keeps running on the server); the server closing the socket
(``exit`` in the shell) ends it. Kernel output that comes meanwhile is held and shown after.

What the shell writes goes through :class:`repl.protocol.shellscreen.ShellOutput`: it cannot leave
the alternate screen nor write the clipboard, and the queries in the history the server replays
first (on going back to a terminal) are not answered again. On leaving, the modes a program turned
on are reset and our window title (pushed on entering) comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import termios
import tty
from typing import TYPE_CHECKING

from repl.protocol import shellscreen, terminal as tp

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

ENTER = shellscreen.PUSH_TITLE + "\x1b[?1049h\x1b[H\x1b[2J"  # our title kept; the alternate screen, cleared
LEAVE = shellscreen.POP_TITLE + "\x1b[?1049l"  # (after ShellOutput.leave())


def _size(fd: int) -> tuple[int, int]:
    try:
        size = os.get_terminal_size(fd)
        return size.lines, size.columns
    except OSError:
        return 24, 80


class _Link:
    """The keys and the socket of one visit: keys in, in order; the shell's output out."""

    def __init__(self, ws: ClientConnection, fd_in: int, fd_out: int, replays: bool) -> None:
        self.ws = ws
        self.fd_in, self.fd_out = fd_in, fd_out
        self.keys = tp.Keys()
        self.screen = shellscreen.ShellOutput()
        self.replayed = not replays  # the first stdout on going back to a terminal is its history
        self.outgoing: asyncio.Queue[str] = asyncio.Queue()
        self.size: tuple[int, int] | None = None  # the size last sent
        self.left = asyncio.get_running_loop().create_future()  # set by Ctrl-] (or the end of input)

    def on_keys(self) -> None:
        try:
            data = os.read(self.fd_in, 65536)
        except OSError:
            data = b""
        text, leave = self.keys.feed(data)
        if text:
            self.on_winch()  # (a resize whose SIGWINCH is not handled yet goes before keys typed after it)
            self.outgoing.put_nowait(tp.stdin(text))
        if (leave or not data) and not self.left.done():
            self.left.set_result(None)

    def on_winch(self) -> None:
        """Send the terminal's size if it is not the one last sent."""
        size = _size(self.fd_out)
        if size != self.size:
            self.size = size
            self.outgoing.put_nowait(tp.set_size(*size))

    async def send(self) -> None:
        while True:
            await self.ws.send(await self.outgoing.get())
            self.outgoing.task_done()

    async def receive(self) -> None:
        from websockets.exceptions import ConnectionClosed

        with contextlib.suppress(ConnectionClosed):
            async for frame in self.ws:
                f = tp.parse(frame)
                if f is not None and f.kind == "stdout":
                    text = self.screen.feed(f.text, replay=not self.replayed)
                    self.replayed = True
                    if text:
                        os.write(self.fd_out, text.encode("utf-8", "replace"))
                elif f is not None and f.kind == "disconnect":
                    return


async def run(ws: ClientConnection, replays: bool = False) -> bool:
    """Be the server's terminal until Ctrl-] (False) or the shell ends (True). ``replays``: the
    terminal ran before, so the server first sends what it wrote meanwhile (terminado's history)."""
    link = _Link(ws, sys.stdin.fileno(), sys.stdout.fileno(), replays)
    loop = asyncio.get_running_loop()
    saved = termios.tcgetattr(link.fd_in)
    os.write(link.fd_out, ENTER.encode())
    tty.setraw(link.fd_in, termios.TCSANOW)
    loop.add_reader(link.fd_in, link.on_keys)
    loop.add_signal_handler(signal.SIGWINCH, link.on_winch)
    link.on_winch()
    sender, reader = asyncio.ensure_future(link.send()), asyncio.ensure_future(link.receive())
    try:
        await asyncio.wait([link.left, reader], return_when=asyncio.FIRST_COMPLETED)
        if not reader.done():  # keys typed just before Ctrl-] still go
            with contextlib.suppress(asyncio.TimeoutError, TimeoutError):
                await asyncio.wait_for(link.outgoing.join(), 2.0)
        return reader.done()
    finally:
        loop.remove_reader(link.fd_in)
        loop.remove_signal_handler(signal.SIGWINCH)
        for task in (sender, reader):
            task.cancel()
        with contextlib.suppress(termios.error):
            termios.tcsetattr(link.fd_in, termios.TCSANOW, saved)
        os.write(link.fd_out, (link.screen.leave() + LEAVE).encode())
        with contextlib.suppress(Exception):
            await ws.close()
