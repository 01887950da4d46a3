"""The embedded gateway's entry point (``python -m repl.gateway.launch ARGS``): Kernel Gateway's
own ``launch_instance``, minus one optional import that costs most of its start-up, plus the
gateway's side of a detach.

jsonschema (through nbformat) imports ``rfc3987_syntax`` when it is installed, for its ``iri``
format checker; that package builds a Lark grammar at import: ~0.9 s of the gateway's ~1.3 s of
imports here. The gateway validates no IRIs, so the import is skipped and the checker left out.

The first kernel: with ``$REPL_GATEWAY_PRESTART`` set, it is started before the gateway's
imports, and the gateway takes it for the first one asked (:mod:`repl.gateway.prestart`).

Detach: repl starts the gateway with PR_SET_PDEATHSIG (it dies with repl), which only the
gateway itself can clear. On :data:`DETACH_SIGNAL` it clears it and answers ``ok`` (or why not)
on the pipe whose fd repl passed in :data:`DETACH_FD`. repl blocks the signal in the child
before exec; it is unblocked here once handled, so a detach sent during start-up waits for the
handler instead of killing the gateway.
"""

import contextlib
import errno
import os
import signal
import sys

DETACH_SIGNAL = signal.SIGUSR1
DETACH_FD = "REPL_GATEWAY_DETACH_FD"  # env: the pipe the answer to DETACH_SIGNAL goes to
LOG = "REPL_GATEWAY_LOG"  # env: the gateway's log file, which repl made and reads if the start fails
_PR_SET_PDEATHSIG = 1


def set_parent_death_signal(signum: int) -> int:
    """prctl(PR_SET_PDEATHSIG, signum) for this process (0 clears it): 0, or an errno.
    Off Linux there is no such thing: 0. (ctypes is imported here, not with the module: ~5 ms
    at every start of repl otherwise; repl imports it before it forks a child that calls this.)"""
    if not sys.platform.startswith("linux"):
        return 0
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return errno.ENOSYS
    return 0 if libc.prctl(_PR_SET_PDEATHSIG, signum) == 0 else ctypes.get_errno()


def _answer_detach() -> None:
    fd = int(os.environ.pop(DETACH_FD, "-1"))  # popped: the kernels are not told
    if fd >= 0:
        os.set_inheritable(fd, False)  # nor given the pipe

        def on_detach(signum: int, frame: object) -> None:
            error = set_parent_death_signal(0)
            with contextlib.suppress(OSError):  # repl gave up waiting, or is gone
                os.write(fd, b"ok\n" if not error else f"{os.strerror(error)}\n".encode())

        signal.signal(DETACH_SIGNAL, on_detach)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {DETACH_SIGNAL})


def _log_goes_with_repl() -> None:
    """The log is repl's to read and remove; if repl is gone when the gateway ends (killed with
    SIGKILL: the gateway dies with it), nobody will, and it is removed here."""
    path, parent = os.environ.pop(LOG, None), os.getppid()

    def remove() -> None:
        if path and os.getppid() != parent:
            with contextlib.suppress(OSError):
                os.unlink(path)

    import atexit

    atexit.register(remove)


if __name__ == "__main__":
    _answer_detach()
    _log_goes_with_repl()
    from repl.gateway import prestart  # the first kernel starts now, while the gateway imports

    with contextlib.suppress(Exception):  # (never in the way of the gateway: it starts its kernel as always)
        prestart.start_from_env()
    if prestart._waiting is not None:
        sys.argv.append("--SeedingMappingKernelManager.kernel_manager_class=repl.gateway.adopting.AdoptingKernelManager")
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]  # None: "import it" fails fast
    from kernel_gateway.gatewayapp import launch_instance  # type: ignore[import-untyped]

    launch_instance()
