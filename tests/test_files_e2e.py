"""Files in and out, and a shell on the server (#26): the real `repl` in a pty against a real
Jupyter Server (contents API, terminals), a Kernel Gateway (files through the kernel) and the test
JupyterHub's single-user server."""

from __future__ import annotations

import hashlib
import os
import re
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest

from tests.proxy import CutProxy
from tests.term import Term

LEAVE = "\x1d"  # Ctrl-]
REPO = str(Path(__file__).resolve().parent.parent)


@pytest.fixture
def here(tmp_path):
    """A local directory for the repl to start in, and the repls started there."""
    local = tmp_path / "local"
    local.mkdir()
    terms: list[Term] = []

    def start(gw, rows=36, cols=110, env=None):
        full = env or gw.env()
        full["REPL_DATA_DIR"] = str(tmp_path / "data")
        full["PYTHONPATH"] = os.pathsep.join(filter(None, [REPO, full.get("PYTHONPATH")]))  # (started elsewhere)
        t = Term(["--url", gw.url, *gw.args] if env is None else ["--url", gw.url], env=full, rows=rows, cols=cols, cwd=str(local))
        terms.append(t)
        t.wait_prompt(1)
        return t

    start.dir = local  # type: ignore[attr-defined]
    yield start
    for t in terms:
        t.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def root_of(jupyter_server) -> Path:
    return Path(jupyter_server.log).parent  # (the fixture's root_dir holds its log)


def said(t, pattern: str, timeout: float = 60.0) -> re.Match:
    t.wait_for(lambda t: re.search(pattern, t.plain()), timeout)
    found = re.search(pattern, t.plain())
    assert found is not None
    return found


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def no_parts(*dirs: Path) -> bool:
    return not any(".repl-part-" in p.name for d in dirs for p in d.rglob("*"))


def test_binary_and_text_files_both_ways_through_jupyter_server(jupyter_server, here):
    root = root_of(jupyter_server)
    local = here.dir
    (local / "blob.bin").write_bytes(os.urandom(3 * 2**20 + 17))  # three chunks and a bit
    (local / "notes.txt").write_text("héllo\r\nwörld\n", encoding="utf-8")
    (root / "inbox").mkdir(exist_ok=True)
    t = here(jupyter_server)
    t.enter("/upload blob.bin notes.txt inbox")
    said(t, r"uploaded notes\.txt to inbox/notes\.txt")
    assert digest(root / "inbox" / "blob.bin") == digest(local / "blob.bin")
    assert (root / "inbox" / "notes.txt").read_bytes() == (local / "notes.txt").read_bytes()
    t.enter("/download inbox/*.bin inbox/notes.txt back/")
    said(t, r"no local directory back")  # nothing is made up
    (local / "back").mkdir()
    t.enter("/download inbox/*.bin inbox/notes.txt back/")
    said(t, r"downloaded inbox/notes\.txt to back/notes\.txt")
    assert digest(local / "back" / "blob.bin") == digest(local / "blob.bin")
    assert (local / "back" / "notes.txt").read_bytes() == (local / "notes.txt").read_bytes()
    # never over an existing file without -f, on either side, and nothing is sent meanwhile
    (local / "notes.txt").write_text("changed\n")
    t.enter("/upload notes.txt inbox/")
    said(t, r"inbox/notes\.txt exists on the server: /upload -f")
    assert (root / "inbox" / "notes.txt").read_bytes() == "héllo\r\nwörld\n".encode()
    t.enter("/download inbox/notes.txt back")
    said(t, r"back/notes\.txt exists on this machine: /download -f")
    t.enter("/upload -f notes.txt inbox/")
    said(t, r"uploaded notes\.txt to inbox/notes\.txt \(8 B")
    assert (root / "inbox" / "notes.txt").read_text() == "changed\n"
    t.enter("/download ../../etc/passwd")
    said(t, r"outside the server's root directory")
    assert no_parts(root, local)


def test_paths_are_relative_to_the_kernels_notebook_on_jupyter_server(jupyter_server, here):
    root = root_of(jupyter_server)
    (root / "proj").mkdir(exist_ok=True)
    (here.dir / "rel.csv").write_text("a,b\n")
    t = here(jupyter_server)
    t.enter("/new --path proj/analysis.ipynb")
    said(t, r"started python3 kernel \w+ for proj/analysis\.ipynb")
    t.wait_prompt(1)
    t.enter("/upload rel.csv")
    said(t, r"uploaded rel\.csv to proj/rel\.csv")
    assert (root / "proj" / "rel.csv").read_text() == "a,b\n"


