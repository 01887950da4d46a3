"""Widget models (protocol/comms.py), their drawing (ui/widgets/draw.py) and half-block images
(ui/output/blocks.py, ui/output/images.py): strings compared, no sockets."""

import base64
import io

from repl.protocol.comms import Changed, Closed, Comms, Opened
from repl.ui.output import blocks
from repl.ui.output import images
from repl.ui.output import mime
from repl.ui.widgets.draw import Drawer, bar, inline_html, output_text


def opened(comms, cid, name, **state):
    content = {"comm_id": cid, "target_name": "jupyter.widget",
               "data": {"state": {"_model_name": name, **state}, "buffer_paths": []}}
    return comms.receive("comm_open", content)


def update(comms, cid, method="update", buffers=None, paths=None, **state):
    return comms.receive("comm_msg", {"comm_id": cid, "data": {"method": method, "state": state,
                                                               "buffer_paths": paths or []}}, buffers)


def tqdm_like(comms):
    opened(comms, "d", "HTMLModel", value="wk:  40%")
    opened(comms, "p", "FloatProgressModel", value=12, max=30, bar_style="")
    opened(comms, "t", "HTMLModel", value=" 12/30 [00:01&lt;00:02, 9.1it/s]")
    opened(comms, "box", "HBoxModel", children=["IPY_MODEL_d", "IPY_MODEL_p", "IPY_MODEL_t"])


def test_models_follow_open_update_echo_close_and_buffers():
    c = Comms()
    got = opened(c, "a", "IntProgressModel", value=1, max=10)
    assert isinstance(got, Opened) and got.model is c.models["a"] and got.model.name == "IntProgressModel"
    assert isinstance(update(c, "a", value=5), Changed) and c.models["a"].state["value"] == 5
    assert isinstance(update(c, "a", method="echo_update", value=6), Changed) and c.models["a"].state["value"] == 6
    assert update(c, "a", method="custom", value=99) is None and c.models["a"].state["value"] == 6
    assert update(c, "nobody", value=1) is None
    update(c, "a", buffers=[b"\x00\x01"], paths=[["data"]], data=None)
    assert c.models["a"].state["data"] == b"\x00\x01"  # a binary buffer put where buffer_paths says
    other = c.receive("comm_open", {"comm_id": "x", "target_name": "my.target", "data": {}})
    assert other == Opened(None, "my.target") and "x" in c.others and "x" not in c.models
    assert c.receive("comm_close", {"comm_id": "a"}) == Closed("a") and "a" not in c.models
    assert c.receive("comm_open", {"target_name": "jupyter.widget"}) is None  # no comm id


def test_holders_and_capturing_output():
    c = Comms()
    tqdm_like(c)
    opened(c, "out", "OutputModel", msg_id="cell-1", outputs=[])
    assert c.holders("p", ["box", "out"]) == ["box"] and c.holders("box", ["box"]) == ["box"]
    assert c.holders("zzz", ["box"]) == []
    assert c.capturing("cell-1") is c.models["out"] and c.capturing("cell-2") is None and c.capturing("") is None


