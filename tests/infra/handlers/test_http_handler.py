"""HttpHandler against a real aiohttp server on loopback (no transport mocks)."""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from onex_stream.core.errors import (
    HandlerConfigurationError,
    HandlerExecutionError,
    HandlerTimeoutError,
    InvalidOperationError,
    OperationNotAllowedError,
    RuntimeHostError,
)
from onex_stream.core.responses import error_info
from onex_stream.infra.handlers import http as http_module
from onex_stream.infra.handlers.http import HostPolicy, HttpHandler, is_public
from tests.infra.handlers.conftest import CORRELATION_ID, FakeDns, WebServer, command

Start = Callable[..., Awaitable[Any]]
LOOPBACK = {"allowed_hosts": ["127.0.0.1"]}
TOKEN = "planted-bearer-token-93af"
API_KEY = "planted-api-key-51c0"
QUERY_TOKEN = "planted-query-token-0d7e"


@pytest.fixture
async def http(started: Start) -> HttpHandler:
    """An http handler allowed to reach 127.0.0.1 only."""
    handler: HttpHandler = await started(HttpHandler(), **LOOPBACK)
    return handler


async def test_get_returns_status_headers_and_decoded_json_body(
    http: HttpHandler, web_server: WebServer
) -> None:
    result = await http.execute(
        command("http.get", {"url": web_server.url("/echo"), "params": {"q": "x", "n": 2}})
    )
    assert result is not None
    assert result["status_code"] == 200
    assert result["headers"]["x-server"] == "aiohttp-test"
    assert result["body"]["method"] == "GET"
    assert result["body"]["query"] == {"q": "x", "n": "2"}


@pytest.mark.parametrize("operation", ["http.post", "http.put", "http.patch", "http.delete"])
async def test_each_write_method_sends_its_verb_headers_and_json_body(
    http: HttpHandler, web_server: WebServer, operation: str
) -> None:
    payload = {"url": web_server.url("/echo"), "headers": {"X-Trace": "t-1"}, "body": {"a": [1]}}
    result = await http.execute(command(operation, payload))
    assert result is not None
    body = result["body"]
    assert body["method"] == operation.removeprefix("http.").upper()
    assert (body["content_type"], body["body"], body["x_trace"]) == (
        "application/json",
        '{"a":[1]}',
        "t-1",
    )


async def test_a_text_body_is_sent_as_is(http: HttpHandler, web_server: WebServer) -> None:
    payload = {"url": web_server.url("/echo"), "body": "plain words"}
    result = await http.execute(command("http.post", payload))
    assert result is not None
    assert result["body"]["body"] == "plain words"


async def test_text_bodies_are_decoded_with_their_charset(
    http: HttpHandler, web_server: WebServer
) -> None:
    for charset in ("utf-8", "latin-1", "bogus"):
        url = web_server.url(f"/text?charset={charset}")
        result = await http.execute(command("http.get", {"url": url}))
        assert result is not None
        assert result["body"] == "caf\u00e9"


async def test_a_json_content_type_with_a_broken_body_comes_back_as_text(
    http: HttpHandler, web_server: WebServer
) -> None:
    result = await http.execute(command("http.get", {"url": web_server.url("/broken-json")}))
    assert result is not None
    assert result["body"] == "{not json"


@pytest.mark.parametrize("status", [404, 500, 503])
async def test_a_non_2xx_answer_is_a_successful_call_reporting_its_status(
    http: HttpHandler, web_server: WebServer, status: int
) -> None:
    result = await http.execute(command("http.get", {"url": web_server.url(f"/status/{status}")}))
    assert result is not None
    assert (result["status_code"], result["body"]) == (status, {"status": "failed"})


async def test_loopback_is_refused_by_default_before_any_request(
    started: Start, web_server: WebServer
) -> None:
    handler = await started(HttpHandler())
    with pytest.raises(OperationNotAllowedError) as raised:
        await handler.execute(command("http.get", {"url": web_server.url("/echo")}))
    assert raised.value.code.value == "OPERATION_NOT_ALLOWED"
    assert raised.value.details == {"host": "127.0.0.1"}
    assert (raised.value.correlation_id, raised.value.operation) == (CORRELATION_ID, "http.get")
    assert web_server.seen == []


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "224.0.0.251",
        "0.0.0.0",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
    ],
)
def test_non_public_addresses_are_recognised(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))
    with pytest.raises(OperationNotAllowedError, match="non-public"):
        HostPolicy([]).check("anything.example", ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed_without_allowed_hosts(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))
    HostPolicy([]).check("anything.example", ipaddress.ip_address(address))


