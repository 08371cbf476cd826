"""Deployment files: the Kubernetes manifests validate against the Kubernetes schemas (kubernetes-validate ships
them, so this runs offline) and say what scale-out needs; the compose file parses and wires the stack."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.metrics.support import DEPLOY, ROOT

K8S = DEPLOY / "k8s"
MANIFESTS = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def load(path: Path) -> dict[str, Any]:
    (doc,) = list(yaml.safe_load_all(path.read_text()))
    return doc  # type: ignore[no-any-return]


@pytest.mark.parametrize("path", MANIFESTS, ids=[p.name for p in MANIFESTS])
def test_each_manifest_validates_against_the_kubernetes_schema(path: Path) -> None:
    kubernetes_validate = pytest.importorskip(
        "kubernetes_validate", reason="kubernetes-validate is a dev extra: pip install -e '.[dev]'")
    doc = load(path)
    kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)


def test_kustomization_lists_every_manifest_but_the_example_secret() -> None:
    listed = set(load(K8S / "kustomization.yaml")["resources"])
    assert listed == {p.name for p in MANIFESTS} - {"secret.example.yaml"}


def test_the_deployment_scales_out_safely() -> None:
    deployment = load(K8S / "deployment.yaml")
    spec = deployment["spec"]
    pod = spec["template"]
    assert spec["replicas"] >= 2
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["spec"]["containers"]
    # /metrics on its own port: the one Prometheus is told to scrape, and one the Service does not expose
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    env_values = {e["name"]: e.get("value") for e in container["env"]}
    assert env_values["CRM_DQ_METRICS_PORT"] == str(ports["metrics"]) != str(ports["http"])
    assert pod["metadata"]["annotations"] == {"prometheus.io/scrape": "true",
                                              "prometheus.io/port": str(ports["metrics"]),
                                              "prometheus.io/path": "/metrics"}
    service_ports = load(K8S / "service.yaml")["spec"]["ports"]
    assert [p["targetPort"] for p in service_ports] == ["http"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert {"cpu", "memory"} <= container["resources"]["requests"].keys()
    assert {"cpu", "memory"} <= container["resources"]["limits"].keys()
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    env = {e["name"]: e for e in container["env"]}
    assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {"name": "crm-dq", "key": "database-url"}
    assert env["CRM_DQ_API_KEYS"]["valueFrom"]["secretKeyRef"]["name"] == "crm-dq"
    assert int(env["CRM_DQ_WORKERS"]["value"]) >= 2
    # scoring processes per worker set explicitly: their default counts the node's CPUs, not the pod's limit
    processes = max(1, int(env["CRM_DQ_BATCH_PROCESSES"]["value"]))
    assert int(env["CRM_DQ_WORKERS"]["value"]) * processes <= cpus(container["resources"]["limits"]["cpu"])
    metrics_dir = env["PROMETHEUS_MULTIPROC_DIR"]["value"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert "emptyDir" in volumes[mounts[metrics_dir]]
    secret = load(K8S / "secret.example.yaml")
    assert {"database-url", "api-keys"} == secret["stringData"].keys()
    assert secret["stringData"]["database-url"].startswith("postgresql://")


def cpus(quantity: str) -> float:
    """A Kubernetes CPU quantity ("2", "1500m") in CPUs."""
    return int(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


def test_the_image_sets_scoring_processes_per_worker() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    workers = int(re.search(r"\bCRM_DQ_WORKERS=(\d+)", dockerfile)[1])  # type: ignore[index]
    processes = int(re.search(r"\bCRM_DQ_BATCH_PROCESSES=(\d+)", dockerfile)[1])  # type: ignore[index]
    assert workers >= 2 and processes in (0, 1)  # one core's worth of scoring per worker


def test_service_hpa_and_pdb_select_the_deployment() -> None:
    labels = load(K8S / "deployment.yaml")["spec"]["template"]["metadata"]["labels"]
    assert load(K8S / "service.yaml")["spec"]["selector"] == labels
    assert load(K8S / "pdb.yaml")["spec"]["selector"]["matchLabels"] == labels
    hpa = load(K8S / "hpa.yaml")["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "crm-dq"}
    assert hpa["minReplicas"] >= 2 and hpa["maxReplicas"] > hpa["minReplicas"]


def test_the_compose_file_parses_and_wires_the_stack() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"crm-dq", "prometheus", "grafana"}
    app = services["crm-dq"]
    assert (DEPLOY / app["build"]["context"] / app["build"]["dockerfile"]).resolve() == ROOT / "Dockerfile"
    assert int(app["environment"]["CRM_DQ_WORKERS"]) >= 2 and app["environment"]["PROMETHEUS_MULTIPROC_DIR"]
    assert int(app["environment"]["CRM_DQ_BATCH_PROCESSES"]) in (0, 1)  # 2 workers, one scoring each
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{volume}: {source} is not in deploy/"
            else:
                assert source in compose["volumes"], volume
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())["scrape_configs"]
    (target,) = scrape[0]["static_configs"][0]["targets"]
    host, port = target.split(":")
    assert host == "crm-dq" and f"{port}:{port}" in app["ports"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in services["prometheus"]["command"]
    assert "./prometheus:/etc/prometheus:ro" in services["prometheus"]["volumes"]
