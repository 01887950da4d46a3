"""One websocket per attached kernel: connect, read forever, reconnect with the same session.

The adapter only moves bytes: frames are decoded by :mod:`repl.protocol.wire` and each message is
handed to ``on_message`` synchronously, in arrival order, from the reader task; what the messages
mean is the :class:`repl.kernel.Kernel`'s business. After a reconnect, ``on_reopen`` is told
whether the old socket closed cleanly and since when it had been silent, so the kernel can
reconcile what may have been lost on a dead link.

A link that fails the same way again and again (BROKEN_AFTER sockets in a row closed before a
single message could be read from them, as through a proxy that breaks the websocket
subprotocol) is given up: :attr:`KernelChannel.failure` says why, in one line, and every send
raises it. So is a lost link not back within ``options.reconnect_for`` seconds (``-c`` sets it).
A message larger than the server takes (MAX_MESSAGE) is refused here with one line: sent, it
closed the socket and was sent again on every reconnect.
"""

from __future__ import annotations

import asyncio
import random
import socket
import time
from dataclasses import dataclass
from enum import IntEnum
from typing import Awaitable, Callable

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from repl import errors
from repl.gateway import tls, urls
from repl.gateway.options import ChannelOptions as ChannelOptions  # where it lived before
from repl.gateway.rest import stopped_answer
from repl.protocol import wire
import contextlib

TraceHook = Callable[[dict], None]

_QUICKACK = getattr(socket, "TCP_QUICKACK", None)
YIELD_EVERY = 256 * 1024  # bytes of frames read back to back before the loop runs other work
BROKEN_AFTER = 3  # sockets in a row that closed before one message came through: the link does not work
YIELD_AFTER = 0.02  # or seconds spent on them (many small frames that take long to handle)
MAX_MESSAGE = 10 * 2**20  # the servers' (tornado's) default websocket_max_message_size: larger closes the socket


DRAIN_FOR = 10.0  # seconds a detaching close waits for what a working link still carries
LIVELY = 5.0  # a frame this recent: the link works


class ChannelState(IntEnum):
    DISCONNECTED = 0
    CONNECTING = 1
    CONNECTED = 2
    RECONNECTING = 3
    GONE = 4  # the server says the kernel no longer exists
    CLOSED = 5  # we closed it

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Reopened:
    """A reconnect happened: ``clean`` if the old socket was closed properly (nothing was lost in
    it); ``silent_since`` is when its last frame arrived (time.time())."""

    clean: bool
    silent_since: float
    at: float
    generation: int  # of the new socket


