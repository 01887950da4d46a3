"""Several kernels in one session, driven through the real `repl` in a pty."""

import json
import re
import subprocess
import sys

import httpx
import pytest

from repl import errors
from repl.gateway.rest import RestClient

from tests.conftest import wait_until


def auth(gw):
    return {"Authorization": f"token {gw.token}"}


def kernel_id_from_banner(t):
    m = re.search(r"kernel ([0-9a-f]{8})", t.text())
    assert m, t.text()
    return m.group(1)


def test_switching_keeps_state_and_bash_highlights(term):
    t = term()
    t.wait_prompt(1)
    t.enter("x = 41")
    t.wait_prompt(2)
    t.type("echo")
    t.wait_for("echo")
    assert t.cells_of("echo")[0].fg == "default"  # a plain name in Python
    t.ctrl("u")
    t.enter("/new bash")
    t.wait_for("started bash kernel")
    t.wait_prompt(1)
    t.type("echo $((6*7))")
    t.wait_for("echo $((6*7))")
    t.wait_for(lambda t: t.cells_of("echo $")[0].fg != "default", 10)  # a builtin in bash: the lexer followed the kernel
    t.child.send("\r")
    t.wait_for(lambda t: "\n42" in t.text())
    t.enter("/name sh")
    t.wait_for("is now 'sh'")
    t.enter("/use python3")
    t.wait_for("switched to python3")
    t.enter("x + 1")
    t.wait_for("Out[2]: 42")
    t.enter("/use sh")
    t.wait_for("switched to sh")
    t.enter("echo back in bash")
    t.wait_for("back in bash\n")


def test_kernels_table_specs_and_completion(term):
    t = term()
    t.wait_prompt(1)
    t.enter("/specs")
    t.wait_for("bash")
    t.wait_for("python3 (default)")
    t.type("/ne\t")
    t.wait_for("/new")
    t.type("ba\t")
    t.wait_for("/new bash")
    t.child.send("\r")
    t.wait_for("started bash kernel")
    t.enter("/kernels")
    # (read from what was written: the gateway holds every kernel the session's tests left, a table taller than the screen)
    t.wait_for(lambda t: "(* current kernel" in t.plain()[t.plain().rfind("last activity"):])
    table = t.plain()[t.plain().rfind("last activity"):]
    assert re.search(r"\*\d+\s+[0-9a-f]{8}\s+bash\s+idle", table), table
    assert re.search(r"\+\d+\s+[0-9a-f]{8}\s+python3", table), table


def test_background_cell_output_and_notice(term, tmp_path):
    gate = tmp_path / "gate"
    t = term()
    t.wait_prompt(1)
    code = (
        "import os, time\\n"
        "print('started', flush=True)\\n"
        f"while not os.path.exists({str(gate)!r}): time.sleep(0.01)\\n"
        "print('bg-done')\\n"
        "raise ValueError('late')\\n"
    )
    t.enter(f'exec("{code}")')
    t.wait_for(lambda t: "\nstarted" in t.text())
    t.ctrl("z")
    t.wait_for("sent to the background")
    t.wait_prompt(2)
    t.wait_for("1 busy in background")
    t.enter("/specs")  # the prompt is usable while the kernel runs the background cell
    t.wait_for("python3 (default)")
    t.type("half-typed")
    t.wait_for("half-typed")
    gate.write_text("")
    t.wait_for("[python3] bg-done")
    t.wait_for("background cell In [1] failed")
    t.wait_for(lambda t: "busy in background" not in t.text())
    assert "In [2]: half-typed" in t.text()  # the line being typed survived the output above it
    t.type(" and more")
    t.wait_for("half-typed and more")