def test_a_50_mb_file_up_and_down_with_a_progress_bar_and_bounded_memory(jupyter_server, here):
    root = root_of(jupyter_server)
    big = here.dir / "big.bin"
    big.write_bytes(os.urandom(50 * 2**20))
    t = here(jupyter_server)
    before = peak_rss_mb(t.child.pid)
    started = time.monotonic()
    t.enter("/upload big.bin")
    said(t, r"uploaded big\.bin to big\.bin \(50\.0 MB", timeout=300)
    up = time.monotonic() - started
    assert digest(root / "big.bin") == digest(big)
    (root / "big.bin").rename(root / "big2.bin")
    started = time.monotonic()
    t.enter("/download big2.bin")
    said(t, r"downloaded big2\.bin to big2\.bin \(50\.0 MB", timeout=300)
    down = time.monotonic() - started
    assert digest(here.dir / "big2.bin") == digest(big)
    peak = peak_rss_mb(t.child.pid)
    print(f"\n50 MB through Jupyter Server: upload {up:.1f} s, download {down:.1f} s; repl peak RSS "
          f"{before:.0f} MB before, {peak:.0f} MB after")
    assert peak - before < 60, (before, peak)  # chunks and a stream: never the whole file in memory
    if up > BAR_SHOWN_AFTER:
        assert re.search(r"big\.bin  \[#*\.*\] +\d+%", t.transcript)
    (root / "big2.bin").unlink()


BAR_SHOWN_AFTER = 1.5


def test_ctrl_c_mid_upload_and_mid_download_leaves_no_half_written_file(jupyter_server, here):
    """Through a 40 MB/s link, so that a transfer is still under way when its progress bar shows
    (after 1 s): on loopback the 400 MB download was done in 1.0 s, and Ctrl-C had nothing to stop."""
    root = root_of(jupyter_server)
    with open(here.dir / "huge.bin", "wb") as f:
        f.truncate(400 * 2**20)
    where = urlsplit(jupyter_server.url)
    slow = CutProxy(where.port or 80, rate=40e6)
    try:
        t = here(SimpleNamespace(url=slow.url + where.path, args=jupyter_server.args, env=jupyter_server.env))
        t.enter("/upload huge.bin")
        t.wait_for(lambda t: re.search(r"huge\.bin  \[#*\.*\] +\d+%", t.text()), timeout=60)
        t.ctrl("c")
        said(t, r"/upload cancelled")
        assert no_parts(root) and not (root / "huge.bin").exists()  # (gone before it says so)
        with open(root / "remote-huge.bin", "wb") as f:
            f.truncate(400 * 2**20)
        t.enter("/download remote-huge.bin")
        t.wait_for(lambda t: re.search(r"remote-huge\.bin  \[#*\.*\] +\d+%", t.text()), timeout=60)
        t.ctrl("c")
        said(t, r"/download cancelled")
        assert no_parts(here.dir) and not (here.dir / "remote-huge.bin").exists()
        assert slow.accepted  # (it went through the slow link)
        assert no_parts(root), "a chunk in flight at Ctrl-C landed after the part was deleted"
    finally:
        slow.close()
        (root / "remote-huge.bin").unlink(missing_ok=True)


def test_files_through_the_kernel_on_kernel_gateway(gateway, here, tmp_path):
    far = tmp_path / "far"
    far.mkdir()
    data = os.urandom(2 * 2**20 + 5)
    (here.dir / "x.bin").write_bytes(data)
    t = here(gateway)
    t.enter(f"import os; os.chdir({str(far)!r})")
    t.wait_prompt(2)
    t.enter("/upload x.bin")
    said(t, rf"uploaded x\.bin to {re.escape(str(far))}/x\.bin \(2\.0 MB")
    assert (far / "x.bin").read_bytes() == data
    t.enter("/upload x.bin")
    said(t, rf"{re.escape(str(far))}/x\.bin exists on the kernel's machine: /upload -f")
    (far / "y.txt").write_text("from the kernel\n")
    t.enter("/download *.txt")
    said(t, r"downloaded .*/y\.txt to y\.txt")
    assert (here.dir / "y.txt").read_text() == "from the kernel\n"
    t.enter("/download nope.bin")
    said(t, r"no file nope\.bin on the kernel's machine")
    assert no_parts(far, here.dir)
    t.enter("/terminal")
    said(t, r"has no terminals \(Kernel Gateway and Enterprise Gateway have none\)")
    t.enter("/new bash")
    said(t, r"started bash kernel")
    t.enter("/upload x.bin")
    said(t, r"files go through the kernel only for Python kernels \(\S+ is bash\)")


