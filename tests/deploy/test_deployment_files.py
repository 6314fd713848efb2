"""Deployment files parse, probe the health endpoints and carry a valid contract."""

from __future__ import annotations

from pathlib import Path

import yaml

from onex_stream.core.contracts import check_runtime_contract

REPO = Path(__file__).resolve().parents[2]


def test_every_kubernetes_and_compose_file_parses() -> None:
    for path in [*sorted((REPO / "k8s").glob("*.yaml")), REPO / "docker-compose.yaml"]:
        assert yaml.safe_load(path.read_text()), path


def test_the_deployment_probes_the_health_endpoints() -> None:
    deployment = yaml.safe_load((REPO / "k8s" / "deployment.yaml").read_text())
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert {"ONEX_ENV": "prod"}.items() <= {
        e["name"]: e.get("value") for e in container["env"]
    }.items()


def test_the_configmap_contract_is_valid(tmp_path: Path) -> None:
    configmap = yaml.safe_load((REPO / "k8s" / "configmap.yaml").read_text())
    path = tmp_path / "host.yaml"
    path.write_text(configmap["data"]["host.yaml"])
    env = {"KAFKA_BOOTSTRAP_SERVERS": "kafka:9092", "DATABASE_URL": "postgresql://db/onex"}
    report = check_runtime_contract(path, env=env)
    assert report.findings == [] and report.contract is not None
    assert report.contract.runtime.shutdown_timeout_seconds < 30  # within the grace period
