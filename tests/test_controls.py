"""Widget controls driven from the keyboard (repl/protocol/controls.py), against the states the
installed ipywidgets gives its models (built in-process, no kernel), and the Sync rules for
updates in flight and their echoes."""

import json

import ipywidgets as w
import pytest

from repl.protocol.comms import Comms
from repl.protocol.controls import (
    Custom, Editing, Focus, Nothing, Sync, Update, continuous, custom_data, decimals, focusable, paste, press,
    stepped, update_data,
)


def wire(widget):
    """The state as it reaches us: JSON (tuples are lists)."""
    return json.loads(json.dumps(widget.get_state()))


def put(comms, *widgets):
    """Open every widget (and the widgets it holds) in ``comms``, as the kernel's comm_open would."""
    for widget in widgets:
        comms.receive("comm_open", {"comm_id": widget.model_id, "target_name": "jupyter.widget",
                                    "data": {"state": wire(widget), "buffer_paths": []}})
        for kid in getattr(widget, "children", ()):
            put(comms, kid)
    return comms


def model(widget):
    return put(Comms(), widget).models[widget.model_id]


def keys(widget, *pressed, focus=None):
    """Press ``pressed`` in turn on ``widget``'s model, applying each Update as the UI would; the
    last outcome."""
    m = model(widget)
    focus = focus or Focus(widget.model_id)
    out = Nothing()
    for key in pressed:
        out = press(m, key, focus)
        if isinstance(out, (Update, Editing)):
            focus = out.focus
        if isinstance(out, Update):
            m.state.update(out.state)
    return out, m, focus


# --- which controls ---------------------------------------------------------------------------


def test_interact_lists_its_controls_in_drawn_order_and_leaves_out_disabled_and_non_controls():
    def f(x, y, z, t):
        return x

    ui = w.interactive(f, x=5, y=["a", "b"], z=True, t="hi")
    c = put(Comms(), ui)
    slider, dropdown, check, text, out = ui.children
    assert focusable(c, ui.model_id) == [slider.model_id, dropdown.model_id, check.model_id, text.model_id]
    assert out.model_id not in focusable(c, ui.model_id)  # an Output is not a control
    check.disabled = True
    put(c, check)
    assert focusable(c, ui.model_id) == [slider.model_id, dropdown.model_id, text.model_id]
    assert focusable(c, slider.model_id) == [slider.model_id]  # a control displayed alone
    assert focusable(c, "nobody") == []


def test_controls_inside_an_output_and_nested_boxes_depth_first():
    a, b, c_, d = w.Button(description="a"), w.IntSlider(), w.Checkbox(), w.Text()
    label = w.Label("not a control")
    inner = w.HBox([b, label])
    shown = {"output_type": "display_data", "metadata": {},
             "data": {"application/vnd.jupyter.widget-view+json": {"model_id": c_.model_id}, "text/plain": "x"}}
    out = w.Output()
    out.outputs = (shown,)
    tabs = w.Tab([w.VBox([a, inner]), out])
    root = w.VBox([tabs, w.Accordion([d])])
    c = put(Comms(), root)
    put(c, inner, out, c_, label, tabs.children[0])
    for box in root.children:
        put(c, box)
    put(c, *root.children[1].children)
    assert focusable(c, root.model_id) == [a.model_id, b.model_id, c_.model_id, d.model_id]


def test_a_cycle_and_a_huge_tree_end():
    c = Comms()
    c.receive("comm_open", {"comm_id": "loop", "target_name": "jupyter.widget",
                            "data": {"state": {"_model_name": "VBoxModel", "children": ["IPY_MODEL_loop", "IPY_MODEL_s"]}}})
    c.receive("comm_open", {"comm_id": "s", "target_name": "jupyter.widget",
                            "data": {"state": wire(w.IntSlider())}})
    assert focusable(c, "loop") == ["s"]
    kids = []
    for i in range(3000):
        c.receive("comm_open", {"comm_id": f"b{i}", "target_name": "jupyter.widget",
                                "data": {"state": wire(w.Button())}})
        kids.append(f"IPY_MODEL_b{i}")
    c.receive("comm_open", {"comm_id": "big", "target_name": "jupyter.widget",
                            "data": {"state": {"_model_name": "VBoxModel", "children": kids}}})
    got = focusable(c, "big")
    assert len(got) == 1000 and got[:2] == ["b0", "b1"]


# --- sliders ----------------------------------------------------------------------------------


