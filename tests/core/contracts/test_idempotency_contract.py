"""Contract side of effectively-once: which nodes are idempotent, the window, exactly_once."""

from __future__ import annotations

from pathlib import Path

import pytest

from onex_stream.core.contracts import ModelNodeContract, load_runtime_contract
from onex_stream.core.contracts.idempotency import (
    DEFAULT_MAX_ENTRIES_PER_PARTITION,
    DEFAULT_WINDOW_SECONDS,
    idempotent_nodes,
)
from onex_stream.core.errors import ContractValidationError, HandlerConfigurationError
from tests.support.contracts import write_contract

V1 = 'schema_version: "1.0.0"\nruntime:\n  name: "host"\n'
V2 = V1.replace("1.0.0", "2.0.0")


def node(name: str, kind: str) -> ModelNodeContract:
    return ModelNodeContract(schema_version="1.0.0", name=name, node_type=kind)


def load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "runtime.yaml"
    path.write_text(text)
    return load_runtime_contract(path, env={})


def test_effect_nodes_are_idempotent_unless_their_binding_says_otherwise() -> None:
    nodes = [
        node("e1", "EFFECT"),
        node("e2", "EFFECT"),
        node("c1", "COMPUTE"),
        node("r", "REDUCER"),
    ]
    assert idempotent_nodes(nodes, {}) == {"e1", "e2"}
    assert idempotent_nodes(nodes, {"e2": False, "c1": True, "r": None}) == {"e1", "c1"}


def test_the_window_and_limit_default_and_are_set_in_schema_2(tmp_path: Path) -> None:
    contract = load(tmp_path, V2)
    settings = contract.runtime.idempotency  # type: ignore[attr-defined]
    assert settings.window_seconds == DEFAULT_WINDOW_SECONDS == 86400
    assert settings.max_entries_per_partition == DEFAULT_MAX_ENTRIES_PER_PARTITION
    text = V2 + "  idempotency: {window_seconds: 60, max_entries_per_partition: 5}\n"
    text += '  nodes:\n    - slug: "a"\n      idempotent: false\n'
    contract = load(tmp_path, text)
    runtime = contract.runtime  # type: ignore[attr-defined]
    assert (runtime.idempotency.window_seconds, runtime.idempotency.max_entries_per_partition) == (
        60,
        5,
    )
    assert runtime.nodes[0].idempotent is False


@pytest.mark.parametrize(
    ("snippet", "what"),
    [
        ("  idempotency: {window_seconds: 60}\n", "'idempotency'"),
        ('  nodes:\n    - slug: "a"\n      idempotent: true\n', "'idempotent'"),
    ],
)
def test_schema_1_refuses_the_idempotency_fields(tmp_path: Path, snippet: str, what: str) -> None:
    with pytest.raises(ContractValidationError) as caught:
        load(tmp_path, V1 + snippet)
    assert caught.value.error == f"{what} is a Beta field, not allowed in schema_version 1.x"


@pytest.mark.parametrize("bad", ["window_seconds: 0", "max_entries_per_partition: 0"])
def test_a_window_or_limit_below_one_is_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ContractValidationError):
        load(tmp_path, V2 + f"  idempotency: {{{bad}}}\n")


def test_exactly_once_needs_the_idempotent_producer(tmp_path: Path) -> None:
    bus = "  event_bus:\n    kind: kafka\n    config: {processing_guarantee: exactly_once, "
    with pytest.raises(ContractValidationError, match="exactly_once needs the idempotent"):
        load(tmp_path, V2 + bus + "idempotence: false}\n")
    contract = load(tmp_path, V2 + bus + "idempotence: true}\n")
    assert contract.runtime.event_bus.config.processing_guarantee == "exactly_once"  # type: ignore[attr-defined]


def test_exactly_once_on_the_inmemory_bus_is_refused_at_start_in_one_located_line(
    tmp_path: Path,
) -> None:
    from onex_stream.bootstrap import build_host  # noqa: PLC0415 -- infra, for the start only

    runtime = V2 + (
        '  event_bus:\n    kind: inmemory\n    config:\n      topics: {input: "onex.t.eo.cmd.v1"}\n'
        "      processing_guarantee: exactly_once\n"
        '  handlers: [{type: http}]\n  nodes: [{slug: "a"}]\n'
    )
    node_a = 'schema_version: "1.0.0"\nname: "a"\nnode_type: "EFFECT"\n'
    path = write_contract(tmp_path, runtime, {"a": node_a})
    with pytest.raises(HandlerConfigurationError) as caught:
        build_host(path, env={"ONEX_ENV": "test"}, logs="as-is")
    message = str(caught.value.message)
    assert message.startswith(f"{path}:8:")  # the processing_guarantee line
    assert "exactly_once needs Kafka transactions" in message and "\n" not in message
