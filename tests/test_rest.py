"""The REST client against a real Kernel Gateway: answers and every user-facing error."""

import pytest

from repl import errors
from repl.gateway.rest import RestClient, stopped_answer
from tests.conftest import free_port


async def test_version_specs_and_kernel_lifecycle(gateway):
    async with RestClient(gateway.url, gateway.token) as rest:
        info = await rest.api_info()
        assert "version" in info
        specs = await rest.kernelspecs()
        assert "python3" in specs["kernelspecs"]
        k = await rest.start_kernel("python3")
        assert k.name == "python3"
        assert any(x.id == k.id for x in await rest.kernels())
        assert (await rest.resolve(k.id[:6])).id == k.id
        await rest.interrupt(k.id)
        await rest.shutdown(k.id)
        assert all(x.id != k.id for x in await rest.kernels())
        with pytest.raises(errors.NoSuchKernel):
            await rest.interrupt(k.id)


async def test_wrong_token_is_auth_error_without_the_token(gateway):
    async with RestClient(gateway.url, "wrong-" + gateway.token) as rest:
        with pytest.raises(errors.AuthError) as info:
            await rest.kernelspecs()
    assert "rejected the token" in str(info.value)
    assert gateway.token not in str(info.value)


async def test_missing_token_says_how_to_pass_one(gateway):
    async with RestClient(gateway.url, None) as rest:
        with pytest.raises(errors.AuthError, match="--token"):
            await rest.api_info()


async def test_unreachable_server():
    async with RestClient(f"http://127.0.0.1:{free_port()}", "t") as rest:
        with pytest.raises(errors.ServerUnreachable, match="cannot reach"):
            await rest.api_info()


async def test_unknown_kernel_and_spec(gateway):
    async with RestClient(gateway.url, gateway.token) as rest:
        with pytest.raises(errors.NoSuchKernel):
            await rest.resolve("ffffffff-no-such")
        with pytest.raises(errors.NoSuchKernelspec, match="python3"):
            await rest.start_kernel("no-such-language")


async def test_listing_disabled_is_named(unlisted_gateway):
    async with RestClient(unlisted_gateway.url, unlisted_gateway.token) as rest:
        with pytest.raises(errors.ListingDisabled, match="list_kernels"):
            await rest.kernels()
        k = await rest.start_kernel()
        try:
            # with listing off a full id still resolves
            assert (await rest.resolve(k.id)).id == k.id
        finally:
            await rest.shutdown(k.id)


async def test_not_a_gateway(gateway):
    async with RestClient(gateway.url + "/nothing/here", gateway.token) as rest:
        with pytest.raises(errors.GatewayError):
            await rest.api_info()


def test_bad_urls_are_usage_errors():
    with pytest.raises(errors.UsageError):
        RestClient("ftp://example", "t")
    with pytest.raises(errors.UsageError):
        RestClient("http://host:notaport", "t")


def test_a_hubs_answers_for_a_stopped_server_are_not_a_bad_token():
    assert isinstance(stopped_answer(302, "/hub/user/alice/api/kernels", "http://h/user/alice"), errors.ServerStopped)
    assert isinstance(stopped_answer(424, "", "http://h/user/alice"), errors.ServerStopped)
    assert "/hub start starts it" in str(stopped_answer(424, "", "http://h/user/alice"))
    typo = stopped_answer(302, "/hub/usr/alice/api", "http://h/usr/alice", behind_hub=False)
    assert typo is not None and "give the hub's own address, or …/user/NAME/ for a server" in str(typo)
    assert stopped_answer(302, "/login?next=/", "http://h") is None
    assert stopped_answer(404, "", "http://h") is None and stopped_answer(403, "", "http://h") is None