def test_int_slider_steps_shift_home_end_and_clamps():
    s = w.IntSlider(value=5, min=0, max=20, step=2)
    out, m, _ = keys(s, "right")
    assert out == Update({"value": 6}, Focus(s.model_id)) and isinstance(out.state["value"], int)
    assert keys(s, "left")[1].state["value"] == 4  # 5 is off the grid from min: the next point down
    assert keys(s, "left", "left")[1].state["value"] == 2 and keys(s, "s-left")[1].state["value"] == 0
    assert keys(s, "right", "right")[1].state["value"] == 8
    assert keys(s, "s-right")[1].state["value"] == 20  # ×10 steps, clamped to max
    assert keys(s, "home")[1].state["value"] == 0 and keys(s, "end")[1].state["value"] == 20
    assert keys(s, "end", "right")[0] == Nothing("already there")
    assert keys(s, "home", "s-left")[0] == Nothing("already there")
    assert isinstance(keys(s, "x")[0], Nothing)


def test_float_slider_is_rounded_to_its_step():
    s = w.FloatSlider(value=0.1, min=0, max=1, step=0.1)
    assert keys(s, "right")[1].state["value"] == 0.2
    assert keys(s, "right", "right")[1].state["value"] == 0.3  # not 0.30000000000000004
    assert keys(s, *["right"] * 7)[1].state["value"] == 0.8
    assert keys(s, "s-right")[1].state["value"] == 1.0
    fine = w.FloatSlider(value=0.05, min=0.05, max=0.5, step=0.01)
    assert keys(fine, "right", "right", "right")[1].state["value"] == 0.08
    assert decimals(0.1) == 1 and decimals(0.05) == 2 and decimals(1e-7) == 7 and decimals(5.0) == 0
    assert stepped(0.35, "right", 0.0, 1.0, 0.1, False) == 0.4  # an off-grid value moves onto it
    assert stepped(0.35, "left", 0.0, 1.0, 0.1, False) == 0.3
    assert stepped(0.35, "s-right", 0.0, 1.0, 0.1, False) == 1.0
    assert stepped(3, "left", 0, 10, 1, True) == 2 and stepped(3, "tab", 0, 10, 1, True) is None


def test_log_slider_steps_the_exponent():
    s = w.FloatLogSlider(value=10, base=10, min=-2, max=3, step=0.5)
    out, m, _ = keys(s, "right")
    assert out.state["value"] == pytest.approx(10 ** 1.5)
    assert keys(s, "right", "right")[1].state["value"] == 100.0
    assert keys(s, "left", "left")[1].state["value"] == 1.0
    assert keys(s, "home")[1].state["value"] == 0.01 and keys(s, "end")[1].state["value"] == 1000.0
    two = w.FloatLogSlider(value=8, base=2, min=0, max=4, step=1)
    assert keys(two, "right")[1].state["value"] == 16.0 and keys(two, "s-right")[1].state["value"] == 16.0


def test_range_sliders_move_one_handle_and_never_cross():
    r = w.IntRangeSlider(value=(20, 30), min=0, max=100, step=5)
    out, m, focus = keys(r, "right")
    assert out.state == {"value": [25, 30]} and focus.handle == 0
    out, m, focus = keys(r, "right", "right", "right", "right")
    assert m.state["value"] == [30, 30]  # the lower stops at the upper
    assert out == Nothing("already there")
    out, m, focus = keys(r, "space")
    assert out == Editing(Focus(r.model_id, handle=1))
    assert keys(r, "space", "left", "left", "left")[1].state["value"] == [20, 20]  # the upper stops at the lower
    assert keys(r, "space", "end")[1].state["value"] == [20, 100]
    assert keys(r, "end")[1].state["value"] == [30, 30]  # the lower handle's End is the upper handle
    assert keys(r, "home")[1].state["value"] == [0, 30]
    f = w.FloatRangeSlider(value=(0.1, 0.9), min=0, max=1, step=0.1)
    assert keys(f, "right", "right")[1].state["value"] == [0.3, 0.9]
    assert keys(f, "space", "s-left")[1].state["value"] == [0.1, 0.1]


def test_selection_sliders_move_by_index():
    s = w.SelectionSlider(options=["lo", "mid", "hi"], value="mid")
    assert keys(s, "right")[0] == Update({"index": 2}, Focus(s.model_id))
    assert keys(s, "right", "right")[0] == Nothing("already there")
    assert keys(s, "home")[1].state["index"] == 0
    r = w.SelectionRangeSlider(options=list("abcdef"), index=(1, 3))
    assert keys(r, "left")[1].state["index"] == [0, 3]
    assert keys(r, "space", "s-right")[1].state["index"] == [1, 5]
    assert keys(r, "right", "right", "right")[1].state["index"] == [3, 3]