def test_other_clients_execution_shows_up(term, gateway):
    t = term()
    t.wait_prompt(1)
    kid = kernel_id_from_banner(t)
    env = gateway.env()
    r = subprocess.run([sys.executable, "-m", "repl", "--attach", kid, "-c", "print('hi from afar')"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    t.wait_for("[python3 elsewhere] hi from afar")
    t.wait_for("elsewhere] In [1]: print('hi from afar')")
    t.enter("1")
    t.wait_for("Out[2]: 1")  # the count continues after the other client's cell


def test_aliases_persist_across_runs_and_attach_leaves_kernel(term, gateway):
    kid = httpx.post(f"{gateway.url}/api/kernels", json={"name": "python3"}, headers=auth(gateway)).json()["id"]
    try:
        t = term()
        t.wait_prompt(1)
        t.enter(f"/use {kid[:8]}")
        t.wait_for("attached to python3")
        t.enter("marker = 'kept'")
        t.enter("/name keeper")
        t.wait_for("is now 'keeper'")
        t.ctrl("d")
        assert t.wait_exit() == 0
        assert httpx.get(f"{gateway.url}/api/kernels/{kid}", headers=auth(gateway)).status_code == 200

        t2 = term()
        t2.wait_prompt(1)
        t2.enter("/kernels")
        t2.wait_for("keeper")
        t2.enter("/use keeper")
        t2.wait_for("attached to keeper")
        t2.enter("marker")
        t2.wait_for("'kept'")
        t2.enter("/shutdown keeper")
        t2.wait_for("shut down keeper")
        t2.enter("/use keeper")
        t2.wait_for("no running kernel matches 'keeper'")
    finally:
        httpx.delete(f"{gateway.url}/api/kernels/{kid}", headers=auth(gateway))


def test_save_writes_a_valid_notebook(term, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    t = term()
    t.wait_prompt(1)
    t.enter("print('out'); 6*7")
    t.wait_for("Out[1]: 42")
    t.enter("1/0")
    t.wait_for("ZeroDivisionError")
    path = tmp_path / "session.ipynb"
    t.enter(f"/save {path}")
    t.wait_for("saved 2 cells")
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    assert [c.execution_count for c in nb.cells] == [1, 2]
    assert nb.cells[0].source == "print('out'); 6*7"
    outs = nb.cells[0].outputs
    assert outs[0].output_type == "stream" and outs[0].text == "out\n"
    assert outs[1].output_type == "execute_result" and outs[1].data["text/plain"] == "42"
    assert nb.cells[1].outputs[0].ename == "ZeroDivisionError"
    assert nb.metadata.kernelspec.name == "python3" and nb.metadata.language_info.name == "python"
    json.loads(path.read_text())  # plain JSON too
    t.enter(f"/save {path}")  # never overwritten without -f
    t.wait_for(lambda t: f"{path} exists: /save -f {path} overwrites it" in t.plain().replace("\n", ""))
    t.enter(f"/save -f {path}")
    t.wait_for(lambda t: t.text().count("saved 2 cells") == 2)
    t.enter(f"/save {tmp_path}")  # a directory: a file named after the kernel and the time, inside it
    t.wait_for(lambda t: t.text().count("saved 2 cells") == 3)
    (inside,) = [p for p in tmp_path.glob("python3-*.ipynb")]
    nbformat.validate(nbformat.read(str(inside), as_version=4))


def test_bad_targets_are_one_line_and_the_repl_goes_on(term):
    t = term()
    t.wait_prompt(1)
    for line, words in (
        ("/use nosuchkernel", "no running kernel matches 'nosuchkernel'"),
        ("/use 99", "no kernel number 99"),
        ("/new klingon", "no kernelspec 'klingon'"),
        ("/shutdown zzzz", "no running kernel matches 'zzzz'"),
        ("/name 123", "an alias is a letter"),
        ("/save", "usage: /save"),
    ):
        t.enter(line)
        t.wait_for(words)
    assert "Traceback" not in t.text()
    t.enter("'alive'")
    t.wait_for("Out[1]: 'alive'")


def test_shutting_down_the_last_kernel_leaves_a_usable_repl(term):
    t = term()
    t.wait_prompt(1)
    t.enter("/shutdown")
    t.wait_for("no kernel left")
    t.wait_for("[no kernel] >")
    t.enter("1+1")
    t.wait_for("no current kernel")
    t.enter("/new")
    t.wait_for("started python3 kernel")
    t.enter("2+2")
    t.wait_for("Out[1]: 4")


def test_hidden_kernel_list_is_explained(term, unlisted_gateway):
    t = term(gw=unlisted_gateway)
    t.wait_prompt(1)
    t.enter("/kernels")
    t.wait_for("does not list its kernels")
    wait_until(lambda: (t.pump(), "*1" in t.text())[1], 10, 0.05, "the known kernel in the table")


def test_an_alias_that_cannot_be_written_lasts_the_session(term, tmp_path, gateway):
    t = term()
    t.wait_prompt(1)
    (tmp_path / "data" / "aliases.json").mkdir(parents=True, exist_ok=True)  # cannot be written as a file
    t.enter("/name scratch")
    t.wait_for("is now 'scratch' for this session only")
    t.enter("/kernels")
    t.wait_for("scratch")


async def test_digits_are_an_index_only_when_they_are_one(gateway):
    from repl.gateway.rest import KernelModel
    from repl.workspace import Workspace
    from tests.kernels import Recorder

    rest = RestClient(gateway.url, gateway.token)
    ws = Workspace(rest, Recorder())
    ws.listing = [KernelModel("47288aaa-0000", "python3"), KernelModel("1234abcd-0000", "python3")]
    ws.list_kernels = _no_refresh  # the listing above stands for the server's
    assert (await ws.resolve_target("2")).id == "1234abcd-0000"
    with pytest.raises(errors.NoSuchKernel, match="no kernel number 7"):
        await ws.resolve_target("7")
    with pytest.raises(errors.NoSuchKernel):  # 47288 is no index: asked of the server as an id prefix
        await ws.resolve_target("47288")
    ws.listing = [KernelModel(f"0002{i}aaa", "python3") for i in range(3)]
    with pytest.raises(errors.NoSuchKernel, match="is kernel number 2 and the start of"):
        await ws.resolve_target("0002")
    await rest.aclose()


async def _no_refresh():
    return [], False


def _prompts(t) -> list[str]:
    return [line.split(":")[0] for line in t.text().splitlines() if line.startswith("In [")]


@pytest.mark.parametrize("busy", [False, True])
def test_attach_numbers_cells_from_the_kernels_count(term, gateway, tmp_path, busy):
    """The first prompt after --attach shows the kernel's next number, or In [ ] until it is known
    (a busy kernel answers when its cell ends); cells typed meanwhile are numbered as they run."""
    import asyncio

    from tests.kernels import open_kernel

    gate = tmp_path / "gate"

    async def four_cells() -> str:
        async with RestClient(gateway.url, gateway.token) as rest:
            model = await rest.start_kernel("python3")
            k, _ = await open_kernel(rest, model)
            try:
                for i in range(1, 5):
                    await asyncio.wait_for((await k.execute(f"x{i} = {i}")).done, 60)
                if busy:  # a fifth cell keeps it busy after we leave
                    await k.execute(f"import os, time\nwhile not os.path.exists({str(gate)!r}): time.sleep(0.02)")
            finally:
                await k.close()
            return model.id

    kid = asyncio.run(four_cells())
    try:
        t = term("--attach", kid)
        if busy:
            t.wait_for(lambda t: "│ busy" in t.text() and "type ahead:" not in t.text())
            assert _prompts(t) == ["In [ ]"]  # not In [1]: the count is not known yet
            t.enter("x1 + x4")
            t.wait_for(lambda t: "In [ ]: x1 + x4" in t.text())
            gate.write_text("")
            t.wait_for("Out[6]: 5")
            t.wait_prompt(7)
        else:
            t.wait_prompt(5)
            assert _prompts(t) == ["In [5]"]
            t.enter("x1 + x4")
            t.wait_for("Out[5]: 5")
            t.wait_prompt(6)
    finally:
        gate.write_text("")
        httpx.delete(f"{gateway.url}/api/kernels/{kid}", headers=auth(gateway))


def test_a_cell_behind_a_background_cell_says_so_and_ctrl_c_takes_it_back(term, tmp_path):
    gate = tmp_path / "gate"
    t = term()
    t.wait_prompt(1)
    code = f"import os, time\\nprint('started', flush=True)\\nwhile not os.path.exists({str(gate)!r}): time.sleep(0.02)\\nprint('bg-done')"
    t.enter(f'exec("{code}")')
    t.wait_for(lambda t: "\nstarted" in t.text())
    t.ctrl("z")
    t.wait_for("sent to the background")
    t.wait_prompt(2)
    t.enter("'second'")
    t.wait_for("queued behind In [1] running in the background on python3; Ctrl-C takes it back")
    t.ctrl("c")
    t.wait_for("taken back, not sent")
    t.wait_for(lambda t: t.text().count("In [2]: 'second'") == 2)  # back in the prompt, below the line
    assert "KeyboardInterrupt" not in t.text() and "[python3] bg-done" not in t.text()  # it runs on
    t.type("\r")
    t.wait_for(lambda t: t.text().count("queued behind In [1]") == 2)
    gate.write_text("")
    t.wait_for("[python3] bg-done")
    t.wait_for("Out[2]: 'second'")
    t.wait_prompt(3)


def test_a_background_line_printed_in_pieces_is_shown_whole(term, tmp_path):
    """A print that reaches us as "beat" and, a moment later, " 0\\n" is one line above the prompt,
    tagged once (it was shown as "[python3] beat" and "[python3]  0": the unfinished piece was
    ended at once, as a line above the prompt must be)."""
    gate = tmp_path / "gate"
    t = term()
    t.wait_prompt(1)
    code = (
        "import os, sys, time\\n"
        f"while not os.path.exists({str(gate)!r}): time.sleep(0.01)\\n"
        "for i in range(4): sys.stdout.write('beat'); sys.stdout.flush(); time.sleep(0.05); print('', i, flush=True)\\n"
    )
    t.enter(f'print("waiting"); exec("{code}")')
    t.wait_for(lambda t: "\nwaiting" in t.text())
    t.ctrl("z")
    t.wait_for("sent to the background")
    t.wait_prompt(2)
    gate.write_text("")
    t.wait_for(lambda t: re.search(r"cell In \[1\] finished", t.text()))
    lines = [line.rstrip() for line in re.findall(r"\[python3\] ([^\n]*)", t.plain()) if "background" not in line]
    assert lines == [f"beat {i}" for i in range(4)], lines


async def test_a_kernel_shut_down_lets_what_start_up_froze_be_collected_again(gateway):
    """settle_heap froze start-up's objects, the first kernel's among them: once a kernel goes,
    its reference cycles must be collectable, so nothing stays frozen."""
    import gc

    from repl.workspace import Workspace
    from tests.kernels import Recorder

    rest = RestClient(gateway.url, gateway.token)
    ws = Workspace(rest, Recorder())
    kernel = await ws.start("python3")
    gc.freeze()
    try:
        assert gc.get_freeze_count() > 0
        await ws.shutdown(kernel.model)
        assert gc.get_freeze_count() == 0 and kernel.model.id not in ws.kernels
    finally:
        gc.unfreeze()
        await rest.aclose()
