"""I/O adapters: the REST client, the kernel websocket, the embedded local gateway."""

import sys

# httpx imports its command-line tool at import when rich and click are installed (~40 ms, a
# quarter of our start-up); we never run it. Absent, httpx defines a stub ``main`` instead.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
