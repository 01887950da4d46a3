"""Settings: command-line flags override environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from repl.errors import UsageError

ENV_URL = "JUPYTER_GATEWAY_URL"
ENV_TOKEN = "JUPYTER_GATEWAY_AUTH_TOKEN"
ENV_WS_URL = "JUPYTER_GATEWAY_WS_URL"


def parse_headers(items: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition(":")
        if not sep or not name.strip() or any(c in name for c in " \t\r\n") or "\n" in value or "\r" in value:
            raise UsageError(f"--header wants 'Name: value', not {item.split(':')[0][:40]!r}…")
        headers[name.strip()] = value.strip()
    return headers


@dataclass
class Settings:
    url: str | None = None
    token: str | None = None
    kernel: str | None = None
    attach: str | None = None
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
    headers: dict = field(default_factory=dict)
    ws_url: str | None = None

    @classmethod
    def resolve(cls, args, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        token = args.token
        if token is None and args.token_file:
            try:
                token = Path(args.token_file).expanduser().read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise UsageError(f"cannot read --token-file {args.token_file}: {exc.strerror or exc}") from None
        return cls(
            url=args.url or env.get(ENV_URL) or None,
            token=token or env.get(ENV_TOKEN) or None,
            kernel=args.kernel,
            attach=args.attach,
            debug=args.debug,
            code=args.code,
            log_traffic=args.log_traffic,
            ca_cert=args.ca_cert,
            client_cert=args.client_cert,
            client_key=args.client_key,
            insecure=args.insecure,
            ping_interval=args.ping_interval,
            ping_timeout=args.ping_timeout,
            style=args.style,
            vi=args.vi,
            images=args.images,
            headers=parse_headers(args.header),
            ws_url=args.ws_url or env.get(ENV_WS_URL) or None,
        )
