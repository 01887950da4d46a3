"""The kernel websocket against a real Kernel Gateway + ipykernel."""

import asyncio

import pytest

from repl import errors
from repl.gateway import urls
from repl.gateway.channel import KernelChannel
from repl.gateway.rest import RestClient
from repl.protocol import session as s
from repl.protocol import wire
from repl.ui.render import strip_ansi


class Recorder:
    def __init__(self):
        self.events = []
        self.arrivals = asyncio.Queue()

    def __call__(self, events):
        for ev in events:
            self.events.append(ev)
            self.arrivals.put_nowait(ev)

    def of(self, kind, req=None):
        return [e for e in self.events if isinstance(e, kind) and (req is None or e.request is req)]


@pytest.fixture
async def kernel(gateway):
    rest = RestClient(gateway.url, gateway.token)
    model = await rest.start_kernel("python3")
    yield rest, model
    await rest.shutdown(model.id)
    await rest.aclose()


async def open_channel(rest, model, protocol="auto"):
    rec = Recorder()
    ch = KernelChannel(urls.ws_base(rest.base_url), model.id, s.KernelSession(), headers=rest.auth_headers,
                       on_events=rec, protocol=protocol)
    info = await ch.connect()
    return ch, rec, info


@pytest.mark.parametrize("protocol", ["auto", "legacy"])
async def test_execute_streams_result_and_finishes(kernel, protocol):
    rest, model = kernel
    ch, rec, info = await open_channel(rest, model, protocol)
    try:
        assert info["language_info"]["name"] == "python"
        expected = wire.V1_SUBPROTOCOL if protocol == "auto" else None
        assert ch.codec.subprotocol == expected
        req, fut = await ch.execute("print('héllo'); import sys; print('oops', file=sys.stderr); 6*7")
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
        req, fut = await ch.execute(
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
        req, fut = await ch.execute("1/0")
        await asyncio.wait_for(fut, 30)
        assert req.failed
        (err,) = rec.of(s.ErrorOutput, req)
        assert err.ename == "ZeroDivisionError" and any("1/0" in strip_ansi(line) for line in err.traceback)
        req, fut = await ch.execute("print('x' * 2_000_000)")
        await asyncio.wait_for(fut, 60)
        assert sum(len(e.text) for e in rec.of(s.Stream, req)) == 2_000_001
        assert ch.state == "connected"
    finally:
        await ch.close()


async def test_other_clients_output_is_seen(kernel):
    rest, model = kernel
    a, rec_a, _ = await open_channel(rest, model)
    b, rec_b, _ = await open_channel(rest, model)
    try:
        req, fut = await b.execute("print('from b')")
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
        ch = KernelChannel(urls.ws_base(rest.base_url), "00000000-0000-0000-0000-000000000000", s.KernelSession(),
                           headers=rest.auth_headers)
        with pytest.raises(errors.NoSuchKernel):
            await ch.connect()


async def test_websocket_with_wrong_token(kernel):
    rest, model = kernel
    ch = KernelChannel(urls.ws_base(rest.base_url), model.id, s.KernelSession(), headers={"Authorization": "token nope"})
    with pytest.raises(errors.AuthError) as info:
        await ch.connect()
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
        req, fut = await ch.execute(ECHO_TARGET)
        await asyncio.wait_for(fut, 30)
        assert req.status == "ok"
        sid = ch.session.session_id
        await ch.send(m.make_message("shell", "comm_open", {"comm_id": "c1", "target_name": "echo", "data": {}}, sid))
        payload = [b"\x00\xff binary \xe2\x82\xac", bytes(range(256))]
        msg = m.make_message("shell", "comm_msg", {"comm_id": "c1", "data": {"x": "é"}}, sid)
        msg["buffers"] = payload
        await ch.send(msg)
        while True:
            ev = await asyncio.wait_for(rec.arrivals.get(), 30)
            if isinstance(ev, s.Unhandled) and ev.msg.get("header", {}).get("msg_type") == "comm_msg":
                break
        assert ev.msg["content"]["data"] == {"n": 2}
        assert [bytes(b) for b in ev.msg["buffers"]] == payload
    finally:
        await ch.close()
