"""The kernel websocket against a real Kernel Gateway + ipykernel."""

import asyncio

import pytest

from repl import errors
from repl.gateway.channel import ChannelState
from repl.gateway.rest import KernelModel, RestClient
from repl.protocol import session as s
from repl.protocol import wire
from repl.ui.output.render import strip_ansi
from tests.kernels import open_kernel


@pytest.fixture
async def kernel(gateway):
    rest = RestClient(gateway.url, gateway.token)
    model = await rest.start_kernel("python3")
    yield rest, model
    await rest.shutdown(model.id)
    await rest.aclose()


async def open_channel(rest, model, protocol="auto"):
    k, rec = await open_kernel(rest, model, protocol)
    return k, rec, k.session.kernel_info


async def run(k, code):
    """Execute and return (request, done future), as the tests read them."""
    cell = await k.execute(code)
    return cell.request, cell.done


@pytest.mark.parametrize("protocol", ["auto", "legacy"])
async def test_execute_streams_result_and_finishes(kernel, protocol):
    rest, model = kernel
    ch, rec, info = await open_channel(rest, model, protocol)
    try:
        assert info["language_info"]["name"] == "python"
        expected = wire.V1_SUBPROTOCOL if protocol == "auto" else None
        assert ch.channel.codec.subprotocol == expected
        req, fut = await run(ch, "print('héllo'); import sys; print('oops', file=sys.stderr); 6*7")
        done = await asyncio.wait_for(fut, 30)
        assert done is req and req.status == "ok" and req.execution_count == 1
        streams = rec.of(s.Stream, req)
        assert ("stdout", "héllo\n") in [(e.name, e.text) for e in streams]
        assert ("stderr", "oops\n") in [(e.name, e.text) for e in streams]
        (result,) = rec.of(s.ExecuteResult, req)
        assert result.data["text/plain"] == "42"
        assert req.reply is not None and req.idle
        assert ch.session.next_count == 2
    finally:
        await ch.close()


async def test_output_arrives_before_the_cell_ends(kernel):
    rest, model = kernel
    ch, rec, _ = await open_channel(rest, model)
    try:
        req, fut = await run(ch, 
            "import time\nprint('first', flush=True)\nwhile not globals().get('go'): time.sleep(0.01)\nprint('second')"
        )
        # The first line must arrive while the cell is still blocked.
        while True:
            ev = await asyncio.wait_for(rec.arrivals.get(), 30)
            if isinstance(ev, s.Stream) and "first" in ev.text:
                break
        assert not fut.done()
        await rest.interrupt(model.id)
        await asyncio.wait_for(fut, 30)
        assert req.status == "error"
        assert rec.of(s.ErrorOutput, req)[0].ename == "KeyboardInterrupt"
    finally:
        await ch.close()


async def test_error_and_two_megabyte_output(kernel):
    rest, model = kernel
    ch, rec, _ = await open_channel(rest, model)
    try:
        req, fut = await run(ch, "1/0")
        await asyncio.wait_for(fut, 30)
        assert req.failed
        (err,) = rec.of(s.ErrorOutput, req)
        assert err.ename == "ZeroDivisionError" and any("1/0" in strip_ansi(line) for line in err.traceback)
        req, fut = await run(ch, "print('x' * 2_000_000)")
        await asyncio.wait_for(fut, 60)
        assert sum(len(e.text) for e in rec.of(s.Stream, req)) == 2_000_001
        assert ch.channel.state == ChannelState.CONNECTED
    finally:
        await ch.close()


async def test_other_clients_output_is_seen(kernel):
    rest, model = kernel
    a, rec_a, _ = await open_channel(rest, model)
    b, rec_b, _ = await open_channel(rest, model)
    try:
        req, fut = await run(b, "print('from b')")
        await asyncio.wait_for(fut, 30)

        def seen():
            return [e for e in rec_a.events if isinstance(e, s.Stream) and e.text == "from b\n"]

        for _ in range(300):
            if seen():
                break
            await asyncio.sleep(0.01)
        (ev,) = seen()
        assert ev.other and ev.request is None
        assert any(isinstance(e, s.ExecuteInput) and e.other and e.code == "print('from b')" for e in rec_a.events)
    finally:
        await a.close()
        await b.close()


