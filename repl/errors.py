"""Every error repl raises on purpose, in one tree.

``str(error)`` is the one line shown to the user: it never contains the auth token, and it
says what to do where there is something to do. Anything outside this tree is a bug.

    ReplError
    ├── UsageError              bad flags or settings
    ├── LocalGatewayError       the embedded gateway is missing or failed to start
    ├── GatewayError            talking to the server over HTTP failed
    │   ├── ServerUnreachable   connection refused, unknown host, TLS failure
    │   ├── ServerTimeout       the server accepted the connection but did not answer in time
    │   ├── AuthError           401 or 403: the token was rejected
    │   │   └── ScopeError      403 from a JupyterHub: the token lacks a scope
    │   ├── ListingDisabled     Kernel Gateway started without list_kernels
    │   ├── NoSuchKernel        unknown, ambiguous or vanished kernel
    │   ├── NoSuchKernelspec    the server has no kernelspec of that name
    │   ├── ServerStopped       a JupyterHub answers for the server: it is not running
    │   ├── SpawnFailed         a JupyterHub could not start the server
    │   └── ServerError         any other unexpected HTTP answer
    └── ChannelError            the kernel's websocket failed or closed
        └── KernelDead          the kernel died and will not come back
"""

from __future__ import annotations


class ReplError(Exception):
    """Base of every error meant for the user."""


class UsageError(ReplError):
    pass


class LocalGatewayError(ReplError):
    pass


class GatewayError(ReplError):
    pass


class ServerUnreachable(GatewayError):
    pass


class ServerTimeout(GatewayError):
    pass


class AuthError(GatewayError):
    pass


class ScopeError(AuthError):
    pass


class ServerStopped(GatewayError):
    pass


class SpawnFailed(GatewayError):
    pass


class ListingDisabled(GatewayError):
    pass


class NoSuchKernel(GatewayError):
    pass


class NoSuchKernelspec(GatewayError):
    pass


class ServerError(GatewayError):
    pass


class ChannelError(ReplError):
    pass


class KernelDead(ChannelError):
    pass
