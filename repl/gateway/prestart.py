"""The embedded gateway's first kernel, started before the gateway's own imports.

Kernel Gateway takes ~0.6 s to import and answer, and only then starts the kernel repl asks for
(~0.9 s more): one after the other. The gateway process (``repl.gateway.launch``) starts that
kernel first, as the gateway would, and the gateway's kernel manager
(:class:`repl.gateway.adopting.AdoptingKernelManager`) takes it for the first kernel of that name
it is asked to start, instead of starting another. It is taken only if it is what the gateway
would have started (the same command, environment and directory) and still runs; otherwise it is
stopped and the gateway starts its kernel as always.

Only light imports here: this runs before the gateway's. The kernel is the gateway's child, in a
session of its own with the gateway's pid as its parent (ipykernel exits when that goes), as
jupyter_client's launcher makes them; a kernel never taken is stopped when the gateway exits.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

PRESTART = "REPL_GATEWAY_PRESTART"  # env: the name of the kernel to start ("" for the default)
NATIVE = "python3"  # jupyter_client's NATIVE_KERNEL_NAME: the default of a gateway not told another
FILE = "{connection_file}"  # the connection file in a command, for comparing two


@dataclass
class Prestarted:
    name: str
    proc: subprocess.Popen
    argv: list[str]  # with FILE for its connection file
    env: dict[str, str]
    cwd: str
    info: dict  # its connection info
    path: str  # its connection file


_waiting: Prestarted | None = None


def start_from_env() -> None:
    """Start the kernel ``$REPL_GATEWAY_PRESTART`` names, if it is set and the spec is found."""
    global _waiting
    name = os.environ.pop(PRESTART, None)
    if name is None:
        return
    name = name or NATIVE
    spec, resources = _find_spec(name)
    if spec is None:
        return
    runtime = _runtime_dir()
    path = os.path.join(runtime, f"kernel-repl-prestart-{os.getpid()}.json")
    info = {**_ports(), "ip": "127.0.0.1", "key": secrets.token_hex(16), "transport": "tcp",
            "signature_scheme": "hmac-sha256", "kernel_name": name}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(info, f)
    argv = _command(spec, resources)
    base = {k: v for k, v in os.environ.items() if k != "KG_AUTH_TOKEN"}  # (the gateway's: as it gives a kernel)
    env = {**base, **_spec_env(spec, base), "KERNEL_GATEWAY": "1"}
    if (spec.get("language") or "").lower().startswith("python"):
        env.pop("PYTHONEXECUTABLE", None)
    cwd = os.getcwd()
    try:
        proc = subprocess.Popen([a.replace(FILE, os.path.realpath(path)) for a in argv], stdin=subprocess.PIPE,
                                env={**env, "JPY_PARENT_PID": str(os.getpid())}, cwd=cwd, start_new_session=True)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(path)
        return
    _waiting = Prestarted(name, proc, argv, env, cwd, info, path)
    atexit.register(_drop)
    atexit.register(_forget, path)  # (taken: once read, or at the latest when the gateway exits)
    signal.signal(signal.SIGTERM, _terminated)  # until the gateway has its own (then atexit does it)


def take(name: str, argv: list[str], env: dict[str, str], cwd: str | None) -> tuple[Prestarted | None, str]:
    """The kernel started with the gateway, if it is what would be started now for ``name``
    (``argv`` with FILE for the connection file, ``env``, ``cwd``); else None, and it is stopped:
    only the first kernel asked for can be it. With why not, for the log."""
    global _waiting
    got, _waiting = _waiting, None  # (the first kernel asked for takes it, or nothing does)
    if got is None:
        return None, ""
    why = (f"a {name} kernel was asked for" if got.name != name else
           "its command differs" if got.argv != argv else
           f"its environment differs in {', '.join(sorted(k for k in got.env.keys() | env.keys() if got.env.get(k) != env.get(k)))}"
           if got.env != env else
           "its directory differs" if os.path.realpath(cwd or os.getcwd()) != os.path.realpath(got.cwd) else
           "it exited" if got.proc.poll() is not None else "")
    if why:
        _stop(got.proc)
        _forget(got.path)
        return None, why
    threading.Thread(target=_forget_once_read, args=(got,), daemon=True).start()
    return got, ""


def _forget_once_read(got: Prestarted, timeout: float = 120.0) -> None:
    """Remove its connection file once the kernel has read it (it listens on its ports: under
    load that can be after the gateway took it; a kernel that finds no file makes up other ports)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and got.proc.poll() is None:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", got.info["hb_port"]), 0.5):
            break
        time.sleep(0.02)
    _forget(got.path)


def _forget(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM while the gateway still imports (repl gone, or stopping it): no kernel, no file left."""
    _drop()
    signal.signal(signum, signal.SIG_DFL)  # (a kernel taken meanwhile is the gateway's own to stop)
    os.kill(os.getpid(), signum)


def _drop() -> None:
    global _waiting
    if _waiting is not None:
        _stop(_waiting.proc)
        _forget(_waiting.path)
        _waiting = None


def _stop(proc: subprocess.Popen) -> None:
    with contextlib.suppress(OSError):
        proc.kill()
    with contextlib.suppress(Exception):
        proc.wait(5)


def _find_spec(name: str) -> tuple[dict | None, str]:
    """The kernel.json of ``name`` where jupyter_client finds it first, and its directory; for
    the native kernel, ipykernel's own when none is installed."""
    from jupyter_core.paths import jupyter_path

    for folder in jupyter_path("kernels"):
        with contextlib.suppress(OSError):
            for entry in os.listdir(folder):
                if entry.lower() == name:  # (as jupyter_client names it: a name not lower-case is no spec)
                    with contextlib.suppress(OSError, ValueError):
                        with open(os.path.join(folder, entry, "kernel.json"), encoding="utf-8") as f:
                            spec = json.load(f)
                        return (spec, os.path.join(folder, entry)) if isinstance(spec, dict) else (None, "")
    if name == NATIVE:
        return {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", FILE], "language": "python", "env": {}}, ""
    return None, ""


def _command(spec: dict, resources: str) -> list[str]:
    """The kernel's command as jupyter_client's ``format_kernel_cmd`` makes it, FILE kept."""
    cmd = [str(a) for a in spec.get("argv") or []]
    if cmd and cmd[0] in {"python", f"python{sys.version_info[0]}", "python%i.%i" % sys.version_info[:2]}:
        cmd[0] = sys.executable
    ns = {"prefix": sys.prefix, "resource_dir": resources}
    return [re.sub(r"\{([A-Za-z0-9_]+)\}", lambda m: ns.get(m.group(1), m.group()), a) for a in cmd]


def _spec_env(spec: dict, base: dict[str, str]) -> dict[str, str]:
    from string import Template

    return {str(k): Template(str(v)).safe_substitute(base) for k, v in (spec.get("env") or {}).items()}


def _ports() -> dict[str, int]:
    socks = []
    try:
        for _ in range(5):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        ports = [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()
    return dict(zip(("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port"), ports, strict=True))


def _runtime_dir() -> str:
    from jupyter_core.paths import jupyter_runtime_dir

    path = jupyter_runtime_dir()
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path
