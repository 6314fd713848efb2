"""Whether a loaded host could start: every start check that needs no network."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from onex_stream.core.contracts.registry import HostDefinition
from onex_stream.core.contracts.rules import Finding
from onex_stream.core.contracts.yaml_source import YamlDocument, parse_yaml
from onex_stream.core.enums import EnumHandlerType

#: ``ONEX_ENV`` values where the dev/test-only local handler and topic creation are allowed.
DEV_STAGES = frozenset({"dev", "test"})
STAGES = ("prod", "dev", "test")
LOCAL_IN_PROD = (
    "the contract enables the local handler, which is dev/test only: "
    "set ONEX_ENV=dev (or test) to run it, or remove it from runtime.handlers"
)
EXACTLY_ONCE_IN_MEMORY = (
    "event_bus.config.processing_guarantee: exactly_once needs Kafka transactions, which "
    "the inmemory bus has not: use at_least_once (answers are deduplicated by envelope_id "
    "for idempotent nodes), or a kafka bus on a broker with transactions"
)
CREATE_TOPICS_IN_PROD = (
    "event_bus.config.create_topics is a dev/test setting: production never creates "
    "topics (create them beforehand), or set ONEX_ENV=dev/test"
)
#: Operations of each implemented handler type (None: any operation of the type).
HandlerOperations = Mapping[EnumHandlerType, Collection[str] | None]


def available_types(implemented: Collection[EnumHandlerType], stage: str) -> list[str]:
    """The handler types a host can run in ``stage``: the implemented ones, plus local
    in dev/test."""
    types = {t.value for t in implemented}
    if stage in DEV_STAGES:
        types.add(EnumHandlerType.LOCAL.value)
    return sorted(types)


def check_startable(
    definition: HostDefinition, stage: str, implemented: Collection[EnumHandlerType]
) -> list[Finding]:
    """What the start refuses in ``stage`` (prod, dev or test) for a loaded host, given
    the handler types with an implementation; a start raises the first of them."""
    document = _document(definition)
    runtime = definition.contract.runtime
    findings: list[Finding] = []
    available = available_types(implemented, stage)
    for index, binding in enumerate(runtime.handlers):
        at = ("runtime", "handlers", index, "type")
        if not binding.enabled:
            continue
        if binding.type is EnumHandlerType.LOCAL and stage not in DEV_STAGES:
            findings.append(
                Finding(
                    "ONEX003",
                    document.error(
                        at,
                        LOCAL_IN_PROD,
                        f"ONEX_ENV={stage}: the local handler runs in dev and test only",
                        "Remove the local handler, or validate and run with --env dev",
                    ),
                )
            )
        elif binding.type.value not in available:
            message = (
                f"no handler implementation for type '{binding.type.value}' "
                f"(available: {', '.join(available) or 'none'})"
            )
            findings.append(
                Finding(
                    "ONEX006",
                    document.error(
                        at,
                        message,
                        f"Handler types with an implementation: {', '.join(available)}",
                        "Remove the handler, or disable it (enabled: false)",
                    ),
                )
            )
    return [*findings, *_bus_findings(definition, document, stage)]


def unsupported_operations(
    definition: HostDefinition, stage: str, operations: HandlerOperations
) -> list[Finding]:
    """Declared node operations that no enabled, implemented handler supports (ONEX005)."""
    document = _document(definition)
    runtime = definition.contract.runtime
    enabled = {b.type for b in runtime.handlers if b.enabled}
    usable: dict[EnumHandlerType, Collection[str] | None] = {
        t: operations[t] for t in enabled if t in operations
    }
    if EnumHandlerType.LOCAL in enabled:  # in prod, ONEX003 refuses it already
        usable.setdefault(EnumHandlerType.LOCAL, None)
    slugs = [ref.slug for ref in runtime.nodes]
    findings = []
    for node in definition.nodes:
        for io in node.io_operations:
            supported = usable.get(io.type, ())
            for operation in io.operations:
                if supported is None or operation in supported:
                    continue
                why = (
                    f"the {io.type.value} handler does not support it"
                    if io.type in usable
                    else f"no {io.type.value} handler is enabled"
                )
                findings.append(
                    Finding(
                        "ONEX005",
                        document.error(
                            ("runtime", "nodes", slugs.index(node.name), "slug"),
                            f"node '{node.name}' declares '{operation}' but {why}: it "
                            "would be answered with HANDLER_NOT_FOUND or INVALID_OPERATION",
                            f"Enabled handler types: {', '.join(sorted(usable)) or 'none'}",
                            f"Enable a {io.type.value} handler, or remove the operation from "
                            "the node contract",
                        ),
                    )
                )
    return findings


def _bus_findings(definition: HostDefinition, document: YamlDocument, stage: str) -> list[Finding]:
    runtime = definition.contract.runtime
    bus = runtime.event_bus
    findings = []
    if bus.config.create_topics and stage not in DEV_STAGES:
        findings.append(
            Finding(
                "ONEX007",
                document.error(
                    ("runtime", "event_bus", "config", "create_topics"),
                    CREATE_TOPICS_IN_PROD,
                    f"ONEX_ENV={stage}: topics are created beforehand in production",
                    "Remove create_topics, or validate and run with --env dev",
                ),
            )
        )
    if bus.kind == "inmemory" and bus.config.processing_guarantee == "exactly_once":
        findings.append(
            Finding(
                "ONEX012",
                document.error(
                    ("runtime", "event_bus", "config", "processing_guarantee"),
                    EXACTLY_ONCE_IN_MEMORY,
                    "Transactions: Kafka >= 0.11 and Redpanda have them; the inmemory bus "
                    "and the tansu test broker do not",
                    "Remove processing_guarantee, or run on kind: kafka",
                ),
            )
        )
    try:
        runtime.subscriptions  # noqa: B018 -- the default topic is derived, and may be invalid
    except ValueError as error:
        findings.append(
            Finding(
                "ONEX004",
                document.error(
                    ("runtime", "tenant_id" if runtime.tenant_id else "name"),
                    f"The default command topic is invalid: {_first_line(error)}",
                    "Without topics, the command topic is onex.<tenant_id>.<name>.cmd.v1",
                    "Set event_bus.config.topics.input, or change tenant_id / name",
                ),
            )
        )
    reference = bus.config.security.password_ref
    if bus.kind == "kafka" and reference and reference.startswith("vault:"):
        findings.append(
            Finding(
                "ONEX008",
                document.error(
                    ("runtime", "event_bus", "config", "security", "password_ref"),
                    "Kafka's password_ref cannot be a vault: reference",
                    "The Kafka client is configured when the host is built, before the "
                    "vault handler starts, and keeps one password for its life",
                    "Write password_ref: env:<NAME> or file:/<path> (e.g. a file Vault "
                    "Agent renders)",
                ),
            )
        )
    return findings


def _first_line(error: Any) -> str:
    errors = getattr(error, "errors", None)
    if callable(errors):
        return str(errors()[0]["msg"]).removeprefix("Value error, ")
    return str(error)


def _document(definition: HostDefinition) -> YamlDocument:
    path = definition.path
    return parse_yaml(path.read_text(encoding="utf-8"), str(path))
