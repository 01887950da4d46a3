"""How kernel websockets are opened (apart from the channel, which imports websockets)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass


@dataclass(frozen=True)
class ChannelOptions:
    """How to open kernel websockets; the same for every kernel of one REPL session."""

    protocol: str = "auto"  # auto / v1 / legacy
    open_timeout: float = 90.0
    ping_interval: float | None = 20.0
    ping_timeout: float | None = 20.0
    ssl_context: ssl.SSLContext | None = None
    reconnect_for: float | None = None  # give up a lost link after this many seconds (None: keep trying)