def test_play_steps_its_value():
    p = w.Play(value=3, min=0, max=10, step=1)
    assert keys(p, "right")[1].state["value"] == 4 and keys(p, "end")[1].state["value"] == 10
    assert isinstance(keys(p, "space")[0], Nothing)  # playing runs a timer in the browser: not here


def test_continuous_update_false_is_held_until_enter():
    s = w.IntSlider(value=1, continuous_update=False)
    assert not continuous(model(s)) and continuous(model(w.IntSlider()))
    out = keys(s, "right")[0]
    assert isinstance(out, Update) and out.hold
    assert not keys(w.IntSlider(value=1), "right")[0].hold
    assert keys(s, "enter")[0] == Update({}, Focus(s.model_id), hold=False)  # send what is held


# --- toggles, buttons, choices ------------------------------------------------------------------


def test_checkbox_and_toggle_button_toggle_on_space():
    for widget in (w.Checkbox(value=False), w.ToggleButton(value=False)):
        assert keys(widget, "space")[0].state == {"value": True}
        assert keys(widget, "space", "space")[1].state["value"] is False
        assert isinstance(keys(widget, "left")[0], Nothing)


def test_button_clicks_with_the_message_the_kernel_handles():
    clicks = []
    b = w.Button(description="Go")
    b.on_click(clicks.append)
    for key in ("enter", "space"):
        out = keys(b, key)[0]
        assert out == Custom({"event": "click"})
        b._handle_msg({"content": {"data": custom_data(out.content)}, "buffers": []})  # as the kernel gets it
    assert clicks == [b, b]
    assert isinstance(keys(b, "left")[0], Nothing)


def test_choices_move_their_index_within_the_options():
    for widget in (w.Dropdown(options=["a", "b", "c"]), w.RadioButtons(options=["a", "b", "c"]),
                   w.Select(options=["a", "b", "c"])):
        assert keys(widget, "down")[0].state == {"index": 1}
        assert keys(widget, "down", "down", "down")[1].state["index"] == 2
        assert keys(widget, "up")[0] == Nothing("already there")
        assert keys(widget, "end")[1].state["index"] == 2
        assert isinstance(keys(widget, "right")[0], Nothing)
    tb = w.ToggleButtons(options=["x", "y"])
    assert keys(tb, "right")[0].state == {"index": 1} and keys(tb, "right", "left")[1].state["index"] == 0
    none = w.Dropdown(options=["a", "b"], value=None)
    assert keys(none, "up")[0].state == {"index": 0}
    assert keys(w.Dropdown(options=[]), "down")[0] == Nothing("no options")


def test_the_kernel_takes_the_index_we_send():
    d = w.Dropdown(options=[("one", 1), ("two", 2)])
    out = keys(d, "down")[0]
    d._handle_msg({"content": {"data": update_data(out.state)}, "buffers": []})
    assert d.value == 2 and d.label == "two"


def test_select_multiple_moves_a_cursor_and_picks():
    sm = w.SelectMultiple(options=["a", "b", "c"], index=(2,))
    out, m, focus = keys(sm, "down")
    assert out == Editing(Focus(sm.model_id, cursor=1))
    assert keys(sm, "down", "space")[0].state == {"index": [1, 2]}
    assert keys(sm, "end", "space")[1].state["index"] == []
    assert keys(sm, "up")[0] == Editing(Focus(sm.model_id, cursor=0))


# --- text boxes ---------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:on_submit is deprecated:DeprecationWarning")
def test_text_edit_submit_and_cancel():
    submitted = []
    t = w.Text(value="ab")
    t.on_submit(submitted.append)
    out, m, focus = keys(t, "c", "backspace", "backspace", "x", "space", "y")
    assert out == Editing(Focus(t.model_id, edit="ax y")) and m.state["value"] == "ab"  # nothing sent while typing
    out = keys(t, "c", "enter")[0]
    assert out == Update({"value": "abc"}, Focus(t.model_id), custom={"event": "submit"})
    t._handle_msg({"content": {"data": update_data(out.state)}, "buffers": []})
    t._handle_msg({"content": {"data": custom_data(out.custom)}, "buffers": []})
    assert t.value == "abc" and submitted == [t]
    t = w.Text(value="ab")
    assert keys(t, "c", "escape")[0] == Editing(Focus(t.model_id))  # cancelled: the value stays
    assert keys(t, "enter")[0] == Editing(Focus(t.model_id, edit="ab"))  # Enter begins an edit
    assert keys(t, "enter", "enter")[0] == Update({}, Focus(t.model_id), custom={"event": "submit"})
    assert keys(t, "c-u", "z", "enter")[0].state == {"value": "z"}
    assert keys(w.Password(value="s"), "t", "enter")[0].state == {"value": "st"}
    assert keys(w.Password(value="s"), "t", "enter")[0].custom == {"event": "submit"}


