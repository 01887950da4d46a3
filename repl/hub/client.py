"""JupyterHub's REST API over the same HTTP plumbing as the gateway's (:class:`RestClient`, so the
token, headers, TLS and tracing are the same), every answer mapped to :mod:`repl.errors`.

A 401 or 403 on ``hub/api/user`` is a bad token; a 403 elsewhere names the scope the token lacks
(the hub says ``requires any of [scope]``), with where to make a token that has it.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, AsyncIterator

from repl import errors
from repl.gateway import urls
from repl.protocol import hub as h

if TYPE_CHECKING:
    import httpx

    from repl.gateway.rest import RestClient

# What each request needs (JupyterHub 5/6 scope names): said when the hub refuses.
NEEDS = {"read": "read:servers", "start": "servers (start:servers on JupyterHub 6)", "stop": "servers (stop:servers on JupyterHub 6)"}


class HubClient:
    def __init__(self, http: RestClient) -> None:
        self.http = http  # at the hub's base URL
        http.kind = "the hub"
        self.base_url = http.base_url
        self.display_url = http.display_url

    @property
    def token_page(self) -> str:
        return urls.display(self.base_url + "hub/token")

    async def aclose(self) -> None:
        await self.http.aclose()

    async def version(self) -> str | None:
        """The hub's version if this is a JupyterHub (``hub/api/`` answers without auth), else None."""
        try:
            r = await self.http.get("hub/api/")
        except errors.ReplError:
            return None
        if r.status_code != 200:
            return None
        with contextlib.suppress(ValueError):
            data = r.json()
            if isinstance(data, dict) and isinstance(data.get("version"), str):
                return data["version"]
        return None

    def _refused(self, r: httpx.Response, what: str, need: str) -> errors.ReplError:
        message = self._message(r)
        if "credentials" in message.lower():  # "Missing or invalid credentials.": revoked or expired
            return errors.AuthError(f"the hub at {self.display_url} no longer takes the token ({message.rstrip('.')}): "
                                    f"it may have been revoked or have expired; the hub's Token page ({self.token_page}) "
                                    "makes another")
        scope = h.missing_scopes(message) or need
        return errors.ScopeError(f"the hub at {self.display_url} refused {what}: the token lacks the scope {scope}; "
                                 f"make one with it on the hub's Token page ({self.token_page})")

    def _message(self, r: httpx.Response) -> str:
        try:
            data = r.json()
            text = data.get("message") if isinstance(data, dict) else ""
        except ValueError:
            text = ""
        return self.http.scrub(str(text or "").strip().splitlines()[0] if str(text or "").strip() else "")

    def _fail(self, r: httpx.Response, what: str) -> errors.ReplError:
        message = self._message(r)
        return errors.ServerError(f"the hub at {self.display_url} could not {what}: "
                                  + (message or f"HTTP {r.status_code}"))

    def _json(self, r: httpx.Response, what: str) -> Any:
        try:
            return r.json()
        except ValueError:
            raise errors.ServerError(f"the hub at {self.display_url} answered {what} with something that is not JSON") from None

    async def user(self) -> h.UserModel:
        """Who the token belongs to (and their servers, with read:servers)."""
        r = await self.http.request("GET", "hub/api/user?include_stopped_servers=1")
        if r.status_code in (401, 403):
            how = "check --token or JUPYTER_GATEWAY_AUTH_TOKEN" if self.http.auth_headers.get("Authorization") else \
                "pass --token or set JUPYTER_GATEWAY_AUTH_TOKEN"
            raise errors.AuthError(f"the hub at {self.display_url} rejected the token (HTTP {r.status_code}): {how}; "
                                   f"the hub's Token page ({self.token_page}) makes one")
        if r.status_code >= 400:
            raise self._fail(r, "say who the token belongs to")
        try:
            return h.UserModel.from_json(self._json(r, "who the token belongs to"))
        except ValueError:
            raise errors.ServerError(f"the hub at {self.display_url} sent a user without a name") from None

    async def servers(self, user: str) -> dict[str, h.ServerModel]:
        """``user``'s servers, stopped named ones too."""
        from urllib.parse import quote

        r = await self.http.request("GET", f"hub/api/users/{quote(user, safe='')}?include_stopped_servers=1")
        if r.status_code == 403:
            raise self._refused(r, f"to list the servers of {user}", NEEDS["read"])
        if r.status_code == 404:
            raise errors.ServerError(f"the hub at {self.display_url} has no user {user}")
        if r.status_code >= 400:
            raise self._fail(r, f"list the servers of {user}")
        data = self._json(r, "the list of servers")
        found = data.get("servers") if isinstance(data, dict) else None
        if not isinstance(found, dict):
            raise self._refused(r, f"to list the servers of {user}", NEEDS["read"])
        return {str(k): h.ServerModel.from_json(str(k), v) for k, v in found.items()}

    async def server(self, user: str, name: str) -> h.ServerModel:
        """One server's model (a stopped one that was never made is ``stopped``)."""
        return (await self.servers(user)).get(name) or h.ServerModel(name)

    async def start(self, user: str, name: str, options: dict) -> bool:
        """Ask the hub to start the server; True if it is ready at once (or was running)."""
        # No body: the hub starts it with the user_options of its last spawn (as its page does).
        # The options as the whole body: what every hub takes (JupyterHub 6 also takes
        # {"user_options": …}, which older hubs would pass on to the spawner as one option).
        r = await self.http.request("POST", h.api_path(user, name), json=options or None)
        if r.status_code == 403:
            raise self._refused(r, f"to start {h.server_label(name)} of {user}", NEEDS["start"])
        if r.status_code == 400 and "already running" in self._message(r):
            return True
        if r.status_code == 404:
            raise errors.ServerError(f"the hub at {self.display_url} has no user {user}"
                                     + ("" if name == h.DEFAULT else " (or does not allow named servers)"))
        if r.status_code >= 400:
            raise self._fail(r, f"start {h.server_label(name)} of {user}")
        return r.status_code == 201

    async def stop(self, user: str, name: str) -> bool:
        """Ask the hub to stop the server; True if it has stopped (False: it is stopping)."""
        r = await self.http.request("DELETE", h.api_path(user, name))
        if r.status_code == 403:
            raise self._refused(r, f"to stop {h.server_label(name)} of {user}", NEEDS["stop"])
        if r.status_code == 400 and "not running" in self._message(r):
            return True
        if r.status_code == 404:
            raise errors.ServerError(f"the hub at {self.display_url} has no {h.server_label(name)} for {user}")
        if r.status_code >= 400:
            raise self._fail(r, f"stop {h.server_label(name)} of {user}")
        return r.status_code == 204

    async def progress(self, user: str, name: str) -> AsyncIterator[h.Progress]:
        """The spawn's progress events as they come (a proxy that buffers the stream delays them)."""
        import httpx

        try:
            async with self.http.stream(h.api_path(user, name, "progress")) as r:
                if r.status_code == 403:
                    await r.aread()
                    raise self._refused(r, "to show the spawn's progress", NEEDS["read"])
                if r.status_code >= 400:
                    await r.aread()
                    raise self._fail(r, "show the spawn's progress")
                stream = h.EventStream()
                async for chunk in r.aiter_text():
                    for data in stream.feed(chunk):
                        event = h.progress_event(data)
                        if event is not None:
                            yield event
        except httpx.HTTPError as exc:
            raise errors.ServerUnreachable(f"the hub at {self.display_url} stopped sending the spawn's progress: "
                                           f"{self.http.scrub(str(exc)) or type(exc).__name__}") from None