@pytest.mark.parametrize(
    ("host", "address", "allowed"),
    [
        ("db.internal", "10.0.0.5", True),  # exact names may be private
        ("api.example.com", "8.8.8.8", True),  # wildcard, public address
        ("deep.api.example.com", "8.8.8.8", True),
        ("example.com", "8.8.8.8", False),  # the wildcard needs a sub-domain
        ("evil.example.com", "127.0.0.1", False),  # wildcards never open private addresses
        ("other.org", "8.8.8.8", False),  # not listed
        ("anything", "10.9.8.7", True),  # CIDR entry
        ("anything", "10.10.0.1", False),
    ],
)
def test_allowed_hosts_take_names_wildcards_and_cidrs(
    host: str, address: str, allowed: bool
) -> None:
    policy = HostPolicy(["db.internal", "*.example.com", "10.9.0.0/16"])
    if allowed:
        policy.check(host, ipaddress.ip_address(address))
    else:
        with pytest.raises(OperationNotAllowedError):
            policy.check(host, ipaddress.ip_address(address))


async def test_a_name_is_resolved_once_and_the_checked_address_is_the_one_connected(
    started: Start, web_server: WebServer, fake_dns: FakeDns
) -> None:
    fake_dns.answers["api.test"] = ["127.0.0.1"]
    handler = await started(HttpHandler(), allowed_hosts=["api.test"])
    url = f"http://api.test:{web_server.port}/echo"
    result = await handler.execute(command("http.get", {"url": url}))
    assert result is not None
    assert result["body"]["host"] == f"api.test:{web_server.port}"
    assert fake_dns.asked == ["api.test"]


async def test_every_resolved_address_must_be_allowed(
    started: Start, web_server: WebServer, fake_dns: FakeDns
) -> None:
    fake_dns.answers["one.test"] = ["127.0.0.1"]
    fake_dns.answers["mixed.test"] = ["127.0.0.1", "127.0.0.2"]
    handler = await started(HttpHandler(), allowed_hosts=["*.test", "127.0.0.1/32"])
    url = f"http://one.test:{web_server.port}/echo"
    result = await handler.execute(command("http.get", {"url": url}))
    assert result is not None and result["status_code"] == 200  # the CIDR entry allows it
    with pytest.raises(OperationNotAllowedError, match="non-public"):
        url = f"http://mixed.test:{web_server.port}/echo"
        await handler.execute(command("http.get", {"url": url}))
    assert web_server.paths() == ["/echo"]


async def test_the_next_resolved_address_is_tried_when_one_refuses(
    started: Start, web_server: WebServer, fake_dns: FakeDns
) -> None:
    fake_dns.answers["dual.test"] = ["127.0.0.3", "127.0.0.1"]  # nothing listens on .3
    handler = await started(HttpHandler(), allowed_hosts=["dual.test"])
    url = f"http://dual.test:{web_server.port}/echo"
    result = await handler.execute(command("http.get", {"url": url}))
    assert result is not None and result["status_code"] == 200


async def test_redirects_are_followed_hop_by_hop(http: HttpHandler, web_server: WebServer) -> None:
    result = await http.execute(command("http.get", {"url": web_server.url("/hops/3")}))
    assert result is not None
    assert result["body"] == {"arrived": True}
    assert web_server.paths() == ["/hops/3", "/hops/2", "/hops/1", "/hops/0"]


async def test_more_redirects_than_allowed_fail(started: Start, web_server: WebServer) -> None:
    handler = await started(HttpHandler(), max_redirects=2, **LOOPBACK)
    with pytest.raises(HandlerExecutionError, match="more than 2 redirects") as raised:
        await handler.execute(command("http.get", {"url": web_server.url("/hops/5")}))
    assert raised.value.details == {"max_redirects": 2}
    assert len(web_server.seen) == 3


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("http://127.0.0.1:{port}/echo", "non-public"),  # the same server, by address
        ("http://localhost:{port}/echo", "non-public"),  # a name that is not listed
        ("http://internal.test:{port}/echo", "non-public"),  # wildcards never open loopback
        ("file:///etc/passwd", "scheme 'file'"),
    ],
)
async def test_a_redirect_to_a_place_that_is_not_allowed_is_refused(
    started: Start, web_server: WebServer, fake_dns: FakeDns, target: str, reason: str
) -> None:
    for name in ("api.test", "internal.test", "localhost"):
        fake_dns.answers[name] = ["127.0.0.1"]
    handler = await started(HttpHandler(), allowed_hosts=["api.test", "*.test"])
    location = target.format(port=web_server.port)
    url = f"http://api.test:{web_server.port}/redirect"
    with pytest.raises(OperationNotAllowedError, match=reason):
        await handler.execute(command("http.get", {"url": url, "params": {"to": location}}))
    assert web_server.paths() == ["/redirect"]