def test_progress_boxes_and_controls_are_drawn_as_text():
    assert bar(0.5, 8) == "████    " and bar(1 / 16, 2) == "▏ " and bar(2.0, 3) == "███"
    c = Comms()
    tqdm_like(c)
    line = Drawer(c, 80, color=False).draw("box")
    assert line == "wk:  40% |" + bar(12 / 30, 38) + "| 12/30 [00:01<00:02, 9.1it/s]"  # fits in 80
    update(c, "p", value=30, bar_style="success")
    colored = Drawer(c, 80, color=True).draw("box")
    assert "\x1b[32m|" + "█" * 38 + "|\x1b[0m" in colored
    opened(c, "s", "IntSliderModel", value=50, min=0, max=100, description="n")
    opened(c, "k", "CheckboxModel", value=True, description="ok")
    opened(c, "dd", "DropdownModel", _options_labels=["a", "b"], index=1, description="pick")
    opened(c, "b", "ButtonModel", description="Go")
    opened(c, "v", "ValidModel", value=False)
    opened(c, "col", "VBoxModel", children=["IPY_MODEL_s", "IPY_MODEL_k", "IPY_MODEL_dd", "IPY_MODEL_b", "IPY_MODEL_v"])
    assert Drawer(c, 80, False).draw("col").split("\n") == [
        "n " + "─" * 10 + "●" + "─" * 9 + " 50", "[x] ok", "pick [b ▾]", "[ Go ]", "✗"]
    opened(c, "o", "OutputModel", outputs=[{"output_type": "stream", "name": "stdout", "text": "hi\n"},
                                         {"output_type": "error", "ename": "E", "evalue": "bad"}])
    assert Drawer(c, 80, False).draw("o") == "hi\nE: bad"
    opened(c, "g", "SomeCustomModel")
    assert Drawer(c, 80, False).draw("g", "CustomWidget()") == "CustomWidget()"  # the kernel's text/plain
    assert Drawer(c, 80, False).draw("missing", "fallback") == "fallback"
    assert inline_html("<b>a</b>&nbsp;&amp;<br>b") == "a & b"
    assert output_text(None) == ""


def test_a_self_referencing_box_does_not_loop():
    c = Comms()
    opened(c, "loop", "HBoxModel", children=["IPY_MODEL_loop"])
    assert Drawer(c, 80, False).draw("loop") == ""


def png(w, h, colors):
    from PIL import Image

    img = Image.new("RGBA", (w, h))
    img.putdata(colors)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def test_half_blocks_two_pixels_a_cell_truecolor_and_256():
    red, blue, clear = (255, 0, 0, 255), (0, 0, 255, 255), (0, 0, 0, 0)
    data = png(2, 2, [red, blue, blue, clear])
    assert blocks.draw(data, 10, 10, True) == (
        "\x1b[38;2;255;0;0;48;2;0;0;255m▀\x1b[38;2;0;0;255;49m▀\x1b[0m\n")
    assert blocks.draw(data, 10, 10, False) == "\x1b[38;5;196;48;5;21m▀\x1b[38;5;21;49m▀\x1b[0m\n"
    only_bottom = png(1, 2, [clear, red])
    assert blocks.draw(only_bottom, 10, 10, True) == "\x1b[38;2;255;0;0;49m▄\x1b[0m\n"
    assert blocks.palette256(128, 128, 128) == 244 and blocks.palette256(0, 0, 0) == 16


def test_block_images_keep_their_aspect_within_width_and_rows():
    assert blocks.cell_size(1000, 800, 100, 100) == (100, 80)  # 40 rows of 100 cells
    assert blocks.cell_size(1000, 800, 100, 20) == (50, 40)  # capped at 20 rows: narrower
    assert blocks.cell_size(10, 5, 100, 20) == (10, 6)  # never enlarged; an even number of rows
    text = blocks.draw(png(1000, 800, [(0, 128, 0, 255)] * 800_000), 60, 12, True)
    assert text.count("\n") == 12 and text.split("\n")[0].count("▀") == 30


def test_images_choose_blocks_without_a_protocol_and_wrap_for_tmux():
    assert images.choose("auto", {"TERM": "xterm-256color"}, color=True).protocol == "blocks"
    assert images.choose("auto", {"TERM": "xterm-256color"}, color=False).protocol == "off"
    kitty_in_tmux = images.choose("auto", {"TERM": "tmux-256color", "TMUX": "/tmp/t,1,0", "KITTY_WINDOW_ID": "1"})
    assert kitty_in_tmux == images.Drawing("kitty", 24, False, "tmux")
    assert images.choose("iterm", {"TERM": "screen", "STY": "1.pts"}).passthrough == "screen"
    assert images.choose("blocks", {"TMUX": "x", "COLORTERM": "truecolor"}) == images.Drawing("blocks", 24, True, "")
    assert images.wrap("\x1b_Ga=T;AAAA\x1b\\", "tmux") == "\x1bPtmux;\x1b\x1b_Ga=T;AAAA\x1b\x1b\\\x1b\\"
    assert images.wrap("x" * 1000, "screen") == "\x1bP" + "x" * 760 + "\x1b\\" + "\x1bP" + "x" * 240 + "\x1b\\"
    assert images.wrap("seq", "") == "seq"


