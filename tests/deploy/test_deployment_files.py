"""Offline checks of the deployment files: Kubernetes manifests (strict schemas), the KEDA
ScaledObject (a schema written after KEDA's CRD), the compose file (compose-spec schema),
the Dockerfile (BuildKit's parser), the lock file and the topic bootstrap."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import dockerfile
import jsonschema
import kubernetes_validate
import pytest
import yaml
from packaging.requirements import Requirement

from onex_stream.bootstrap import build_host
from onex_stream.core.contracts import check_runtime_contract, load_runtime_contract
from onex_stream.infra.event_bus.stop_deadline import SHUTDOWN_MARGIN_SECONDS

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "k8s"
COMPOSE = REPO / "docker-compose.yaml"
DOCKERFILE = REPO / "docker" / "Dockerfile.runtime-host"
LOCK = REPO / "docker" / "requirements.lock"
CONTAINER_CONTRACT = REPO / "contracts" / "runtime" / "container_host.yaml"
KEDA_SCHEMA = REPO / "tests" / "vendor" / "keda" / "scaledobject-v1alpha1.schema.json"
#: The oldest Kubernetes minor still in upstream support when written, and the newest schema.
KUBERNETES_VERSIONS = ["1.31.0", "1.37.0"]
#: Every variable of the container contract, with a dummy value.
CONTRACT_ENV = {
    "KAFKA_BOOTSTRAP_SERVERS": "kafka:9092",
    "POSTGRES_HOST": "postgres",
    "POSTGRES_PASSWORD": "dummy",
    "VAULT_TOKEN": "dummy",
    "VAULT_ADDR": "http://vault:8200",
    "CONSUL_ADDR": "http://consul:8500",
}


def manifest(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((K8S / name).read_text())
    return loaded


def core_manifests() -> list[Path]:
    """Every manifest of a built-in Kubernetes kind (all but KEDA's ScaledObject)."""
    return [p for p in sorted(K8S.glob("*.yaml")) if manifest(p.name)["kind"] != "ScaledObject"]


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]
    return spec


def configmap_contract(tmp_path: Path) -> Path:
    path = tmp_path / "host.yaml"
    path.write_text(manifest("configmap.yaml")["data"]["host.yaml"])
    return path


def instructions() -> list[Any]:
    return list(dockerfile.parse_file(str(DOCKERFILE)))


def final_stage() -> list[Any]:
    commands = instructions()
    last_from = max(i for i, c in enumerate(commands) if c.cmd == "FROM")
    return commands[last_from:]


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for command in final_stage():
        if command.cmd == "ENV":
            values = list(command.value)
            env.update(zip(values[::2], values[1::2], strict=True))
    return env


# --- Kubernetes ---------------------------------------------------------------------------


def test_every_manifest_is_one_kubernetes_object() -> None:
    kinds = {manifest(p.name)["kind"] for p in sorted(K8S.glob("*.yaml"))}
    assert kinds == {
        "ConfigMap",
        "Deployment",
        "Service",
        "Secret",
        "PodDisruptionBudget",
        "ScaledObject",
        "HorizontalPodAutoscaler",
    }


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("path", core_manifests(), ids=lambda p: p.name)
def test_manifests_validate_strictly_against_the_kubernetes_schemas(
    path: Path, version: str
) -> None:
    kubernetes_validate.validate(manifest(path.name), version, strict=True)


