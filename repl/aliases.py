"""Kernel aliases set with /name, remembered per server across runs in the user data directory.

File: ``<data dir>/aliases.json`` = ``{server display URL: {kernel id: alias}}``. An alias is
forgotten when its kernel is gone (shut down, or missing from the server's kernel list).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from repl import paths
from repl.errors import UsageError

ALIAS_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}$")


class AliasStore:
    def __init__(self, server: str, path: Path | None = None) -> None:
        self.server = server
        self.path = path or paths.data_dir() / "aliases.json"

    def _load_all(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _save_all(self, data: dict) -> bool:
        """Write the file; False if it cannot be written (aliases are a convenience: an unwritable
        data dir must not stop the REPL)."""
        try:
            paths.write_private(self.path, json.dumps(data, indent=1, sort_keys=True))
        except OSError:
            return False
        return True

    def all(self) -> dict[str, str]:
        mine = self._load_all().get(self.server, {})
        return {k: v for k, v in mine.items() if isinstance(k, str) and isinstance(v, str)}

    def get(self, kernel_id: str) -> str | None:
        return self.all().get(kernel_id)

    def find(self, alias: str) -> str | None:
        for kid, name in self.all().items():
            if name == alias:
                return kid
        return None

    def set(self, kernel_id: str, alias: str) -> bool:
        """Remember an alias; False if it could not be written down (it lasts this session only)."""
        if not ALIAS_RE.match(alias):
            raise UsageError("an alias is a letter or _ then up to 31 letters, digits, _ . or -")
        if alias.isdigit():
            raise UsageError("an alias cannot be a number (numbers pick kernels from /kernels)")
        data = self._load_all()
        mine = {k: v for k, v in data.get(self.server, {}).items() if v != alias}
        mine[kernel_id] = alias
        data[self.server] = mine
        return self._save_all(data)

    def forget(self, kernel_ids) -> None:
        ids = set(kernel_ids)
        data = self._load_all()
        mine = data.get(self.server, {})
        if not ids & set(mine):
            return
        data[self.server] = {k: v for k, v in mine.items() if k not in ids}
        self._save_all(data)

    def prune(self, live_ids) -> None:
        """Forget aliases of kernels that are no longer on the server."""
        live = set(live_ids)
        self.forget([k for k in self.all() if k not in live])
