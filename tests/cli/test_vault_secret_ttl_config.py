"""The vault handler's secret_ttl_seconds is a contract key the validator and the build accept."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

from onex_stream.bootstrap import build_host
from onex_stream.cli.validate_contract import check_file
from onex_stream.core.contracts import FileRegistry
from onex_stream.core.enums import EnumHandlerType
from onex_stream.infra.handlers.vault_models import VaultSettings
from tests.support.rule_cases import RuleCase, runtime

VAULT = (
    '    - type: "http"\n'
    '    - type: "vault"\n'
    '      config: {address: "http://127.0.0.1:8200", token_ref: "env:VAULT_TOKEN",\n'
    "               secret_ttl_seconds: 60}\n"
)
ENV = {"ONEX_ENV": "prod", "VAULT_TOKEN": "t"}


def test_secret_ttl_seconds_validates_builds_and_reaches_the_vault_settings(
    tmp_path: Path,
) -> None:
    path = RuleCase("ONEX001", "", runtime(VAULT)).write(tmp_path, bad=False)
    assert check_file(path, "prod", env=ENV, check_env=True) == []
    overrides = {"broker_url": f"memory://{uuid4()}", "web_enabled": False}
    assert build_host(path, env=ENV, bus_overrides=overrides, logs="as-is") is not None
    runtime_section = FileRegistry(ENV).load_host(path).contract.runtime
    (vault,) = [b for b in runtime_section.handlers if b.type is EnumHandlerType.VAULT]
    config = {**vault.config.handler_settings(), "token": "t"}
    del config["token_ref"]
    assert VaultSettings.model_validate(config).secret_ttl_seconds == 60
    del config["secret_ttl_seconds"]
    assert VaultSettings.model_validate(config).secret_ttl_seconds == 300  # the default
