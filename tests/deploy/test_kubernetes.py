"""deploy/kubernetes: each kustomization renders (kubectl kustomize) and every resource is valid
against the Kubernetes schemas (kubernetes-validate, strict, offline), and what the README promises
holds: locked-down pods, probes and a drain that match the service, secrets as files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"
KUSTOMIZATIONS = ("base", "overlays/production", "overlays/cloudnativepg")
KUBERNETES_VERSIONS = ("1.29.0", "1.37.0")
"""The oldest version a bank may still run with these APIs, and the newest the schemas know."""
CUSTOM_RESOURCES = {("postgresql.cnpg.io/v1", "Cluster")}
PRE_STOP_SECONDS = 5
MARGIN_SECONDS = 5


def _render(kustomization: str) -> list[dict[str, Any]]:
    kubectl = str(Path(sys.executable).with_name("kubectl"))
    result = subprocess.run(
        [kubectl, "kustomize", str(KUBERNETES / kustomization)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def _one(documents: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [
        doc
        for doc in documents
        if doc["kind"] == kind and (name is None or doc["metadata"]["name"] == name)
    ]
    assert len(found) == 1, f"{kind} {name or ''}: {len(found)} found"
    return found[0]


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_resource_is_valid_against_the_kubernetes_schemas(
    kustomization: str, version: str
) -> None:
    for document in _render(kustomization):
        if (document["apiVersion"], document["kind"]) in CUSTOM_RESOURCES:
            continue
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{document['kind']}/{document['metadata']['name']}: {error.message}")


def test_the_pods_are_locked_down_and_drain_with_the_service() -> None:
    documents = _render("overlays/production")
    deployment = _one(documents, "Deployment")
    assert deployment["spec"]["replicas"] == 3
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    container = pod["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert set(container["resources"]) == {"requests", "limits"}
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert container["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", str(PRE_STOP_SECONDS)]
    settings = _one(documents, "ConfigMap")["data"]
    drain = int(settings["MFA_SHUTDOWN_GRACE_SECONDS"])
    assert pod["terminationGracePeriodSeconds"] >= PRE_STOP_SECONDS + drain + MARGIN_SECONDS
    assert {doc["kind"] for doc in documents} >= {
        "Namespace",
        "ServiceAccount",
        "Service",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "NetworkPolicy",
        "Job",
    }
    assert _one(documents, "HorizontalPodAutoscaler")["spec"]["minReplicas"] == 3


def test_settings_hold_no_secret_and_secrets_are_mounted_files() -> None:
    documents = _render("overlays/production")
    settings = _one(documents, "ConfigMap")["data"]
    for name, value in settings.items():
        assert not name.endswith(("_TOKEN", "_SECRET_ID", "_PASSWORD", "_KEY")), name
        if name.endswith("_FILE"):
            assert value.startswith("/run/secrets/"), name
    assert "@" in settings["MFA_DATABASE_URL"]
    assert ":" not in settings["MFA_DATABASE_URL"].split("://", 1)[1].split("@", 1)[0]
    pod = _one(documents, "Deployment")["spec"]["template"]["spec"]
    secret_volumes = {v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
    assert secret_volumes == {"mfa-service-secrets"}


def test_network_policy_admits_only_the_gateway_and_reaches_only_dependencies() -> None:
    policy = _one(_render("overlays/production"), "NetworkPolicy")["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    assert len(policy["ingress"]) == 1
    assert policy["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "gateway"
    }
    ports = {port["port"] for rule in policy["egress"] for port in rule["ports"]}
    assert ports == {53, 5432, 8200, 443}


def test_migration_job_needs_only_the_database() -> None:
    job = _one(_render("overlays/production"), "Job")
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["mfa-service", "migrate"]
    assert {variable["name"] for variable in container["env"]} == {
        "MFA_ENV",
        "MFA_DATABASE_URL",
        "MFA_DATABASE_PASSWORD_FILE",
    }
    assert "envFrom" not in container


def test_cloudnativepg_cluster_is_replicated_and_serves_the_service() -> None:
    documents = _render("overlays/cloudnativepg")
    cluster = _one(documents, "Cluster")
    assert cluster["spec"]["instances"] == 3
    assert cluster["spec"]["postgresql"]["synchronous"]["number"] >= 1
    name = cluster["metadata"]["name"]
    url = _one(documents, "ConfigMap")["data"]["MFA_DATABASE_URL"]
    assert f"@{name}-rw:5432/" in url
    for kind in ("Deployment", "Job"):
        container = _one(documents, kind)["spec"]["template"]["spec"]["containers"][0]
        password_file = next(
            v["value"] for v in container["env"] if v["name"] == "MFA_DATABASE_PASSWORD_FILE"
        )
        assert password_file == "/run/secrets/database/database-password"
        pod = _one(documents, kind)["spec"]["template"]["spec"]
        assert any(v.get("secret", {}).get("secretName") == f"{name}-app" for v in pod["volumes"])
