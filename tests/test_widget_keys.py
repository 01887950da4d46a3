"""Widgets driven from the keyboard (F2): the real `repl` in a pty against real servers and ipywidgets;
what the kernel's widgets hold is read back from the kernel."""

import re

import pytest

from tests.proxy import CutProxy

F2 = "\x1bOQ"
RIGHT, LEFT, UP, DOWN, END = "\x1b[C", "\x1b[D", "\x1b[A", "\x1b[B", "\x1b[F"
TAB, ESC = "\t", "\x1b"


def paste(t, code: str) -> None:
    t.child.send("\x1b[200~" + code + "\x1b[201~")
    t.child.send("\r")


def out(t, n: int, expr: str) -> str:
    """``Out[n]`` of ``expr`` typed at the prompt."""
    t.wait_prompt(n)
    t.enter(expr)
    t.wait_for(lambda t: re.search(rf"Out\[{n}\]: .+", t.text()))
    return re.search(rf"Out\[{n}\]: (.+)", t.text()).group(1).strip()


def toolbar(t) -> str:
    return t.text().rstrip().splitlines()[-1]


def drive(t, code: str, shown: str) -> None:
    """Run ``code``, wait for ``shown``, and F2 to the widget it displayed."""
    t.wait_prompt(1)
    paste(t, code)
    t.wait_for(shown)
    t.wait_prompt(2)
    t.child.send(F2)
    t.wait_for(lambda t: "widget:" in toolbar(t))


def test_interact_slider_moved_by_keys_redraws_its_output_in_place(term, server):
    t = term(gw=server)
    t.wait_prompt(1)
    paste(t, "from ipywidgets import interact\nseen = []\n"
             "@interact(x=(0, 10))\ndef f(x=5):\n    seen.append(x); print('x is', x)\n")
    t.wait_for("x is 5")
    t.wait_prompt(2)
    t.child.send(F2)
    t.wait_for(lambda t: "widget:" in toolbar(t) and "move" in toolbar(t))
    t.child.send(RIGHT)
    t.wait_for("x is 6")
    t.child.send(RIGHT + RIGHT)
    t.wait_for("x is 8")
    assert t.plain().count("x is 8") >= 1 and "x is 6" not in t.text()  # redrawn in place, not new lines below
    t.child.send(ESC)
    t.wait_for(lambda t: "widget:" not in toolbar(t))
    assert out(t, 2, "f.widget.children[0].value, seen[-1]") == "(8, 8)"


def test_a_button_clicked_twice_runs_its_handler_twice_and_the_line_typed_is_kept(term):
    t = term()
    t.wait_prompt(1)
    paste(t, "import ipywidgets as w\nclicks = []\nb = w.Button(description='go')\n"
             "b.on_click(lambda _: clicks.append(1))\ndisplay(b)\n")
    t.wait_for("[ go ]")
    t.wait_prompt(2)
    t.type("len(cl")  # half typed: it waits while the widget has the keyboard
    t.child.send(F2)
    t.wait_for(lambda t: "Enter clicks" in toolbar(t))
    t.child.send("\r")
    t.child.send(" ")
    t.child.send(F2)
    t.wait_for(lambda t: "widget:" not in toolbar(t))
    t.type("icks)\r")
    t.wait_for("Out[2]: 2")


def test_text_typed_and_submitted_dropdown_and_checkbox(term):
    t = term()
    t.wait_prompt(1)
    paste(t, "import ipywidgets as w\nsubmitted = []\nname = w.Text(description='name')\n"
             "name.on_submit(lambda box: submitted.append(box.value))\n"
             "pick = w.Dropdown(options=['red', 'green', 'blue'])\nok = w.Checkbox(description='ok')\n"
             "display(w.VBox([name, pick, ok]))\n")
    t.wait_for("[ ] ok")
    t.wait_prompt(2)
    t.child.send(F2)
    t.wait_for(lambda t: "submits" in toolbar(t))
    t.type("ada")
    t.child.send("\r")
    t.child.send(TAB)
    t.wait_for(lambda t: "choose" in toolbar(t))
    t.child.send(DOWN + DOWN)
    t.wait_for("[blue ▾]")
    t.child.send(TAB)
    t.wait_for(lambda t: "toggles" in toolbar(t))
    t.child.send(" ")
    t.wait_for("[x] ok")
    t.child.send(ESC)
    t.wait_for(lambda t: "widget:" not in toolbar(t))
    assert out(t, 2, "name.value, submitted, pick.value, ok.value") == "('ada', ['ada'], 'blue', True)"
    t.enter("/widgets")
    t.wait_for(lambda t: re.search(r"^ +1  python3  name ada$", t.text(), re.M))


