"""I/O adapters: the REST client, the kernel websocket, the embedded local gateway."""

import sys

# httpx imports its command-line tool at import when rich and click are installed (~40 ms, a
# quarter of our start-up); we never run it. Absent, httpx defines a stub ``main`` instead.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
# httpcore imports trio, when it is installed, to serve trio programs (~80 ms); we run on asyncio.
sys.modules.setdefault("trio", None)  # type: ignore[arg-type]
