"""One set of scenarios against Kernel Gateway 3, Jupyter Server 2 and Enterprise Gateway 3."""

import re

from tests.proxy import CutProxy


def test_run_stream_and_interrupt(term, server, tmp_path):
    gate = tmp_path / "gate"
    t = term(gw=server)
    t.wait_prompt(1)
    t.enter(f"exec(\"import os, time\\nprint('first', flush=True)\\nwhile not os.path.exists({str(gate)!r}): time.sleep(0.01)\\nprint('second')\")")
    t.wait_for(lambda t: "\nfirst" in t.text())
    assert "second" not in t.text().split("\nfirst")[-1]  # streamed while the cell still runs
    gate.write_text("")
    t.wait_for(lambda t: "\nsecond" in t.text())
    t.wait_prompt(2)
    t.enter("import time; time.sleep(60)")
    t.wait_for(lambda t: "time.sleep(60)" in t.text() and "│" not in t.text())
    t.ctrl("c")
    t.wait_for("KeyboardInterrupt")
    t.wait_prompt(3)


def test_switch_between_kernels(term, server):
    t = term(gw=server)
    t.wait_prompt(1)
    t.enter("kept = 'first kernel'")
    t.wait_prompt(2)
    t.enter("/new python3")
    t.wait_for("started python3 kernel", timeout=120)
    t.enter("'kept' in dir()")
    t.wait_for("Out[1]: False")
    first = re.search(r"started python3 kernel ([0-9a-f]{8})", t.text()).group(1)
    t.enter(f"/use {first}")
    t.wait_for("switched to")
    t.enter("kept")
    t.wait_for("'first kernel'")


def test_reconnect_after_a_cut(term, server):
    host, port = server.url.split("//", 1)[1].split("/", 1)[0].split(":")
    proxy = CutProxy(int(port))
    try:
        path = server.url.split(f":{port}", 1)[1]
        t = term(gw=server, url=proxy.url + path)
        t.wait_prompt(1)
        t.enter("import time; _ = [(print(f'n{i:03d}', flush=True), time.sleep(0.02)) for i in range(100)]")
        t.wait_for(lambda t: "n030" in t.plain())
        assert proxy.cut() >= 1
        t.wait_for("reconnected to kernel", timeout=60)
        t.wait_prompt(2, timeout=60)
        seen = re.findall(r"n(\d{3})", t.plain())
        assert sorted(set(seen)) == [f"{i:03d}" for i in range(100)] and len(seen) == len(set(seen))
    finally:
        proxy.close()
