"""Build the requests a client sends, and read the fields of incoming messages safely.

Every builder returns a complete message dict (see :mod:`repl.protocol.wire`), with
``parent_header`` and ``metadata`` always present: servers drop sockets that omit them.
"""

from __future__ import annotations

import getpass
import os
from datetime import datetime, timezone
from typing import Any, Callable, Literal

PROTOCOL_VERSION = "5.3"


def new_id() -> str:
    """A message id: 128 random bits in hex, as a uuid4's hex (without the uuid module, which
    imports platform: ~5 ms at every start)."""
    return os.urandom(16).hex()


def _username() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment (containers): any name will do
        return "repl"


USERNAME = _username()


def make_message(
    channel: str,
    msg_type: str,
    content: dict,
    session: str,
    parent_header: dict | None = None,
    metadata: dict | None = None,
    msg_id: str | None = None,
) -> dict:
    return {
        "channel": channel,
        "header": {
            "msg_id": msg_id or new_id(),
            "msg_type": msg_type,
            "session": session,
            "username": USERNAME,
            "date": datetime.now(timezone.utc).isoformat(),
            "version": PROTOCOL_VERSION,
        },
        "parent_header": parent_header or {},
        "metadata": metadata or {},
        "content": content,
        "buffers": [],
    }


def execute_request(
    session: str,
    code: str,
    *,
    silent: bool = False,
    store_history: bool = True,
    allow_stdin: bool = True,
    stop_on_error: bool = True,
    user_expressions: dict[str, str] | None = None,
) -> dict:
    return make_message(
        "shell",
        "execute_request",
        {
            "code": code,
            "silent": silent,
            "store_history": store_history,
            "user_expressions": user_expressions or {},
            "allow_stdin": allow_stdin,
            "stop_on_error": stop_on_error,
        },
        session,
    )


def kernel_info_request(session: str, channel: str = "shell") -> dict:
    return make_message(channel, "kernel_info_request", {}, session)


def complete_request(session: str, code: str, cursor_pos: int) -> dict:
    return make_message("shell", "complete_request", {"code": code, "cursor_pos": cursor_pos}, session)


def inspect_request(session: str, code: str, cursor_pos: int, detail_level: int = 0) -> dict:
    content = {"code": code, "cursor_pos": cursor_pos, "detail_level": detail_level}
    return make_message("shell", "inspect_request", content, session)


def is_complete_request(session: str, code: str) -> dict:
    return make_message("shell", "is_complete_request", {"code": code}, session)


def history_request(session: str, start: int, stop: int) -> dict:
    """The raw code of cells ``start`` to ``stop - 1`` of the kernel's current session."""
    content = {"output": False, "raw": True, "hist_access_type": "range", "session": 0, "start": start, "stop": stop}
    return make_message("shell", "history_request", content, session)


def debug_request(session: str, content: dict) -> dict:
    """A DAP request (``content``, built by :mod:`repl.protocol.dap`) for the kernel's debugger."""
    return make_message("control", "debug_request", content, session)


def comm_info_request(session: str, target_name: str) -> dict:
    return make_message("shell", "comm_info_request", {"target_name": target_name}, session)


def comm_msg(session: str, comm_id: str, data: dict) -> dict:
    return make_message("shell", "comm_msg", {"comm_id": comm_id, "data": data}, session)


def comm_close(session: str, comm_id: str) -> dict:
    return make_message("shell", "comm_close", {"comm_id": comm_id, "data": {}}, session)


def input_reply(session: str, value: str, request_header: dict) -> dict:
    return make_message("stdin", "input_reply", {"value": value}, session, parent_header=request_header)


Question = Literal["kernel_info", "complete", "inspect", "is_complete", "history", "debug", "comm_info"]
QUESTIONS: dict[str, Callable[..., dict]] = {
    "kernel_info": kernel_info_request,
    "complete": complete_request,
    "inspect": inspect_request,
    "is_complete": is_complete_request,
    "history": history_request,
    "debug": debug_request,
    "comm_info": comm_info_request,
}


# ---------------------------------------------------------------- reading


def msg_type(msg: dict) -> str:
    value = msg.get("header", {}).get("msg_type")
    return value if isinstance(value, str) else ""


def msg_id(msg: dict) -> str:
    value = msg.get("header", {}).get("msg_id")
    return value if isinstance(value, str) else ""


def message_number(msg: dict) -> int | None:
    """The sender's count of the message, when its id carries one: jupyter_client (7 and later, so
    ipykernel and the kernels built on it) numbers what a kernel process sends on every channel,
    ``{session}_{pid}_{n}``. A gap tells a message that went elsewhere, or was lost."""
    header = msg.get("header", {})
    mid, ses = header.get("msg_id"), header.get("session")
    if not isinstance(mid, str) or not isinstance(ses, str) or not ses or not mid.startswith(ses + "_"):
        return None
    tail = mid.rpartition("_")[2]
    return int(tail) if tail.isdigit() and len(tail) < 19 else None


def parent_id(msg: dict) -> str:
    value = msg.get("parent_header", {}).get("msg_id")
    return value if isinstance(value, str) else ""


def field(content: Any, name: str, kind: type | tuple[type, ...], default: Any) -> Any:
    """``content[name]`` if it is of ``kind``, else ``default``: incoming data is untrusted."""
    if not isinstance(content, dict):
        return default
    value = content.get(name, default)
    return value if isinstance(value, kind) and not (kind is int and isinstance(value, bool)) else default
