"""GuardedTransport: an httpx transport on aiohttp whose every connection passes the SSRF guard."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Mapping, Sequence
from http.cookiejar import Cookie, CookieJar
from typing import Any

import aiohttp
import httpx
import yarl
from aiohttp.abc import ResolveResult
from aiohttp.tracing import Trace

from onex_stream.infra.handlers.http_address_policy import HostPolicy

# aiohttp's errors as httpx's, most specific first (the first isinstance match wins)
_HTTPX_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
    (aiohttp.SocketTimeoutError, httpx.ReadTimeout),
    (aiohttp.ServerTimeoutError, httpx.TimeoutException),
    (aiohttp.ClientConnectorError, httpx.ConnectError),  # refused, DNS, TLS handshake
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientPayloadError, httpx.RemoteProtocolError),  # a truncated or malformed body
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),  # a malformed status or header
    (aiohttp.ClientConnectionError, httpx.NetworkError),  # e.g. reset by the peer
    (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
    (aiohttp.NonHttpUrlClientError, httpx.UnsupportedProtocol),
    (aiohttp.ClientError, httpx.TransportError),
    (ValueError, httpx.LocalProtocolError),  # a request aiohttp refuses to send (CR/LF...)
)
KEEPALIVE_EXPIRY_S = 5.0  # httpx's default
MAX_HEADER_BYTES = 16 * 1024  # h11's limit for a status or header line (aiohttp's: 8190)
EAGER_BODY_BYTES = 64 * 1024  # a body announced at most this long is read with the headers


class GuardedConnector(aiohttp.TCPConnector):
    """aiohttp's connection pool; a new connection goes only to addresses the policy checked.

    aiohttp resolves the host of every new connection (and only then) through
    ``_resolve_host``, IP literals included; here that is ``HostPolicy.resolve``: one
    lookup, every address checked, those addresses connected (no DNS cache, no proxy).
    """

    def __init__(self, policy: HostPolicy, **options: Any) -> None:
        super().__init__(use_dns_cache=False, **options)
        self._policy = policy

    async def _resolve_host(
        self, host: str, port: int, traces: Sequence[Trace] | None = None
    ) -> list[ResolveResult]:
        """The checked addresses of ``host``, in the resolver's order."""
        return [
            {
                "hostname": host,
                "host": str(address),
                "port": port,
                "family": socket.AF_INET6 if address.version == 6 else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for address in await self._policy.resolve(host, port)
        ]


class GuardedTransport(httpx.AsyncBaseTransport):
    """httpx's public transport API over an aiohttp pool that connects only through
    ``GuardedConnector`` (no proxy, no environment, no cookies kept, bodies left encoded
    for httpx to decode and cap). A request body is sent whole; an answer whose announced
    body is at most ``EAGER_BODY_BYTES`` comes with its body read, any other streams. The
    session is made on the first request, in that request's event loop."""

    def __init__(self, policy: HostPolicy, max_connections: int) -> None:
        self._policy, self._limit = policy, max_connections
        self._ssl = httpx.create_ssl_context(trust_env=False)
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[tuple[Any, ...], aiohttp.ClientTimeout] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` on the pool; aiohttp's errors are raised as httpx's."""
        body, coding = await request.aread(), request.headers.encoding  # names keep their case
        with _AS_HTTPX_ERRORS:
            response = await self._ready_session().request(
                request.method,
                _yarl_url(request.url),
                headers=[(k.decode(coding), v.decode(coding)) for k, v in request.headers.raw],
                data=body or None,
                timeout=self._timeout(request.extensions.get("timeout", {})),
                allow_redirects=False,
            )
        stream: httpx.AsyncByteStream = _ResponseStream(response)
        if (length := response.content_length) is not None and length <= EAGER_BODY_BYTES:
            with _AS_HTTPX_ERRORS:  # a failed read closes the connection
                stream = httpx.ByteStream(await response.read())  # still encoded: httpx decodes
            response.release()
        version = response.version
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=stream,
            extensions={
                "http_version": f"HTTP/{version.major}.{version.minor}".encode()
                if version is not None
                else b"HTTP/1.1",
                "reason_phrase": (response.reason or "").encode("latin-1", "replace"),
            },
        )

    async def aclose(self) -> None:
        """Close the pool and its connections."""
        if self._session is not None:
            await self._session.close()

    def _ready_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = GuardedConnector(
                self._policy, ssl=self._ssl, limit=self._limit, keepalive_timeout=KEEPALIVE_EXPIRY_S
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),  # one caller's cookies never reach another
                trust_env=False,  # no proxy from the environment: it would bypass the guard
                auto_decompress=False,  # httpx decodes, and caps the decoded body
                skip_auto_headers=("Content-Type",),  # httpx's headers are sent as they are
                max_line_size=MAX_HEADER_BYTES,
                max_field_size=MAX_HEADER_BYTES,
            )
        return self._session

    def _timeout(self, budget: Mapping[str, float | None]) -> aiohttp.ClientTimeout:
        """httpx's timeouts (connect, read, pool) as aiohttp's; cached, they rarely vary."""
        key = (budget.get("connect"), budget.get("read"), budget.get("pool"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            if len(self._timeouts) >= 64:
                self._timeouts.clear()
            timeout = aiohttp.ClientTimeout(sock_connect=key[0], sock_read=key[1], connect=key[2])
            self._timeouts[key] = timeout
        return timeout


class _ResponseStream(httpx.AsyncByteStream):
    """A response body read from aiohttp, its errors raised as httpx's."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _AS_HTTPX_ERRORS:
            async for part in self._response.content.iter_any():
                yield part

    async def aclose(self) -> None:
        """Release the connection: back to the pool once the body was read, else closed."""
        self._response.release()


class _KeepsNothing(CookieJar):
    """A cookie jar that never stores a cookie."""

    def set_cookie(self, cookie: Cookie) -> None:
        """Drop ``cookie``."""


class _NoCookies(httpx.Cookies):
    """A cookie store that keeps nothing, so it may be shared by every client."""

    def __init__(self) -> None:
        super().__init__(_KeepsNothing())

    def extract_cookies(self, response: httpx.Response) -> None:
        """Keep nothing from ``response`` (httpx calls this on every answer)."""


class _CookielessClient(httpx.AsyncClient):
    """httpx's client with a store that keeps no cookie: one caller's session never
    reaches another, and no answer pays for cookie parsing."""

    _no_cookies = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        """Always empty."""
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        raise TypeError("this client keeps no cookies")


def guarded_client(
    policy: HostPolicy, max_connections: int, timeout: httpx.Timeout
) -> httpx.AsyncClient:
    """An httpx client on a ``GuardedTransport``: no redirect followed by itself, no proxy or
    certificate settings from the environment (a proxy would bypass the guard), no cookies."""
    return _CookielessClient(
        transport=GuardedTransport(policy, max_connections),
        follow_redirects=False,
        timeout=timeout,
        trust_env=False,
    )


def _yarl_url(url: httpx.URL) -> yarl.URL:
    """``url`` as httpx parsed it (no second parse of its authority; no userinfo)."""
    host = url.raw_host.decode("ascii")
    path, _, query = url.raw_path.decode("ascii").partition("?")
    return yarl.URL.build(
        scheme=url.scheme,
        host=f"[{host}]" if ":" in host else host,
        port=url.port,
        path=path,
        query_string=query,
        encoded=True,
    )


class _AsHttpxErrors:
    """``with _AS_HTTPX_ERRORS:`` raises aiohttp's errors as httpx's (a class, not a
    generator: it is entered on every request)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, trace: object) -> None:
        if isinstance(exc, aiohttp.ClientError | ValueError):
            mapped = next(error for aio, error in _HTTPX_ERRORS if isinstance(exc, aio))
            raise mapped(str(exc) or type(exc).__name__) from exc


_AS_HTTPX_ERRORS = _AsHttpxErrors()
