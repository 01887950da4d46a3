"""A TCP proxy on loopback whose connections a test can cut, freeze, or slow down (``delay``
seconds each way, as a server across the country)."""

from __future__ import annotations

import queue
import select
import socket
import threading
import time
import contextlib


class CutProxy:
    def __init__(self, upstream_port: int, delay: float = 0.0) -> None:
        self.delay = delay
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
        first = True
        try:
            while True:
                ready, _, _ = select.select(list(peers), [], [], 0.2)
                if client in self.frozen:
                    continue  # a silent network: nothing passes, nothing is closed
                with self._moving:  # a cut falls between chunks: what the proxy read, it passes on
                    for sock in ready:
                        data = sock.recv(65536)
                        if not data:
                            raise OSError("closed")
                        if sock is client and first:
                            first = False
                            self.requests.append(data[:4096])
                        if send is not None:
                            send[sock].put((time.monotonic() + self.delay, data))
                        else:
                            peers[sock].sendall(data)
        except OSError:
            pass
        finally:
            for sock in (client, server):
                with contextlib.suppress(OSError):
                    sock.close()

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

    @staticmethod
    def _shut(pairs) -> None:
        for client, server in pairs:
            for sock in (server, client):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

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
