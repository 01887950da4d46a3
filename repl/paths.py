"""Where repl keeps its files: the user data directory (XDG on Linux) and the config directory."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def data_dir() -> Path:
    if "REPL_DATA_DIR" in os.environ:
        return Path(os.environ["REPL_DATA_DIR"])
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "repl"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "repl"


def config_dir() -> Path:
    if "REPL_CONFIG_DIR" in os.environ:
        return Path(os.environ["REPL_CONFIG_DIR"])
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "repl"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "repl"


def write_private(path: Path, text: str) -> None:
    """Write a file only the user can read (mode 0600), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