def shell_prompt(t) -> bool:
    return bool(re.search(r"[$#] *$", t.text().rstrip()))


def test_a_terminal_runs_a_command_follows_the_size_is_left_and_re_entered(jupyter_server, here):
    t = here(jupyter_server, rows=30, cols=100)
    t.enter("/terminal")
    t.wait_for(shell_prompt, timeout=30)
    t.enter("MARK=kept-7781; echo \"said:$((6*7))\"; stty size")
    t.wait_for("said:42")
    t.wait_for("30 100")
    t.child.setwinsize(24, 80)
    t.screen.resize(24, 80)
    t.enter("stty size")
    t.wait_for("24 80")
    t.type(LEAVE)
    said(t, r"left terminal (\S+); it keeps running")
    name = said(t, r"left terminal (\S+);").group(1)
    t.wait_prompt(1)
    t.enter("/terminals")
    said(t, rf"\n{re.escape(name)} \*")
    t.enter("/terminal")
    t.wait_for(shell_prompt, timeout=30)
    t.enter("echo \"got:$MARK\"")
    t.wait_for("got:kept-7781")
    t.enter("exit")
    said(t, rf"terminal {re.escape(name)} ended")
    t.wait_prompt(1)
    t.enter("6*7")
    t.wait_for("Out[1]: 42")


def test_through_the_hub_a_file_both_ways_and_a_terminal(hub, here):
    from tests.test_hub import ensure, hub_env

    ensure(hub, "", running=True)

    class Via:
        url, args = hub.server_url(""), ()

    (here.dir / "hub.bin").write_bytes(os.urandom(1500 * 1024))
    t = here(Via, env=hub_env(hub, here.dir.parent))
    t.enter("/upload -f hub.bin")
    said(t, r"uploaded hub\.bin to hub\.bin")
    t.enter("import hashlib; hashlib.sha256(open('hub.bin', 'rb').read()).hexdigest()")
    t.wait_for(digest(here.dir / "hub.bin"))
    t.enter("/download hub.bin back.bin")
    said(t, r"downloaded hub\.bin to back\.bin")
    assert digest(here.dir / "back.bin") == digest(here.dir / "hub.bin")
    t.enter("/terminal")
    t.wait_for(shell_prompt, timeout=30)
    t.enter("echo \"hub:$((7*6))\"; exit")
    t.wait_for("hub:42")
    said(t, r"terminal \S+ ended")


def test_a_shell_cannot_leave_our_screen_nor_write_the_clipboard_and_its_modes_are_reset(jupyter_server, here):
    t = here(jupyter_server, rows=30, cols=110)
    t.enter("/terminal")
    t.wait_for(shell_prompt, timeout=30)
    entered = t.transcript.rindex("\x1b[?1049h")
    assert t.transcript.rfind("\x1b[22;0t", 0, entered) >= 0  # our title pushed first
    # as vim does: its own alternate screen, modes on, a title and a clipboard write
    t.enter(r"printf 'A\e[?1049hB\e[?1049lC\e]0;PWNED\a\e]52;c;cHduZWQ=\a\e[?1000h\e[?1006h\e[?1h\e=\e[>4;2m\e[?25l'; "
            r"echo; echo done-$((3*4))")
    t.wait_for("done-12")
    shown = t.transcript[entered:]
    assert "\x1b]0;PWNED\x07" in shown  # the title may be the shell's while it is shown
    assert "\x1b[?1049l" not in shown and "\x1b]52;" not in shown and "\x1b[?1049h" not in shown[1:]
    t.type(LEAVE)
    said(t, r"left terminal \S+; it keeps running")
    tail = t.transcript[entered:]
    left = tail.index("\x1b[?1049l")
    for mode in ("\x1b[?1000l", "\x1b[?1006l", "\x1b[?1l", "\x1b>", "\x1b[>4m", "\x1b[?25h", "\x1b[0m"):
        assert tail.rfind(mode, 0, left) > tail.index("done-12"), repr(mode)  # reset before leaving
    assert tail[:left].endswith("\x1b[23;0t")  # and our title back


