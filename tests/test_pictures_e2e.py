"""Plots and widgets as a person sees them: the real `repl` in a pty (read through pyte) or in a
real tmux, against a real Kernel Gateway and ipykernel with matplotlib, ipywidgets and tqdm."""

import shutil
import subprocess
import sys
import time

import pytest

from tests.conftest import start_gateway, stop_gateway, wait_until


def paste(t, code: str) -> None:
    t.type("\x1b[200~" + code + "\x1b[201~")
    t.type("\r")


def test_a_plot_is_drawn_with_coloured_half_blocks(term):
    t = term(rows=40)
    t.wait_prompt(1)
    t.enter("import matplotlib.pyplot as plt; plt.plot([1, 3, 2]); plt.show()")
    t.wait_prompt(2, timeout=90)
    cells = [c for row in t.screen.buffer.values() for c in row.values() if c.data in "▀▄"]
    assert len(cells) > 500  # a picture, not a placeholder line
    assert {c.fg for c in cells} - {"default"} and {c.bg for c in cells} - {"default"}
    assert "image/png" not in t.text() and "repl-image-" not in t.plain()
    rows = [y for y, row in t.screen.buffer.items() if any(c.data == "▀" for c in row.values())]
    assert len(rows) <= 24  # the default cap


def test_tqdm_notebook_bar_moves_in_place_and_ends_full(term):
    t = term()
    t.wait_prompt(1)
    t.enter("from tqdm.notebook import tqdm; import time")
    t.wait_prompt(2, timeout=60)
    t.enter("for i in tqdm(range(40), desc='wk'): time.sleep(0.03)")
    t.wait_for(lambda t: "40/40" in t.text(), timeout=60)
    t.wait_prompt(3)
    bars = [line for line in t.text().splitlines() if line.startswith("wk:")]
    assert len(bars) == 1 and "100%" in bars[0] and "█" * 20 in bars[0], t.text()
    assert "HBox(" not in t.text()


def test_widget_updates_redraw_in_place_and_output_captures(term):
    t = term()
    t.wait_prompt(1)
    paste(t, "import ipywidgets as w, time\np = w.IntProgress(max=5, description='load')\ndisplay(p)\n"
             "for i in range(6):\n    p.value = i\n    time.sleep(0.05)\n")
    t.wait_prompt(2, timeout=60)
    loads = [line for line in t.text().splitlines() if line.startswith("load ")]
    assert loads == ["load |" + "█" * 40 + "|"], t.text()
    paste(t, "out = w.Output()\ndisplay(out)\nwith out:\n    print('captured here')\n")
    t.wait_prompt(3)
    assert "captured here" in t.text()
    t.enter("with out: print('later' + ' on')")  # the widget is above the prompt now: shown below
    t.wait_for("later on")
    t.wait_prompt(4)
    t.enter("w.Output()")  # a widget: drawn (empty), not its repr
    t.wait_prompt(5)
    assert "Out[4]" not in t.text()


def test_a_comm_for_an_unknown_target_is_closed(term):
    t = term()
    t.wait_prompt(1)
    t.enter("import comm; c = comm.create_comm(target_name='nobody.here')")
    t.wait_prompt(2, timeout=60)
    t.enter("c.comm_id in comm.get_comm_manager().comms, c._closed")
    t.wait_for("Out[2]: (False, True)")


@pytest.fixture
def limited_gateway(tmp_path_factory):
    """A Kernel Gateway with the servers' default IOPub rate limits."""
    gw = start_gateway(tmp_path_factory, rate_limits=True)
    yield gw
    stop_gateway(gw)