async def test_websocket_to_unknown_kernel(gateway):
    async with RestClient(gateway.url, gateway.token) as rest:
        with pytest.raises(errors.NoSuchKernel):
            await open_kernel(rest, KernelModel("00000000-0000-0000-0000-000000000000", "python3"))


async def test_websocket_with_wrong_token(kernel):
    rest, model = kernel
    async with RestClient(rest.base_url, "nope") as wrong:
        with pytest.raises(errors.AuthError) as info:
            await open_kernel(wrong, model)
    assert "nope" not in str(info.value)


ECHO_TARGET = """
def _echo(comm, open_msg):
    @comm.on_msg
    def _reply(msg):
        comm.send({"n": len(msg["buffers"])}, buffers=msg["buffers"])
get_ipython().kernel.comm_manager.register_target("echo", _echo)
"""


@pytest.mark.parametrize("protocol", ["v1", "legacy"])
async def test_buffers_round_trip_through_a_real_kernel(kernel, protocol):
    from repl.protocol import messages as m

    rest, model = kernel
    ch, rec, _ = await open_channel(rest, model, protocol)
    try:
        req, fut = await run(ch, ECHO_TARGET)
        await asyncio.wait_for(fut, 30)
        assert req.status == "ok"
        sid = ch.session.session_id
        await ch.channel.send(m.make_message("shell", "comm_open", {"comm_id": "c1", "target_name": "echo", "data": {}}, sid))
        payload = [b"\x00\xff binary \xe2\x82\xac", bytes(range(256))]
        msg = m.make_message("shell", "comm_msg", {"comm_id": "c1", "data": {"x": "é"}}, sid)
        msg["buffers"] = payload
        await ch.channel.send(msg)
        while True:
            ev = await asyncio.wait_for(rec.arrivals.get(), 30)
            if isinstance(ev, s.CommEvent) and ev.kind == "comm_msg":
                break
        assert ev.content["data"] == {"n": 2}
        assert [bytes(b) for b in ev.buffers] == payload
    finally:
        await ch.close()


async def test_closing_takes_every_message_sent_before_the_server_heard_it():
    """The server buffers for our session id only once it has our close frame: every message it
    sent before that must reach us, those still queued in our socket when the handshake ends too."""
    import json
    import time

    import websockets

    from repl.gateway.channel import KernelChannel
    from repl.gateway.options import ChannelOptions

    sent: list[int] = []

    async def flood(ws):
        n = 0
        try:
            while True:
                await ws.send(json.dumps({"header": {"msg_id": f"m{n}", "msg_type": "stream"}, "parent_header": {},
                                          "metadata": {}, "content": {"name": "stdout", "text": f"{n}\n"},
                                          "channel": "iopub"}))
                sent.append(n)
                n += 1
                if n % 50 == 0:
                    await asyncio.sleep(0)
        except websockets.ConnectionClosed:
            pass

    async with websockets.serve(flood, "127.0.0.1", 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        got: list[int] = []

        def shown(msg: dict, now: float) -> None:  # drawing takes time: the reader lags behind the socket
            time.sleep(0.002)
            got.append(int(msg["content"]["text"]))

        channel = KernelChannel(f"ws://127.0.0.1:{port}", "k" * 36, "sess", ChannelOptions(protocol="legacy"),
                                on_message=shown,
                                on_malformed=lambda error: None, on_state=lambda state: None, on_reopen=lambda r: None)
        await channel.connect()
        while len(got) < 200:
            await asyncio.sleep(0.01)
        await channel.close(drain=True)
    assert got == sent[:len(got)] and len(got) == len(sent), (len(got), len(sent))
