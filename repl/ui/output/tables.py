"""Plain-text tables for /kernels, /specs and /hub (pure: data in, string out)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from repl.ui.output.sanitize import label

if TYPE_CHECKING:
    from repl.gateway.rest import KernelModel
    from repl.protocol.hub import ServerModel


def ago(iso: str, now: datetime | None = None) -> str:
    if not iso:
        return ""
    try:
        when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    secs = max(0, int(((now or datetime.now(timezone.utc)) - when).total_seconds()))
    if secs < 60:
        return f"{secs}s ago"
    if secs < 3600:
        return f"{secs // 60}m ago"
    if secs < 86400:
        return f"{secs // 3600}h ago"
    return f"{secs // 86400}d ago"


def grid(header: list[str], rows: list[list[str]]) -> str:
    """Columns padded to their widest cell. Cells are the server's words: each is made a
    :func:`label` first (nothing in it can move the cursor or reorder the row, and widths hold)."""
    rows = [[label(c).replace("\n", "<U+000A>") for c in r] for r in rows]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)).rstrip() for r in [header, *rows]]
    return "\n".join(lines)


def kernels(
    models: list[KernelModel],
    current_id: str | None,
    aliases: dict[str, str],
    attached: set[str],
    now: datetime | None = None,
    sessions: dict[str, str] | None = None,  # kernel id -> "path (type)", where the server has sessions
) -> str:
    if not models:
        return "no kernels running; /new starts one"
    rows = []
    for i, m in enumerate(models, 1):
        mark = "*" if m.id == current_id else ("+" if m.id in attached else "")
        conns = "" if m.connections is None else str(m.connections)
        row = [f"{mark}{i}", m.id[:8], aliases.get(m.id, ""), m.name, m.execution_state, conns, ago(m.last_activity, now)]
        rows.append([*row, sessions.get(m.id, "")] if sessions else row)
    header = ["#", "id", "alias", "spec", "state", "conns", "last activity"]
    table = grid([*header, "session"] if sessions else header, rows)
    marks = {row[0][0] for row in rows}
    legend = [text for mark, text in (("*", "* current kernel"), ("+", "+ also open in this repl (started or attached here)"))
              if mark in marks]
    return table + (f"\n({'; '.join(legend)})" if legend else "")


def specs(data: dict) -> str:
    default = data.get("default", "")
    rows = []
    for name, entry in sorted(data.get("kernelspecs", {}).items()):
        spec = entry.get("spec", {}) if isinstance(entry, dict) else {}
        mark = " (default)" if name == default else ""
        rows.append([name + mark, str(spec.get("language", "")), str(spec.get("display_name", ""))])
    if not rows:
        return "the server has no kernelspecs"
    return grid(["name", "language", "display name"], rows)


def hub_servers(servers: list[ServerModel], current: str, origin: str, now: datetime | None = None) -> str:
    """``/hub``: the user's servers (``*`` the one this repl works on)."""
    if not servers:
        return "no servers on the hub yet; /hub start [NAME] starts one"
    rows = []
    for s in sorted(servers, key=lambda s: (s.name != "", s.name)):
        mark = "*" if s.name == current else ""
        url = origin + s.url if s.url else ""
        rows.append([mark + (s.name or "(default)"), s.state, url, ago(s.started, now) if s.started else "",
                     ago(s.last_activity, now) if s.last_activity else ""])
    table = grid(["server", "state", "url", "started", "last activity"], rows)
    return table + ("\n(* the server this repl works on)" if any(r[0].startswith("*") for r in rows) else "")