async def test_a_body_over_the_cap_is_refused_while_streaming(
    started: Start, web_server: WebServer
) -> None:
    handler = await started(HttpHandler(), max_response_bytes=4096, **LOOPBACK)
    result = await handler.execute(command("http.get", {"url": web_server.url("/bytes/4096")}))
    assert result is not None and len(result["body"]) == 4096
    with pytest.raises(HandlerExecutionError, match="max_response_bytes") as raised:
        await handler.execute(command("http.get", {"url": web_server.url("/bytes/1000000")}))
    assert raised.value.details == {"max_response_bytes": 4096, "status_code": 200}


async def test_the_cap_counts_decoded_bytes_so_a_small_compressed_bomb_is_refused(
    started: Start, web_server: WebServer
) -> None:
    """A 1 MB body gzipped to ~1 KiB is read with its headers; decoding it stops at the cap."""
    handler = await started(HttpHandler(), max_response_bytes=4096, **LOOPBACK)
    result = await handler.execute(command("http.get", {"url": web_server.url("/gzip/4096")}))
    assert result is not None and result["body"] == "x" * 4096
    with pytest.raises(HandlerExecutionError, match="max_response_bytes") as raised:
        await handler.execute(command("http.get", {"url": web_server.url("/gzip/1000000")}))
    assert raised.value.details == {"max_response_bytes": 4096, "status_code": 200}


@pytest.mark.parametrize("path", ["/stall", "/stall-body"])
async def test_a_stalled_server_gives_handler_timeout(
    started: Start, web_server: WebServer, path: str
) -> None:
    handler = await started(HttpHandler(), timeout_ms=50, **LOOPBACK)
    began = time.monotonic()
    with pytest.raises(HandlerTimeoutError) as raised:
        await handler.execute(command("http.get", {"url": web_server.url(path)}))
    assert time.monotonic() - began < 1.0
    assert raised.value.code.value == "HANDLER_TIMEOUT"
    assert raised.value.details == {"timeout_ms": 50}


async def test_a_refused_connection_is_a_handler_execution_error(
    http: HttpHandler, closed_port: int
) -> None:
    url = f"http://127.0.0.1:{closed_port}/"
    with pytest.raises(HandlerExecutionError) as raised:
        await http.execute(command("http.get", {"url": url}))
    assert type(raised.value) is HandlerExecutionError
    assert raised.value.details == {"error": "ConnectError"}


async def test_a_name_that_does_not_resolve_is_a_handler_execution_error(
    started: Start, fake_dns: FakeDns
) -> None:
    handler = await started(HttpHandler(), allowed_hosts=["*.test"])
    with pytest.raises(HandlerExecutionError, match="transport failed"):
        await handler.execute(command("http.get", {"url": "http://nowhere.test/"}))


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "url"),
        ({"url": "ftp://example.com/file"}, "url"),
        ({"url": "/relative"}, "url"),
        ({"url": "http://example.com", "headers": {"X-N": 1}}, "headers.X-N"),
        ({"url": "http://example.com", "headers": {"X-N": "a\r\nInjected: 1"}}, "headers.X-N"),
        ({"url": "http://example.com", "headers": {"X-N": "caf\u00e9"}}, "headers.X-N"),
        ({"url": "http://example.com", "header": {"X-N": "1"}}, "header"),
        ({"url": "http://example.com", "params": {"q": {"nested": 1}}}, "params.q"),
    ],
)
async def test_an_invalid_payload_is_an_invalid_operation_naming_the_field(
    http: HttpHandler, payload: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidOperationError) as raised:
        await http.execute(command("http.get", payload))
    assert any(name.startswith(field) for name in raised.value.details["fields"])
    assert f"{field}: " in raised.value.message or f"{field}." in raised.value.message


