"""Gateway URL handling: validation, display form (never with credentials), websocket URLs."""

from __future__ import annotations

import ipaddress
from urllib.parse import parse_qs, quote, urlsplit, urlunsplit

from repl.errors import UsageError


def normalise(url: str) -> str:
    """``http(s)://host[:port]/base/`` with a trailing slash; raises UsageError if unusable."""
    raw = url.strip()
    if "://" not in raw:
        raw = "http://" + raw
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https"):
        raise UsageError(f"gateway URL must start with http:// or https://, not {parts.scheme}://")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise UsageError(f"gateway URL has an invalid port: {display(url)}") from None
    if not parts.hostname:
        raise UsageError(f"gateway URL has no host: {display(url)}")
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


# The first path segment of a page of Jupyter's web front ends (and of its REST API): what comes
# before it is the server's base URL. JupyterHub's /user/NAME/ (and /user/NAME/SERVER/) is base.
_PAGES = frozenset({"lab", "tree", "notebooks", "edit", "terminals", "consoles", "doc", "view", "files",
                    "nbclassic", "retro", "voila", "api", "login", "logout"})


def server_base(url: str) -> tuple[str, str | None]:
    """(the server's base URL, a token in it) from a URL a user copies: the browser's address
    (``…/lab?token=T``, ``…/tree``, ``…/notebooks/x.ipynb``, ``…/lab/tree/x.ipynb``,
    ``…/user/alice/lab``) or a line of ``jupyter server list`` (``URL :: /dir``). Query strings
    and fragments are dropped; the token never stays in the URL."""
    raw = url.strip().split(" :: ", 1)[0].strip()
    try:
        parts = urlsplit(raw if "://" in raw else "http://" + raw)
    except ValueError:
        return raw, None
    query = parse_qs(parts.query)
    token = (query.pop("token", [None]) or [None])[0] or None
    segments = parts.path.split("/")
    first = next((i for i, seg in enumerate(segments) if seg == "user" or seg in _PAGES), None)
    # JupyterHub: /[prefix/]user/NAME/ is the server's base (NAME may be "lab")
    start = first + 2 if first is not None and segments[first] == "user" else 0
    cut = next((i for i in range(start, len(segments)) if segments[i] in _PAGES), None)
    if cut is None and token is None:
        return raw, None  # not a page we know: leave it as the user gave it
    path = parts.path if cut is None else "/".join(segments[:cut]) + "/"
    return (parts.scheme + "://" if "://" in raw else "") + parts.netloc + path, token


def display(url: str) -> str:
    """The URL as shown to users: no user:password, no query string (tokens live there)."""
    try:
        parts = urlsplit(url if "://" in url else "http://" + url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = host + (f":{parts.port}" if parts.port else "")
    except ValueError:
        return "<invalid URL>"
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/") or "", "", ""))


def ws_base(http_base: str) -> str:
    parts = urlsplit(http_base)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, parts.path, "", ""))


def channels_url(ws_base_url: str, kernel_id: str, session_id: str) -> str:
    base = ws_base_url if ws_base_url.endswith("/") else ws_base_url + "/"
    return f"{base}api/kernels/{quote(kernel_id, safe='')}/channels?session_id={quote(session_id, safe='')}"


def ws_base_from(url: str) -> str:
    """A websocket base URL given as ws(s):// or http(s)://, normalised like the server URL."""
    raw = url.strip()
    for ws, http in (("wss://", "https://"), ("ws://", "http://")):
        if raw.startswith(ws):
            raw = http + raw[len(ws):]
    return ws_base(normalise(raw))


def is_loopback(url: str) -> bool:
    """True for localhost and 127.0.0.0/8 / ::1: proxy settings never apply to those."""
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
