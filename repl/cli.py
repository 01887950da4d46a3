"""Command line: parse flags, resolve settings, run the REPL or the one-shot runner.

Exit status: 0 fine, 1 the kernel reported an error (one-shot), 2 a usage or connection
error (one line on stderr), 130/143/129 interrupted, terminated, hung up.
"""

from __future__ import annotations

import argparse
import io
import asyncio
import contextlib
import os
import signal
import ssl
import sys
import tokenize
from typing import TYPE_CHECKING, Callable

from repl import __version__, errors
from repl.config import ENV_CONFIG, ENV_TOKEN, ENV_URL, Settings, config_path
from repl.deferred import Deferred
from repl.gateway.local import LocalGateway
from repl.timing import StartupProfile
from repl.ui.output import images

if TYPE_CHECKING:
    from pathlib import Path

    from repl.protocol.record import Record
    from repl.oneshot import OneShot
    from repl.ui.app import App
    from repl.workspace import Workspace


EXAMPLES = f"""examples:
  repl                                          a local gateway and a python3 kernel
  repl --url https://gw.example.com --kernel bash --token-file ~/.gw-token
  repl --url https://hub.example.org --token-file ~/.hub-token --named-server gpu --option profile=gpu

With no URL, repl starts an embedded local Kernel Gateway. Environment: {ENV_URL}, {ENV_TOKEN}."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="repl",
        description="A terminal REPL for remote Jupyter kernels (Kernel Gateway, Jupyter Server, Enterprise Gateway, "
                    "JupyterHub).",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"repl {__version__}")
    server = p.add_argument_group("server and auth")
    server.add_argument("--url", help=f"gateway URL, e.g. http://host:8888, or a JupyterHub's (env {ENV_URL})")
    server.add_argument("--token", help=f"gateway auth token (env {ENV_TOKEN})")
    server.add_argument("--token-file", metavar="FILE", help="read the token from FILE")
    server.add_argument("--server", metavar="NAME", help="a named server from the config file (REPL_CONFIG or "
                        "~/.config/repl/config.toml)")
    server.add_argument("--named-server", metavar="NAME", help="on a JupyterHub: use (and start) your server NAME "
                        "instead of the default one")
    server.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="on a JupyterHub: a user_option for starting your server, e.g. profile=gpu (repeatable)")
    server.add_argument("--header", action="append", default=[], metavar="'NAME: VALUE'",
                        help="extra HTTP header for every request and websocket (repeatable)")
    kernel = p.add_argument_group("kernel")
    which = kernel.add_mutually_exclusive_group()
    which.add_argument("--kernel", metavar="SPEC", help="start a kernel of this kernelspec (default: the server's default)")
    which.add_argument("--attach", metavar="TARGET", help="attach to a running kernel: id or unique id prefix, alias, or its notebook's name or path")
    which.add_argument("--resume", nargs="?", const="", metavar="SERVER",
                       help="come back to the kernels of a session left with /detach (or killed); SERVER picks "
                            "among several (part of its URL, 'local', or the number in the list)")
    kernel.add_argument("-c", dest="code", metavar="CODE", help="run CODE, print its output and exit (1 if it raised)")
    kernel.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="KERNEL_* variable for kernels started on Enterprise Gateway (repeatable)")
    kernel.add_argument("--launch-timeout", type=float, default=120.0, metavar="S",
                        help="how long a kernel may take to start (default 120; clusters may need more)")
    net = p.add_argument_group("network and TLS")
    net.add_argument("--protocol", choices=("auto", "v1", "legacy"), default="auto",
                     help="websocket protocol: v1 binary framing, legacy JSON, or auto (offer v1)")
    net.add_argument("--ws-url", metavar="URL", help="websocket base URL when it differs (env JUPYTER_GATEWAY_WS_URL)")
    net.add_argument("--ping-interval", type=float, default=20.0, metavar="S",
                     help="websocket keepalive ping every S seconds (0: off; default 20)")
    net.add_argument("--ping-timeout", type=float, default=20.0, metavar="S",
                     help="drop and reconnect if a ping is not answered in S seconds (default 20)")
    net.add_argument("--ca-cert", metavar="FILE", help="trust this CA bundle for https/wss")
    net.add_argument("--client-cert", metavar="FILE", help="client certificate (PEM, may include the key)")
    net.add_argument("--client-key", metavar="FILE", help="client certificate key (PEM)")
    net.add_argument("--insecure", action="store_true", help="do not verify TLS certificates (warns)")
    display = p.add_argument_group("display")
    display.add_argument("--style", metavar="NAME", help="pygments style for the input (e.g. monokai, solarized-dark)")
    display.add_argument("--vi", action="store_true", help="vi editing mode")
    display.add_argument("--images", choices=images.PROTOCOLS, default="auto",
                         help="inline images: kitty, iterm, sixel, blocks (coloured half blocks, any terminal), "
                              "file (a line with a temp file), off (default: detect, else blocks)")
    display.add_argument("--image-rows", type=int, metavar="N", default=24,
                         help="the most terminal rows an image drawn as blocks takes (default 24)")
    display.add_argument("--title", choices=("on", "off"), help="the window title shows the kernel and its state "
                         "(default on; env REPL_TITLE)")
    display.add_argument("--hyperlinks", choices=("auto", "on", "off"), help="links in Markdown and HTML as the "
                         "terminal's hyperlinks (auto: where known to work; else the address after the text; env "
                         "REPL_HYPERLINKS)")
    display.add_argument("--notify-after", metavar="S", help="a cell that ran longer than S seconds says so through "
                         "the terminal when it ends while the window is away (default 10; 0: never; env REPL_NOTIFY_AFTER)")
    debugging = p.add_argument_group("debugging")
    debugging.add_argument("--debug", action="store_true", help="start with the message trace on")
    debugging.add_argument("--log-traffic", metavar="FILE", help="append every message and event to FILE as JSON lines")
    debugging.add_argument("--profile-startup", action="store_true",
                           help="print where the start-up time went (launch to prompt, to kernel ready)")
    return p


def whole_writes() -> None:
    """sys.stdout and sys.stderr through a buffered writer when they write straight to their file
    (PYTHONUNBUFFERED, common in containers): a write a signal cuts short (SIGWINCH, as the window
    is resized while the terminal is behind a flood) returns the count written, and TextIOWrapper
    dropped the rest; a buffered writer writes until all of it is out. Flushed as a terminal's
    stream is (at each line), as without PYTHONUNBUFFERED."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        raw = getattr(stream, "buffer", None)
        if isinstance(raw, io.FileIO) and not raw.closed:
            stream.flush()
            writer = io.BufferedWriter(io.FileIO(raw.fileno(), "wb", closefd=False))
            setattr(sys, name, io.TextIOWrapper(writer, encoding=stream.encoding, errors=stream.errors,
                                                line_buffering=raw.isatty()))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    whole_writes()
    for stream in (sys.stdout, sys.stderr):  # what the terminal's encoding cannot show is replaced, not lost
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="replace")  # type: ignore[union-attr]
    if os.environ.get(ENV_CONFIG) and not config_path().exists():
        _say(f"repl: {ENV_CONFIG} points at {config_path()}, which does not exist; no config file is used")
    try:
        settings = Settings.resolve(args)
    except errors.ReplError as exc:
        _say(f"repl: {exc}")
        return 2
    interactive = settings.code is None
    if interactive and not sys.stdin.isatty():
        settings.code = source_text(sys.stdin.buffer.read())
        interactive = False
    if not interactive and not (settings.code or "").strip():
        return 0
    if interactive and not sys.stdout.isatty():
        print("repl: standard output is not a terminal; use -c CODE or pipe code in", file=sys.stderr)
        return 2
    back = None
    try:
        back = _coming_back(settings, interactive)
        from repl.ui import keymode  # (light: termios) keys typed during start-up wait for the first prompt

        with keymode.held() if interactive else contextlib.nullcontext():
            return asyncio.run(_amain(settings, interactive, StartupProfile(args.profile_startup), back))
    except errors.ReplError as exc:
        kept = back is not None and back[0].exists() and "repl --resume" not in str(exc) \
            and not isinstance(exc, errors.NoSuchKernel)
        _say(f"repl: {exc}" + ("; the session is kept: repl --resume tries again" if kept else "")
             + _held_elsewhere(settings, exc))
        return 2
    except KeyboardInterrupt:
        return 130
    except asyncio.CancelledError:
        return 128 + _last_signal[0] if _last_signal else 1


