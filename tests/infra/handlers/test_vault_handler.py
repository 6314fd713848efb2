"""VaultHandler against a real OpenBao dev server (KV v2, tokens, AppRole, policies)."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from uuid import uuid4

import coverage
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from onex_stream.core.errors import (
    HandlerConfigurationError,
    HandlerExecutionError,
    HandlerTimeoutError,
    InvalidOperationError,
    OperationNotAllowedError,
    SecretResolutionError,
)
from onex_stream.core.secret_refs import parse_secret_ref
from onex_stream.infra.handlers.vault import VaultHandler
from tests.infra.handlers.conftest import command, run
from tests.support import openbao
from tests.support.canary import CANARY
from tests.support.openbao import OpenBao
from tests.support.rotation import FakeClock

openbao_server = openbao.openbao_server  # the session's OpenBao (tests/support/openbao.py)
Start = Callable[..., Awaitable[Any]]
VALUE = "planted-vault-value-6b1e"
KV_RULES = 'path "secret/*" { capabilities = ["create", "read", "update", "delete", "list"] }'


@pytest.fixture
def base() -> str:
    """A fresh folder under the KV mount for each test."""
    return f"t{uuid4().hex[:12]}"


@pytest.fixture
async def vault(started: Start, openbao_server: OpenBao) -> VaultHandler:
    """A vault handler logged in with the root token."""
    handler: VaultHandler = await started(
        VaultHandler(), address=openbao_server.address, token=openbao_server.root_token
    )
    return handler


async def test_set_then_get_returns_data_and_version_metadata(
    vault: VaultHandler, base: str
) -> None:
    written = await run(vault, "set_secret", path=f"{base}/db", data={"password": VALUE, "n": 1})
    assert written["metadata"]["version"] == 1
    read = await run(vault, "get_secret", path=f"{base}/db")
    assert read["found"] is True
    assert read["data"] == {"password": VALUE, "n": 1}
    assert read["metadata"]["version"] == 1


async def test_get_with_key_returns_only_that_value(vault: VaultHandler, base: str) -> None:
    await run(vault, "set_secret", path=f"{base}/db", data={"password": VALUE, "user": "onex"})
    read = await run(vault, "get_secret", path=f"{base}/db", key="user")
    assert read == {"found": True, "value": "onex", "metadata": read["metadata"]}


async def test_older_versions_stay_readable_by_number(vault: VaultHandler, base: str) -> None:
    await run(vault, "set_secret", path=f"{base}/s", data={"v": "one"})
    second = await run(vault, "set_secret", path=f"{base}/s", data={"v": "two"})
    assert second["metadata"]["version"] == 2
    assert (await run(vault, "get_secret", path=f"{base}/s"))["data"] == {"v": "two"}
    old = await run(vault, "get_secret", path=f"{base}/s", version=1)
    assert old["data"] == {"v": "one"}
    assert old["metadata"]["version"] == 1


async def test_missing_secret_and_missing_key_are_found_false_answers(
    vault: VaultHandler, base: str
) -> None:
    assert (await run(vault, "get_secret", path=f"{base}/none"))["found"] is False
    await run(vault, "set_secret", path=f"{base}/s", data={"a": "1"})
    assert (await run(vault, "get_secret", path=f"{base}/s", key="b"))["found"] is False
    assert (await run(vault, "get_secret", path=f"{base}/s", version=9))["found"] is False


async def test_check_and_set_mismatch_is_invalid_operation_without_the_value(
    vault: VaultHandler, base: str, caplog: pytest.LogCaptureFixture
) -> None:
    await run(vault, "set_secret", path=f"{base}/s", data={"a": "1"})
    with pytest.raises(InvalidOperationError) as raised:
        await run(vault, "set_secret", path=f"{base}/s", data={"a": VALUE}, cas=0)
    assert raised.value.details["status_code"] == 400
    assert raised.value.operation == "vault.set_secret"
    assert VALUE not in str(raised.value.context())
    assert VALUE not in caplog.text


async def test_delete_latest_then_named_versions(vault: VaultHandler, base: str) -> None:
    await run(vault, "set_secret", path=f"{base}/s", data={"v": "one"})
    await run(vault, "set_secret", path=f"{base}/s", data={"v": "two"})
    assert (await run(vault, "delete_secret", path=f"{base}/s"))["versions"] == "latest"
    latest = await run(vault, "get_secret", path=f"{base}/s")
    assert latest["found"] is False
    assert latest["metadata"]["deletion_time"]
    assert (await run(vault, "get_secret", path=f"{base}/s", version=1))["found"] is True
    await run(vault, "delete_secret", path=f"{base}/s", versions=[1])
    assert (await run(vault, "get_secret", path=f"{base}/s", version=1))["found"] is False


async def test_list_returns_keys_and_folders_and_nothing_for_a_missing_folder(
    vault: VaultHandler, base: str
) -> None:
    await run(vault, "set_secret", path=f"{base}/a", data={"x": "1"})
    await run(vault, "set_secret", path=f"{base}/sub/b", data={"x": "1"})
    assert sorted((await run(vault, "list_secrets", path=base))["keys"]) == ["a", "sub/"]
    assert (await run(vault, "list_secrets", path=f"{base}/none"))["keys"] == []


@pytest.mark.parametrize(
    ("operation", "payload"),
    [
        ("get_secret", {"path": "a/../b"}),
        ("get_secret", {"path": "a", "version": 0}),
        ("set_secret", {"path": "a"}),
        ("delete_secret", {"path": "a", "versions": []}),
    ],
)
async def test_malformed_payloads_are_invalid_operations(
    vault: VaultHandler, operation: str, payload: dict[str, Any]
) -> None:
    with pytest.raises(InvalidOperationError):
        await run(vault, operation, **payload)


async def test_unknown_operation_is_invalid(vault: VaultHandler) -> None:
    with pytest.raises(InvalidOperationError) as raised:
        await vault.execute(command("vault.rotate", {"path": "a"}))
    assert "vault.get_secret" in raised.value.details["available_operations"]


async def test_restricted_token_is_refused_elsewhere_with_403(
    started: Start, openbao_server: OpenBao, vault: VaultHandler, base: str
) -> None:
    await run(vault, "set_secret", path=f"{base}/other", data={"x": VALUE})
    policy = openbao_server.policy(f'path "secret/data/{base}/mine" {{ capabilities = ["read"] }}')
    token = openbao_server.token([policy])
    await run(vault, "set_secret", path=f"{base}/mine", data={"x": "ok"})
    restricted: VaultHandler = await started(
        VaultHandler(), address=openbao_server.address, token=token
    )
    assert (await run(restricted, "get_secret", path=f"{base}/mine"))["data"] == {"x": "ok"}
    with pytest.raises(OperationNotAllowedError) as raised:
        await run(restricted, "get_secret", path=f"{base}/other")
    assert raised.value.details == {"status_code": 403}
    with pytest.raises(OperationNotAllowedError):
        await run(restricted, "set_secret", path=f"{base}/mine", data={"x": "no"})
    assert VALUE not in str(raised.value.context())


async def test_approle_login_reads_and_writes(
    started: Start, openbao_server: OpenBao, base: str
) -> None:
    role_id, secret_id = openbao_server.approle([openbao_server.policy(KV_RULES)])
    handler: VaultHandler = await started(
        VaultHandler(),
        address=openbao_server.address,
        approle={"role_id": role_id, "secret_id": secret_id},
    )
    await run(handler, "set_secret", path=f"{base}/s", data={"k": "v"})
    assert (await run(handler, "get_secret", path=f"{base}/s", key="k"))["value"] == "v"


async def test_wrong_approle_secret_id_stops_initialize_without_showing_it(
    openbao_server: OpenBao, caplog: pytest.LogCaptureFixture
) -> None:
    role_id, _ = openbao_server.approle(["default"])
    handler = VaultHandler()
    with pytest.raises(InvalidOperationError) as raised:
        await handler.initialize(
            {
                "address": openbao_server.address,
                "approle": {"role_id": role_id, "secret_id": CANARY},
            }
        )
    await handler.shutdown()
    assert raised.value.handler_type == "vault"
    assert CANARY not in str(raised.value.context()) + caplog.text


async def test_invalid_token_stops_initialize_with_403(openbao_server: OpenBao) -> None:
    handler = VaultHandler()
    with pytest.raises(OperationNotAllowedError) as raised:
        await handler.initialize({"address": openbao_server.address, "token": CANARY})
    await handler.shutdown()
    assert raised.value.details["status_code"] == 403
    assert CANARY not in str(raised.value.context())


async def test_short_lived_token_is_renewed_before_it_expires(
    started: Start, openbao_server: OpenBao, base: str
) -> None:
    token = openbao_server.token(
        [openbao_server.policy(KV_RULES)], ttl="3s", renewable=True, explicit_max_ttl="60s"
    )
    handler: VaultHandler = await started(
        VaultHandler(), address=openbao_server.address, token=token
    )
    deadline = time.monotonic() + 5  # well past the token's first 3 s
    while time.monotonic() < deadline:
        await run(handler, "set_secret", path=f"{base}/s", data={"k": "v"})
        await asyncio.sleep(0.4)
    assert (await run(handler, "get_secret", path=f"{base}/s"))["found"] is True
    assert openbao_server.api("POST", "auth/token/lookup", {"token": token})["data"]["ttl"] > 0


async def test_approle_logs_in_again_when_renewal_cannot_extend_the_token(
    started: Start, openbao_server: OpenBao, base: str
) -> None:
    role_id, secret_id = openbao_server.approle(
        [openbao_server.policy(KV_RULES)], token_ttl="2s", token_max_ttl="3s"
    )
    handler: VaultHandler = await started(
        VaultHandler(),
        address=openbao_server.address,
        approle={"role_id": role_id, "secret_id": secret_id},
    )
    deadline = time.monotonic() + 5  # past the first token's hard 3 s maximum
    while time.monotonic() < deadline:
        await run(handler, "set_secret", path=f"{base}/s", data={"k": "v"})
        await asyncio.sleep(0.3)
    assert (await run(handler, "get_secret", path=f"{base}/s"))["found"] is True


async def test_vault_reference_reads_the_key_once_and_names_missing_ones(
    vault: VaultHandler, base: str
) -> None:
    await run(vault, "set_secret", path=f"{base}/db", data={"password": VALUE})
    ref = parse_secret_ref(f"vault:{base}/db#password")
    assert await vault.read_reference(ref) == VALUE
    await run(vault, "set_secret", path=f"{base}/db", data={"password": "rotated"})
    assert await vault.read_reference(ref) == VALUE  # cached for secret_ttl_seconds (300)
    with pytest.raises(SecretResolutionError) as raised:
        await vault.read_reference(parse_secret_ref(f"vault:{base}/db#user"))
    assert raised.value.details["reference"] == f"vault:{base}/db#user"
    assert VALUE not in raised.value.message
    with pytest.raises(SecretResolutionError, match=f"vault:{base}/none#x"):
        await vault.read_reference(parse_secret_ref(f"vault:{base}/none#x"))


async def test_a_rotated_secret_is_read_again_once_secret_ttl_seconds_have_passed(
    started: Start, openbao_server: OpenBao, base: str
) -> None:
    clock = FakeClock()
    vault: VaultHandler = await started(
        VaultHandler(clock=clock),
        address=openbao_server.address,
        token=openbao_server.root_token,
        secret_ttl_seconds=60,
    )
    openbao_server.api("POST", f"secret/data/{base}/db", {"data": {"password": VALUE}})
    secret = vault.rotating(parse_secret_ref(f"vault:{base}/db#password"))
    assert await secret() == VALUE
    openbao_server.api("POST", f"secret/data/{base}/db", {"data": {"password": "rotated"}})
    clock.advance(59)
    assert await secret() == VALUE
    clock.advance(1)
    assert await secret() == "rotated"


async def test_a_fresh_reference_read_bypasses_the_ttl(vault: VaultHandler, base: str) -> None:
    await run(vault, "set_secret", path=f"{base}/db", data={"password": VALUE})
    secret = vault.rotating(parse_secret_ref(f"vault:{base}/db#password"))
    assert await secret() == VALUE
    await run(vault, "set_secret", path=f"{base}/db", data={"password": "rotated"})
    assert await secret.refresh() == "rotated"
    assert await secret() == "rotated"


async def test_a_secret_that_cannot_be_read_again_keeps_its_last_value(
    started: Start, openbao_server: OpenBao, base: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    vault: VaultHandler = await started(
        VaultHandler(clock=clock),
        address=openbao_server.address,
        token=openbao_server.root_token,
        secret_ttl_seconds=60,
    )
    openbao_server.api("POST", f"secret/data/{base}/db", {"data": {"password": VALUE}})
    ref = parse_secret_ref(f"vault:{base}/db#password")
    assert await vault.read_reference(ref) == VALUE
    openbao_server.api("DELETE", f"secret/metadata/{base}/db")
    clock.advance(61)
    assert await vault.read_reference(ref) == VALUE
    assert f"the secret at {base}/db could not be read again" in caplog.text
    with pytest.raises(SecretResolutionError, match="no secret at secret/data/"):
        await vault.read_reference(ref, fresh=True)
    assert VALUE not in caplog.text


@pytest.mark.parametrize("ttl", [-1, "soon"])
async def test_secret_ttl_seconds_must_be_a_duration(ttl: object) -> None:
    handler = VaultHandler()
    with pytest.raises(HandlerConfigurationError, match="secret_ttl_seconds"):
        await handler.initialize(
            {"address": "http://127.0.0.1:1", "token": "t", "secret_ttl_seconds": ttl}
        )


async def test_config_needs_exactly_one_login() -> None:
    handler = VaultHandler()
    with pytest.raises(HandlerConfigurationError):
        await handler.initialize({"address": "http://127.0.0.1:1"})


async def test_unreachable_vault_is_an_execution_error(closed_port: int) -> None:
    handler = VaultHandler()
    with pytest.raises(HandlerExecutionError) as raised:
        await handler.initialize({"address": f"http://127.0.0.1:{closed_port}", "token": CANARY})
    await handler.shutdown()
    assert raised.value.code == "HANDLER_EXECUTION_ERROR"
    assert CANARY not in str(raised.value.context())


@pytest.fixture
async def sealed_vault() -> AsyncIterator[str]:
    """A fake Vault whose token lookup answers and whose KV answers 503 (sealed)."""

    async def lookup(request: web.Request) -> web.Response:
        return web.json_response({"data": {"ttl": 0, "renewable": False}})

    async def sealed(request: web.Request) -> web.Response:
        return web.json_response({"errors": ["Vault is sealed"]}, status=503)

    app = web.Application()
    app.router.add_get("/v1/auth/token/lookup-self", lookup)
    app.router.add_route("*", "/v1/secret/{tail:.*}", sealed)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(access_log=None)
    yield f"http://127.0.0.1:{server.port}"
    await server.close()


async def test_server_errors_are_execution_errors_with_the_status(
    started: Start, sealed_vault: str
) -> None:
    handler: VaultHandler = await started(VaultHandler(), address=sealed_vault, token="t")
    with pytest.raises(HandlerExecutionError) as raised:
        await run(handler, "get_secret", path="a")
    assert raised.value.code == "HANDLER_EXECUTION_ERROR"
    assert raised.value.details == {"status_code": 503}
    assert "Vault is sealed" in raised.value.message


async def test_a_vault_that_never_answers_times_out() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    handler = VaultHandler()
    try:
        with pytest.raises(HandlerTimeoutError):
            await handler.initialize(
                {"address": f"http://127.0.0.1:{port}", "token": "t", "timeout_ms": 200}
            )
    finally:
        await handler.shutdown()
        server.close()


async def test_operations_never_block_the_event_loop(
    vault: VaultHandler, base: str, caplog: pytest.LogCaptureFixture
) -> None:
    """No step of the loop takes 20 ms or more while 200 vault operations run.

    asyncio's debug mode times every callback: a blocking call (a synchronous HTTP
    client, a DNS look-up, a file read) inside a handler step is reported as a slow
    callback. Timing callbacks, rather than the gaps of a 1 ms ticker, keeps time the
    process spends descheduled by a busy machine out of the measurement; coverage
    tracing (which makes every step several times slower) and garbage collection are
    paused while it runs.
    """
    loop = asyncio.get_running_loop()
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.001)
            ticks += 1

    caplog.set_level(logging.WARNING, logger="asyncio")
    ticking = asyncio.ensure_future(ticker())
    loop.set_debug(True)
    loop.slow_callback_duration = 0.020
    gc.disable()  # a collection pause is not blocking I/O; keep it out of the measurement
    tracing = coverage.Coverage.current()
    if tracing is not None:
        tracing.stop()
    try:
        for index in range(100):
            await run(vault, "set_secret", path=f"{base}/s{index % 5}", data={"i": index})
            await run(vault, "get_secret", path=f"{base}/s{index % 5}")
    finally:
        if tracing is not None:
            tracing.start()
        gc.enable()
        loop.set_debug(False)
        ticking.cancel()
    slow = [r.getMessage() for r in caplog.records if "took" in r.getMessage()]
    assert ticks > 100  # the ticker ran throughout
    assert slow == [], f"the loop was blocked: {slow[:3]}"


async def test_values_never_reach_the_logs(
    vault: VaultHandler, base: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await run(vault, "set_secret", path=f"{base}/s", data={"k": VALUE})
    await run(vault, "get_secret", path=f"{base}/s")
    assert VALUE not in caplog.text
