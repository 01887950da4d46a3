"""What a server's shell may do to our terminal while ``/terminal`` shows it, as data: its output
goes through :class:`ShellOutput` on the way to the screen. Pure: no I/O.

The shell draws in the alternate screen we entered for it, and must not leave it: its own
switches (``CSI ? 1049/1047/47 h/l``, and 1046, which forbids switching) are taken out and stood in
for (on its 1049l: clear and restore the cursor it saved), and a full reset (``ESC c``) becomes
our reset of its modes and a clear. A clipboard write (OSC 52) and tmux passthrough (a way around
that) are dropped; window moves and resizes (``CSI 1…10/24 t``) too; title pushes and pops are
counted so that it can never pop more than it pushed (our own title comes back on leaving).

On going back to a terminal, the server replays the screen's history; the terminal queries in it
(DA, DSR/CPR, DECRQM, XTVERSION, colour and window reports, DECRQSS/XTGETTCAP, kitty's) would be
answered again by the real terminal and the answers typed into the shell: ``replay=True`` strips
them (a live program's queries pass: it waits for the answers).

Sequences split across messages wait for their end (a small tail is kept; a string sequence
longer than :data:`MAX_STRING` is dropped).
"""

from __future__ import annotations

import re

MAX_STRING = 1 << 20  # characters an OSC/DCS/APC may hold before it is dropped unseen
MAX_CSI = 256

ALT_MODES = {1049, 1047, 47, 1046}
REPORTS_T = {11, 13, 14, 15, 16, 18, 19, 20, 21}  # CSI Ps t that answer (window state, size, title)

# Modes a program may have turned on, off again before we leave its screen: mouse reporting,
# application cursor keys and keypad, modifyOtherKeys, kitty keyboard flags, focus reporting,
# the cursor's visibility and shape, synchronized output, reverse video, margins, scroll region,
# insert and origin mode, wrap, charsets, SGR, colours set by OSC, an open hyperlink.
RESET = ("\x1b[?9l\x1b[?1000l\x1b[?1001l\x1b[?1002l\x1b[?1003l\x1b[?1005l\x1b[?1006l\x1b[?1015l\x1b[?1016l"
         "\x1b[?1l\x1b>\x1b[>4m\x1b[=0;1u\x1b[<99u\x1b[?1004l\x1b[?25h\x1b[0 q\x1b[?2026l\x1b[?5l"
         "\x1b[?69l\x1b[?6l\x1b[4l\x1b[?7h\x1b[r\x1b(B\x1b)B\x0f\x1b[0m"
         "\x1b]104\x1b\\\x1b]110\x1b\\\x1b]111\x1b\\\x1b]112\x1b\\\x1b]8;;\x1b\\")
PUSH_TITLE, POP_TITLE = "\x1b[22;0t", "\x1b[23;0t"
CLEAR = "\x1b[H\x1b[2J"

_SPECIAL = re.compile("[\x1b\x05\x90\x98\x9b\x9d\x9e\x9f]")  # ESC, ENQ (answerback), C1 introducers
_STRING_END = re.compile("[\x07\x1b\x9c\x18\x1a]")
_DCS_QUERY = re.compile(r"[0-9;]*[$+]q")


def _ints(params: str) -> list[int | None]:
    out: list[int | None] = []
    for p in params.split(";"):
        digits = p.split(":")[0]
        out.append(int(digits) if digits.isdigit() else None)
    return out


