"""The Debug Adapter Protocol inside Jupyter messages: bookkeeping only, no I/O.

A kernel's debugger (ipykernel's, over debugpy) takes DAP requests in ``debug_request`` on the
control channel, answers in ``debug_reply``, and sends DAP events in iopub ``debug_event``.
:class:`Dap` numbers requests, matches responses to them, follows where execution stopped and the
frames of that stop, and keeps the breakpoints this REPL set (cells by their code, so they can be
sent again to a restarted kernel, whose cell files have new names).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from repl.protocol import messages as m


@dataclass(frozen=True)
class Response:
    command: str
    success: bool
    body: dict
    message: str  # why it failed


@dataclass(frozen=True)
class Stopped:
    thread: int
    reason: str  # breakpoint, step, exception, pause, entry, …
    description: str
    text: str  # the exception's type, when an exception stopped it


@dataclass(frozen=True)
class Continued:
    thread: int | None


@dataclass(frozen=True)
class Terminated:
    pass


@dataclass(frozen=True)
class RanOff:
    """A step that left the user's code: the cell it stepped in ended, and the step stopped in the
    next cell that ran. Not a stop to show: the step is over (as in JupyterLab)."""

    thread: int


@dataclass(frozen=True)
class Output:
    category: str  # stdout, stderr, console, important (debugpy's own warnings)
    text: str


@dataclass(frozen=True)
class Other:
    name: str
    body: dict


DapEvent = Stopped | RanOff | Continued | Terminated | Output | Other


@dataclass(frozen=True)
class Frame:
    id: int
    name: str
    line: int
    path: str


@dataclass
class Breakpoint:
    line: int
    condition: str = ""
    cell: int | None = None  # In [N] when set in a cell, else None
    code: str = ""  # the cell's code (its file's name follows from it)
    path: str = ""  # the file (for a cell: on the current kernel process)
    verified: bool = False

    def where(self) -> str:
        return f"In [{self.cell}] line {self.line}" if self.cell is not None else f"{self.path}:{self.line}"


@dataclass
class CellFiles:
    """How a kernel names the file each cell is compiled from (ipykernel's ``debugInfo``)."""

    prefix: str = ""
    suffix: str = ""
    seed: int = 0
    method: str = ""

    def path(self, code: str) -> str | None:
        if self.method.lower() != "murmur2" or not self.prefix:
            return None
        return f"{self.prefix}{murmur2(code, self.seed)}{self.suffix}"


EXCEPTION_FILTERS = {"raised": ["raised"], "uncaught": ["uncaught"], "noexc": []}


@dataclass
class Dap:
    seq: int = 0
    waiting: dict[int, str] = field(default_factory=dict)  # request seq -> command
    stopped: Stopped | None = None
    frames: list[Frame] = field(default_factory=list)
    frame: int = 0  # index into frames: the frame `u`/`d` moved to
    breakpoints: list[Breakpoint] = field(default_factory=list)
    exceptions: str = "noexc"
    files: CellFiles = field(default_factory=CellFiles)
    stepping: bool = False  # a step (n s r) was asked and has not stopped yet
    ran_off: bool = False  # ... and a cell ended or began since: it left the cell it stepped in

    # ------------------------------------------------------------ requests and replies

    def request(self, command: str, arguments: dict | None = None) -> dict:
        self.seq += 1
        self.waiting[self.seq] = command
        content: dict[str, Any] = {"type": "request", "seq": self.seq, "command": command}
        if arguments is not None:
            content["arguments"] = arguments
        return content

    def response(self, content: Any) -> Response | None:
        """The response to one of our requests, or None for anything else (a stale or foreign reply)."""
        seq = m.field(content, "request_seq", int, None)
        if m.field(content, "type", str, "") != "response" or seq not in self.waiting:
            return None
        command = self.waiting.pop(seq)
        return Response(m.field(content, "command", str, command), bool(m.field(content, "success", bool, False)),
                        m.field(content, "body", dict, {}), m.field(content, "message", str, ""))

    def forget(self, content: dict) -> None:
        """A request that will never be answered (timed out, or the kernel went)."""
        self.waiting.pop(content.get("seq", -1), None)

    # ------------------------------------------------------------ events

    def event(self, content: Any) -> DapEvent | None:
        if m.field(content, "type", str, "") != "event":
            return None
        name = m.field(content, "event", str, "")
        body = m.field(content, "body", dict, {})
        if name == "stopped":
            thread = m.field(body, "threadId", int, None)
            if thread is None:
                return Other(name, body)
            ran_off, self.stepping, self.ran_off = self.ran_off, False, False
            if ran_off and m.field(body, "reason", str, "") == "step":
                return RanOff(thread)
            self.stopped = Stopped(thread, m.field(body, "reason", str, ""), m.field(body, "description", str, ""),
                                   m.field(body, "text", str, ""))
            self.frames, self.frame = [], 0
            return self.stopped
        if name == "continued":
            thread = m.field(body, "threadId", int, None)
            everyone = m.field(body, "allThreadsContinued", bool, True)
            if self.stopped is not None and (everyone or thread == self.stopped.thread):
                self.running()
            return Continued(thread)
        if name in ("terminated", "exited"):
            self.running()
            self.stepping = self.ran_off = False
            return Terminated()
        if name == "output":
            return Output(m.field(body, "category", str, ""), m.field(body, "output", str, ""))
        return Other(name, body)

    def stepped(self, step: bool) -> None:
        """Execution goes on by a step (``n s r``) or not (``c``)."""
        self.stepping, self.ran_off = step, False

    def cell_boundary(self) -> None:
        """A cell ended or began: a step still under way has left the cell it was in."""
        if self.stepping:
            self.ran_off = True

    def running(self) -> None:
        """Execution goes on: there is no stop, and no frames."""
        self.stopped, self.frames, self.frame = None, [], 0

    def set_frames(self, body: dict) -> list[Frame]:
        frames = []
        for f in m.field(body, "stackFrames", list, []):
            fid = m.field(f, "id", int, None)
            if fid is None:
                continue
            source = m.field(f, "source", dict, {})
            frames.append(Frame(fid, m.field(f, "name", str, "?"), m.field(f, "line", int, 0),
                                m.field(source, "path", str, "")))
        self.frames, self.frame = frames, 0
        return frames

    @property
    def current(self) -> Frame | None:
        return self.frames[self.frame] if 0 <= self.frame < len(self.frames) else None

    def move(self, step: int) -> bool:
        """``u`` (+1, towards the caller) or ``d`` (-1); False at the end of the stack."""
        to = self.frame + step
        if not 0 <= to < len(self.frames):
            return False
        self.frame = to
        return True

    # ------------------------------------------------------------ breakpoints

    def lines_at(self, path: str) -> list[Breakpoint]:
        return [b for b in self.breakpoints if b.path == path]

    def set_breakpoints_args(self, path: str) -> dict:
        """``setBreakpoints`` replaces every breakpoint of a file: all of ours in it."""
        lines = []
        for b in self.lines_at(path):
            entry: dict[str, Any] = {"line": b.line}
            if b.condition:
                entry["condition"] = b.condition
            lines.append(entry)
        return {"source": {"path": path}, "breakpoints": lines, "sourceModified": False}

    def verified(self, path: str, body: dict) -> None:
        answers = m.field(body, "breakpoints", list, [])
        for b, answer in zip(self.lines_at(path), answers, strict=False):
            b.verified = bool(m.field(answer, "verified", bool, False))

    def cell_of(self, path: str, cells: list[tuple[int, str]]) -> tuple[int, str] | None:
        """Which of ``cells`` ((count, code), newest last) a frame's file is, if any."""
        for count, code in reversed(cells):
            if self.files.path(code) == path:
                return count, code
        return None


def condition_error(condition: str, language: str) -> str | None:
    """Why a breakpoint's condition can never be evaluated (a Python one that does not compile),
    or None. debugpy takes such a condition silently and never stops there."""
    if not condition or language.lower() != "python":
        return None
    try:
        compile(condition, "<condition>", "eval")
    except SyntaxError as exc:
        return f"the condition {condition!r} does not compile: {exc.msg}"
    except (ValueError, OverflowError) as exc:  # e.g. a NUL byte in it
        return f"the condition {condition!r} does not compile: {exc}"
    return None


CONDITION_RAISED = "Error while evaluating expression in conditional breakpoint: "


def condition_raised(output: Output) -> tuple[str, str] | None:
    """(condition, error) when debugpy says a breakpoint's condition raised (it then does not stop
    there, and says so only in this ``important`` output), else None."""
    text = output.text.removeprefix("pydevd: ")
    if output.category != "important" or not text.startswith(CONDITION_RAISED):
        return None
    first, _, rest = text[len(CONDITION_RAISED):].partition("\n")
    lines = [line for line in rest.splitlines() if line.strip()]
    return first.strip(), (lines[-1].strip() if lines else "an error")


def murmur2(text: str, seed: int) -> int:
    """MurmurHash2 (32-bit, x86) of the UTF-8 text: how ipykernel names a cell's file."""
    data = text.encode("utf-8")
    mult = 0x5BD1E995
    length = len(data)
    h = (seed ^ length) & 0xFFFFFFFF
    end = length & ~3
    for i in range(0, end, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * mult) & 0xFFFFFFFF
        k ^= k >> 24
        k = (k * mult) & 0xFFFFFFFF
        h = ((h * mult) & 0xFFFFFFFF) ^ k
    rest = data[end:]
    if rest:
        h ^= int.from_bytes(rest, "little")
        h = (h * mult) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * mult) & 0xFFFFFFFF
    h ^= h >> 15
    return h
