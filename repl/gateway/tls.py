"""One SSL context for both HTTPS (httpx) and WSS (websockets): verified by default."""

from __future__ import annotations

import ssl

from repl.errors import UsageError


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


def untrusted_certificate(url: str) -> str:
    """The one line for a certificate we cannot verify (HTTPS and WSS alike)."""
    return (f"the TLS certificate of {url} is not trusted: pass --ca-cert FILE with its CA, "
            "or --insecure to skip the check")