class ShellOutput:
    """The shell's output, filtered; one per visit to a terminal."""

    def __init__(self) -> None:
        self._tail = ""  # an unfinished sequence from the last message
        self._skipping = False  # inside a string sequence too long to keep: dropped to its end
        self.title_pushes = 0  # the shell's own, not popped yet

    def feed(self, text: str, replay: bool = False) -> str:
        data, self._tail = self._tail + text, ""
        out: list[str] = []
        i, n = 0, len(data)
        if self._skipping:
            m = _STRING_END.search(data)
            if m is None:
                return ""
            self._skipping = False
            i = m.end() + (1 if data[m.start()] == "\x1b" and data[m.end():m.end() + 1] == "\\" else 0)
        while i < n:
            m = _SPECIAL.search(data, i)
            if m is None:
                out.append(data[i:])
                break
            j = m.start()
            out.append(data[i:j])
            ch = data[j]
            if ch == "\x05":
                if not replay:
                    out.append(ch)
                i = j + 1
                continue
            if ch != "\x1b":  # a C1 introducer: dropped (its parameters show as text)
                i = j + 1
                continue
            end, piece = self._sequence(data, j, replay)
            if end is None:
                self._tail = data[j:]
                break
            out.append(piece)
            i = end
        return "".join(out)

    def leave(self) -> str:
        """What to write before leaving the shell's screen: its modes reset, its titles popped."""
        pops, self.title_pushes = POP_TITLE * self.title_pushes, 0
        return RESET + pops

    # ------------------------------------------------------------ one sequence

    def _sequence(self, data: str, j: int, replay: bool) -> tuple[int | None, str]:
        """(where it ends, what to write instead) for the ESC at ``j``; end None: unfinished."""
        if j + 1 >= len(data):
            return None, ""
        c = data[j + 1]
        if c == "[":
            return self._csi(data, j, replay)
        if c in "]P_^X":
            return self._string(data, j, c, replay)
        k = j + 1
        while k < len(data) and "\x20" <= data[k] <= "\x2f" and k - j < MAX_CSI:
            k += 1
        if k >= len(data):
            return None, ""
        if not "\x30" <= data[k] <= "\x7e":  # not a sequence: the ESC goes, the rest is read again
            return j + 1, ""
        seq = data[j:k + 1]
        if seq == "\x1b\\":  # a string terminator with no string open (as after tmux passthrough)
            return k + 1, ""
        if seq == "\x1bc":  # a full reset would leave our screen
            return k + 1, RESET + CLEAR
        if seq == "\x1bZ" and replay:  # DECID: a query
            return k + 1, ""
        return k + 1, seq

    def _csi(self, data: str, j: int, replay: bool) -> tuple[int | None, str]:
        params: list[str] = []
        inter: list[str] = []
        executed: list[str] = []
        k = j + 2
        while k < len(data):
            ch = data[k]
            if "\x30" <= ch <= "\x3f" and not inter:
                params.append(ch)
            elif "\x20" <= ch <= "\x2f":
                inter.append(ch)
            elif "\x40" <= ch <= "\x7e":
                if k - j > MAX_CSI:  # a runaway: dropped whole
                    return k + 1, "".join(executed)
                return k + 1, "".join(executed) + self._csi_final("".join(params), "".join(inter), ch, replay)
            elif ch == "\x1b":  # aborted by another sequence
                return k, "".join(executed)
            elif ch in "\x18\x1a":  # aborted (CAN, SUB)
                return k + 1, "".join(executed)
            elif ch < "\x20":  # a control inside is carried out by the terminal, the sequence goes on
                executed.append(ch)
            else:  # not a sequence after all: dropped
                return k, "".join(executed)
            k += 1
        if k - j > MAX_CSI:  # (unfinished and too long to keep: what follows shows as text)
            return k, "".join(executed)
        return None, ""

    def _csi_final(self, params: str, inter: str, final: str, replay: bool) -> str:
        seq = f"\x1b[{params}{inter}{final}"
        private = params[:1] if params[:1] in "<=>?" else ""
        body = params[len(private):]
        if private == "?" and not inter and final in "hl":
            kept, instead = [], []
            for p in body.split(";"):
                mode = int(p) if p.isdigit() else None
                if mode not in ALT_MODES:
                    kept.append(p)
                elif mode == 1049:
                    instead.append("\x1b7\x1b[2J" if final == "h" else "\x1b[2J\x1b8")
                elif mode == 1047 and final == "l":
                    instead.append("\x1b[2J")
            return "".join(instead) + (f"\x1b[?{';'.join(kept)}{final}" if kept else "")
        if final == "t" and not private and not inter:
            first = _ints(body)[0] or 0
            if first == 22:
                self.title_pushes += 1
                return seq
            if first == 23:
                if self.title_pushes == 0:
                    return ""
                self.title_pushes -= 1
                return seq
            return "" if replay or first not in REPORTS_T else seq
        if replay and _is_query(private, inter, final):
            return ""
        return seq

    def _string(self, data: str, j: int, kind: str, replay: bool) -> tuple[int | None, str]:
        m = _STRING_END.search(data, j + 2)
        if m is None or (data[m.start()] == "\x1b" and m.start() + 1 >= len(data)):
            if len(data) - j > MAX_STRING:
                self._skipping = True
                return len(data), ""
            return None, ""
        body, stop = data[j + 2:m.start()], data[m.start()]
        if stop == "\x1b":
            end = m.start() + 2 if data[m.start() + 1] == "\\" else m.start()
            terminator = "\x1b\\"
        else:
            end = m.end()
            terminator = {"\x07": "\x07", "\x9c": "\x1b\\"}.get(stop, "")
        if not terminator or self._drops(kind, body, replay):  # (CAN, SUB: aborted)
            return end, ""
        return end, f"\x1b{kind}{body}{terminator}"

    @staticmethod
    def _drops(kind: str, body: str, replay: bool) -> bool:
        if kind == "]":
            fields = body.split(";")
            number = int(fields[0]) if fields[0].isdigit() else None
            if number == 52:  # the clipboard
                return True
            return replay and number is not None and (number in (4, 5) or 10 <= number <= 19) and "?" in fields[1:]
        if kind == "P":
            return body.startswith("tmux;") or (replay and _DCS_QUERY.match(body) is not None)
        if kind == "_":
            return replay and body.startswith("G") and "a=q" in body.split(";")[0]  # kitty graphics query
        return False


def _is_query(private: str, inter: str, final: str) -> bool:
    """A CSI sequence the terminal answers (its answer would be typed into the shell)."""
    if inter == "$" and final == "p":  # DECRQM
        return True
    if inter:
        return False
    return (final in "cn"  # DA1/2/3, DSR and CPR
            or (final == "q" and private == ">")  # XTVERSION
            or (final == "u" and private == "?")  # kitty keyboard flags
            or (final in "mS" and private == "?")  # XTQMODKEYS, XTSMGRAPHICS
            or (final == "x" and not private))  # DECREQTPARM