def test_textarea_takes_enter_as_a_new_line_and_submits_on_alt_enter():
    ta = w.Textarea(value="one")
    out = keys(ta, "enter", "enter", "t", "w", "o")[0]
    assert out == Editing(Focus(ta.model_id, edit="one\ntwo"))
    out = keys(ta, "x", "enter", "y", "a-enter")[0]
    assert out == Update({"value": "onex\ny"}, Focus(ta.model_id))  # a Textarea has no submit message
    assert keys(ta, "x", "escape enter")[0].state == {"value": "onex"}
    assert paste(model(ta), "a\r\nb", Focus(ta.model_id)) == Editing(Focus(ta.model_id, edit="onea\nb"))
    assert paste(model(w.Text(value="")), "a\nb", Focus("t")) == Editing(Focus("t", edit="a"))
    assert isinstance(paste(model(w.IntSlider()), "1", Focus("s")), Nothing)


def test_number_boxes_parse_clamp_and_keep_a_bad_number_in_edit():
    it = w.IntText(value=3)
    out = keys(it, "backspace", "4", "2", "enter")[0]
    assert out == Update({"value": 42}, Focus(it.model_id)) and isinstance(out.state["value"], int)
    out = keys(it, "backspace", "4", ".", "5", "enter")[0]
    assert out == Editing(Focus(it.model_id, edit="4.5", error="not a whole number"))
    assert keys(it, "c-u", "1", "_", "0", "enter")[0].focus.error == "not a whole number"
    assert keys(it, "x", "backspace", "enter")[0] == Editing(Focus(it.model_id))  # unchanged: nothing to send
    ft = w.FloatText(value=1.5)
    assert keys(ft, "c-u", "2", "e", "3", "enter")[0].state == {"value": 2000.0}
    assert keys(ft, "c-u", "n", "a", "n", "enter")[0].focus.error == "not a finite number"
    assert keys(ft, "c-u", "a", "enter")[0].focus.error == "not a number"
    bi = w.BoundedIntText(value=5, min=0, max=10)
    assert keys(bi, "c-u", "9", "9", "enter")[0].state == {"value": 10}
    assert keys(bi, "c-u", "-", "3", "enter")[0].state == {"value": 0}
    bf = w.BoundedFloatText(value=0.5, min=0, max=1)
    out = keys(bf, "c-u", "7", "enter")[0]
    assert out.state == {"value": 1.0} and out.custom is None  # no submit message for numbers
    assert keys(bf, "up")[0].state == {"value": 1.0} and keys(bi, "down")[0].state == {"value": 4}
    assert keys(w.FloatText(value=0.1), "up")[0].state == {"value": 1.1}


def test_disabled_and_unknown_models_do_nothing():
    assert keys(w.IntSlider(disabled=True), "right")[0] == Nothing("disabled")
    assert keys(w.Label("x"), "right")[0] == Nothing("not a control")


# --- Sync ---------------------------------------------------------------------------------------


class Wire:
    """The kernel's side of Sync: what was sent, with made-up msg ids."""

    def __init__(self):
        self.sent = []

    def __call__(self, comm_id, data):
        self.sent.append((comm_id, data))
        return f"m{len(self.sent)}"


def echo(comm_id, parent, **state):
    return {"comm_id": comm_id, "data": {"method": "echo_update", "state": state, "buffer_paths": []}}, parent


def test_changes_while_one_is_in_flight_are_merged_and_sent_when_it_is_done():
    wire_, sync = Wire(), None
    sync = Sync(wire_)
    assert sync.change("s", {"value": 1}) is True
    for v in (2, 3, 4):
        assert sync.change("s", {"value": v}) is False  # a held key: one update in flight, not four
    sync.change("s", {"other": "x"})
    assert wire_.sent == [("s", update_data({"value": 1}))] and sync.busy("s")
    assert sync.waiting("s") == {"value": 4, "other": "x"}
    sync.done("not-ours")
    assert len(wire_.sent) == 1
    sync.done("m1")
    assert wire_.sent[1] == ("s", update_data({"value": 4, "other": "x"})) and sync.busy("s")
    sync.done("m2")
    assert not sync.busy("s") and sync.waiting("s") == {}
    assert sync.change("t", {"value": 9}) is True  # another model is not held up
    assert sync.change("s", {}) is False and len(wire_.sent) == 3  # nothing to send


