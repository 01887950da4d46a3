"""What a server's shell may do to our terminal under /terminal (#26): its alternate-screen
switches stood in for, the clipboard and tmux passthrough dropped, titles it cannot over-pop, the
queries in a replayed history stripped, sequences split across messages."""

from repl.protocol.shellscreen import CLEAR, POP_TITLE, RESET, ShellOutput


def feed_all(pieces, replay=False):
    f = ShellOutput()
    return "".join(f.feed(p, replay) for p in pieces), f


def test_the_shell_cannot_leave_our_alternate_screen():
    f = ShellOutput()
    assert f.feed("a\x1b[?1049hvim\x1b[?1049lb") == "a\x1b7\x1b[2Jvim\x1b[2J\x1b8b"
    assert f.feed("\x1b[?1047h\x1b[?1047l\x1b[?47h\x1b[?47l") == "\x1b[2J"
    assert f.feed("\x1b[?1;1049;25h") == "\x1b7\x1b[2J\x1b[?1;25h"  # the others in it stay
    assert f.feed("\x1b[?1046l") == ""  # (which would forbid our own switch back)
    assert f.feed("\x1b[?01049l") == "\x1b[2J\x1b8"
    assert f.feed("\x1bc") == RESET + CLEAR  # a full reset, as reset(1) sends
    assert f.feed("\x1b[?10\b49l") == "\b\x1b[2J\x1b8"  # a control inside does not hide it
    assert f.feed("\x1b[?1000h\x1b[1;31mred\x1b[0m\x1b[?25l") == "\x1b[?1000h\x1b[1;31mred\x1b[0m\x1b[?25l"


def test_split_anywhere_the_same_comes_out():
    text = "x\x1b[?1049h\x1b]0;t\x07\x1b]52;c;aGk=\x1b\\\x1bP+q544e\x1b\\y\x1b[6n\x1b[?1049l\x1b(Bz"
    whole, _ = feed_all([text])
    for cut in range(1, len(text)):
        assert feed_all([text[:cut], text[cut:]])[0] == whole, cut
    assert feed_all(list(text))[0] == whole
    assert whole == "x\x1b7\x1b[2J\x1b]0;t\x07\x1bP+q544e\x1b\\y\x1b[6n\x1b[2J\x1b8\x1b(Bz"


def test_no_clipboard_no_passthrough_titles_pass():
    out, _ = feed_all(["\x1b]0;PWNED\x07\x1b]52;c;cHduZWQ=\x07", "\x1b]52;c;?\x1b\\", "\x1b]052;p;eA==\x9c",
                       "\x1bPtmux;\x1b\x1b]52;c;eA==\x07\x1b\\", "\x1b]8;;https://x\x1b\\l\x1b]8;;\x1b\\"])
    assert out == "\x1b]0;PWNED\x07\x1b]8;;https://x\x1b\\l\x1b]8;;\x1b\\"
    out, _ = feed_all(["\x1b]52;c;eA==\x1b[31m"])  # ended by another sequence: still dropped
    assert out == "\x1b[31m"
    out, _ = feed_all(["\x1b]52;c;" + "A" * 3_000_000, "B" * 10, "\x07after"])  # too long to keep: dropped
    assert out == "after"


def test_titles_pushed_are_popped_and_never_more():
    f = ShellOutput()
    assert f.feed("\x1b[22;2t\x1b[22;0t\x1b[23;0t") == "\x1b[22;2t\x1b[22;0t\x1b[23;0t"
    assert f.feed("\x1b[23;0t\x1b[23;0t") == "\x1b[23;0t"  # the second would pop ours
    assert f.leave() == RESET
    f.feed("\x1b[22t\x1b[22t")
    assert f.leave() == RESET + POP_TITLE * 2 and f.title_pushes == 0
    assert f.feed("\x1b[3;0;0t\x1b[8;100;300t\x1b[9;1t\x1b[18t") == "\x1b[18t"  # no moves, no resizes


def test_the_reset_turns_off_what_programs_turn_on():
    for mode in ("\x1b[?1000l", "\x1b[?1002l", "\x1b[?1003l", "\x1b[?1006l", "\x1b[?1015l", "\x1b[?1l", "\x1b>",
                 "\x1b[>4m", "\x1b[<99u", "\x1b[?1004l", "\x1b[?25h", "\x1b[r", "\x1b[0m", "\x1b]111\x1b\\"):
        assert mode in RESET
    assert "\x1b[?1049" not in RESET and "\x1b]52" not in RESET


def test_a_replay_loses_its_queries_and_live_ones_pass():
    queries = ("\x1b[c\x1b[0c\x1b[>c\x1b[=c\x1b[6n\x1b[5n\x1b[?6n\x1b[?1$p\x1b[4$p\x1b[>q\x1b[?u\x1b[?4m"
               "\x1b]10;?\x07\x1b]11;?\x1b\\\x1b]4;1;?\x07\x1bP+q436f\x1b\\\x1bP$qm\x1b\\\x1b[14t\x1b[18t\x05\x1bZ"
               "\x1b_Gi=31,a=q;AAAA\x1b\\")
    drawn = "\x1b[1;1H\x1b[2 q\x1b[>4;2m\x1b]11;rgb:0/0/0\x07\x1b_Gf=24,a=T;AAAA\x1b\\text\x1b[?2004h\x1b[32m$ "
    out, _ = feed_all([queries + drawn], replay=True)
    assert out == drawn
    live, _ = feed_all([queries])
    assert live == queries  # answered while a program waits for them
    out, _ = feed_all(["\x1b[?1049h\x1b[c~\x1b[?1049l$ "], replay=True)  # vim's, replayed
    assert out == "\x1b7\x1b[2J~\x1b[2J\x1b8$ "


def test_c1_introducers_and_stray_escapes_do_not_smuggle_anything():
    out, _ = feed_all(["a\x9d52;c;eA==\x9cb\x9b?1049lc", "\x1b\x1b[31md\x1b\n"])
    assert "\x9d" not in out and "\x9b" not in out and "\x1b[?1049l" not in out
    assert out.endswith("\x1b[31md\n")
    out, _ = feed_all(["\x1b[" + "1;" * 400 + "m", "ok"])  # a runaway CSI is dropped
    assert out.endswith("ok") and len(out) < 300