def test_a_second_clients_change_is_drawn(term, gateway):
    a = term()
    a.wait_prompt(1)
    paste(a, "import ipywidgets as w\ns = w.IntSlider(value=3, description='shared')\ndisplay(s)\n")
    a.wait_for(lambda t: re.search(r"shared ─*●─* 3", t.text()))
    a.wait_prompt(2)
    kid = re.search(r"started python3 kernel ([0-9a-f]{8})", a.plain()).group(1)
    b = term("--attach", kid)
    b.wait_prompt(2)
    b.enter("s.value = 9")
    a.wait_for(lambda t: re.search(r"shared ─*●─* 9", t.text()))
    a.child.send(F2)
    a.child.send(LEFT)
    a.wait_for(lambda t: re.search(r"shared ─*●─* 8", t.text()))
    a.child.send(ESC)
    assert out(a, 3, "s.value") == "8"  # (In [2] was the other client's)


@pytest.mark.parametrize("continuous", [True, False])
def test_a_held_key_over_a_slow_link_does_not_flood_the_kernel(term, gateway, request, continuous):
    slow = CutProxy(int(gateway.url.rsplit(":", 1)[1]), delay=0.1)
    request.addfinalizer(slow.close)
    t = term(url=slow.url)
    t.wait_prompt(1)
    paste(t, "import ipywidgets as w\nvalues = []\n"
             f"s = w.IntSlider(value=0, max=100, description='held', continuous_update={continuous})\n"
             "s.observe(lambda ch: values.append(ch['new']), 'value')\ndisplay(s)\n")
    t.wait_for("held ●")
    t.wait_prompt(2)
    t.child.send(F2)
    t.wait_for(lambda t: "widget:" in toolbar(t))
    for _ in range(30):  # a key held down: the terminal repeats it faster than the link answers
        t.child.send(RIGHT)
    t.wait_for(lambda t: re.search(r"held ─*●─* 30", t.text()))  # drawn at once, as it goes
    t.child.send(ESC)
    t.wait_for(lambda t: "widget:" not in toolbar(t))
    seen = out(t, 2, "s.value, len(values), values[-1]")
    value, count, last = (int(x) for x in seen.strip("()").split(","))
    assert value == 30 and last == 30
    assert count < 15, count  # coalesced: one update in flight at a time (each round trip is 0.2 s)
    if not continuous:
        assert count == 1, count  # sent once the key was let go


def test_f2_with_no_widget_says_so_and_the_prompt_goes_on(term):
    t = term()
    t.wait_prompt(1)
    t.type("1 + ")
    t.child.send(F2)
    t.wait_for("no widget with controls")
    t.type("1\r")
    t.wait_for("Out[1]: 2")


def test_a_widget_whose_kernel_restarted_gives_the_keyboard_back(term):
    t = term()
    drive(t, "import ipywidgets as w\ndisplay(w.IntSlider(description='gone'))\n", "gone ●")
    t.child.send(ESC)
    t.enter("/restart")
    t.wait_for("restarted")
    t.wait_prompt(1)
    t.wait_for(lambda t: "\x1b[2mgone" in t.transcript.rsplit("/restart", 1)[-1])  # redrawn dim: it no longer works
    t.child.send(F2)
    t.wait_for("no widget with controls")


def test_an_error_in_an_interact_function_is_shown_in_its_output_over_a_slow_link(term, gateway, request):
    slow = CutProxy(int(gateway.url.rsplit(":", 1)[1]), delay=0.1)
    request.addfinalizer(slow.close)
    t = term(url=slow.url)
    drive(t, "from ipywidgets import interact\n@interact(n=(0, 3))\ndef g(n=2):\n    print('ten over', n, 'is', 10 // n)\n",
          "ten over 2 is 5")
    t.child.send(LEFT + LEFT)
    t.wait_for("ZeroDivisionError")
    assert "ten over 2 is 5" not in t.text()  # the output area was redrawn, not added to
    t.child.send(RIGHT)
    t.wait_for("ten over 1 is 10")
    assert "ZeroDivisionError" not in t.text()
