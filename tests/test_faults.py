"""Faults against real servers: cut connections, killed kernels, a gateway that goes away."""

import random
import re
import signal
import subprocess
import sys

import httpx
import pytest

from tests.conftest import start_gateway, stop_gateway, wait_until
from tests.proxy import CutProxy
from tests.term import Term


@pytest.fixture
def proxy(gateway):
    p = CutProxy(int(gateway.url.rsplit(":", 1)[1]))
    yield p
    p.close()


def test_cuts_mid_stream_lose_and_repeat_nothing(gateway, proxy, tmp_path):
    env = gateway.env()
    env["REPL_DATA_DIR"] = str(tmp_path)
    t = Term(["--url", proxy.url], env=env, rows=50)
    try:
        t.wait_prompt(1)
        n = 400
        t.enter(f"import time; _ = [(print(f'line-{{i:04d}}', flush=True), time.sleep(0.01)) for i in range({n})]")
        rng = random.Random(7)
        cuts = 0
        for _ in range(5):
            # cut at a random point while lines are streaming
            target = rng.randint(cuts * 70 + 10, cuts * 70 + 60)
            t.wait_for(lambda t: f"line-{target:04d}" in t.plain(), timeout=60)
            assert proxy.cut() >= 1
            cuts += 1
            t.wait_for(lambda t: t.plain().count("reconnected to kernel") >= cuts, timeout=60)
        t.wait_prompt(2, timeout=120)
        seen = re.findall(r"line-(\d{4})", t.plain())
        counts = {i: seen.count(f"{i:04d}") for i in range(n)}
        missing = [i for i, c in counts.items() if c == 0]
        repeated = [i for i, c in counts.items() if c > 1]
        print(f"cuts survived: {cuts}, lines lost: {len(missing)}, lines repeated: {len(repeated)}")
        assert not missing and not repeated, (missing, repeated)
        t.enter("'after'")
        t.wait_for("Out[2]: 'after'")
    finally:
        t.close()


def test_killed_kernel_restarts_and_the_next_cell_works(gateway, tmp_path):
    env = gateway.env()
    env["REPL_DATA_DIR"] = str(tmp_path)
    t = Term(["--url", gateway.url], env=env)
    try:
        t.wait_prompt(1)
        t.enter("x = 1")
        t.wait_prompt(2)
        t.enter("import os; os._exit(1)")
        t.wait_for("died and is restarting")
        t.wait_for(lambda t: "│ idle │" in t.text(), timeout=60)
        t.enter("'x' in dir()")
        t.wait_for("False", timeout=60)
    finally:
        t.close()


def test_gateway_gone_and_back(tmp_path_factory, tmp_path):
    gw = start_gateway(tmp_path_factory)
    port = int(gw.url.rsplit(":", 1)[1])
    env = gw.env()
    env["REPL_DATA_DIR"] = str(tmp_path)
    t = Term(["--url", gw.url], env=env)
    try:
        t.wait_prompt(1)
        stop_gateway(gw)
        t.wait_for("reconnecting")
        t.wait_for(lambda t: "reconnecting │" in t.text() or "│ reconnecting" in t.text())
        assert t.child.isalive()
        t.enter("1+1")  # typed while the server is away: waits, then is refused once the kernel is known gone
        gw2 = start_gateway(tmp_path_factory, port=port, token=gw.token)
        try:
            t.wait_for("gone from the server", timeout=60)
            t.enter("/new")
            t.wait_for("started python3 kernel", timeout=60)
            t.enter("3*3")
            t.wait_for("Out[1]: 9")
        finally:
            stop_gateway(gw2)
    finally:
        t.close()
