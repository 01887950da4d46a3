"""The embedded gateway's kernel manager: Kernel Gateway's own, which takes the kernel started
with the gateway (:mod:`repl.gateway.prestart`) for the first kernel of its name, when it is what
would be started. Loaded by the gateway (``kernel_manager_class``), never by repl itself."""

from __future__ import annotations

import contextlib
import os

from kernel_gateway.services.kernels.manager import KernelGatewayIOLoopKernelManager  # type: ignore[import-untyped]

from repl.gateway import prestart


class AdoptingKernelManager(KernelGatewayIOLoopKernelManager):
    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
        env = dict(kw.get("env") or {})
        env["KERNEL_GATEWAY"] = "1"  # (what the gateway's own manager adds, and takes away)
        env.pop("KG_AUTH_TOKEN", None)
        mine = os.path.realpath(self.connection_file)
        try:
            got, why = prestart.take(self.kernel_name, [a.replace(mine, prestart.FILE) for a in kernel_cmd], env,
                                     kw.get("cwd"))
        except Exception as exc:  # (never in the way of a kernel's start)
            got, why = None, f"{type(exc).__name__}: {exc}"
        if got is None:
            if why:
                self.log.info("repl: the kernel started with the gateway is not taken: %s", why)
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        info = {**got.info, "key": got.info["key"].encode()}  # (as the manager keeps it: bytes)
        p = self.provisioner
        p.process, p.pid, p.connection_info = got.proc, got.proc.pid, info
        with contextlib.suppress(OSError):
            p.pgid = os.getpgid(got.proc.pid)
        p.cwd = got.cwd
        self._reconcile_connection_info(info)
        self.log.info("repl: took the %s kernel started with the gateway (pid %s)", got.name, got.proc.pid)