async def test_an_unknown_operation_lists_the_available_ones(http: HttpHandler) -> None:
    with pytest.raises(InvalidOperationError) as raised:
        await http.execute(command("http.head", {"url": "http://example.com"}))
    assert raised.value.details == {
        "available_operations": ["http.delete", "http.get", "http.patch", "http.post", "http.put"]
    }


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"allowed_host": ["x"]}, "allowed_host"),
        ({"allowed_hosts": ["http://x.example"]}, "allowed_hosts"),
        ({"max_redirects": -1}, "max_redirects"),
        ({"max_response_bytes": 0}, "max_response_bytes"),
    ],
)
async def test_a_bad_config_is_refused_naming_the_key(config: dict[str, Any], named: str) -> None:
    with pytest.raises(HandlerConfigurationError, match=named) as raised:
        await HttpHandler().initialize(config)
    assert raised.value.details["fields"] == [named]


async def test_the_shared_policy_keys_are_accepted(started: Start, web_server: WebServer) -> None:
    handler = await started(HttpHandler(), timeout_ms=5000, pool_size=2, **LOOPBACK)
    result = await handler.execute(command("http.get", {"url": web_server.url("/echo")}))
    assert result is not None and result["status_code"] == 200


async def test_cookies_from_one_call_never_reach_the_next(
    http: HttpHandler, web_server: WebServer
) -> None:
    await http.execute(command("http.get", {"url": web_server.url("/set-cookie")}))
    result = await http.execute(command("http.get", {"url": web_server.url("/cookies")}))
    assert result is not None
    assert result["body"] == {"cookie": None}


async def test_tokens_and_passwords_never_reach_logs_or_error_envelopes(
    started: Start, web_server: WebServer, closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret_headers = {"Authorization": f"Bearer {TOKEN}", "X-Api-Key": API_KEY}
    handler = await started(HttpHandler(), timeout_ms=100, max_response_bytes=1000, **LOOPBACK)
    default = await started(HttpHandler())
    base = f"http://user:{TOKEN}@127.0.0.1:{web_server.port}"
    calls = [
        (handler, f"{base}/echo"),  # success
        (handler, f"{base}/bytes/5000"),  # body cap
        (handler, f"{base}/stall"),  # timeout
        (handler, f"http://127.0.0.1:{closed_port}/"),  # transport failure
        (default, f"{base}/echo"),  # refused
    ]
    envelopes = []
    for target, url in calls:
        payload = {"url": url, "headers": secret_headers, "params": {"token": QUERY_TOKEN}}
        try:
            await target.execute(command("http.get", payload))
        except RuntimeHostError as error:
            envelopes.append(error_info(error).model_dump_json())
    assert len(envelopes) == 4
    assert "HTTP Request: GET http://127.0.0.1" in caplog.text  # httpx's own log, redacted
    for secret in (TOKEN, API_KEY, QUERY_TOKEN):
        assert secret not in caplog.text
        assert not any(secret in envelope for envelope in envelopes)


async def test_urls_that_may_carry_credentials_are_never_kept_by_the_parse_cache(
    http: HttpHandler, web_server: WebServer
) -> None:
    """Userinfo and query strings may hold tokens: only plain endpoints stay cached."""
    kept = http_module._endpoint.cache_info
    before = kept().currsize
    base = f"http://127.0.0.1:{web_server.port}"
    for url in (f"http://user:{TOKEN}@127.0.0.1:{web_server.port}/echo", f"{base}/echo?t=1"):
        await http.execute(command("http.get", {"url": url}))
    assert kept().currsize == before
    await http.execute(command("http.get", {"url": f"{base}/echo-{time.monotonic_ns()}"}))
    assert kept().currsize == before + 1


async def test_health_check_describe_and_shutdown(started: Start) -> None:
    handler = HttpHandler()
    assert (await handler.health_check())["healthy"] is False
    await handler.initialize({})
    assert await handler.health_check() == {"healthy": True, "handler_type": "http"}
    description = handler.describe()
    assert description["supported_operations"] == sorted(handler.supported_operations)
    assert description["required_payload_fields"]["http.post"] == ["url"]
    assert set(description["response_shape"]) == {"status_code", "headers", "body"}
    await handler.shutdown()
    assert (await handler.health_check())["healthy"] is False
    with pytest.raises(HandlerExecutionError, match="not initialized"):
        await handler.execute(command("http.get", {"url": "http://example.com"}))
