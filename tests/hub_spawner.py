"""The spawner of the test JupyterHub (tests/hub.py): imported by the hub process, not by the tests.

- ``user_options["delay"]`` (seconds), or a per-name default (server ``slow``: 4 s), is slept by the
  server's wrapper before it execs jupyterhub-singleuser, and the spawner reports progress meanwhile;
- the user_options are in the server's environment as ``REPL_HUB_OPTIONS`` (JSON);
- ``user_options["fail"]`` (a message), or the server named ``broken``, makes start() raise;
- the server named ``stuck`` never answers, and the hub gives up on it after 3 s (its timeout).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

from jupyterhub.spawner import SimpleLocalProcessSpawner

DELAYS = {"slow": 4.0, "stuck": 600.0}
TIMEOUTS = {"stuck": 3}  # s the hub waits for the server to answer (http_timeout): server `stuck` never does
FAILURES = {"broken": "no GPUs free on this test hub"}

# sleeps, then becomes the single-user server (same pid: the hub's stop signals reach the server)
WRAPPER = ("import os, sys, time; time.sleep(float(os.environ.get('REPL_HUB_DELAY') or 0)); "
           "os.execv(sys.executable, [sys.executable, '-m', 'jupyterhub.singleuser', *sys.argv[1:]])")


class ReplTestSpawner(SimpleLocalProcessSpawner):
    def _delay(self) -> float:
        options = self.user_options or {}
        return float(options.get("delay", DELAYS.get(self.name, 0.0)))

    def get_env(self):
        env = super().get_env()
        env["REPL_HUB_OPTIONS"] = json.dumps(self.user_options or {})
        env["REPL_HUB_DELAY"] = str(self._delay())
        return env

    async def start(self):
        failure = (self.user_options or {}).get("fail") or FAILURES.get(self.name)
        if failure:
            raise Exception(str(failure))
        self._started_at = time.monotonic()
        if self.name in TIMEOUTS:
            self.http_timeout = TIMEOUTS[self.name]
        self.cmd = [sys.executable, "-c", WRAPPER]
        address = await super().start()
        record = os.environ.get("REPL_TEST_HUB_PIDS")  # so the fixture can kill what a failed stop left
        if record:
            Path(record, str(self.pid)).write_text(self.name)
        return address

    async def progress(self):
        delay = self._delay()
        if not delay:
            return
        started = getattr(self, "_started_at", None) or time.monotonic()
        step = 0
        while True:
            left = delay - (time.monotonic() - started)
            if left <= 0:
                break
            step += 1
            yield {"progress": min(10 + 10 * step, 90), "message": f"test hub: waiting {left:.0f} s for a slot"}
            await asyncio.sleep(min(1.0, left))
        yield {"progress": 90, "message": "test hub: starting jupyterhub-singleuser"}
