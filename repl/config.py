"""Settings: command-line flags override environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

ENV_URL = "JUPYTER_GATEWAY_URL"
ENV_TOKEN = "JUPYTER_GATEWAY_AUTH_TOKEN"


@dataclass
class Settings:
    url: str | None = None
    token: str | None = None
    kernel: str | None = None
    attach: str | None = None
    debug: bool = False
    code: str | None = None  # one-shot mode when set
    log_traffic: str | None = None

    @classmethod
    def resolve(cls, args, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        return cls(
            url=args.url or env.get(ENV_URL) or None,
            token=args.token or env.get(ENV_TOKEN) or None,
            kernel=args.kernel,
            attach=args.attach,
            debug=args.debug,
            code=args.code,
            log_traffic=args.log_traffic,
        )
