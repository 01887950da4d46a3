"""One SSL context for both HTTPS (httpx) and WSS (websockets): verified by default."""

from __future__ import annotations

import os
import ssl
from typing import Any

from repl.errors import UsageError

_NO_CAS: ssl.SSLContext | None = None


def context(ca_cert: str | None = None, client_cert: str | None = None, client_key: str | None = None,
            insecure: bool = False, ca_source: str = "--ca-cert") -> ssl.SSLContext:
    """``ca_source`` names where the CA bundle was given (a flag or a config key), for errors."""
    try:
        ctx = ssl.create_default_context(cafile=ca_cert)
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(f"cannot use {ca_source} {ca_cert}: {getattr(exc, 'strerror', None) or exc}") from None
    if client_cert:
        try:
            ctx.load_cert_chain(client_cert, client_key)
        except (OSError, ssl.SSLError) as exc:
            raise UsageError(f"cannot use --client-cert {client_cert}: {getattr(exc, 'strerror', None) or exc}") from None
    if insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def for_client_of(base_url: str, verify: Any) -> Any:
    """What httpx checks certificates with, for a client of ``base_url``. httpx loads its CA bundle
    for each client it makes (~30 ms of CPU each, at every start); a client of an http:// server
    never speaks TLS (it follows no redirects, and goes through no https proxy), so it is given a
    context without CAs instead: any TLS it ever did would fail, never pass unchecked."""
    global _NO_CAS
    if verify is not True or not base_url.startswith("http://"):
        return verify
    if any(k.lower().endswith("_proxy") and v.lower().startswith("https") for k, v in os.environ.items()):
        return verify
    if _NO_CAS is None:
        _NO_CAS = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # (hostnames checked, certificates required)
    return _NO_CAS


def untrusted_certificate(url: str) -> str:
    """The one line for a certificate we cannot verify (HTTPS and WSS alike)."""
    return (f"the TLS certificate of {url} is not trusted: pass --ca-cert FILE with its CA, "
            "or --insecure to skip the check")
