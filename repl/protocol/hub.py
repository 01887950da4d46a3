"""JupyterHub's REST API, as data: where a URL says the hub and the server are, the server and
user models, the spawn's progress events, and the scope a refusal names. Pure: no I/O.

Measured on JupyterHub 6.1.1 (DESIGN.md §6): ``GET {hub}hub/api/`` answers ``{"version"}``
without auth; ``GET hub/api/user`` gives ``name``, ``scopes`` and, with ``read:servers``,
``servers`` (name -> model); a spawn's progress is a ``text/event-stream`` of ``data: {json}``
lines ending with ``ready`` or ``failed``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

DEFAULT = ""  # the name of the default (unnamed) server


@dataclass(frozen=True)
class HubURL:
    """What a URL a user gave says: the hub's base (``https://hub.example.org/`` with its
    prefix, a trailing slash), and, for a user URL (``…/user/alice/gpu/``), the user and server."""

    base: str
    user: str | None = None
    server: str | None = None  # None: not said; DEFAULT: the default server


def locate(url: str) -> HubURL:
    """Where the hub would be for ``url`` (a normalised ``http(s)://host/path/``). The hub's own
    pages (``/hub/home``, ``/hub/spawn/alice/gpu``, ``/hub/user/alice/``) say the same."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    user = server = None
    cut = len(segments)
    for i, seg in enumerate(segments):
        if seg == "hub":
            cut = i
            rest = segments[i + 1:]
            if len(rest) >= 2 and rest[0] in ("user", "spawn", "spawn-pending", "user-redirect"):
                user, server = rest[1], (rest[2] if len(rest) > 2 else DEFAULT)
            break
        if seg == "user" and i + 1 < len(segments):
            cut = i
            user = segments[i + 1]
            server = segments[i + 2] if i + 2 < len(segments) else DEFAULT
            break
    path = "/" + "".join(s + "/" for s in segments[:cut])
    return HubURL(urlunsplit((parts.scheme, parts.netloc, path, "", "")), user, server)


def api_path(user: str, server: str, tail: str = "") -> str:
    """The REST path (under the hub's base) of ``user``'s server ``server``, e.g. its progress."""
    where = "server" if server == DEFAULT else f"servers/{quote(server, safe='')}"
    return f"hub/api/users/{quote(user, safe='')}/{where}" + (f"/{tail}" if tail else "")


def server_name(word: str) -> str:
    """A server's name as a user gives it: ``default`` or ``(default)`` (as /hub lists it) is the
    default server; a name the hub's URLs cannot hold is a ValueError (its text a user's line)."""
    if word in ("default", "(default)"):
        return DEFAULT
    if word in (".", "..") or not re.fullmatch(r"[^/\\\s?#%]+", word):
        raise ValueError(f"{word[:40]!r} is not a server name (no spaces, slashes, ?, # or %)")
    return word


def server_label(server: str) -> str:
    return "the default server" if server == DEFAULT else f"server '{server}'"


@dataclass(frozen=True)
class ServerModel:
    name: str
    ready: bool = False
    pending: str | None = None  # "spawn", "stop", or None
    stopped: bool = True
    url: str = ""
    started: str = ""
    last_activity: str = ""
    user_options: dict = field(default_factory=dict)

    @classmethod
    def from_json(cls, name: str, data: Any) -> "ServerModel":
        if not isinstance(data, dict):
            return cls(name)
        pending = data.get("pending")
        options = data.get("user_options")
        return cls(
            name=str(data.get("name", name) or name),
            ready=bool(data.get("ready")),
            pending=str(pending) if pending else None,
            stopped=bool(data.get("stopped", not data.get("ready") and not pending)),
            url=str(data.get("url") or ""),
            started=str(data.get("started") or ""),
            last_activity=str(data.get("last_activity") or ""),
            user_options=options if isinstance(options, dict) else {},
        )

    @property
    def state(self) -> str:
        """ready, starting, stopping or stopped."""
        if self.pending == "spawn":
            return "starting"
        if self.pending == "stop":
            return "stopping"
        if self.pending:
            return self.pending
        return "ready" if self.ready else "stopped"


@dataclass(frozen=True)
class UserModel:
    name: str
    scopes: tuple[str, ...] = ()
    servers: dict[str, ServerModel] | None = None  # None: the token may not read them (read:servers)

    @classmethod
    def from_json(cls, data: Any) -> "UserModel":
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise ValueError("the hub's user model has no name")
        scopes = data.get("scopes")
        found = data.get("servers")
        servers = None
        if isinstance(found, dict):
            servers = {str(k): ServerModel.from_json(str(k), v) for k, v in found.items()}
        return cls(data["name"], tuple(str(s) for s in scopes) if isinstance(scopes, list) else (), servers)


@dataclass(frozen=True)
class Progress:
    """One event of a spawn's progress stream."""

    percent: int | None = None
    message: str = ""
    ready: bool = False
    failed: bool = False
    url: str = ""


def progress_event(data: str) -> Progress | None:
    """The event in one ``data:`` payload; None for what is not a JSON object."""
    try:
        event = json.loads(data)
    except ValueError:
        return None
    if not isinstance(event, dict):
        return None
    percent = event.get("progress")
    return Progress(
        percent=int(percent) if isinstance(percent, (int, float)) and not isinstance(percent, bool) else None,
        message=str(event.get("message") or "").strip(),
        ready=bool(event.get("ready")),
        failed=bool(event.get("failed")),
        url=str(event.get("url") or ""),
    )


class EventStream:
    """A ``text/event-stream`` read in chunks: :meth:`feed` returns the ``data`` of each event
    the chunk completes (an event ends at a blank line; comments and other fields are skipped)."""

    def __init__(self) -> None:
        self._partial = ""
        self._data: list[str] = []

    def feed(self, chunk: str) -> list[str]:
        self._partial += chunk
        *lines, self._partial = re.split(r"\r\n|\r|\n", self._partial)
        done: list[str] = []
        for line in lines:
            if not line:
                if self._data:
                    done.append("\n".join(self._data))
                    self._data = []
            elif line.startswith("data:"):
                self._data.append(line[5:].removeprefix(" "))
        return done


_REQUIRES = re.compile(r"requires any of \[([^\]]*)\]")


def missing_scopes(message: str) -> str | None:
    """The scopes a 403's message says are needed (``read:servers``), or None."""
    found = _REQUIRES.search(message)
    if found is None:
        return None
    names = [s.strip().strip("'\"") for s in found.group(1).split(",") if s.strip()]
    return ", ".join(names) or None
