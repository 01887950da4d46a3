"""Controls drawn as text (repl/ui/widgets/draw.py) from the states the installed ipywidgets gives
them: the kinds drawn as their text/plain before, the focused control marked, a control in edit,
disabled ones dim, slider readouts."""

import json

import ipywidgets as w

from repl.protocol.comms import Comms
from repl.protocol.controls import Focus
from repl.ui.widgets.draw import Drawer, readout, track


def comms(*widgets):
    c = Comms()
    for x in widgets:
        c.receive("comm_open", {"comm_id": x.model_id, "target_name": "jupyter.widget",
                                "data": {"state": json.loads(json.dumps(x.get_state()))}})
    return c


def drawn(widget, color=False, focus=None):
    return Drawer(comms(widget), 80, color, focus=focus).draw(widget.model_id, "FALLBACK")


def test_range_sliders_have_two_handles_and_their_readouts():
    r = w.IntRangeSlider(value=(20, 60), description="r")
    assert drawn(r) == "r ────●━━━━━━●──────── 20–60"
    assert drawn(w.FloatRangeSlider(value=(0, 1), min=0, max=1)) == "●━━━━━━━━━━━━━━━━━━● 0.00–1.00"
    assert drawn(w.IntRangeSlider(value=(5, 5), min=0, max=10)) == "─" * 10 + "●" + "─" * 9 + " 5–5"  # one on the other
    assert drawn(r, focus=Focus(r.model_id, handle=1)) == "▶ r ────●━━━━━━◉──────── 20–60"  # the handle the keys move
    assert drawn(r, focus=Focus(r.model_id)) == "▶ r ────◉━━━━━━●──────── 20–60"


def test_selection_sliders_show_the_chosen_labels():
    s = w.SelectionSlider(options=["lo", "mid", "hi"], value="mid", description="s")
    assert drawn(s) == "s " + "─" * 10 + "●" + "─" * 9 + " mid"
    assert drawn(w.SelectionRangeSlider(options=list("abcde"), index=(1, 3))) == "─────●━━━━━━━━●───── b–d"


def test_log_and_float_sliders_use_their_readout_format():
    log = w.FloatLogSlider(value=100, min=0, max=4)
    assert drawn(log) == "─" * 10 + "●" + "─" * 9 + " 100"  # .3g: three digits
    assert drawn(w.FloatLogSlider(value=10)) == "─────●────────────── 10.0"  # d3 keeps .3g's zeros
    assert drawn(w.FloatSlider(value=0.3, max=1)) == "──────●───────────── 0.30"  # .2f
    assert drawn(w.FloatSlider(value=0.25, max=1, readout_format=".1%")) == "─────●────────────── 25.0%"
    assert drawn(w.IntSlider(value=0, readout=False)) == "●───────────────────"
    odd = w.FloatSlider(value=0.5, max=1, readout_format=".2s")  # SI prefixes: not a simple specifier, so :g
    assert drawn(odd).endswith(" 0.5")
    model = comms(odd).models[odd.model_id]
    assert readout(model, 1234.5) == "1234.5"
    assert track([0.0, 1.0], ["a", "b"]) == "a" + "━" * 18 + "b"


def test_toggle_buttons_radio_buttons_and_select_multiple():
    tb = w.ToggleButtons(options=["a", "b", "c"], value="b", description="tb")
    assert drawn(tb) == "tb  a  [b]  c"
    rb = w.RadioButtons(options=["x", "y"], value="y", description="pick")
    assert drawn(rb).split("\n") == ["pick ( ) x", "     (•) y"]
    assert drawn(w.RadioButtons(options=["x", "y"], orientation="horizontal")) == "(•) x  ( ) y"
    many = drawn(w.RadioButtons(options=[str(i) for i in range(25)])).split("\n")
    assert len(many) == 21 and many[-1] == "… 5 more"
    sm = w.SelectMultiple(options=list("abcdefg"), index=(1, 4), rows=3)
    assert drawn(sm).split("\n") == ["[ ] a", "[x] b", "[ ] c", "  (7 options)"]
    assert drawn(sm, focus=Focus(sm.model_id, cursor=4)).split("\n") == [
        "▶  [ ] d", "  ›[x] e", "   [ ] f", "    (7 options)"]  # the window follows the cursor