def test_placeholders_say_the_type_and_write_no_file_unless_asked():
    data = png(3, 2, [(1, 2, 3, 255)] * 6)
    b64 = base64.b64encode(data).decode()
    assert images.draw("image/png", b64, images.Drawing("off"), 80) == "[image/png 3×2, 0.1 KiB]\n"
    kept = images.draw("image/png", b64, images.Drawing("file"), 80)
    assert kept.startswith("[image/png 3×2, 0.1 KiB: ") and "repl-image-" in kept
    assert images.draw("image/png", "bm90IGFuIGltYWdl", images.Drawing("blocks"), 80).endswith("(could not be drawn)\n")
    svg = {"image/svg+xml": "<svg/>", "text/plain": "<IPython.core.display.SVG object>"}
    assert mime.pieces(svg, 80, True, images.Drawing("blocks")) == [
        ("out", "[image/svg+xml output: this terminal cannot draw it]\n")]
    pdf = {"application/pdf": "JVBER", "text/plain": "<Figure size 640x480 with 1 Axes>"}
    assert mime.pieces(pdf, 80, True, images.Drawing("blocks")) == [("out", "<Figure size 640x480 with 1 Axes>\n")]


def test_nested_output_widgets_capture_innermost_first_and_draw_each_other():
    c = Comms()
    opened(c, "a", "OutputModel", msg_id="", outputs=[])
    opened(c, "b", "OutputModel", msg_id="", outputs=[])
    update(c, "a", msg_id="cell")
    update(c, "b", msg_id="cell")  # `with b:` inside `with a:`
    assert c.capturing("cell") is c.models["b"]
    update(c, "b", msg_id="")  # b lets go: a captures again
    assert c.capturing("cell") is c.models["a"]
    update(c, "a", msg_id="")
    assert c.capturing("cell") is None
    view = {"application/vnd.jupyter.widget-view+json": {"model_id": "b"}, "text/plain": "Output()"}
    update(c, "a", outputs=[{"output_type": "stream", "name": "stdout", "text": "a1\n"},
                            {"output_type": "display_data", "data": view, "metadata": {}}])
    update(c, "b", outputs=[{"output_type": "stream", "name": "stdout", "text": "b1\n"}])
    assert c.holders("b", ["a"]) == ["a"]  # a change to b redraws a
    assert Drawer(c, 80, color=False).draw("a") == "a1\nb1"


def test_a_widget_tree_too_big_to_draw_is_drawn_in_part_and_says_so():
    c = Comms()
    for i in range(5000):
        opened(c, f"l{i}", "LabelModel", value=f"x{i}")
    opened(c, "inner", "VBoxModel", children=[f"IPY_MODEL_l{i}" for i in range(3)])
    opened(c, "box", "VBoxModel", children=["IPY_MODEL_inner"] + [f"IPY_MODEL_l{i}" for i in range(5000)])
    lines = Drawer(c, 80, color=False, max_lines=10).draw("box").split("\n")
    assert lines == ["x0", "x1", "x2", "x0", "x1", "x2", "x3", "x4", "x5",
                     "… 4,994 more of the 5,001 widgets in this box are not drawn"]
    many = Drawer(c, 80, color=False, max_lines=10, max_models=4).draw("box").split("\n")
    assert many[-1] == "… 5,000 more of the 5,001 widgets in this box are not drawn", many
    opened(c, "out", "OutputModel", outputs=[{"output_type": "stream", "name": "stdout", "text": "r\n" * 50}])
    assert Drawer(c, 80, color=False, max_lines=10).draw("out").split("\n")[-1] == "… 41 more lines not drawn"
    assert c.holders("l4999", ["box", "out", "inner"]) == ["box"] and c.holders("l1", ["inner", "box"]) == ["inner", "box"]
    c.receive("comm_close", {"comm_id": "inner"})
    assert c.holders("l1", ["inner", "box"]) == ["box"]
