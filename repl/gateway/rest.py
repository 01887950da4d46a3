"""The gateway's REST API over httpx, with every failure mapped to :mod:`repl.errors`.

The token travels only in the ``Authorization: token`` header and is scrubbed from any text
the server sends back before that text can reach an error message.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from urllib.parse import urlsplit
from typing import TYPE_CHECKING, Any, Callable

from repl import errors
from repl.scrub import scrub
from repl.gateway import quick, tls, urls

if TYPE_CHECKING:  # httpx is imported at the first request it makes (after the first prompt is drawn)
    import httpx

    Answer = httpx.Response | quick.Answer  # (what the start-up's GETs answer)

TraceHook = Callable[[dict], None]


@dataclass(frozen=True)
class KernelModel:
    id: str
    name: str
    execution_state: str = ""
    connections: int | None = None
    last_activity: str = ""

    @classmethod
    def from_json(cls, data: Any) -> "KernelModel":
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise errors.ServerError("the server sent a kernel description without an id")
        conns = data.get("connections")
        return cls(
            id=data["id"],
            name=str(data.get("name", "")),
            execution_state=str(data.get("execution_state", "")),
            connections=conns if isinstance(conns, int) else None,
            last_activity=str(data.get("last_activity", "")),
        )


@dataclass(frozen=True)
class SessionModel:
    """A Jupyter Server session: the notebook (or console, or file) a kernel belongs to."""

    id: str
    path: str
    type: str
    kernel_id: str

    @classmethod
    def from_json(cls, data: Any) -> "SessionModel | None":
        if not isinstance(data, dict) or not isinstance(data.get("kernel"), dict):
            return None
        kid = data["kernel"].get("id")
        path = data.get("path")
        notebook = data.get("notebook")
        if not isinstance(path, str) and isinstance(notebook, dict):
            path = notebook.get("path")  # servers before 2.0 keep it here
        if not isinstance(kid, str) or not isinstance(path, str):
            return None
        return cls(str(data.get("id", "")), path, str(data.get("type", "") or "notebook"), kid)


async def speaks_plain_http(url: str, timeout: float = 3.0) -> bool:
    """Whether the https URL's host:port answers plain HTTP (a TLS server answers an alert, or nothing)."""
    parts = urlsplit(url)
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(parts.hostname, parts.port or 443), timeout)
    except (OSError, asyncio.TimeoutError, TimeoutError):
        return False
    try:
        writer.write(f"HEAD / HTTP/1.0\r\nHost: {parts.hostname}\r\n\r\n".encode())
        return (await asyncio.wait_for(reader.read(5), timeout)) == b"HTTP/"
    except (OSError, asyncio.TimeoutError, TimeoutError):
        return False
    finally:
        writer.close()


def stopped_answer(code: int, location: str, display_url: str, behind_hub: bool = True) -> errors.ServerStopped | None:
    """The error for a JupyterHub's answer in place of a server that is not running: a redirect to
    the hub (``/hub/user/…``), or the hub's own 424 ("server not running"); else None. Not known
    to be a hub's server (``behind_hub`` False): a JupyterHub's URL with a wrong path."""
    if not ((300 <= code < 400 and "/hub/" in location) or code == 424):
        return None
    if not behind_hub:
        return errors.ServerStopped(f"{display_url} is a JupyterHub's address, but not one of a server or of the hub "
                                    f"(it answers HTTP {code}, for the hub's pages): give the hub's own address, or "
                                    "…/user/NAME/ for a server")
    return errors.ServerStopped(f"the server at {display_url} is not running (its JupyterHub answers for it, "
                                f"HTTP {code}): /hub start starts it")


