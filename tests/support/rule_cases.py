"""Contracts breaking (and keeping) each validator rule, for the rule and start tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

NODE = """\
schema_version: "1.0.0"
name: "{name}"
node_type: "EFFECT"
io_operations:
  - {{type: {type}, operations: ["{operation}"]}}
"""


def runtime(
    handlers: str = '    - type: "http"\n',
    bus: str = '      topics: {input: "onex.test.rules.cmd.v1"}\n',
    head: str = "",
    kind: str = "inmemory",
) -> str:
    """A schema 2.0.0 runtime contract hosting the node ``store``."""
    return (
        'schema_version: "2.0.0"\nruntime:\n  name: "rules_host"\n'
        f'{head}  event_bus:\n    kind: "{kind}"\n    config:\n{bus}'
        f'  handlers:\n{handlers}  nodes:\n    - slug: "store"\n'
    )


NO_IO_NODE = 'schema_version: "1.0.0"\nname: "store"\nnode_type: "COMPUTE"\n'
HTTP_NODE = NODE.format(name="store", type="http", operation="http.get")
SASL = (
    '      topics: {input: "onex.test.rules.cmd.v1"}\n'
    "      security: {protocol: SASL_PLAINTEXT, sasl_mechanism: PLAIN, username: onex, "
    'password_ref: "%s"}\n'
)


@dataclass(frozen=True)
class RuleCase:
    """A contract that breaks ``rule`` (``bad``) and its fixed version (``good``)."""

    rule: str
    bad: str
    good: str
    stage: str = "prod"
    bad_node: str = HTTP_NODE
    good_node: str = HTTP_NODE
    starts_refused: bool = True  # does build_host refuse ``bad``?
    env: dict[str, str] = field(default_factory=dict)

    def write(self, directory: Path, *, bad: bool) -> Path:
        """Write the runtime contract (and its node) under ``directory``."""
        (directory / "runtime").mkdir(parents=True, exist_ok=True)
        (directory / "nodes").mkdir(exist_ok=True)
        node = directory / "nodes" / "store.yaml"
        node.unlink(missing_ok=True)
        if self.bad_node if bad else self.good_node:
            node.write_text(self.bad_node if bad else self.good_node)
        path = directory / "runtime" / "host.yaml"
        path.write_text(self.bad if bad else self.good)
        return path


CASES = {
    "schema": RuleCase("ONEX001", runtime(head="  colour: blue\n"), runtime()),
    "missing_var": RuleCase(
        "ONEX001",
        runtime('    - type: "db"\n      config: {dsn: "${RULES_DSN}"}\n'),
        runtime('    - type: "db"\n      config: {dsn: "${RULES_DSN:-postgresql://h/x}"}\n'),
        bad_node=NODE.format(name="store", type="db", operation="db.query"),
        good_node=NODE.format(name="store", type="db", operation="db.query"),
    ),
    "missing_node": RuleCase("ONEX001", runtime(), runtime(), bad_node="", good_node=HTTP_NODE),
    "literal_password": RuleCase(
        "ONEX002",
        runtime('    - type: "db"\n      config: {dsn: "postgresql://u:hunter2@h/x"}\n'),
        runtime('    - type: "db"\n      config: {dsn: "postgresql://h/x", password_ref: env:P}\n'),
        bad_node=NODE.format(name="store", type="db", operation="db.query"),
        good_node=NODE.format(name="store", type="db", operation="db.query"),
        env={"P": "x"},
    ),
    "token_value": RuleCase(
        "ONEX002",
        runtime('    - type: "http"\n      config: {default_header: "ghp_' + "a1" * 18 + '"}\n'),
        runtime('    - type: "http"\n      config: {timeout_ms: 1000}\n'),
    ),
    "local_in_prod": RuleCase(
        "ONEX003",
        runtime('    - type: "local"\n    - type: "http"\n'),
        runtime('    - type: "http"\n'),
    ),
    "reserved_topic": RuleCase(
        "ONEX004",
        runtime(bus='      topics: {input: "onex.admin.rules.cmd.v1"}\n'),
        runtime(),
    ),
    "reserved_tenant_default_topic": RuleCase(
        "ONEX004",
        runtime(head="  tenant_id: admin\n", bus="      partitions: 2\n"),
        runtime(head="  tenant_id: acme\n", bus="      partitions: 2\n"),
    ),
    "operation_without_handler": RuleCase(
        "ONEX005",
        runtime(),
        runtime('    - type: "http"\n    - type: "db"\n      config: {dsn: "postgresql://h/x"}\n'),
        bad_node=NODE.format(name="store", type="db", operation="db.query"),
        good_node=NODE.format(name="store", type="db", operation="db.query"),
        starts_refused=False,
    ),
    "operation_the_handler_lacks": RuleCase(
        "ONEX005",
        runtime(),
        runtime(),
        bad_node=NODE.format(name="store", type="http", operation="http.teleport"),
        starts_refused=False,
    ),
    "no_implementation": RuleCase(
        "ONEX006",
        runtime('    - type: "http"\n    - type: "llm"\n'),
        runtime('    - type: "http"\n    - type: "llm"\n      enabled: false\n'),
    ),
    "create_topics_in_prod": RuleCase(
        "ONEX007",
        runtime(bus='      topics: {input: "onex.test.rules.cmd.v1"}\n      create_topics: true\n'),
        runtime(),
    ),
    "malformed_ref": RuleCase(
        "ONEX008",
        runtime('    - type: "db"\n      config: {dsn: "postgresql://h/x", password_ref: "P"}\n'),
        runtime('    - type: "db"\n      config: {dsn: "postgresql://h/x", password_ref: env:P}\n'),
        bad_node=NODE.format(name="store", type="db", operation="db.query"),
        good_node=NODE.format(name="store", type="db", operation="db.query"),
        env={"P": "x"},
    ),
    "ref_and_value": RuleCase(
        "ONEX008",
        runtime('    - type: "db"\n      config: {dsn: "postgresql://h/x", dsn_ref: env:P}\n'),
        runtime('    - type: "db"\n      config: {dsn_ref: env:P}\n'),
        bad_node=NODE.format(name="store", type="db", operation="db.query"),
        good_node=NODE.format(name="store", type="db", operation="db.query"),
        env={"P": "postgresql://h/x"},
    ),
    "unset_env_ref": RuleCase(
        "ONEX008",
        runtime('    - type: "db"\n      config: {dsn_ref: env:RULES_UNSET_DSN}\n'),
        runtime('    - type: "db"\n      config: {dsn: "postgresql://h/x"}\n'),
        bad_node=NODE.format(name="store", type="db", operation="db.query"),
        good_node=NODE.format(name="store", type="db", operation="db.query"),
    ),
    "kafka_vault_password": RuleCase(
        "ONEX008",
        runtime(bus=SASL % "vault:secret/kafka#password", kind="kafka"),
        runtime(bus=SASL % "env:KAFKA_PASSWORD", kind="kafka"),
        env={"KAFKA_PASSWORD": "x"},
    ),
    "envelope_too_large": RuleCase(
        "ONEX009",
        runtime(bus="      max_envelope_bytes: 2000000\n"),
        runtime(bus="      max_envelope_bytes: 900000\n"),
    ),
    "retry_budget": RuleCase(
        "ONEX011",
        runtime('    - type: "http"\n      config: {retry_policy: {max_retries: 2}}\n'),
        runtime(),
    ),
    "exactly_once_in_memory": RuleCase(
        "ONEX012",
        runtime(
            bus='      topics: {input: "onex.test.rules.cmd.v1"}\n'
            "      processing_guarantee: exactly_once\n"
        ),
        runtime(),
    ),
    "no_handlers": RuleCase(
        "ONEX010",
        runtime("    []\n").replace("  handlers:\n    []", "  handlers: []"),
        runtime(),
        bad_node=NO_IO_NODE,
        starts_refused=False,
    ),
}