def test_strict_validation_rejects_a_misspelt_field() -> None:
    deployment = manifest("deployment.yaml")
    container(deployment)["livenesProbe"] = container(deployment).pop("livenessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)


def test_the_deployment_probes_start_liveness_and_readiness() -> None:
    spec = container(manifest("deployment.yaml"))
    assert spec["startupProbe"]["httpGet"]["path"] == "/health/live"
    assert spec["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert spec["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    startup = spec["startupProbe"]
    contract = load_runtime_contract(CONTAINER_CONTRACT).runtime
    startup_seconds = startup["periodSeconds"] * startup["failureThreshold"]
    assert startup_seconds > contract.event_bus.config.startup_timeout_seconds
    assert spec["resources"]["requests"] and spec["resources"]["limits"]["memory"]
    env = {e["name"]: e.get("value") for e in spec["env"]}
    assert env["ONEX_ENV"] == "prod" and env["ONEX_CONTRACT"] == "/config/host.yaml"


def test_the_pod_runs_unprivileged_on_a_read_only_root_filesystem() -> None:
    pod = manifest("deployment.yaml")["spec"]["template"]["spec"]
    spec = container(manifest("deployment.yaml"))
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    security = spec["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    user = next(c for c in final_stage() if c.cmd == "USER").value[0]
    assert pod["securityContext"]["runAsUser"] == int(user.split(":")[0])  # the image's user
    mounts = {m["mountPath"]: m["name"] for m in spec["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]  # the only writable directory
    assert image_env()["TMPDIR"] == "/tmp"  # Faust's data directory goes there


def test_the_grace_period_outlasts_prestop_drain_and_stop_margin(tmp_path: Path) -> None:
    pod = manifest("deployment.yaml")["spec"]["template"]["spec"]
    pre_stop = container(manifest("deployment.yaml"))["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    contract = load_runtime_contract(configmap_contract(tmp_path)).runtime
    drain = int(pre_stop[1]) + contract.shutdown_timeout_seconds + SHUTDOWN_MARGIN_SECONDS
    assert pod["terminationGracePeriodSeconds"] > drain
    compose = yaml.safe_load(COMPOSE.read_text())["services"]["runtime-host"]
    assert int(compose["stop_grace_period"].rstrip("s")) > drain - int(pre_stop[1])


def test_the_configmap_carries_the_image_contract_with_an_absolute_nodes_dir(
    tmp_path: Path,
) -> None:
    path = configmap_contract(tmp_path)
    report = check_runtime_contract(path, env=CONTRACT_ENV)
    assert report.findings == [] and report.contract is not None
    deployed = yaml.safe_load(path.read_text())
    image = yaml.safe_load(CONTAINER_CONTRACT.read_text())
    assert deployed["runtime"].pop("nodes_dir") == "/app/contracts/nodes"
    assert deployed == image
    assert report.contract.runtime.health.bind == "0.0.0.0"  # probes reach the pod address


def test_the_secret_template_holds_references_and_no_values(tmp_path: Path) -> None:
    secret = manifest("secrets.yaml")
    data = secret["stringData"]
    assert "data" not in secret
    assert all(value == "" for value in data.values())
    annotations = secret["metadata"]["annotations"]
    for key in data:
        assert annotations[f"secrets.onex.io/{key}"].startswith("vault:"), key
    text = (K8S / "configmap.yaml").read_text()
    referenced = set(re.findall(r"_ref: \"env:([A-Z_]+)\"", text))
    assert referenced == set(data), "the contract's env: references are the Secret's keys"


def test_the_service_is_cluster_internal_and_the_pdb_covers_the_pods() -> None:
    labels = manifest("deployment.yaml")["spec"]["template"]["metadata"]["labels"]
    service = manifest("service.yaml")["spec"]
    assert service["type"] == "ClusterIP"
    assert service["selector"].items() <= labels.items()
    pdb = manifest("pdb.yaml")["spec"]
    assert pdb["selector"]["matchLabels"].items() <= labels.items()
    assert pdb["maxUnavailable"] == 1


# --- autoscaling --------------------------------------------------------------------------


def keda_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(KEDA_SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_scaled_object_is_valid_against_the_keda_schema() -> None:
    errors = [e.message for e in keda_validator().iter_errors(manifest("keda-scaledobject.yaml"))]
    assert errors == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("spec", "triggers", 0, "metadata", "lagThreshhold"), "10"),  # misspelt key
        (("spec", "triggers", 0, "metadata", "lagThreshold"), 10),  # not a string
        (("spec", "triggers", 0, "metadata", "offsetResetPolicy"), "oldest"),
        (("spec", "maxReplicas"), 8),  # the HPA's name, not KEDA's
        (("spec", "advanced", "horizontalPodAutoscalerConfig", "behavior", "up"), {}),
    ],
)
def test_the_keda_schema_rejects_what_keda_would_ignore_or_refuse(
    path: tuple[Any, ...], value: object
) -> None:
    scaled = copy.deepcopy(manifest("keda-scaledobject.yaml"))
    target: Any = scaled
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    assert list(keda_validator().iter_errors(scaled))


def test_autoscaling_follows_the_contract_partitions_and_group(tmp_path: Path) -> None:
    contract = load_runtime_contract(configmap_contract(tmp_path)).runtime
    scaled = manifest("keda-scaledobject.yaml")["spec"]
    trigger = scaled["triggers"][0]
    assert scaled["scaleTargetRef"]["name"] == manifest("deployment.yaml")["metadata"]["name"]
    assert scaled["maxReplicaCount"] == contract.event_bus.config.partitions
    assert trigger["type"] == "kafka"
    assert trigger["metadata"]["consumerGroup"] == contract.consumer_group
    assert trigger["metadata"]["offsetResetPolicy"] == contract.event_bus.config.auto_offset_reset
    hpa = manifest("hpa-alternative.yaml")["spec"]
    assert hpa["maxReplicas"] == scaled["maxReplicaCount"]
    assert hpa["minReplicas"] == scaled["minReplicaCount"]
    metric = hpa["metrics"][0]["external"]
    assert metric["target"]["averageValue"] == trigger["metadata"]["lagThreshold"]
    assert metric["metric"]["selector"]["matchLabels"] == {"group": contract.consumer_group}


def test_the_lag_threshold_is_the_one_derived_in_the_operations_guide() -> None:
    threshold = manifest("keda-scaledobject.yaml")["spec"]["triggers"][0]["metadata"]
    guide = (REPO / "docs" / "operations.md").read_text()
    derived = re.search(r"lagThreshold\s*=\s*([0-9,]+)", guide)
    assert derived is not None
    assert derived.group(1).replace(",", "") == threshold["lagThreshold"]


# --- compose ------------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def test_the_compose_file_is_valid_against_the_compose_specification() -> None:
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_compose_file_says_it_is_for_development_only() -> None:
    assert "DEVELOPMENT ONLY" in COMPOSE.read_text().splitlines()[0].upper()


def test_the_compose_stack_has_every_service_with_restarts_and_health_checks() -> None:
    services = compose()["services"]
    assert set(services) >= {
        "runtime-host",
        "redpanda",
        "topics",
        "console",
        "postgres",
        "openbao",
        "consul",
        "prometheus",
        "grafana",
    }
    for name, service in services.items():
        assert service.get("restart") in {"unless-stopped", "always", "on-failure"}, name
        if name not in {"topics", "console"}:  # a one-shot job; a UI nothing depends on
            assert service["healthcheck"]["test"][0] == "CMD", name
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"


def test_the_compose_host_runs_the_image_default_read_only_after_its_dependencies() -> None:
    host = compose()["services"]["runtime-host"]
    assert "command" not in host and "entrypoint" not in host  # the image's default command
    assert host["read_only"] is True and host["tmpfs"] == ["/tmp"]
    assert host["depends_on"]["topics"] == {"condition": "service_completed_successfully"}
    for dependency in ("postgres", "openbao", "consul"):
        assert host["depends_on"][dependency] == {"condition": "service_healthy"}
    env = host["environment"]
    assert set(CONTRACT_ENV) <= set(env)
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "redpanda:9092"
    volumes = compose()["services"]["prometheus"]["volumes"]
    assert any(v.startswith("./docker/prometheus/alerts.yml:") for v in volumes)
    grafana = compose()["services"]["grafana"]["volumes"]
    assert any("onex-runtime-host.json" in v for v in grafana)


def contract_topics() -> dict[str, int]:
    """Every topic the container contract's host checks at start, with its partitions:
    command, event and dead-letter topics, and the changelog of each answers table."""
    runtime = load_runtime_contract(CONTAINER_CONTRACT).runtime
    partitions = runtime.event_bus.config.partitions
    host = build_host(CONTAINER_CONTRACT, env={**CONTRACT_ENV, "ONEX_ENV": "prod"}, logs="as-is")
    changelogs = [t.changelog_topic_name for t in getattr(host.bus, "_answers", [])]
    topics = [
        t for s in runtime.subscriptions for t in (s.input, s.event_topic, s.dead_letter_topic)
    ]
    return dict.fromkeys([*topics, *changelogs], partitions)


def listed_topics() -> dict[str, tuple[int, list[str]]]:
    """topics.txt: name -> (partitions, topic configs)."""
    lines = (REPO / "redpanda" / "topics.txt").read_text().splitlines()
    rows = [line.split() for line in lines if line.strip() and not line.startswith("#")]
    return {row[0]: (int(row[1]), row[3:]) for row in rows}


def test_the_topic_bootstrap_lists_exactly_the_topics_the_host_checks() -> None:
    listed = listed_topics()
    assert {name: partitions for name, (partitions, _) in listed.items()} == contract_topics()
    for name, (_, configs) in listed.items():
        if name.endswith("-changelog"):  # as the answers table declares it in dev
            assert "cleanup.policy=compact,delete" in configs, name


def test_the_topic_bootstrap_creates_each_topic_and_keeps_existing_ones(tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    fake = tmp_path / "rpk"
    fake.write_text(
        "#!/usr/bin/env bash\n"
        f'echo "$*" >> {calls}\n'
        # the orders command topic exists already: create fails, describe succeeds
        'if [[ "$1 $2 $3" == "topic create onex.acme.orders.cmd.v1" ]]; then exit 1; fi\n'
    )
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    script = REPO / "redpanda" / "create-topics.sh"
    result = subprocess.run(
        ["bash", str(script)], env=env, capture_output=True, text=True, check=False, timeout=30
    )
    assert result.returncode == 0, result.stderr
    made = calls.read_text().splitlines()
    for name, (partitions, configs) in listed_topics().items():
        options = "".join(f" -c {config}" for config in configs)
        assert f"topic create {name} --partitions {partitions} --replicas 1{options}" in made
    assert "topic describe onex.acme.orders.cmd.v1" in made


def test_the_topic_bootstrap_fails_when_a_topic_can_be_neither_created_nor_found(
    tmp_path: Path,
) -> None:
    fake = tmp_path / "rpk"
    fake.write_text("#!/usr/bin/env bash\nexit 1\n")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    script = REPO / "redpanda" / "create-topics.sh"
    result = subprocess.run(["bash", str(script)], env=env, capture_output=True, check=False)
    assert result.returncode != 0


# --- Dockerfile and lock file -------------------------------------------------------------


def test_every_base_image_is_pinned_to_an_exact_tag_or_digest() -> None:
    bases = [c.value[0] for c in instructions() if c.cmd == "FROM"]
    assert bases
    for base in bases:
        assert re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+-[\w.-]+(@sha256:[0-9a-f]{64})?", base), base


def test_the_image_runs_as_a_numeric_non_root_user() -> None:
    users = [c.value[0] for c in final_stage() if c.cmd == "USER"]
    assert users, "no USER in the final stage"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) != 0 and (not gid or int(gid) != 0)


def test_the_image_health_check_probes_liveness() -> None:
    check = next(c for c in final_stage() if c.cmd == "HEALTHCHECK")
    assert check.json and check.value[0] == "CMD"
    assert "/health/live" in " ".join(check.value)


def test_the_image_runs_the_faust_worker_on_a_contract_that_starts() -> None:
    entrypoint = next(c for c in final_stage() if c.cmd == "ENTRYPOINT")
    assert entrypoint.json  # exec form: the worker is PID 1 and receives SIGTERM
    assert list(entrypoint.value[:4]) == ["faust", "-A", "onex_stream", "worker"]
    assert list(entrypoint.value[4:6]) == ["--web-bind", "0.0.0.0"]
    env = image_env()
    assert env["ONEX_ENV"] == "prod"
    contract = REPO / env["ONEX_CONTRACT"].removeprefix("/app/")
    assert contract == CONTAINER_CONTRACT
    report = check_runtime_contract(contract, env=CONTRACT_ENV)
    assert report.findings == [] and report.contract is not None


def test_dependencies_are_installed_from_the_hashed_lock_only() -> None:
    runs = [c.value[0] for c in instructions() if c.cmd == "RUN" and "pip install" in c.value[0]]
    assert any("--require-hashes" in r and "-r requirements.lock" in r for r in runs)
    for run in runs:
        for install in run.split("pip install")[1:]:
            assert "--require-hashes" in install or "--no-deps" in install, run


def locked() -> dict[str, str]:
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==([^\s\\]+) \\$", LOCK.read_text(), re.MULTILINE)
    return {name.lower().replace("_", "-"): version for name, version in pins}


def test_the_lock_pins_every_dependency_within_its_range_with_hashes() -> None:
    text = LOCK.read_text()
    pins = locked()
    blocks = re.split(r"^(?=[A-Za-z0-9_.-]+==)", text, flags=re.MULTILINE)[1:]
    assert len(blocks) == len(pins)
    assert all("--hash=sha256:" in block for block in blocks)
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    wanted = [*project["project"]["dependencies"], *project["build-system"]["requires"]]
    for spec in map(Requirement, wanted):
        name = spec.name.lower().replace("_", "-")
        assert name in pins, f"{spec} is not in {LOCK.name}"
        assert spec.specifier.contains(pins[name], prereleases=True), f"{spec} vs {pins[name]}"
