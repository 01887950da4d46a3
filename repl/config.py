"""Settings: command-line flags override environment variables."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from repl import paths
from repl.errors import UsageError

ENV_URL = "JUPYTER_GATEWAY_URL"
ENV_TOKEN = "JUPYTER_GATEWAY_AUTH_TOKEN"
ENV_WS_URL = "JUPYTER_GATEWAY_WS_URL"
ENV_CONFIG = "REPL_CONFIG"
ENV_TITLE = "REPL_TITLE"
ENV_HYPERLINKS = "REPL_HYPERLINKS"
ENV_NOTIFY_AFTER = "REPL_NOTIFY_AFTER"


def config_path() -> Path:
    return Path(os.environ[ENV_CONFIG]) if os.environ.get(ENV_CONFIG) else paths.config_dir() / "config.toml"


def load_file(path: Path) -> dict:
    """The TOML config file, or {} when there is none; a broken one is a one-line UsageError."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return {}
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text: save it as UTF-8") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    if sys.version_info >= (3, 11):  # (imported when there is a file: ~6 ms at every start otherwise)
        import tomllib
    else:  # Python 3.10
        import tomli as tomllib
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path} is not valid TOML: {exc}") from None
    return data


def server_entry(data: dict, name: str | None, path: Path) -> tuple[dict, str | None]:
    """The config file's entry for server ``name`` (or the file's ``default``), and its name."""
    found = data.get("servers")
    servers: dict = found if isinstance(found, dict) else {}
    name = name or (data.get("default") if isinstance(data.get("default"), str) else None)
    if name is None:
        return {}, None
    entry = servers.get(name)
    if not isinstance(entry, dict):
        have = ", ".join(sorted(servers)) or "none"
        raise UsageError(f"no server '{name}' in {path} (servers: {have})")
    return entry, name


def parse_env(items: list[str], source: str = "--env") -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{source} wants KEY=VALUE, not {key[:40]!r}")
        out[key] = value
    return out


def kernel_env_for(api_info: dict, env: dict[str, str], username: str) -> dict[str, str] | None:
    """The env to send when starting a kernel: only to Enterprise Gateway (it reports
    gateway_version); Kernel Gateway would rebuild the kernel's environment from it."""
    if "gateway_version" not in api_info:
        return None
    out = {"KERNEL_USERNAME": username}
    out.update(env)
    return out


def _read_token(path: str, what: str) -> str:
    try:
        return Path(path).expanduser().read_text(encoding="utf-8-sig").strip()  # a BOM is dropped
    except UnicodeDecodeError:
        raise UsageError(f"{path} ({what}) is not UTF-8 text") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path} ({what}): {exc.strerror or exc}") from None


def _ascii_token(token: str | None, source: str) -> str | None:
    """Tokens travel in an HTTP header, which is ASCII: say so instead of failing later."""
    if token is not None and not token.isascii():
        raise UsageError(f"the token from {source} has non-ASCII characters (a stray character?); tokens are ASCII")
    return token


_KINDS: dict[type, str] = {str: "a string", dict: "a table", list: "a list"}


def _typed(entry: dict, key: str, kind: type, where: str):
    """``entry[key]`` if it is of ``kind`` (or absent: None); else a one-line UsageError."""
    value = entry.get(key)
    if value is None or isinstance(value, kind):
        return value
    raise UsageError(f"{where}: {key} must be {_KINDS[kind]}, not {type(value).__name__} ({key} = {value!r:.40})")


def parse_headers(items: list[str], source: str = "--header") -> dict[str, str]:
    """'Name: value' items as a dict; ``source`` says where they came from in an error."""
    headers: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition(":")
        if not sep or not name.strip() or any(c in name for c in " \t\r\n") or "\n" in value or "\r" in value:
            raise UsageError(f"{source} wants 'Name: value', not {item.split(':')[0][:40]!r}…")
        if not (name + value).isascii():
            raise UsageError(f"{source} {name.strip()[:40]}: HTTP headers are ASCII; this one is not")
        headers[name.strip()] = value.strip()
    return headers


# Settings that only a flag sets, copied as they are.
_FROM_FLAGS_ONLY = ("attach", "resume", "debug", "code", "log_traffic", "client_cert", "client_key", "insecure",
                    "ping_interval", "ping_timeout", "style", "vi", "images", "image_rows", "protocol", "launch_timeout")