class RestClient:
    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        timeout: float = 30.0,
        verify: Any = True,
        trace: TraceHook | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        launch_timeout: float = 120.0,
    ) -> None:
        self.base_url = urls.normalise(base_url)
        self.display_url = urls.display(self.base_url)
        self._token = token or ""
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"token {token}"
        self.auth_headers = all_headers
        self.trace = trace
        self._client: httpx.AsyncClient | None = None
        self._client_args = {"timeout": timeout, "verify": verify, "transport": transport}
        # until httpx's client is made, the start-up's GETs go without it (repl.gateway.quick)
        self._quick = self._quick_usable()
        self._cookies: dict[str, str] = {}  # set in the answers of those GETs
        self._extra_headers = dict(headers or {})
        self._specs: dict | None = None
        self._no_sessions = False  # the server has no /api/sessions (asked once)
        self.launch_timeout = launch_timeout
        self.behind_hub = False  # a JupyterHub's single-user server: the hub answers when it is not running
        self.kind = "the gateway"  # what it is, in errors ("the hub" for a JupyterHub's API)

    def _quick_usable(self) -> bool:
        return self._client_args["transport"] is None and quick.usable(self.base_url, urls.is_loopback(self.base_url))

    @property
    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx

            args = self._client_args
            self._client = httpx.AsyncClient(
                base_url=self.base_url,
                headers=self.auth_headers,
                timeout=httpx.Timeout(args["timeout"], connect=min(args["timeout"], 10.0)),
                verify=tls.for_client_of(self.base_url, args["verify"]),
                trust_env=not urls.is_loopback(self.base_url),  # HTTP(S)_PROXY, except for loopback
                transport=args["transport"],
                cookies=self._cookies,
            )
        return self._client

    def sibling(self, base_url: str) -> "RestClient":
        """A client of another server (a JupyterHub's API) with the same token, headers and TLS."""
        args = self._client_args
        return RestClient(base_url, self._token or None, headers=self._extra_headers, timeout=args["timeout"],
                          verify=args["verify"], trace=self.trace, transport=args["transport"],
                          launch_timeout=self.launch_timeout)

    async def rebase(self, base_url: str) -> None:
        """Talk to the server at ``base_url`` from now on (a hub's single-user server, once known)."""
        self.base_url = urls.normalise(base_url)
        self.display_url = urls.display(self.base_url)
        self._specs = None
        self._no_sessions = False
        self._quick = self._quick_usable()
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def ws_headers(self) -> dict[str, str]:
        """Headers for a websocket handshake: ours, and the cookies the server set (sticky load
        balancers)."""
        pairs = [f"{c.name}={c.value}" for c in self._client.cookies.jar] if self._client is not None \
            else [f"{k}={v}" for k, v in self._cookies.items()]
        return {**self.auth_headers, **({"Cookie": "; ".join(pairs)} if pairs else {})}

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def __aenter__(self) -> "RestClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------ plumbing

    def scrub(self, text: str) -> str:
        return scrub(text, self._token)

    async def _get(self, path: str) -> Answer:
        """``GET path``: before httpx's client is made (the start-up), without it where that is
        the same (plain HTTP, no proxy); else, or if that could not ask, through httpx."""
        if self._quick and self._client is None:
            started = time.perf_counter()
            status: int | None = None
            timeout = self._client_args["timeout"]
            headers = {**self.auth_headers}
            if self._cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self._cookies.items())
            try:
                answer = await quick.get(self.base_url, path, headers, timeout, min(timeout, 10.0))
            except TimeoutError:
                raise errors.ServerTimeout(f"{self.display_url} did not answer GET /{path} in time") from None
            except quick.Failed:
                self._quick = False  # (httpx asks again, and its error is the one told)
            else:
                status = answer.status_code
                for cookie in answer.cookies:
                    name, _, value = cookie.partition("=")
                    self._cookies[name] = value
                stopped = self.stopped(answer)
                if stopped is not None:
                    raise stopped
                return answer
            finally:
                if self.trace is not None and status is not None:
                    ms = (time.perf_counter() - started) * 1000
                    self.trace({"event": "http", "method": "GET", "path": "/" + path, "status": status, "ms": ms})
        return await self._call("GET", path)

    async def _call(self, method: str, path: str, *, json: Any = None, timeout: float | None = None) -> httpx.Response:
        import httpx

        started = time.perf_counter()
        status: int | None = None
        try:
            kwargs: dict[str, Any] = {}
            if json is not None:
                kwargs["json"] = json
            if timeout is not None:
                kwargs["timeout"] = timeout
            response = await self._http.request(method, path, **kwargs)
            status = response.status_code
            stopped = self.stopped(response)
            if stopped is not None:
                raise stopped
            return response
        except httpx.TimeoutException as exc:
            raise errors.ServerTimeout(f"{self.display_url} did not answer {method} /{path} in time") from exc
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            reason = self.scrub(str(exc)) or type(exc).__name__
            if "CERTIFICATE_VERIFY_FAILED" in reason:
                raise errors.ServerUnreachable(tls.untrusted_certificate(self.display_url)) from exc
            raise errors.ServerUnreachable(f"cannot reach {self.kind} at {self.display_url}: {reason}") from exc
        except httpx.HTTPError as exc:
            reason = self.scrub(str(exc)) or type(exc).__name__
            raise errors.ServerUnreachable(f"request to {self.display_url} failed: {reason}") from exc
        finally:
            if self.trace is not None:
                ms = (time.perf_counter() - started) * 1000
                self.trace({"event": "http", "method": method, "path": "/" + path, "status": status, "ms": ms})

    def _reason(self, response: Answer) -> str:
        try:
            data = response.json()
            text = data.get("message") or data.get("reason") or ""
        except Exception:
            text = response.text[:200]
        text = self.scrub(str(text).strip().splitlines()[0] if str(text).strip() else "")
        return f"HTTP {response.status_code}" + (f" ({text})" if text else "")

    def _auth_error(self, response: Answer) -> errors.AuthError:
        if self.behind_hub:
            return errors.ScopeError(f"the server at {self.display_url} refused the token (HTTP {response.status_code}): "
                                     "on a JupyterHub the token needs the scope access:servers (the hub's Token page makes one)")
        how = "pass --token or set JUPYTER_GATEWAY_AUTH_TOKEN"
        if self._token:
            how = "check --token or JUPYTER_GATEWAY_AUTH_TOKEN"
        return errors.AuthError(
            f"the gateway at {self.display_url} rejected the token (HTTP {response.status_code}): {how}"
        )

    def stopped(self, response: Answer) -> errors.ServerStopped | None:
        """A JupyterHub's answer for a single-user server that is not running (a redirect to the
        hub's pages, the hub's 424), or None. Behind a hub, a 404 page that is not the Jupyter
        API's JSON is another server's answer (the user's default server answers for a stopped
        named one): that server is not running either."""
        code = response.status_code
        html = "json" not in response.headers.get("content-type", "")
        if self.behind_hub and code == 404 and html:
            return errors.ServerStopped(f"no server runs at {self.display_url} (another server answered for its address, HTTP 404): "
                                        "/hub start starts it")
        if self.behind_hub and code == 403 and html and "_xsrf" in response.text:
            # a POST to a stopped server's address reaches the hub, whose pages want a form's _xsrf
            return errors.ServerStopped(f"the server at {self.display_url} is not running (the hub answered for it): "
                                        "/hub start starts it")
        return stopped_answer(code, response.headers.get("location", ""), self.display_url, self.behind_hub)

    async def answers_at(self, url: str) -> bool:
        """Whether a Jupyter server answers at ``url`` now (False: a hub answers for it)."""
        other = self.sibling(url)
        other.behind_hub = True
        try:
            return (await other._call("GET", "api")).status_code == 200
        except errors.ServerStopped:
            return False
        finally:
            await other.aclose()

    async def request(self, method: str, path: str, *, json: Any = None) -> httpx.Response:
        """A request of another API on this client's server (a JupyterHub's): its errors mapped,
        its answer not checked."""
        return await self._call(method, path, json=json)

    async def get(self, path: str) -> Answer:
        """``GET path`` of another API on this client's server, as :meth:`request` (without httpx
        while it is not loaded: the start-up's probe of a JupyterHub)."""
        return await self._get(path)

    def stream(self, path: str, read_timeout: float | None = None):
        """``GET path`` as a stream (an event stream): an async context manager of the response."""
        import httpx

        timeout = httpx.Timeout(self._client_args["timeout"], read=read_timeout)
        return self._http.stream("GET", path, timeout=timeout)

    def check(self, response: Answer, what: str) -> Any:
        """The JSON of an answer of this client's server; an error for a refusal (401/403: the
        token; other 4xx/5xx: ``what`` failed, with the server's reason)."""
        return self._check(response, what)

    def reason(self, response: Answer) -> str:
        """``HTTP 409 (the server's message)``, the token scrubbed."""
        return self._reason(response)

    def _check(self, response: Answer, what: str) -> Any:
        code = response.status_code
        if code in (401, 403):
            raise self._auth_error(response)
        if code >= 400:
            raise errors.ServerError(f"{what} failed: {self._reason(response)}")
        if code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise errors.ServerError(
                f"{what}: {self.display_url} did not answer with JSON; is it a Jupyter gateway?"
            ) from None

    # ------------------------------------------------------------ API

    async def api_info(self) -> dict:
        """The server's version; the first request, so it also finds a URL that says https to a
        server that only speaks HTTP (which would otherwise hang until the connect timeout)."""
        request = asyncio.ensure_future(self._get("api"))
        if self.base_url.startswith("https:") and not os.environ.get("HTTPS_PROXY", os.environ.get("https_proxy")):
            probe = asyncio.ensure_future(speaks_plain_http(self.base_url))
            await asyncio.wait([request, probe], return_when=asyncio.FIRST_COMPLETED)
            # (an HTTPS server may answer plain HTTP too, with a 400: then the real request ends soon)
            if not request.done() and await probe and not (await asyncio.wait([request], timeout=2.0))[0]:
                request.cancel()
                plain = "http" + self.display_url[len("https"):]
                raise errors.ServerUnreachable(f"{self.display_url} does not speak TLS; did you mean {plain}?")
            probe.cancel()
        r = await request
        if r.status_code == 404:
            raise errors.ServerError(f"{self.display_url} has no Jupyter API at /api; check the URL and its base path")
        data = self._check(r, "reading the server version")
        if not isinstance(data, dict) or "version" not in data:
            raise errors.ServerError(f"{self.display_url} does not look like a Jupyter gateway")
        return data

    async def kernelspecs(self, refresh: bool = False) -> dict:
        if self._specs is None or refresh:
            data = self._check(await self._get("api/kernelspecs"), "listing kernelspecs")
            if not isinstance(data, dict) or not isinstance(data.get("kernelspecs"), dict):
                raise errors.ServerError("the server sent a malformed kernelspec list")
            self._specs = data
        return self._specs

    async def kernels(self) -> list[KernelModel]:
        r = await self._get("api/kernels")
        if r.status_code == 403:
            # Kernel Gateway answers 403 when listing is off; Jupyter Server when the token is bad.
            await self.kernelspecs(refresh=True)  # raises AuthError if the token is the problem
            raise errors.ListingDisabled(
                f"the gateway at {self.display_url} does not list its kernels "
                "(Kernel Gateway needs --JupyterWebsocketPersonality.list_kernels=True)"
            )
        data = self._check(r, "listing kernels")
        if not isinstance(data, list):
            raise errors.ServerError("the server sent a malformed kernel list")
        return [KernelModel.from_json(k) for k in data]

    async def sessions(self) -> list[SessionModel] | None:
        """The server's sessions, or None where there are none (Kernel Gateway, Enterprise Gateway)."""
        if self._no_sessions:
            return None
        r = await self._get("api/sessions")
        if r.status_code in (404, 405, 403):
            self._no_sessions = r.status_code != 403
            return None
        data = self._check(r, "listing sessions")
        if not isinstance(data, list):
            raise errors.ServerError("the server sent a malformed session list")
        return [x for x in (SessionModel.from_json(d) for d in data) if x is not None]

    async def start_session(self, path: str, name: str | None, timeout: float | None = None) -> KernelModel:
        """A kernel for a notebook path, through a new session (so JupyterLab shows it by name)."""
        specs = await self.kernelspecs()
        spec = name or str(specs.get("default", ""))
        if spec not in specs["kernelspecs"]:
            have = ", ".join(sorted(specs["kernelspecs"])) or "none"
            raise errors.NoSuchKernelspec(f"no kernelspec '{spec}' on {self.display_url} (available: {have})")
        kind = "notebook" if path.endswith(".ipynb") else "console"
        body = {"path": path, "type": kind, "name": path.rsplit("/", 1)[-1], "kernel": {"name": spec}}
        r = await self._call("POST", "api/sessions", json=body, timeout=timeout or self.launch_timeout)
        if r.status_code in (404, 405):
            self._no_sessions = True
            raise errors.UsageError(f"{self.display_url} has no sessions (a Kernel Gateway?): --path needs Jupyter Server")
        data = self._check(r, f"starting a session for {path}")
        if not isinstance(data, dict):
            raise errors.ServerError("the server sent a malformed session")
        return KernelModel.from_json(data.get("kernel"))

    async def kernel(self, kernel_id: str) -> KernelModel:
        r = await self._get(f"api/kernels/{kernel_id}")
        if r.status_code == 404:
            raise errors.NoSuchKernel(f"no kernel {kernel_id} on {self.display_url}")
        return KernelModel.from_json(self._check(r, "reading the kernel"))

    async def start_kernel(self, name: str | None = None, env: dict | None = None, timeout: float | None = None) -> KernelModel:
        timeout = timeout or self.launch_timeout
        specs = await self.kernelspecs()
        if name is not None and name not in specs["kernelspecs"]:
            have = ", ".join(sorted(specs["kernelspecs"])) or "none"
            raise errors.NoSuchKernelspec(f"no kernelspec '{name}' on {self.display_url} (available: {have})")
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = name
        if env:
            body["env"] = env
        r = await self._call("POST", "api/kernels", json=body, timeout=timeout)
        if r.status_code == 403:
            # the token was good for the kernelspecs: this is a refusal to start, not an auth failure
            user = (env or {}).get("KERNEL_USERNAME")
            hint = f"; it refuses the user '{user}': choose another with --env KERNEL_USERNAME=NAME" if user else ""
            raise errors.ServerError(f"{self.display_url} refused to start a kernel ({self._reason(r)}){hint}")
        return KernelModel.from_json(self._check(r, f"starting a {name or 'default'} kernel"))

    async def _kernel_action(self, kernel_id: str, action: str, timeout: float | None = None) -> Any:
        r = await self._call("POST", f"api/kernels/{kernel_id}/{action}", timeout=timeout)
        if r.status_code == 404:
            raise errors.NoSuchKernel(f"kernel {kernel_id[:8]} is gone from {self.display_url}")
        return self._check(r, f"{action} of kernel {kernel_id[:8]}")

    async def interrupt(self, kernel_id: str) -> None:
        await self._kernel_action(kernel_id, "interrupt")

    async def restart(self, kernel_id: str) -> None:
        await self._kernel_action(kernel_id, "restart", timeout=120.0)

    async def shutdown(self, kernel_id: str, patience: float = 10.0) -> None:
        """Shut a kernel down. A server busy restarting it answers 500: ask again until it
        confirms, for up to ``patience`` seconds."""
        deadline = time.monotonic() + patience
        while True:
            r = await self._call("DELETE", f"api/kernels/{kernel_id}")
            if r.status_code == 404:
                raise errors.NoSuchKernel(f"kernel {kernel_id[:8]} is gone from {self.display_url}")
            if r.status_code < 500 or time.monotonic() > deadline:
                self._check(r, f"shutting down kernel {kernel_id[:8]}")
                return
            await asyncio.sleep(0.5)

    async def resolve(self, prefix: str) -> KernelModel:
        """A running kernel by full id or unique id prefix."""
        try:
            found = [k for k in await self.kernels() if k.id.startswith(prefix)]
        except errors.ListingDisabled:
            return await self.kernel(prefix)  # listing off: only a full id can be found
        if not found:
            raise errors.NoSuchKernel(f"no running kernel matches '{prefix}' on {self.display_url}")
        exact = [k for k in found if k.id == prefix]
        if exact:
            return exact[0]
        if len(found) > 1:
            ids = ", ".join(k.id[:8] for k in found)
            raise errors.NoSuchKernel(f"'{prefix}' matches {len(found)} kernels ({ids}); give more of the id")
        return found[0]