def test_an_old_echo_is_dropped_and_ours_clears_the_expectation():
    wire_ = Wire()
    sync = Sync(wire_)
    sync.change("s", {"value": 1})  # m1
    sync.done("m1")
    sync.change("s", {"value": 2})  # m2
    content, _ = sync.filter(*echo("s", "m1", value=1))
    assert content["data"]["state"] == {}  # m1's echo comes late: the slider would jump back to 1
    content, _ = sync.filter(*echo("s", "m2", value=2, description="d"))
    assert content["data"]["state"] == {"value": 2, "description": "d"}  # ours: applied
    content, _ = sync.filter(*echo("s", "m9", value=7))
    assert content["data"]["state"] == {"value": 7}  # expectation cleared: echoes apply again
    plain = {"comm_id": "s", "data": {"method": "update", "state": {"value": 5}}}
    sync.done("m2")
    sync.change("s", {"value": 3})  # m3
    assert sync.filter(plain, "kernel")[0] is plain  # the kernel's own change: always applied
    c = Comms()
    c.receive("comm_open", {"comm_id": "s", "target_name": "jupyter.widget", "data": {"state": {"value": 3}}})
    c.receive("comm_msg", *sync.filter(*echo("s", "other-client", value=8)))
    assert c.models["s"].state["value"] == 3  # another client's echo while ours is awaited: dropped


def test_our_echo_is_dropped_while_a_newer_value_waits_and_other_clients_updates_apply():
    wire_ = Wire()
    sync = Sync(wire_)
    sync.change("s", {"value": 1})  # m1 in flight
    sync.change("s", {"value": 2})  # buffered
    content, _ = sync.filter(*echo("s", "m1", value=1))
    assert content["data"]["state"] == {}  # ours, but 2 waits: drawing 1 would jump back
    sync.done("m1")  # m2 carries 2
    assert sync.filter(*echo("s", "m2", value=2))[0]["data"]["state"] == {"value": 2}
    other = echo("x", "someone", value=5)  # a model we never sent to: everything applies
    assert sync.filter(*other)[0] is other[0]
    held = Sync(Wire())
    held.change("h", {"value": 1})
    held.change("h", {"value": 2}, hold=True)
    assert held.filter(*echo("h", "m1", value=1))[0]["data"]["state"] == {}  # a held value counts as newer


def test_dropped_attributes_take_their_buffers_with_them():
    sync = Sync(Wire())
    sync.change("s", {"data": "x"})  # m1
    content = {"comm_id": "s", "data": {"method": "echo_update", "state": {"data": None, "keep": None},
                                        "buffer_paths": [["data"], ["keep"]]}}
    got, buffers = sync.filter(content, "old", [b"D", b"K"])
    assert got["data"]["buffer_paths"] == [["keep"]] and buffers == [b"K"]
    c = Comms()
    c.receive("comm_open", {"comm_id": "s", "target_name": "jupyter.widget", "data": {"state": {"data": "x"}}})
    c.receive("comm_msg", got, buffers)
    assert c.models["s"].state == {"data": "x", "keep": b"K"}


def test_held_state_goes_out_on_release_and_a_submit_never_overtakes_its_value():
    wire_ = Wire()
    sync = Sync(wire_)
    sync.change("s", {"value": 1}, hold=True)
    sync.change("s", {"value": 2}, hold=True)
    assert wire_.sent == [] and sync.waiting("s") == {"value": 2}
    assert sync.release("s") is True and wire_.sent == [("s", update_data({"value": 2}))]
    sync.change("t", {"value": "a"})  # m2 in flight
    sync.change("t", {"value": "ab"})  # buffered
    assert sync.custom("t", {"event": "submit"}) is False  # waits behind "ab"
    sync.done("m2")
    assert wire_.sent[-2:] == [("t", update_data({"value": "ab"})), ("t", custom_data({"event": "submit"}))]
    assert sync.custom("b", {"event": "click"}) is True and wire_.sent[-1] == ("b", custom_data({"event": "click"}))
    sync.forget("t")
    sync.reset()
    assert not sync.busy("t") and not sync.busy("s")