class KernelChannel:
    def __init__(
        self,
        ws_base: str,
        kernel_id: str,
        session_id: str,
        options: ChannelOptions,
        *,
        on_message: Callable[[dict, float], None],
        on_malformed: Callable[[str], None],
        on_state: Callable[[ChannelState], None],
        on_reopen: Callable[[Reopened], None],
        headers: Callable[[], dict[str, str]] | None = None,
        trace: TraceHook | None = None,
        display_url: str = "",
        really_gone: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        self.kernel_id = kernel_id
        self.ws_base = ws_base
        self.url = urls.channels_url(ws_base, kernel_id, session_id)
        self.display_url = display_url or urls.display(ws_base)
        self.options = options
        self.on_message = on_message
        self.on_malformed = on_malformed
        self.on_state = on_state
        self.on_reopen = on_reopen
        self.headers = headers or dict
        # a 404 on a reconnect: does the server say so too? (a JupyterHub's other server may
        # answer for a stopped one's address)
        self.really_gone = really_gone
        self.trace = trace
        self.state = ChannelState.DISCONNECTED
        self.codec = wire.Codec(None)
        self.last_frame_at = time.time()
        self.generation = 0  # how many sockets have been opened: tells old messages from new
        self._dead: errors.ReplError | None = None
        self._ws: ClientConnection | None = None
        self._sock: socket.socket | None = None
        self._reader: asyncio.Task | None = None
        self._connected = asyncio.Event()
        self._closing = False
        self._cycling = False
        self._dead_link = False  # set when a check found the socket dead: it may have lost output
        self._read_any = False  # a message came through the current socket
        self._broken = 0  # sockets in a row that closed before a message came through
        self.gave_up = asyncio.Event()  # set with :attr:`failure`
        self._retry = asyncio.Event()  # set: a reconnect waiting to try again tries now

    # ------------------------------------------------------------ connection

    @property
    def failure(self) -> errors.ReplError | None:
        """Why the channel gave up (reconnecting failed, or the link does not work); None while it tries."""
        return self._dead

    def _give_up(self, exc: errors.ReplError, state: ChannelState) -> None:
        self._dead = exc
        self._connected.set()  # wake senders waiting for a connection: they raise
        self.gave_up.set()
        self._set_state(state)

    def _set_state(self, state: ChannelState) -> None:
        if state != self.state:
            self.state = state
            self.on_state(state)

    async def _open(self) -> None:
        opts = self.options
        offer = [] if opts.protocol == "legacy" else [wire.V1_SUBPROTOCOL]
        extra = {"ssl": opts.ssl_context} if opts.ssl_context is not None and self.url.startswith("wss") else {}
        try:
            ws = await connect(
                self.url,
                additional_headers=self.headers(),
                subprotocols=offer or None,  # type: ignore[arg-type]
                open_timeout=opts.open_timeout,
                max_size=None,
                max_queue=64,
                compression=None,
                ping_interval=opts.ping_interval,
                ping_timeout=opts.ping_timeout,
                close_timeout=1,  # a dead link never completes the closing handshake
                proxy=None if urls.is_loopback(self.url.replace("ws", "http", 1)) else True,
                **extra,  # type: ignore[arg-type]
            )
        except InvalidStatus as exc:
            code = exc.response.status_code
            stopped = stopped_answer(code, exc.response.headers.get("Location", ""), self.display_url)
            if stopped is not None:
                raise stopped from None  # (a reconnect keeps trying: the server may be started again)
            if code in (401, 403):
                raise errors.AuthError(f"the gateway at {self.display_url} rejected the token for the kernel websocket (HTTP {code})") from None
            if code == 404:
                raise errors.NoSuchKernel(f"kernel {self.kernel_id[:8]} is gone from {self.display_url}") from None
            raise errors.ChannelError(f"the kernel websocket was refused: HTTP {code}") from None
        except InvalidURI as exc:
            raise errors.UsageError(f"invalid websocket URL for {self.display_url}") from exc
        except (TimeoutError, asyncio.TimeoutError):
            raise errors.ServerTimeout(f"the kernel websocket at {self.display_url} did not open in {opts.open_timeout:.0f} s") from None
        except (OSError, InvalidHandshake) as exc:
            if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                raise errors.ServerUnreachable(tls.untrusted_certificate(self.display_url)) from None
            raise errors.ServerUnreachable(f"cannot open the kernel websocket at {self.display_url}: {exc}") from None
        if opts.protocol == "v1" and ws.subprotocol != wire.V1_SUBPROTOCOL:
            await ws.close()
            raise errors.ChannelError("the server does not speak the v1 kernel websocket protocol")
        self._ws = ws
        self._read_any = False
        self.generation += 1
        self.codec = wire.Codec(ws.subprotocol)
        self._sock = ws.transport.get_extra_info("socket") if ws.transport else None
        self._quickack()
        self.last_frame_at = time.time()
        self._emit_trace({"event": "ws-open", "subprotocol": ws.subprotocol})

    async def connect(self) -> None:
        """Open the websocket and start reading (the kernel_info handshake is the kernel's)."""
        self._set_state(ChannelState.CONNECTING)
        await self._open()
        self._connected.set()
        self._set_state(ChannelState.CONNECTED)
        self._reader = asyncio.create_task(self._read_forever(), name=f"reader-{self.kernel_id[:8]}")

    async def close(self, drain: bool = False) -> None:
        """Close the websocket, reading on until the server's close frame and through what came
        before it: what it sent before it knew we were leaving is taken (the server buffers for our
        session id only from then on, so a reader stopped first would drop those messages). With
        ``drain`` (we leave the kernel running: what we do not take now is lost), a link that
        carried frames lately is given up to DRAIN_FOR seconds to deliver them (a flood takes a
        while to draw); otherwise, or on a silent (perhaps dead) link, about a second."""
        self._closing = True
        self._connected.clear()
        lively = drain and time.time() - self.last_frame_at < LIVELY
        wait = DRAIN_FOR if lively else 1.0
        if self._ws is not None:
            self._ws.close_timeout = wait
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._ws.close(), wait + 1)
        if self._reader is not None:
            # frames that came before the close frame may still be queued in the socket: the
            # reader takes them and ends by itself (cancelled at once, it dropped the last lines)
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(self._reader), wait + 1)
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
        if self.state != ChannelState.GONE:
            self._set_state(ChannelState.CLOSED)

    async def gone(self, exc: errors.ReplError) -> None:
        """The server says the kernel no longer exists: stop, and make every send raise ``exc``."""
        self._give_up(exc, ChannelState.GONE)
        await self.close()

    async def renew(self, session_id: str, reason: str) -> None:
        """Reconnect under another session id: the server makes fresh sockets to the kernel for it
        (it keeps those of a session id that left, for the replay)."""
        self.url = urls.channels_url(self.ws_base, self.kernel_id, session_id)
        await self.cycle(reason)

    async def cycle(self, reason: str) -> None:
        """Close the socket cleanly so the reader reconnects (a restarted kernel has new ports)."""
        ws = self._ws
        if ws is not None and not self._closing:
            self._cycling = True
            self._emit_trace({"event": "ws-cycle", "reason": reason})
            await ws.close(1000, reason)

    def retry_now(self) -> None:
        """A reconnect waiting to try again tries now (the server is back)."""
        self._retry.set()

    def check_soon(self, timeout: float = 2.0) -> None:
        """Ping now; a socket that does not answer in ``timeout`` s is dropped and reconnected."""
        asyncio.ensure_future(self._check(timeout))

    async def _check(self, timeout: float) -> None:
        ws = self._ws
        if ws is None or self.state != ChannelState.CONNECTED:
            return
        try:
            await asyncio.wait_for(await ws.ping(), timeout)
        except (ConnectionClosed, asyncio.TimeoutError, TimeoutError):
            self._emit_trace({"event": "ws-dead", "reason": "no pong after a suspend"})
            self._dead_link = True
            if ws.transport is not None:
                ws.transport.abort()  # the reader notices and reconnects

    # ------------------------------------------------------------ sending

    async def send(self, msg: dict) -> int:
        """Send one message, waiting for a connection if there is none; returns the generation of
        the socket it was written to. Raises if the kernel is gone."""
        if self._closing and self._dead is None:
            raise errors.ChannelError("the connection to the kernel is closed")
        while True:
            await self._connected.wait()
            if self._dead is not None:
                raise self._dead
            assert self._ws is not None
            frame = self.codec.encode(msg)
            if len(frame) > MAX_MESSAGE:  # the server would close the socket (and we would send it again)
                raise errors.UsageError(
                    f"too large to send: {len(frame) / 2**20:.1f} MiB in one message, and the server's websocket "
                    f"takes at most {MAX_MESSAGE // 2**20} MiB (tornado's websocket_max_message_size); not sent")
            try:
                await self._ws.send(frame)
            except ConnectionClosed:
                self._connected.clear()  # the reader notices and reconnects; send again then
                continue
            self._emit_trace({"event": "send", "msg": msg, "size": len(frame)})
            return self.generation

    # ------------------------------------------------------------ reading

    def _quickack(self) -> None:
        if self._sock is not None and _QUICKACK is not None:
            with contextlib.suppress(OSError):
                self._sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)

    def _emit_trace(self, record: dict) -> None:
        if self.trace is not None:
            record.setdefault("kernel", self.kernel_id)
            self.trace(record)

    def feed(self, frame: str | bytes) -> None:
        """Decode one frame and hand on its message (also the entry point for tests)."""
        now = self.last_frame_at = time.time()
        try:
            msg = self.codec.decode(frame)
        except wire.WireError as exc:
            self._emit_trace({"event": "malformed", "error": str(exc), "size": len(frame)})
            self.on_malformed(str(exc))
            return
        self._read_any = True
        self._emit_trace({"event": "recv", "msg": msg, "size": len(frame)})
        self.on_message(msg, now)

    async def _read_forever(self) -> None:
        while not self._closing:
            ws = self._ws
            assert ws is not None
            try:
                taken, since = 0, time.monotonic()
                async for frame in ws:
                    self._quickack()
                    self.feed(frame)
                    taken += len(frame)
                    if taken > YIELD_EVERY or time.monotonic() - since > YIELD_AFTER:
                        # frames queued up (a flood): let the keyboard, the screen and the keepalive in
                        taken = 0
                        await asyncio.sleep(0)
                        since = time.monotonic()
            except ConnectionClosed:
                pass
            if self._closing:
                return
            self._connected.clear()
            silent_since = self.last_frame_at
            # Only a socket our keepalive declared dead may have swallowed output: after any other
            # close the server knew at once and buffered everything for the replay.
            sent = ws.protocol.close_sent
            dead = ws.protocol.close_rcvd is None and sent is not None and sent.code == 1011  # keepalive timeout
            clean = self._cycling or not (dead or self._dead_link)
            self._cycling = self._dead_link = False
            self._emit_trace({"event": "ws-close", "code": ws.close_code})
            self._broken = 0 if self._read_any else self._broken + 1
            if self._broken >= BROKEN_AFTER:
                self._emit_trace({"event": "ws-broken", "sockets": self._broken})
                self._give_up(errors.ChannelError(self._broken_why(ws)), ChannelState.DISCONNECTED)
                return
            try:
                await self._reconnect()
            except errors.ReplError as exc:
                gone = isinstance(exc, errors.NoSuchKernel)
                self._give_up(exc, ChannelState.GONE if gone else ChannelState.DISCONNECTED)
                return
            self.on_reopen(Reopened(clean, silent_since, time.time(), self.generation))

    def _broken_why(self, ws: ClientConnection) -> str:
        if self.options.protocol == "auto" and ws.subprotocol is None:
            # we offered v1 and heard no answer, yet the server closes on our JSON frames: a proxy
            # between us dropped its answer (and perhaps the frames' binary flag)
            return (f"the server's websocket does not work through this proxy ({self.display_url} closed it "
                    f"{self._broken} times before a message came through): try --protocol legacy")
        return (f"the kernel websocket at {self.display_url} closed {self._broken} times in a row before a "
                f"message came through (close code {ws.close_code}); a proxy may be breaking it")

    async def _reconnect(self) -> None:
        """Reconnect with the same session_id, so the server replays what it buffered."""
        self._set_state(ChannelState.RECONNECTING)
        delay = 0.1
        attempt = 0
        bound = self.options.reconnect_for
        since = time.monotonic()
        while not self._closing:
            attempt += 1
            self._emit_trace({"event": "ws-reconnect", "attempt": attempt})
            try:
                await self._open()
            except errors.NoSuchKernel as exc:
                if self.really_gone is None or await self.really_gone():
                    raise
                failed: errors.ReplError = exc
            except errors.AuthError:
                raise
            except errors.ReplError as exc:
                failed = exc
            else:
                self._connected.set()
                self._set_state(ChannelState.CONNECTED)
                return
            if bound is not None and time.monotonic() - since > bound:
                raise errors.ChannelError(f"gave up reconnecting to {self.display_url} after {bound:g} s: {failed}") from None
            self._retry.clear()
            with contextlib.suppress(asyncio.TimeoutError, TimeoutError):
                await asyncio.wait_for(self._retry.wait(), delay * (0.5 + random.random()))
            delay = min(delay * 2, 10.0)