def test_the_servers_rate_limit_is_named_once_per_cell(term, limited_gateway):
    t = term(gw=limited_gateway)
    t.wait_prompt(1)
    t.enter("for i in range(3): print('x' * 3_000_000, flush=True)")
    t.wait_for(lambda t: "IOPub rate limit was exceeded" in t.plain(), timeout=60)
    t.wait_prompt(2, timeout=60)
    assert t.plain().count("IOPub rate limit was exceeded") == 1
    assert "iopub_data_rate_limit / iopub_msg_rate_limit" in t.plain()


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_graphics_inside_tmux_go_through_its_passthrough(gateway, tmp_path):
    sock = str(tmp_path / "tmux.sock")
    raw = tmp_path / "raw.out"
    env_args = [f"{k}={v}" for k, v in {**gateway.env(), "REPL_DATA_DIR": str(tmp_path / "d")}.items()
                if k in ("JUPYTER_GATEWAY_URL", "JUPYTER_GATEWAY_AUTH_TOKEN", "REPL_DATA_DIR", "PATH", "HOME")]
    cmd = ["env", *env_args, sys.executable, "-m", "repl", "--images", "kitty"]
    tmux = ["tmux", "-S", sock]
    subprocess.run([*tmux, "new-session", "-d", "-x", "100", "-y", "30", *cmd], check=True, cwd=str(tmp_path))
    try:
        subprocess.run([*tmux, "pipe-pane", "-o", f"cat >> {raw}"], check=True)

        def screen():
            return subprocess.run([*tmux, "capture-pane", "-p"], capture_output=True, text=True).stdout

        wait_until(lambda: "In [1]:" in screen(), 90, 0.1, "the prompt in tmux")
        subprocess.run([*tmux, "send-keys", "import matplotlib.pyplot as plt; plt.plot([1, 3, 2]); plt.show()",
                        "Enter"], check=True)
        wait_until(lambda: "In [2]:" in screen(), 90, 0.1, "the plot in tmux")
        deadline = time.monotonic() + 10
        while b"\x1bPtmux;\x1b\x1b_G" not in raw.read_bytes() and time.monotonic() < deadline:
            time.sleep(0.1)
        data = raw.read_bytes()
        start = data.index(b"\x1bPtmux;\x1b\x1b_Ga=T,f=100")  # kitty's APC, wrapped, escapes doubled
        assert data.index(b"\x1b\x1b\\\x1b\\", start) > start  # ends: doubled ST, then tmux's ST
    finally:
        subprocess.run([*tmux, "kill-server"], check=False)


def test_an_attached_repl_learns_the_widgets_made_before_it_came(term):
    import re

    a = term()
    a.wait_prompt(1)
    a.enter("import ipywidgets as w; p = w.IntProgress(value=2, max=4, description='shared')")
    a.wait_prompt(2, timeout=60)
    kid = re.search(r"started python3 kernel ([0-9a-f]{8})", a.plain()).group(1)
    b = term("--attach", kid)
    b.wait_for("attached to")
    b.wait_for(lambda t: "In [" in t.text())
    b.enter("display(p)")  # the model's state came by comm_info + request_state, not from this display
    b.wait_for(lambda t: any(line.startswith("shared |" + "█" * 10) for line in t.text().splitlines()))
    assert "IntProgress(" not in b.text()


def test_clear_output_inside_an_output_widget_clears_only_that_widget(term):
    t = term()
    t.wait_prompt(1)
    paste(t, "import ipywidgets as w\nprint('above' + ' the widget')\nouter = w.Output(); inner = w.Output()\n"
             "display(outer)\nwith outer:\n    print('outer' + ' one')\n    display(inner)\n"
             "    with inner:\n        print('inner' + ' one')\n        inner.clear_output()\n"
             "        print('inner' + ' two')\n    print('outer' + ' two')\n")
    t.wait_prompt(2, timeout=60)
    text = t.text()
    assert "above the widget" in text and "outer one" in text and "outer two" in text, text
    assert "inner two" in text and "inner one" not in text, text
    t.enter("outer.clear_output(); print('after' + ' clear')")
    t.wait_for("after clear")
    t.wait_prompt(3)
    assert "above the widget" in t.text(), t.text()


def test_a_widget_changed_from_a_thread_between_cells_is_redrawn_in_place(term):
    t = term()
    t.wait_prompt(1)
    paste(t, "import ipywidgets as w, threading, time\np = w.IntProgress(max=4, description='bg')\ndisplay(p)\n"
             "def run():\n    time.sleep(1.5)\n    for i in range(5):\n        p.value = i\n        time.sleep(0.1)\n"
             "    p.description = 'done'\n"
             "threading.Thread(target=run).start()\n")
    t.wait_prompt(2, timeout=60)
    t.type("40 +")  # typed while the thread draws: the prompt's line must survive the redraws
    t.wait_for(lambda t: any(line.startswith("done |" + "█" * 40) for line in t.text().splitlines()))
    t.wait_for("In [2]: 40 +")
    lines = t.text().splitlines()
    assert not [line for line in lines if line.startswith("bg ")], t.text()
    assert sum(line.startswith("done |") for line in lines) == 1, t.text()
    t.enter(" 2")
    t.wait_for("Out[2]: 42")
    t.wait_prompt(3)
    assert sum(line.startswith("done |") for line in t.text().splitlines()) == 1, t.text()