def test_text_boxes_textarea_password_and_numbers():
    assert drawn(w.Textarea(value="one\ntwo", description="ta")).split("\n") == ["ta one", "   two"]
    assert drawn(w.Password(value="secret", description="pw")) == "pw ••••••"
    assert drawn(w.BoundedIntText(value=0, description="n")) == "n 0"  # 0 is shown, not left out
    assert drawn(w.BoundedFloatText(value=2.5)) == "2.5"
    assert drawn(w.Text(value="hi", description="t")) == "t hi"
    assert drawn(w.Play(value=3)) == "[play] 3"


def test_the_focused_control_is_reverse_video_with_colour_and_marked_without():
    s = w.IntSlider(value=50, description="n")
    plain = "n " + "─" * 10 + "●" + "─" * 9 + " 50"
    assert drawn(s) == plain
    assert drawn(s, focus=Focus(s.model_id)) == "▶ " + plain
    assert drawn(s, color=True, focus=Focus(s.model_id)) == "\x1b[7m" + plain + "\x1b[27m"
    assert drawn(s, color=True, focus=Focus("another")) == plain
    b, k = w.Button(description="Go"), w.Checkbox(value=True, description="ok")
    box = w.HBox([b, k])
    c = comms(box, b, k)
    assert Drawer(c, 80, False, focus=Focus(k.model_id)).draw(box.model_id) == "[ Go ] ▶ [x] ok"
    assert Drawer(c, 80, True, focus=Focus(b.model_id)).draw(box.model_id) == "\x1b[7m[ Go ]\x1b[27m [x] ok"
    ta = w.Textarea(value="a\nb")
    assert drawn(ta, color=True, focus=Focus(ta.model_id)) == "\x1b[7ma\x1b[27m\n\x1b[7mb\x1b[27m"  # each line
    assert drawn(ta, focus=Focus(ta.model_id)) == "▶ a\n  b"


def test_the_kernels_colour_in_a_focused_label_does_not_end_the_reverse_video():
    t = w.Text(value="x", description="\x1b[31mred\x1b[0m")
    assert drawn(t, color=True, focus=Focus(t.model_id)) == "\x1b[7m\x1b[31m\x1b[7mred\x1b[0m\x1b[7m x\x1b[27m"


def test_a_control_in_edit_shows_the_text_typed_and_why_enter_refused_it():
    t = w.Text(value="old", description="t")
    assert drawn(t, focus=Focus(t.model_id, edit="new")) == "▶ t new▏"
    assert drawn(t, focus=Focus(t.model_id, edit="")) == "▶ t ▏"
    n = w.IntText(value=1)
    assert drawn(n, focus=Focus(n.model_id, edit="4x", error="not a whole number")) == "▶ 4x▏ (not a whole number)"
    p = w.Password(value="secret")
    assert drawn(p, focus=Focus(p.model_id, edit="abc")) == "▶ •••▏"
    ta = w.Textarea(value="one", description="ta")
    assert drawn(ta, focus=Focus(ta.model_id, edit="one\ntw")).split("\n") == ["▶ ta one", "     tw▏"]
    assert drawn(t, focus=Focus("other", edit="zzz")) == "t old"  # another control's edit


def test_disabled_controls_are_dim_with_colour():
    s = w.IntSlider(value=0, disabled=True, description="off")
    assert drawn(s, color=True) == "\x1b[2moff ●" + "─" * 19 + " 0\x1b[22m"
    assert drawn(s) == "off ●" + "─" * 19 + " 0"
    assert drawn(w.IntSlider(value=0, description="off"), color=True) == "off ●" + "─" * 19 + " 0"


def test_a_progress_bar_beside_a_focused_control_keeps_its_width():
    b = w.Button(description="Go")
    p = w.IntProgress(value=5, max=10)
    box = w.HBox([b, p])
    c = comms(box, b, p)
    plain = Drawer(c, 40, False).draw(box.model_id)
    colored = Drawer(c, 40, True, focus=Focus(b.model_id)).draw(box.model_id)
    assert colored.count("█") == plain.count("█") and colored.count(" ") == plain.count(" ")
