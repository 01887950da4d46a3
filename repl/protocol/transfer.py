"""Files in and out of the server, as data: the chunk plan of an upload through Jupyter Server's
contents API, where a remote path lands (relative to the kernel's directory), which names a glob
takes, and the name of the temporary file a transfer writes before it renames into place.
Pure: no I/O.

The contents API's large-file upload (jupyter_server ``LargeFileManager.save``): ``"chunk": 1``
writes the file anew, ``2, 3, …`` append, ``-1`` appends the last piece and runs the post-save
hooks. A file that fits one chunk is saved without ``chunk`` (as JupyterLab does: a lone ``-1``
would append to whatever is there).
"""

from __future__ import annotations

import fnmatch
import html
import posixpath
import re
from dataclasses import dataclass

CHUNK = 1024 * 1024  # bytes a chunk (JupyterLab's CHUNK_SIZE)
KERNEL_PIECE = 1024 * 1024  # bytes a piece through the kernel (its base64 stays well under 10 MiB a message)
PART = ".repl-part-"  # temp files beside the target: NAME.repl-part-XXXX (not hidden: the contents API refuses those)


@dataclass(frozen=True)
class Chunk:
    offset: int
    length: int
    number: int | None  # the contents API's "chunk" (1, 2, …, -1); None: a single plain save


def chunk_plan(size: int, chunk: int = CHUNK) -> list[Chunk]:
    """The pieces of a file of ``size`` bytes, as the contents API takes them."""
    if chunk <= 0:
        raise ValueError("chunk must be positive")
    if size <= chunk:
        return [Chunk(0, size, None)]
    count = -(-size // chunk)
    return [Chunk(i * chunk, min(chunk, size - i * chunk), -1 if i == count - 1 else i + 1) for i in range(count)]


def resolve(remote: str, base_dir: str = "") -> str:
    """A contents-API path (relative to the server's root, no leading slash) for what the user
    typed: relative to ``base_dir`` (the kernel's notebook's directory), or to the root when it
    starts with ``/``. Raises ValueError for a path that leaves the root."""
    remote = remote.strip()
    joined = remote.lstrip("/") if remote.startswith("/") else posixpath.join(base_dir.strip("/"), remote)
    parts: list[str] = []
    for part in joined.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise ValueError(f"{remote} is outside the server's root directory")
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def base_dir_of(notebook_path: str | None) -> str:
    """The directory a kernel works in on Jupyter Server: its notebook's (session path's); the
    root without one."""
    if not notebook_path:
        return ""
    return posixpath.dirname(notebook_path.strip("/"))


def has_magic(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


def glob_split(pattern: str) -> tuple[str, str]:
    """A remote glob as (directory, name pattern): only the last part may hold ``* ? [``."""
    head, _, tail = pattern.rstrip("/").rpartition("/")
    if has_magic(head):
        raise ValueError(f"{pattern}: only the file name may hold * ? [ (not the directories)")
    return head, tail


def glob_match(pattern: str, names: list[str]) -> list[str]:
    """The names (of one directory's files) a name pattern takes, sorted; hidden ones only when
    the pattern starts with a dot (as a shell does)."""
    return sorted(n for n in names if fnmatch.fnmatchcase(n, pattern) and (pattern.startswith(".") or not n.startswith(".")))


def target(source_name: str, dest: str | None, dest_is_dir: bool, several: bool) -> str:
    """Where a file named ``source_name`` goes: ``dest`` itself, or inside it when it is a
    directory (it exists as one, ends with ``/``, or several files go), or beside us by its name."""
    if not dest:
        return source_name
    if dest_is_dir or dest.endswith("/") or several:
        folder = dest.rstrip("/")
        return f"{folder}/{source_name}" if folder else "/" + source_name
    return dest


def part_name(path: str, tag: str) -> str:
    """The temporary file beside ``path`` that a transfer writes before renaming it to ``path``."""
    head, _, name = path.rpartition("/")
    return (head + "/" if head else "") + name + PART + tag


def speed(done: int, seconds: float) -> str:
    return human(int(done / seconds)) + "/s" if seconds > 0 else ""


def human(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"  # (not reached)


def progress_bar(name: str, done: int, total: int, seconds: float, width: int) -> str:
    """One line: ``name  [#####.....]  42%  12.0 MB / 30.0 MB  8.1 MB/s``, at most ``width`` wide."""
    pct = 100 if total <= 0 else min(100, done * 100 // total)
    tail = f" {pct:3d}%  {human(done)} / {human(total)}  {speed(done, seconds)}"
    room = max(10, width - len(tail) - 4)
    label = name if len(name) <= room // 3 else "…" + name[-(room // 3 - 1):]
    cells = max(5, room - len(label) - 2)
    filled = cells * pct // 100
    return f"{label}  [{'#' * filled}{'.' * (cells - filled)}]{tail}"[:max(width - 1, 1)]


def shown(text: str) -> str:
    """A message naming files, on one line: a newline, tab or CR in a name shows as ``<U+000A>``
    (the sanitizer shows the other controls so, but keeps these in text of several lines)."""
    return text.replace("\n", "<U+000A>").replace("\t", "<U+0009>").replace("\r", "<U+000D>")


def is_hidden(path: str) -> bool:
    """Whether a part of ``path`` starts with a dot (Jupyter Server hides those unless
    ``ContentsManager.allow_hidden``)."""
    return any(part.startswith(".") and part not in (".", "..") for part in path.split("/"))


HIDDEN_HINT = "Jupyter Server shows and accepts no hidden files unless started with --ContentsManager.allow_hidden=True"

_PAGE_REASONS = (re.compile(r'<pre class="traceback">(.*?)</pre>', re.S), re.compile(r"<h1>(.*?)</h1>", re.S))


def page_reason(page: str) -> str:
    """The reason in the server's HTML error page (Jupyter Server's ``files/`` handler), one line."""
    for pattern in _PAGE_REASONS:
        if m := pattern.search(page):
            return " ".join(html.unescape(m.group(1)).split())[:200]
    return ""