def test_a_tqdm_auto_bar_interrupted_by_ctrl_c_is_drawn_once(term):
    t = term()
    t.wait_prompt(1)
    t.enter("from tqdm.auto import tqdm; import time")
    t.wait_prompt(2, timeout=60)
    t.enter("for i in tqdm(range(1000), desc='slow'): time.sleep(0.05)")
    t.wait_for(lambda t: any(line.startswith("slow:") and "/1000" in line for line in t.text().splitlines()))
    t.ctrl("c")
    t.wait_for("KeyboardInterrupt")
    t.wait_prompt(3)
    bars = [line for line in t.plain().splitlines() if line.startswith("slow:")]
    text = t.text()
    assert sum(line.startswith("slow:") for line in text.splitlines()) == 1, text
    assert text.index("slow:") < text.index("KeyboardInterrupt"), text
    assert bars, t.plain()
    y = next(y for y, line in enumerate(t.screen.display) if line.startswith("slow:"))
    assert any(c.fg == "red" for c in t.screen.buffer[y].values()), "redrawn in place, in tqdm's danger colour"


def test_thousands_of_widgets_neither_starve_the_keepalive_nor_flood_the_screen(term):
    t = term("--ping-interval", "1", "--ping-timeout", "3")  # a starved loop shows as a dead link
    t.wait_prompt(1)
    t.enter("import ipywidgets as w; a = w.VBox([w.Label('a' + str(i)) for i in range(600)]); display(a)")
    t.wait_for(lambda t: "more of the 600 widgets in this box are not drawn" in t.plain(), timeout=120)
    t.wait_prompt(2, timeout=120)
    t.enter("b = w.VBox([w.Label('b' + str(i)) for i in range(3000)]); display(b); print('after' + ' it')")
    t.wait_for("after it", timeout=240)
    t.wait_prompt(3, timeout=60)
    plain = t.plain()
    assert "more of the 3,000 widgets in this box are not drawn" in plain
    assert "lost the connection" not in plain and "may be lost" not in plain, plain[-3000:]
    assert "b2999" not in plain


def _bars(t, word: str) -> list[int]:
    return [y for y, line in enumerate(t.text().splitlines()) if line.startswith(word + " |")]


def test_a_live_widget_is_redrawn_in_place_across_later_cells_and_never_twice(term):
    t = term(rows=40)
    t.wait_prompt(1)
    paste(t, "import ipywidgets as w, threading, time\np3 = w.IntProgress(max=20, description='mid')\n"
             "display(p3)\nthreading.Thread(target=lambda: [setattr(p3, 'value', i) or time.sleep(0.3)"
             " for i in range(21)]).start()\n")
    t.wait_prompt(2, timeout=60)
    t.enter('print("l1\\nl2\\nl3")')
    t.wait_prompt(3)
    t.wait_for(lambda t: any(line.startswith("mid |" + "█" * 40) for line in t.text().splitlines()), timeout=60)
    lines = t.text().splitlines()
    assert len(_bars(t, "mid")) == 1 and _bars(t, "mid")[0] < lines.index("l1"), t.text()  # where it was
    t.enter("7")
    t.wait_for("Out[3]: 7")
    t.wait_prompt(4)
    assert len(_bars(t, "mid")) == 1, t.text()  # no second copy below Out[3]
    t.enter("8")
    t.wait_prompt(5)
    assert len(_bars(t, "mid")) == 1, t.text()


def test_an_output_widget_of_an_earlier_cell_is_redrawn_in_place_and_cleared(term):
    t = term(rows=40)
    t.wait_prompt(1)
    paste(t, "import ipywidgets as w, time\nfrom IPython.display import clear_output\no6 = w.Output()\n"
             "display(o6)\nwith o6:\n    print('fi' + 'rst')\n")
    t.wait_prompt(2, timeout=60)
    t.enter('print("l1\\nl2")')
    t.wait_prompt(3)
    paste(t, "with o6:\n    clear_output(); print('sec' + 'ond'); time.sleep(1); clear_output(); print('th' + 'ird')\n")
    t.wait_for("second")
    t.wait_for(lambda t: "third" in t.text() and "second" not in t.text(), timeout=30)
    t.wait_prompt(4)
    lines = t.text().splitlines()
    assert "first" not in lines and lines.count("third") == 1 and lines.index("third") < lines.index("l1"), t.text()
    t.enter("with o6: print('gr' + 'own')")  # it grows: it cannot be redrawn where it is
    t.wait_prompt(5)
    assert "grown" in t.text() and "no longer fits where it is drawn" in t.text(), t.text()
    assert t.text().splitlines().count("third") == 1, t.text()
    t.enter("with o6: print('gone' + ' soon'); clear_output(); print('now' + ' current')")
    t.wait_prompt(6)
    text, lines = t.text(), t.text().splitlines()
    assert lines.count("now current") == 1 and lines.index("now current") < lines.index("l1"), text  # in it
    assert text.index("gone soon") < text.index("Output widget was cleared"), text  # what went below: not current