@dataclass
class Settings:
    url: str | None = None
    token: str | None = None
    kernel: str | None = None
    attach: str | None = None
    resume: str | None = None  # --resume [SERVER]: "" when no server is named
    debug: bool = False
    code: str | None = None  # one-shot mode when set
    log_traffic: str | None = None
    ca_cert: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    insecure: bool = False
    ping_interval: float = 20.0
    ping_timeout: float = 20.0
    style: str | None = None
    vi: bool = False
    images: str = "auto"
    image_rows: int = 24
    headers: dict = field(default_factory=dict)
    ws_url: str | None = None
    kernel_env: dict = field(default_factory=dict)
    protocol: str = "auto"
    launch_timeout: float = 120.0
    named_server: str | None = None  # on a JupyterHub: which of the user's servers
    user_options: dict = field(default_factory=dict)  # on a JupyterHub: the spawn's user_options
    title: bool = True  # the window title shows the kernel and its state
    hyperlinks: str = "auto"  # OSC 8 links: auto (the terminals known to draw them), on, off
    notify_after: float = 10.0  # seconds a cell runs before its end is notified while the window is away (0: never)

    sources: dict = field(default_factory=dict)  # setting -> where its value came from, for errors

    def source(self, name: str, flag: str) -> str:
        """Where setting ``name`` came from: its flag, an environment variable or a config key."""
        return self.sources.get(name, flag)

    @classmethod
    def resolve(cls, args, env: Mapping[str, str] | None = None, file: dict | None = None,
                path: Path | None = None) -> "Settings":
        """Flags override the environment, which overrides the config file's server entry."""
        env = os.environ if env is None else env
        path = path or config_path()
        entry, name = server_entry(file if file is not None else load_file(path), args.server, path)
        where = f"{path}, server '{name}'"
        if args.attach is not None and not args.attach.strip():
            raise UsageError("--attach wants a kernel id, id prefix or alias, not an empty string")
        pick = _Picker(entry, where)
        url = pick.first("url", (args.url, "--url"), (env.get(ENV_URL), ENV_URL))
        url, url_token = _server_url(url, pick.sources.get("url", "--url"))
        token = _ascii_token(args.token, "--token")
        if token is None and args.token_file:
            token = _ascii_token(_read_token(args.token_file, "--token-file"), "--token-file")
        token = token or _ascii_token(env.get(ENV_TOKEN), ENV_TOKEN) or _ascii_token(url_token, "the URL") or None
        token_file = _typed(entry, "token_file", str, where)
        if token is None and token_file:
            token = _ascii_token(_read_token(token_file, f"token_file of {where}"), f"token_file of {where}")
        if token is None:
            token = _ascii_token(_typed(entry, "token", str, where), f"token of {where}")
        headers = {str(k): str(v) for k, v in (_typed(entry, "headers", dict, where) or {}).items()}
        headers = parse_headers([f"{k}: {v}" for k, v in headers.items()], f"headers of {where}:")
        headers.update(parse_headers(args.header))
        kernel_env = {str(k): str(v) for k, v in (_typed(entry, "env", dict, where) or {}).items()}
        if kernel_env and not args.env:
            pick.sources["kernel_env"] = f"env of {where}"
        kernel_env.update(parse_env(args.env))
        user_options = dict(_typed(entry, "user_options", dict, where) or {})
        if user_options and not args.option:
            pick.sources["user_options"] = f"user_options of {where}"
        user_options.update(parse_env(args.option, "--option"))
        named = pick.first("named_server", (args.named_server, "--named-server"))
        title = _choice(pick, "title", ("on", "off"), (args.title, "--title"), (env.get(ENV_TITLE), ENV_TITLE))
        links = _choice(pick, "hyperlinks", ("auto", "on", "off"), (args.hyperlinks, "--hyperlinks"),
                        (env.get(ENV_HYPERLINKS), ENV_HYPERLINKS))
        notify_after = _seconds(pick, "notify_after", (args.notify_after, "--notify-after"),
                                (env.get(ENV_NOTIFY_AFTER), ENV_NOTIFY_AFTER))
        return cls(
            url=url,
            token=token,
            kernel=args.kernel or (_typed(entry, "kernel", str, where) if not args.attach else None),
            kernel_env=kernel_env,
            named_server=named,
            user_options=user_options,
            ca_cert=pick.first("ca_cert", (args.ca_cert, "--ca-cert")),
            headers=headers,
            **{name: getattr(args, name) for name in _FROM_FLAGS_ONLY},
            ws_url=pick.first("ws_url", (args.ws_url, "--ws-url"), (env.get(ENV_WS_URL), ENV_WS_URL)),
            title=title != "off", hyperlinks=links or "auto",
            notify_after=10.0 if notify_after is None else notify_after,
            sources=pick.sources,
        )


class _Picker:
    """The first value given, from flags and environment variables in order, else the config
    entry's key; remembers where each came from."""

    def __init__(self, entry: dict, where: str) -> None:
        self.entry = entry
        self.where = where
        self.sources: dict[str, str] = {}

    def first(self, key: str, *given: tuple[str | None, str]) -> str | None:
        for value, source in given:
            if value:
                self.sources[key] = source
                return value
        value = _typed(self.entry, key, str, self.where)
        if value:
            self.sources[key] = f"{key} of {self.where}"
        return value or None


def _choice(pick: _Picker, key: str, choices: tuple[str, ...], *given: tuple[str | None, str]) -> str | None:
    """A setting that is one of ``choices`` (a config key may be true / false for on / off)."""
    value = pick.entry.get(key)
    if isinstance(value, bool) and not any(v for v, _ in given):
        pick.entry = {**pick.entry, key: "on" if value else "off"}
    found = pick.first(key, *given)
    if found is not None and found.lower() not in choices:
        where = pick.sources.get(key, key)
        raise UsageError(f"{where} wants {' or '.join(choices)}, not {found[:20]!r}")
    return found.lower() if found is not None else None


def _seconds(pick: _Picker, key: str, *given: tuple[str | None, str]) -> float | None:
    """A setting in seconds, 0 or more (a config key may be a number)."""
    value = pick.entry.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not any(v for v, _ in given):
        pick.entry = {**pick.entry, key: str(value)}
    found = pick.first(key, *given)
    if found is None:
        return None
    try:
        seconds = float(found)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # (NaN too)
        raise UsageError(f"{pick.sources.get(key, key)} wants seconds (0 or more; 0: never), not {found[:20]!r}")
    return seconds


def _server_url(url: str | None, source: str) -> tuple[str | None, str | None]:
    """The server's base URL (checked) and a token found in it, from what the user gave: also a
    URL copied from the browser or from ``jupyter server list``."""
    if url is None:
        return None, None
    from repl.gateway import urls

    base, token = urls.server_base(url)
    try:
        urls.normalise(base)
    except UsageError as exc:
        raise UsageError(f"{source}: {exc}") from None
    return base, token