def _held_elsewhere(settings: Settings, exc: errors.ReplError) -> str:
    """'; it is in a detached session …' when the kernel --attach did not find is one of those."""
    if not isinstance(exc, errors.NoSuchKernel) or settings.attach is None or settings.resume is not None:
        return ""
    from repl import resume

    where = resume.holding(settings.attach)
    return f"; {where}" if where else ""


def _coming_back(settings: Settings, interactive: bool) -> tuple[Path, Record] | None:
    """With --resume: the record of the session to come back to; its server is the one to use."""
    if settings.resume is None:
        return None
    if not interactive:
        raise errors.UsageError("--resume brings a session back to type in: it needs a terminal, not -c or piped input")
    from repl import resume

    named = settings.url if settings.sources.get("url") == "--url" else ""  # (--url picks too)
    back = resume.pick(settings.resume or named or "")
    if back[1].gateway is None:
        settings.url, settings.named_server = back[1].url, back[1].named_server or None
    return back


_last_signal: list[int] = []
ONE_SHOT_RECONNECT = 60.0  # s: -c gives up a lost link after this long (or --launch-timeout, if longer)


def source_text(data: bytes) -> str:
    """Code piped in, decoded as Python decodes a script: its coding cookie or UTF-8, and
    what does not decode is replaced rather than refused."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        encoding = "utf-8"
    return data.decode(encoding, errors="replace").removeprefix("\ufeff")


def _pt_style(name: str):
    from prompt_toolkit.styles.pygments import style_from_pygments_cls
    from pygments.styles import get_all_styles, get_style_by_name
    from pygments.util import ClassNotFound

    try:
        return style_from_pygments_cls(get_style_by_name(name))
    except ClassNotFound:
        raise errors.UsageError(f"no pygments style '{name}'; try one of: {', '.join(sorted(get_all_styles()))}") from None


def _say(line: str) -> None:
    from repl.ui.output.sanitize import label  # (light: re only) an error's text may hold the server's words

    with contextlib.suppress(OSError, ValueError):
        print(label(line), file=sys.stderr, flush=True)


async def _amain(settings: Settings, interactive: bool, profile: StartupProfile,
                 back: tuple[Path, Record] | None = None) -> int:
    loop = asyncio.get_running_loop()
    main_task = asyncio.current_task()
    assert main_task is not None

    leaving = False  # cleaning up: kernels started here are being shut down

    def on_signal(signum: int) -> None:
        # Once: a closed terminal sends SIGHUP and the shell passes its own on, and a signal
        # during the clean-up would cut short the shutdown of the kernels started here.
        if not _last_signal and not leaving:
            main_task.cancel()
        _last_signal[:] = [signum]

    for signum in (signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(signum, on_signal, signum)

    async with contextlib.AsyncExitStack() as stack:
        # The embedded gateway takes longest to come up: it starts first, and comes up while
        # the rest of repl is imported and the prompt is drawn.
        if back is not None and back[1].gateway is not None:
            gateway = LocalGateway.adopt(**back[1].gateway)  # (detached by the session we come back to)
            if gateway is None:
                from repl import records

                records.forget(back[0])
                raise errors.LocalGatewayError("the local gateway of that session is gone, and its kernels with it")
        else:
            gateway = LocalGateway.spawn(kernel=None if settings.attach else settings.kernel or "") if not settings.url else None
        if gateway is not None:
            stack.push_async_callback(gateway.stop)
            profile.mark("embedded gateway spawned")
        try:
            return await _run(settings, interactive, profile, gateway, stack, back)
        finally:
            leaving = True
    return 0


async def _run(settings: Settings, interactive: bool, profile: StartupProfile, gateway: LocalGateway | None,
               stack: contextlib.AsyncExitStack, back: tuple[Path, Record] | None) -> int:
    from repl.gateway import urls
    from repl.gateway.options import ChannelOptions
    from repl.gateway.rest import RestClient
    from repl.keep import Keep
    from repl.opening import Opening
    from repl.ui.trace import Tracer
    from repl.workspace import Workspace

    profile.mark("repl's network side imported")
    dumb = os.environ.get("TERM") == "dumb"
    color = interactive and not os.environ.get("NO_COLOR") and not dumb
    # Interactive, the first kernel comes while the UI is imported: what it says meanwhile is kept
    deferred = Deferred() if interactive else None
    emit: Callable[[str], None] = deferred.line if deferred is not None else _say
    try:
        tracer = Tracer(emit, color=color, log_path=settings.log_traffic, mode="on" if settings.debug else "off")
    except OSError as exc:
        raise errors.UsageError(f"cannot open the traffic log {settings.log_traffic}: {exc.strerror}") from None
    stack.callback(tracer.close)
    url, token = (gateway.url, gateway.token) if gateway is not None else (settings.url or "", settings.token)
    tracer.set_token(token)
    ssl_context = _ssl_context(settings, url)
    rest = RestClient(url, token, trace=tracer, verify=ssl_context if ssl_context is not None else True,
                      headers=settings.headers, launch_timeout=settings.launch_timeout)
    stack.push_async_callback(rest.aclose)
    front: Deferred | OneShot
    if deferred is not None:
        front = deferred
    else:
        from repl.oneshot import OneShot

        front = OneShot()
    ping = settings.ping_interval or None
    options = ChannelOptions(protocol=settings.protocol, open_timeout=settings.launch_timeout, ssl_context=ssl_context,
                             ping_interval=ping, ping_timeout=(settings.ping_timeout or None) if ping else None,
                             reconnect_for=None if interactive else max(settings.launch_timeout, ONE_SHOT_RECONNECT))
    try:
        ws_base = urls.ws_base_from(settings.ws_url) if settings.ws_url else None
    except errors.UsageError as exc:
        raise errors.UsageError(f"{settings.source('ws_url', '--ws-url')}: {exc}") from None
    ws = Workspace(rest, front, options=options, trace=tracer, ws_base=ws_base, keep=Keep.from_env())
    tracer.labels = lambda kid: ws.kernels[kid].label if kid in ws.kernels else kid[:8]
    ws.gateway, ws.named_server = gateway, settings.named_server
    if interactive:  # the session's record: another process can come back to its kernels
        ws.keep_record(back)
    stack.push_async_callback(_close, ws)
    opening = Opening(ws, gateway=gateway, attach=settings.attach, spec=settings.kernel, env=settings.kernel_env,
                      warn=deferred.err if deferred is not None else _say, mark=profile.mark,
                      env_source=settings.source("kernel_env", "--env"),
                      say=deferred.line if deferred is not None else _say,
                      hub=(settings.named_server, settings.user_options, settings.source("named_server", "--named-server"))
                      if gateway is None else None, resume=back[1] if back is not None else None)
    stack.push_async_callback(opening.cancel)  # first of all: stop bringing a kernel up
    if isinstance(front, Deferred):
        opening.start()  # (the network from now, while the UI is imported)
        app = await _interactive(settings, profile, tracer, color, dumb)
        front.to(app, app.console.line)
        return await app.run(ws)
    opening.start()
    kernel = await opening.task
    if profile.on:
        _say("\n".join(profile.lines()))
    return await front.run(kernel, settings.code or "")


async def _interactive(settings: Settings, profile: StartupProfile, tracer, color: bool, dumb: bool) -> App:
    """The UI, imported in a thread while the loop brings the first kernel up (imports hold the
    interpreter: it is handed to the loop's thread every millisecond meanwhile, not every 5)."""
    switch = sys.getswitchinterval()
    sys.setswitchinterval(0.001)
    try:
        await asyncio.get_running_loop().run_in_executor(None, _import_ui)
    finally:
        sys.setswitchinterval(switch)
    from repl.ui.output import render
    from repl.ui.app import App, Look
    from repl.ui.output.console import Console

    profile.mark("repl imported")
    from repl.ui.term import caps

    drawing = images.choose(settings.images, os.environ, color, max(settings.image_rows, 2)) if not dumb \
        else images.Drawing()
    terminal = caps.detect(os.environ, sys.stdout.isatty(), title=settings.title, hyperlinks=settings.hyperlinks,
                           notify_after=settings.notify_after)
    style = render.Style(color=color, escapes=not dumb, images=drawing, hyperlinks=terminal.hyperlinks)
    pt_style = _pt_style(settings.style) if settings.style else None
    console = Console()
    return App(console, Look(style, tracer, vi=settings.vi, pt_style=pt_style, terminal=terminal), profile=profile)


def _import_ui() -> None:
    import repl.ui.app  # noqa: F401  (prompt_toolkit, pygments and the UI's modules)


async def _close(ws: Workspace) -> None:
    """Leave the workspace; say which kernels started here could not be shut down. A hangup (the
    terminal closed, ssh dropped) while cells run detaches instead: they go on, and
    ``repl --resume`` comes back to them."""
    if _last_signal[:1] == [signal.SIGHUP] and ws.journal is not None and ws.running():
        try:
            await ws.detach()
            _say("repl: hung up while cells run: detached (kernels and cells go on); come back with: repl --resume")
        except errors.ReplError as exc:
            _say(f"repl: hung up, and could not detach: {exc}")
    for line in await ws.aclose():
        _say(f"repl: {line}")


def _ssl_context(settings: Settings, url: str) -> ssl.SSLContext | None:
    if not (url.startswith("https") or settings.ca_cert or settings.client_cert or settings.insecure):
        return None
    from repl.gateway import tls

    if settings.insecure:
        _say("repl: warning: --insecure: TLS certificates are not checked; the token can be intercepted")
    return tls.context(settings.ca_cert, settings.client_cert, settings.client_key, settings.insecure,
                       ca_source=settings.source("ca_cert", "--ca-cert"))
