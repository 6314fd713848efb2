"""One resolver for secret references: env from the injected mapping, files, vault refused."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from onex_stream.bootstrap import build_host
from onex_stream.core.contracts import ModelHandlerBindingConfig
from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.errors import SecretResolutionError
from onex_stream.core.responses import ResponseFactory
from onex_stream.core.runtime import NodeRuntime
from onex_stream.core.secret_refs import SecretRef
from onex_stream.infra.runtime.wiring import register_handlers_from_config
from onex_stream.infra.secrets import SecretResolver
from tests.support.contracts import ECHO_NODE, write_contract
from tests.support.deterministic import DeterministicClock, DeterministicIds

SECRET = "planted-secret-4b7e"


def failure(resolver: SecretResolver, ref: str | SecretRef) -> SecretResolutionError:
    with pytest.raises(SecretResolutionError) as raised:
        resolver.resolve(ref)
    return raised.value


def test_env_references_read_the_injected_mapping_not_the_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ONEX_TEST_SECRET", "from-the-process")
    assert SecretResolver({"ONEX_TEST_SECRET": SECRET}).resolve("env:ONEX_TEST_SECRET") == SECRET
    error = failure(SecretResolver({}), "env:ONEX_TEST_SECRET")
    assert "from-the-process" not in str(error)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (f"{SECRET}\n", SECRET),
        (SECRET, SECRET),
        (f"{SECRET}\n\n", f"{SECRET}\n"),
        (f"line one\n{SECRET}\n", f"line one\n{SECRET}"),
        ("\n", ""),
    ],
)
def test_file_references_read_the_file_without_one_trailing_newline(
    tmp_path: Path, content: str, expected: str
) -> None:
    path = tmp_path / "password"
    path.write_text(content, encoding="utf-8")
    resolver = SecretResolver({})
    assert resolver.resolve(f"file:{path}") == expected
    assert resolver.resolve(SecretRef("file", path=str(path))) == expected


def test_a_parsed_reference_resolves_like_its_text() -> None:
    assert SecretResolver({"PGPASS": SECRET}).resolve(SecretRef("env", name="PGPASS")) == SECRET


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        (
            "env:ONEX_TEST_UNSET",
            r"environment variable ONEX_TEST_UNSET \(from env:ONEX_TEST_UNSET\)",
        ),
        ("file:/nonexistent/onex/password", r"cannot read /nonexistent/onex/password"),
        ("vault:secret/db#password", "vault references need the vault handler, which is not"),
    ],
)
def test_unresolvable_references_fail_naming_the_reference(ref: str, message: str) -> None:
    error = failure(SecretResolver({"OTHER": SECRET}), ref)
    assert re.search(message, error.message)
    assert error.code.value == "SECRET_RESOLUTION_ERROR"
    assert error.details["reference"] == ref
    assert SECRET not in str(error) and SECRET not in str(error.context())


def test_unreadable_files_fail_naming_the_reference_never_the_content(tmp_path: Path) -> None:
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe" + SECRET.encode())
    for path, message in ((binary, "is not UTF-8 text"), (tmp_path, "cannot read")):
        error = failure(SecretResolver({}), f"file:{path}")
        assert message in error.message and f"file:{path}" in error.message
        assert SECRET not in str(error.context()) and "\\xff" not in error.message


def test_a_malformed_reference_fails_without_repeating_its_text() -> None:
    error = failure(SecretResolver({"hunter2": SECRET}), "hunter2")
    assert "not a secret reference" in error.message
    assert "hunter2" not in str(error.context())


def test_resolve_config_replaces_each_ref_key_by_its_resolved_value(tmp_path: Path) -> None:
    (tmp_path / "dsn").write_text("postgresql://u:p@db/x\n")
    config: dict[str, Any] = {
        "host": "db",
        "user": "onex",
        "password_ref": "env:PGPASS",
        "dsn_ref": f"file:{tmp_path / 'dsn'}",
        "timeout_ms": 1000,
        "other_ref": None,
        "nested": {"token_ref": "env:PGPASS", "mount": "approle"},
        "deferred_ref": "vault:onex/db#password",
    }
    resolved = SecretResolver({"PGPASS": SECRET}).resolve_config(config)
    assert resolved == {
        "host": "db",
        "user": "onex",
        "password": SECRET,
        "dsn": "postgresql://u:p@db/x",
        "timeout_ms": 1000,
        "other_ref": None,  # not a reference: left to the handler's validation
        "nested": {"token": SECRET, "mount": "approle"},  # nested mappings too
        "deferred_ref": "vault:onex/db#password",  # left for the host's start
    }
    assert config["password_ref"] == "env:PGPASS"  # the input is not modified


def test_resolve_config_without_references_returns_an_equal_copy() -> None:
    config = {"dsn": "postgresql://db/x", "timeout_ms": 5}
    assert SecretResolver({}).resolve_config(config) == config


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"password_ref": "env:PGPASS"}, r"password_ref: environment variable PGPASS"),
        ({"approle": {"secret_id_ref": "env:UNSET"}}, r"approle.secret_id_ref: environment"),
        ({"password_ref": SECRET}, "password_ref: not a secret reference"),
        ({"password": SECRET, "password_ref": "env:PGPASS"}, "give either password or"),
    ],
)
def test_resolve_config_failures_name_the_key_and_never_a_value(
    config: dict[str, Any], message: str
) -> None:
    with pytest.raises(SecretResolutionError, match=message) as raised:
        SecretResolver({"OTHER": SECRET}).resolve_config(config)
    assert raised.value.details["key"].partition(".")[0] in config
    assert SECRET not in str(raised.value.context())


def bindings(config: dict[str, Any]) -> list[ModelHandlerBindingConfig]:
    return [ModelHandlerBindingConfig.model_validate({"type": "db", "config": config})]


def test_wiring_resolves_handler_configs_before_they_reach_initialize() -> None:
    runtime = NodeRuntime("host", ResponseFactory(DeterministicIds(), DeterministicClock()))
    config = {"host": "db", "password_ref": "env:PGPASS"}
    configs = register_handlers_from_config(
        runtime, bindings(config), secrets=SecretResolver({"PGPASS": SECRET})
    )
    assert configs[EnumHandlerType.DB] == {"timeout_ms": 30000, "host": "db", "password": SECRET}


def test_wiring_without_a_resolver_passes_configs_as_written() -> None:
    runtime = NodeRuntime("host", ResponseFactory(DeterministicIds(), DeterministicClock()))
    configs = register_handlers_from_config(runtime, bindings({"password_ref": "env:PGPASS"}))
    assert configs[EnumHandlerType.DB]["password_ref"] == "env:PGPASS"


DB_HOST = """\
schema_version: "1.0.0"
runtime:
  name: "secrets_host"
  handlers:
    - type: "local"
    - type: "db"
      config: {host: "127.0.0.1", user: "onex", password_ref: "env:ONEX_TEST_DB_PASSWORD"}
  nodes:
    - slug: "echo_node"
"""


def test_a_host_whose_secret_is_missing_from_its_env_does_not_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    contract = write_contract(tmp_path, DB_HOST, {"echo_node": ECHO_NODE})
    monkeypatch.setenv("ONEX_TEST_DB_PASSWORD", SECRET)  # ignored: build_host was given env
    with pytest.raises(SecretResolutionError, match="env:ONEX_TEST_DB_PASSWORD") as raised:
        build_host(contract, env={"ONEX_ENV": "test"}, logs="as-is")
    assert SECRET not in str(raised.value.context())


def test_a_host_whose_secret_is_in_its_env_is_built(tmp_path: Path) -> None:
    contract = write_contract(tmp_path, DB_HOST, {"echo_node": ECHO_NODE})
    env = {"ONEX_ENV": "test", "ONEX_TEST_DB_PASSWORD": SECRET}
    host = build_host(contract, env=env, logs="as-is")
    assert host.runtime.name == "secrets_host"