def test_going_back_to_a_terminal_does_not_answer_its_old_queries_again(jupyter_server, here):
    t = here(jupyter_server, rows=30, cols=110)
    t.enter("/terminal q2")
    t.wait_for(shell_prompt, timeout=30)
    # a program asks the terminal (DA, CPR) and reads the answers, as vim does on starting
    # (in Python: the server's shell may be sh, whose read has no -s, -t or -d)
    t.enter(f"{sys.executable} -c \"import os, termios, tty; a = termios.tcgetattr(0); tty.setraw(0); "
            r"os.write(1, b'\033[c\033[6n'); next(x for x in iter(lambda: os.read(0, 64), b'') if x.endswith(b'R')); "
            "termios.tcsetattr(0, termios.TCSADRAIN, a); print('asked-%d' % 6)\"")
    t.wait_for("asked-6")
    t.type(LEAVE)
    said(t, r"left terminal q2; it keeps running")
    before = len(t.transcript)
    t.enter("/terminal q2")
    t.wait_for(lambda t: t.transcript.count("asked-6", before) >= 1, timeout=30)  # the history, replayed
    t.enter("echo ok-$((5*5))")
    t.wait_for("ok-25")
    again = t.transcript[t.transcript.index("\x1b[?1049h", before):]  # (from the terminal's screen: the
    assert "\x1b[6n" not in again and "\x1b[c" not in again  # REPL's prompt asks where the cursor is itself)
    assert "not found" not in t.text() and "R84" not in t.text()
    t.enter("exit")
    said(t, r"terminal q2 ended")


def test_what_the_server_refuses_is_said_as_it_is(jupyter_server, here, tmp_path):
    root = root_of(jupyter_server)
    outside = tmp_path / "outside.txt"
    outside.write_text("secret\n")
    (root / "link.txt").unlink(missing_ok=True)
    (root / "link.txt").symlink_to(outside)
    (root / ".hidden").write_text("h\n")
    (root / "nl\nname.txt").write_text("z")
    (here.dir / "a.csv").write_text("a\n")
    t = here(jupyter_server)
    t.enter("/download link.txt")
    said(t, r"the server refuses link\.txt \(HTTP 403: link\.txt is not in root static directory\)")
    assert "token" not in t.plain()
    t.enter("/download .hidden")
    said(t, r"no file \.hidden on the server \(Jupyter Server shows and accepts no hidden files unless started "
            r"with --ContentsManager\.allow_hidden=True\)")
    t.enter("/upload a.csv .hid.csv")
    said(t, r"the server refuses \.hid\.csv: Jupyter Server shows and accepts no hidden files")
    assert ".repl-part-" not in t.plain() and no_parts(root)
    t.enter("/download 'nl*'")
    said(t, r"downloaded nl<U\+000A>name\.txt to nl<U\+000A>name\.txt")
    t.enter("/download 'nl*'")
    said(t, r"nl<U\+000A>name\.txt exists on this machine: /download -f … overwrites \(nothing was copied\)")
    t.enter("/upload 'nl*'")
    said(t, r"nl<U\+000A>name\.txt exists on the server: /upload -f … overwrites \(nothing was sent\)")
    t.enter("/upload /dev/zero")
    said(t, r"/dev/zero is not a regular file")
    t.enter("/terminal tt")
    t.wait_for(shell_prompt, timeout=30)
    t.type(LEAVE)
    said(t, r"left terminal tt")
    t.enter("/terminals")
    said(t, r"\ntt \* +just now")


def test_an_upload_through_a_busy_kernel_says_it_waits(gateway, here, tmp_path):
    (here.dir / "w.txt").write_text("w\n")
    t = here(gateway)
    t.enter(f"import os, time; os.chdir({str(tmp_path)!r}); print('sle' + 'eping', flush=True); time.sleep(6)")
    t.wait_for("sleeping")
    t.ctrl("z")  # to the background: the kernel stays busy
    t.wait_prompt(2)
    t.enter("/upload -f w.txt")
    said(t, r"waiting for \S+: it is busy \(a cell runs\), and files go through it; Ctrl-C cancels")
    said(t, r"uploaded w\.txt to \S+w\.txt", timeout=60)
    assert (tmp_path / "w.txt").read_text() == "w\n"
