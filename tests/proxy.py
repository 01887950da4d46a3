"""A TCP proxy on loopback whose connections a test can cut, freeze, or slow down (``delay``
seconds each way, as a server across the country; ``rate`` bytes/s at most each way, a slow link), or that breaks websockets the way the PyPI
port of configurable-http-proxy does (``break_websocket``: the subprotocol answer dropped from
the 101, binary frames passed on as text)."""

from __future__ import annotations

import queue
import select
import socket
import threading
import time
import contextlib


class CutProxy:
    def __init__(self, upstream_port: int, delay: float = 0.0, break_websocket: bool = False,
                 buffer_event_streams: bool = False, rate: float = 0.0) -> None:
        self.delay = delay
        self.rate = rate
        self.break_websocket = break_websocket
        self.buffer_event_streams = buffer_event_streams  # as a proxy with response buffering on (nginx's default)
        self.upstream = ("127.0.0.1", upstream_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._moving = threading.Lock()  # held while a chunk is read and passed on
        self.accepted = 0
        self.cuts = 0
        self._stop = False
        self.frozen: set[socket.socket] = set()
        self.requests: list[bytes] = []
        self.refusing = False  # while True, new connections are closed at once (the server is "down")  # the first bytes each client sent (its HTTP request head)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.refusing:
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, server))
                self.accepted += 1
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        peers = {client: server, server: client}
        send = {sock: self._sender(peer) for sock, peer in peers.items()} if self.delay else None
        rewrite = _BreakWebsocket() if self.break_websocket else _BufferEventStreams() if self.buffer_event_streams else None
        first = True
        try:
            while True:
                if client in self.frozen:  # a silent network: nothing passes, nothing is closed
                    with self._lock:
                        if self._stop or (client, server) not in self._pairs:
                            return  # cut or closed meanwhile (not a spin on the sockets it shut)
                    time.sleep(0.05)
                    continue
                ready, _, _ = select.select(list(peers), [], [], 0.2)
                if client in self.frozen:
                    continue
                with self._moving:  # a cut falls between chunks: what the proxy read, it passes on
                    for sock in ready:
                        data = self._chunk(sock, sock is client and first, rewrite if sock is server else None)
                        first = first and sock is not client
                        if send is not None:
                            send[sock].put((time.monotonic() + self.delay, data))
                        else:
                            peers[sock].sendall(data)
                        if self.rate:
                            time.sleep(len(data) / self.rate)
        except OSError:
            pass
        finally:
            for sock in (client, server):
                with contextlib.suppress(OSError):
                    sock.close()

    def _chunk(self, sock: socket.socket, request: bool, rewrite) -> bytes:
        """What ``sock`` has for its peer (``request``: the client's first bytes, kept)."""
        data = sock.recv(65536)
        if not data:
            raise OSError("closed")
        if request:
            self.requests.append(data[:4096])
        return rewrite.feed(data) if rewrite is not None else data

    def _sender(self, sock: socket.socket) -> queue.Queue:
        """A queue whose chunks reach ``sock`` ``delay`` seconds after they were read, in order."""
        q: queue.Queue = queue.Queue()

        def run() -> None:
            while True:
                due, data = q.get()
                time.sleep(max(0.0, due - time.monotonic()))
                try:
                    sock.sendall(data)
                except OSError:
                    return

        threading.Thread(target=run, daemon=True).start()
        return q

    def cut(self) -> int:
        """Drop every live connection at once, as a network failure would. Returns how many."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
        with self._moving:
            self._shut(pairs)
        self.cuts += 1
        return len(pairs)

    def _shut(self, pairs) -> None:
        for client, server in pairs:
            if not self.delay and not self.break_websocket:
                self._drain(server, client)
            for sock in (server, client):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    @staticmethod
    def _drain(server: socket.socket, client: socket.socket) -> None:
        """What the server's TCP already handed over (it counts it as sent, and will not keep it
        for a replay) is passed on before the cut: the cut falls after it, as between chunks.
        Bytes still on their way when a real link breaks are lost all the same; what this models
        is the break itself, which the server notices and answers with its replay buffer."""
        with contextlib.suppress(OSError):
            server.setblocking(False)
            client.settimeout(2.0)
            while True:
                try:
                    data = server.recv(65536)
                except BlockingIOError:
                    return
                if not data:
                    return
                client.sendall(data)

    def freeze(self) -> int:
        """Stop passing data on the live connections without closing them (a dead NAT or proxy)."""
        with self._lock:
            pairs = list(self._pairs)
        self.frozen.update(client for client, _ in pairs)
        return len(pairs)

    def close(self) -> None:
        self._stop = True
        self.cut()
        self.listener.close()


class _BufferEventStreams:
    """Server-to-client bytes as a buffering proxy passes them on: an answer that is an event
    stream (chunked) is held back whole, and passed on when it ends; everything else at once."""

    def __init__(self) -> None:
        self.held = b""

    def feed(self, data: bytes) -> bytes:
        if not self.held and b"text/event-stream" not in data.split(b"\r\n\r\n", 1)[0]:
            return data
        self.held += data
        end = self.held.find(b"\r\n0\r\n\r\n")
        if end < 0:
            return b""
        out, rest, self.held = self.held[:end + 7], self.held[end + 7:], b""
        return out + (self.feed(rest) if rest else b"")


class _BreakWebsocket:
    """Server-to-client bytes as a broken proxy passes them on: the ``Sec-WebSocket-Protocol``
    line taken out of a 101 answer, and every binary frame's opcode turned into text."""

    def __init__(self) -> None:
        self.head = b""  # the HTTP answer, until its blank line
        self.in_head = True
        self.frame = bytearray()  # the start of the frame header being read
        self.skip = 0  # payload bytes of the current frame still to pass on unchanged

    def feed(self, data: bytes) -> bytes:
        out = bytearray()
        if self.in_head:
            self.head += data
            if b"\r\n\r\n" not in self.head:
                return b""
            head, data = self.head.split(b"\r\n\r\n", 1)
            self.in_head = False
            if head.startswith(b"HTTP/1.1 101"):
                head = b"\r\n".join(line for line in head.split(b"\r\n")
                                     if not line.lower().startswith(b"sec-websocket-protocol:"))
            else:
                self.skip = -1  # not a websocket: pass the rest on as it is
            out += head + b"\r\n\r\n"
        if self.skip < 0:
            return bytes(out + data)
        i = 0
        while i < len(data):
            if self.skip:
                take = min(self.skip, len(data) - i)
                out += data[i:i + take]
                self.skip -= take
                i += take
                continue
            self.frame.append(data[i])
            i += 1
            need = self._header_length()
            if need is not None and len(self.frame) == need:
                if self.frame[0] & 0x0F == 0x2:
                    self.frame[0] = (self.frame[0] & 0xF0) | 0x1
                self.skip = self._payload_length()
                out += self.frame
                self.frame = bytearray()
        return bytes(out)

    def _header_length(self) -> int | None:
        if len(self.frame) < 2:
            return None
        short = self.frame[1] & 0x7F
        return 2 + {126: 2, 127: 8}.get(short, 0) + (4 if self.frame[1] & 0x80 else 0)

    def _payload_length(self) -> int:
        short = self.frame[1] & 0x7F
        if short == 126:
            return int.from_bytes(self.frame[2:4], "big")
        if short == 127:
            return int.from_bytes(self.frame[2:10], "big")
        return short
