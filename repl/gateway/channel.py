"""One websocket per attached kernel: connect, read forever, reconnect with the same session.

The adapter only moves bytes: frames are decoded by :mod:`repl.protocol.wire`, routed by
:class:`repl.protocol.session.KernelSession`, and the resulting events handed to ``on_events``
synchronously, in arrival order, from the reader task. Nothing is batched.
"""

from __future__ import annotations

import asyncio
import random
import socket
import time
from typing import Callable

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from repl import errors
from repl.gateway import urls
from repl.protocol import session as s
from repl.protocol import wire

EventSink = Callable[[list], None]
TraceHook = Callable[[dict], None]

_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


def untrusted_certificate(url: str) -> str:
    return (f"the TLS certificate of {url} is not trusted: pass --ca-cert FILE with its CA, "
            "or --insecure to skip the check")


class KernelChannel:
    def __init__(
        self,
        ws_base: str,
        kernel_id: str,
        session: s.KernelSession,
        *,
        headers: dict[str, str] | None = None,
        on_events: EventSink | None = None,
        on_state: Callable[[str], None] | None = None,
        protocol: str = "auto",
        open_timeout: float = 90.0,
        ping_interval: float | None = 20.0,
        ping_timeout: float | None = 20.0,
        trace: TraceHook | None = None,
        display_url: str = "",
        ssl_context=None,
        headers_fn: Callable[[], dict] | None = None,
    ) -> None:
        self.kernel_id = kernel_id
        self.session = session
        self.url = urls.channels_url(ws_base, kernel_id, session.session_id)
        self.display_url = display_url or urls.display(ws_base)
        self._headers = dict(headers or {})
        self.on_events = on_events or (lambda events: None)
        self.on_state = on_state or (lambda state: None)
        self.protocol = protocol
        self.open_timeout = open_timeout
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.trace = trace
        self.ssl_context = ssl_context
        self.headers_fn = headers_fn
        self.on_error: Callable[[Exception], None] | None = None
        self._dead: errors.ReplError | None = None
        self.state = "disconnected"
        self.codec = wire.Codec(None)
        self._ws: ClientConnection | None = None
        self._sock: socket.socket | None = None
        self._reader: asyncio.Task | None = None
        self._connected = asyncio.Event()
        self._closing = False
        self._done: dict[str, asyncio.Future] = {}
        self._replies: dict[str, asyncio.Future] = {}
        self.sent_at: dict[str, float] = {}

    # ------------------------------------------------------------ connection

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.on_state(state)

    async def _open(self) -> None:
        offer = [] if self.protocol == "legacy" else [wire.V1_SUBPROTOCOL]
        try:
            ws = await connect(
                self.url,
                additional_headers={**self._headers, **(self.headers_fn() if self.headers_fn else {})},
                subprotocols=offer or None,
                open_timeout=self.open_timeout,
                max_size=None,
                max_queue=64,
                compression=None,
                ping_interval=self.ping_interval,
                ping_timeout=self.ping_timeout,
                close_timeout=5,
                proxy=None if urls.is_loopback(self.url.replace("ws", "http", 1)) else True,
                **({"ssl": self.ssl_context} if self.ssl_context is not None and self.url.startswith("wss") else {}),
            )
        except InvalidStatus as exc:
            code = exc.response.status_code
            if code in (401, 403):
                raise errors.AuthError(f"the gateway at {self.display_url} rejected the token for the kernel websocket (HTTP {code})") from None
            if code == 404:
                raise errors.NoSuchKernel(f"kernel {self.kernel_id[:8]} is gone from {self.display_url}") from None
            raise errors.ChannelError(f"the kernel websocket was refused: HTTP {code}") from None
        except InvalidURI as exc:
            raise errors.UsageError(f"invalid websocket URL for {self.display_url}") from exc
        except (TimeoutError, asyncio.TimeoutError):
            raise errors.ServerTimeout(f"the kernel websocket at {self.display_url} did not open in {self.open_timeout:.0f} s") from None
        except (OSError, InvalidHandshake) as exc:
            if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                raise errors.ServerUnreachable(untrusted_certificate(self.display_url)) from None
            raise errors.ServerUnreachable(f"cannot open the kernel websocket at {self.display_url}: {exc}") from None
        if self.protocol == "v1" and ws.subprotocol != wire.V1_SUBPROTOCOL:
            await ws.close()
            raise errors.ChannelError("the server does not speak the v1 kernel websocket protocol")
        self._ws = ws
        self.codec = wire.Codec(ws.subprotocol)
        sock = ws.transport.get_extra_info("socket") if ws.transport else None
        self._sock = sock
        self._quickack()
        self._emit_trace({"event": "ws-open", "subprotocol": ws.subprotocol})

    async def connect(self, handshake_timeout: float = 60.0) -> dict:
        """Open the websocket, start reading, and complete the kernel_info handshake."""
        self._set_state("connecting")
        await self._open()
        self._connected.set()
        self._set_state("connected")
        self._reader = asyncio.create_task(self._read_forever(), name=f"reader-{self.kernel_id[:8]}")
        return await self.kernel_info(handshake_timeout)

    async def kernel_info(self, timeout: float = 60.0) -> dict:
        msg, req = self.session.kernel_info_request()
        fut = self.wait_reply(req)
        await self.send(msg)
        try:
            await asyncio.wait_for(fut, timeout)
        except (TimeoutError, asyncio.TimeoutError):
            raise errors.ServerTimeout(f"kernel {self.kernel_id[:8]} did not answer kernel_info in {timeout:.0f} s") from None
        return req.reply or {}

    async def close(self) -> None:
        self._closing = True
        self._connected.clear()
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except BaseException:
                pass
        if self._ws is not None:
            try:
                await asyncio.wait_for(self._ws.close(), 2)
            except Exception:
                pass
        self._fail_waiters(errors.ChannelError("the connection to the kernel was closed"))
        self._set_state("closed")

    # ------------------------------------------------------------ sending

    async def send(self, msg: dict) -> None:
        if self._closing:
            raise errors.ChannelError("the connection to the kernel is closed")
        while True:
            await self._connected.wait()
            if self._dead is not None:
                raise self._dead
            assert self._ws is not None
            frame = self.codec.encode(msg)
            try:
                await self._ws.send(frame)
            except ConnectionClosed:
                self._connected.clear()  # the reader notices and reconnects; send again then
                continue
            mid = msg["header"]["msg_id"]
            self.sent_at[mid] = time.perf_counter()
            self._emit_trace({"event": "send", "msg": msg, "size": len(frame)})
            return

    def wait_done(self, req: s.Request) -> asyncio.Future:
        fut = self._done.get(req.msg_id)
        if fut is None:
            fut = self._done[req.msg_id] = asyncio.get_running_loop().create_future()
        return fut

    def wait_reply(self, req: s.Request) -> asyncio.Future:
        fut = self._replies.get(req.msg_id)
        if fut is None:
            fut = self._replies[req.msg_id] = asyncio.get_running_loop().create_future()
        return fut

    async def ask(self, msg: dict, timeout: float) -> dict | None:
        """Send a request and return its reply's content, or None if it does not come in time.

        A late reply is dropped: nobody is waiting for it any more.
        """
        req = self.session.track(msg)
        fut = self.wait_reply(req)
        await self.send(msg)
        try:
            await asyncio.wait_for(asyncio.shield(fut), timeout)
        except (TimeoutError, asyncio.TimeoutError):
            self._replies.pop(req.msg_id, None)
            return None
        return req.reply

    async def execute(self, code: str, **kwargs) -> tuple[s.Request, asyncio.Future]:
        msg, req = self.session.execute(code, **kwargs)
        fut = self.wait_done(req)
        await self.send(msg)
        return req, fut

    # ------------------------------------------------------------ reading

    def _quickack(self) -> None:
        if self._sock is not None and _QUICKACK is not None:
            try:
                self._sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
            except OSError:
                pass

    def _emit_trace(self, record: dict) -> None:
        if self.trace is not None:
            record.setdefault("kernel", self.kernel_id)
            self.trace(record)

    def feed(self, frame: str | bytes) -> None:
        """Decode one frame and dispatch its events (also the entry point for tests)."""
        try:
            msg = self.codec.decode(frame)
        except wire.WireError as exc:
            self._emit_trace({"event": "malformed", "error": str(exc), "size": len(frame)})
            self.on_events([s.Unhandled(None, False, {"malformed": str(exc)})])
            return
        self._emit_trace({"event": "recv", "msg": msg, "size": len(frame)})
        events = self.session.receive(msg)
        for ev in events:
            if isinstance(ev, s.Reply) and ev.request is not None:
                fut = self._replies.pop(ev.request.msg_id, None)
                if fut is not None and not fut.done():
                    fut.set_result(ev.request)
            elif isinstance(ev, s.RequestDone) and ev.request is not None:
                fut = self._done.pop(ev.request.msg_id, None)
                self._replies.pop(ev.request.msg_id, None)
                self.sent_at.pop(ev.request.msg_id, None)
                if fut is not None and not fut.done():
                    fut.set_result(ev.request)
        if events:
            try:
                self.on_events(events)
            except Exception as exc:  # a bug in a handler must not stop the reader: keep reading
                self._emit_trace({"event": "handler-error", "error": repr(exc)})
                if self.on_error is not None:
                    self.on_error(exc)
        if any(isinstance(ev, s.KernelLost) and ev.state == "restarting" for ev in events):
            # The kernel comes back on new ports: a fresh websocket (same session) follows it.
            asyncio.get_running_loop().create_task(self._cycle())

    async def _cycle(self) -> None:
        ws = self._ws
        if ws is not None and not self._closing:
            self._emit_trace({"event": "ws-cycle", "reason": "kernel restarted"})
            await ws.close(1000, "kernel restarted")

    async def _read_forever(self) -> None:
        while not self._closing:
            ws = self._ws
            assert ws is not None
            try:
                async for frame in ws:
                    self._quickack()
                    self.feed(frame)
            except ConnectionClosed:
                pass
            if self._closing:
                return
            self._connected.clear()
            code = ws.close_code
            self._emit_trace({"event": "ws-close", "code": code})
            try:
                await self._reconnect()
            except errors.ReplError as exc:
                self._dead = exc
                self._connected.set()  # wake senders waiting for a connection: they raise
                self._fail_waiters(exc)
                self._set_state("dead" if isinstance(exc, errors.NoSuchKernel) else "disconnected")
                return

    async def _reconnect(self) -> None:
        """Reconnect with the same session_id, so the server replays what it buffered."""
        self._set_state("reconnecting")
        delay = 0.1
        attempt = 0
        while not self._closing:
            attempt += 1
            self._emit_trace({"event": "ws-reconnect", "attempt": attempt})
            try:
                await self._open()
            except (errors.NoSuchKernel, errors.AuthError):
                raise
            except errors.ReplError:
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 10.0)
                continue
            self._connected.set()
            self._set_state("connected")
            # Learn the kernel's state afresh (it may have restarted while we were away).
            msg, _ = self.session.kernel_info_request()
            asyncio.get_running_loop().create_task(self._send_quietly(msg))
            return

    async def _send_quietly(self, msg: dict) -> None:
        try:
            await self.send(msg)
        except errors.ReplError:
            pass

    def _fail_waiters(self, exc: Exception) -> None:
        for table in (self._done, self._replies):
            for fut in table.values():
                if not fut.done():
                    fut.set_exception(exc)
                    fut.exception()  # mark retrieved: nobody may be waiting any more
            table.clear()

