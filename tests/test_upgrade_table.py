"""The deprecations table against the Kubernetes Deprecated API Migration Guide.

Expected values are written out here from the guide's "Removed APIs by release" sections
(kubernetes.io/docs/reference/using-api/deprecation-guide/), independently of the table.
"""

from __future__ import annotations

import pytest

from kubevet.upgrade.table import load_table

FC = "flowcontrol.apiserver.k8s.io"

# release -> {(apiVersion, kind): replacement apiVersion (None: no replacement)}
GUIDE: dict[str, dict[tuple[str, str], str | None]] = {
    "1.16": {
        ("extensions/v1beta1", "NetworkPolicy"): "networking.k8s.io/v1",
        ("extensions/v1beta1", "DaemonSet"): "apps/v1",
        ("apps/v1beta2", "DaemonSet"): "apps/v1",
        ("extensions/v1beta1", "Deployment"): "apps/v1",
        ("apps/v1beta1", "Deployment"): "apps/v1",
        ("apps/v1beta2", "Deployment"): "apps/v1",
        ("apps/v1beta1", "StatefulSet"): "apps/v1",
        ("apps/v1beta2", "StatefulSet"): "apps/v1",
        ("extensions/v1beta1", "ReplicaSet"): "apps/v1",
        ("apps/v1beta1", "ReplicaSet"): "apps/v1",
        ("apps/v1beta2", "ReplicaSet"): "apps/v1",
    },
    "1.22": {
        ("admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration"): (
            "admissionregistration.k8s.io/v1"
        ),
        ("admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration"): (
            "admissionregistration.k8s.io/v1"
        ),
        ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"): "apiextensions.k8s.io/v1",
        ("apiregistration.k8s.io/v1beta1", "APIService"): "apiregistration.k8s.io/v1",
        ("authentication.k8s.io/v1beta1", "TokenReview"): "authentication.k8s.io/v1",
        ("authorization.k8s.io/v1beta1", "LocalSubjectAccessReview"): "authorization.k8s.io/v1",
        ("authorization.k8s.io/v1beta1", "SelfSubjectAccessReview"): "authorization.k8s.io/v1",
        ("authorization.k8s.io/v1beta1", "SelfSubjectRulesReview"): "authorization.k8s.io/v1",
        ("authorization.k8s.io/v1beta1", "SubjectAccessReview"): "authorization.k8s.io/v1",
        ("certificates.k8s.io/v1beta1", "CertificateSigningRequest"): "certificates.k8s.io/v1",
        ("coordination.k8s.io/v1beta1", "Lease"): "coordination.k8s.io/v1",
        ("extensions/v1beta1", "Ingress"): "networking.k8s.io/v1",
        ("networking.k8s.io/v1beta1", "Ingress"): "networking.k8s.io/v1",
        ("networking.k8s.io/v1beta1", "IngressClass"): "networking.k8s.io/v1",
        ("rbac.authorization.k8s.io/v1beta1", "ClusterRole"): "rbac.authorization.k8s.io/v1",
        ("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding"): "rbac.authorization.k8s.io/v1",
        ("rbac.authorization.k8s.io/v1beta1", "Role"): "rbac.authorization.k8s.io/v1",
        ("rbac.authorization.k8s.io/v1beta1", "RoleBinding"): "rbac.authorization.k8s.io/v1",
        ("scheduling.k8s.io/v1beta1", "PriorityClass"): "scheduling.k8s.io/v1",
        ("storage.k8s.io/v1beta1", "CSIDriver"): "storage.k8s.io/v1",
        ("storage.k8s.io/v1beta1", "CSINode"): "storage.k8s.io/v1",
        ("storage.k8s.io/v1beta1", "StorageClass"): "storage.k8s.io/v1",
        ("storage.k8s.io/v1beta1", "VolumeAttachment"): "storage.k8s.io/v1",
    },
    "1.25": {
        ("batch/v1beta1", "CronJob"): "batch/v1",
        ("discovery.k8s.io/v1beta1", "EndpointSlice"): "discovery.k8s.io/v1",
        ("events.k8s.io/v1beta1", "Event"): "events.k8s.io/v1",
        ("autoscaling/v2beta1", "HorizontalPodAutoscaler"): "autoscaling/v2",
        ("policy/v1beta1", "PodDisruptionBudget"): "policy/v1",
        ("policy/v1beta1", "PodSecurityPolicy"): None,
        ("node.k8s.io/v1beta1", "RuntimeClass"): "node.k8s.io/v1",
    },
    "1.26": {
        (f"{FC}/v1beta1", "FlowSchema"): f"{FC}/v1beta3",
        (f"{FC}/v1beta1", "PriorityLevelConfiguration"): f"{FC}/v1beta3",
        ("autoscaling/v2beta2", "HorizontalPodAutoscaler"): "autoscaling/v2",
    },
    "1.27": {("storage.k8s.io/v1beta1", "CSIStorageCapacity"): "storage.k8s.io/v1"},
    "1.29": {
        (f"{FC}/v1beta2", "FlowSchema"): f"{FC}/v1",
        (f"{FC}/v1beta2", "PriorityLevelConfiguration"): f"{FC}/v1",
    },
    "1.32": {
        (f"{FC}/v1beta3", "FlowSchema"): f"{FC}/v1",
        (f"{FC}/v1beta3", "PriorityLevelConfiguration"): f"{FC}/v1",
    },
}

# Removals the table has from other sources than the guide (named in their entry).
NOT_IN_GUIDE = {
    ("extensions/v1beta1", "PodSecurityPolicy"),  # Kubernetes 1.16 release notes
    # betas removed after the guide's last section, from the releases' OpenAPI schemas
    ("authentication.k8s.io/v1beta1", "SelfSubjectReview"),
    ("admissionregistration.k8s.io/v1beta1", "ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io/v1beta1", "ValidatingAdmissionPolicyBinding"),
}


def _guide_removals(release: str) -> dict[tuple[str, str], str | None]:
    table = load_table()
    rel = tuple(int(x) for x in release.split("."))
    return {
        (e.api_version, e.kind): e.replacement
        for e in table.entries
        if e.removed == rel and (e.api_version, e.kind) not in NOT_IN_GUIDE
    }


@pytest.mark.parametrize("release", sorted(GUIDE, key=lambda r: int(r.split(".")[1])))
def test_removals_match_the_guide_section(release):
    assert _guide_removals(release) == GUIDE[release]


def test_no_removals_outside_the_guide_releases():
    outside = {(e.api_version, e.kind) for e in load_table().entries} & NOT_IN_GUIDE
    releases = {
        f"{e.removed[0]}.{e.removed[1]}"
        for e in load_table().entries
        if e.removed and (e.api_version, e.kind) not in outside
    }
    assert releases == set(GUIDE)


def test_flowcontrol_dates_that_popular_tables_get_wrong():
    table = load_table()
    v1beta1 = table.lookup(f"{FC}/v1beta1", "PriorityLevelConfiguration")
    v1beta3 = table.lookup(f"{FC}/v1beta3", "FlowSchema")
    assert v1beta1 is not None and v1beta1.removed == (1, 26)
    assert v1beta3 is not None and v1beta3.deprecated == (1, 29) and v1beta3.removed == (1, 32)
    assert table.lookup(f"{FC}/v1beta1", "FlowControl") is None


def test_every_entry_is_sourced_and_ordered():
    for e in load_table().entries:
        assert e.source, e
        if e.removed:
            assert e.deprecated is not None and e.deprecated < e.removed, e
        if e.available and e.removed:
            assert e.available <= e.removed, e
        assert e.rewrite in {"none", "version", "workload", "ingress", "hpa", "flowcontrol"} | {
            "webhook",
            "endpointslice",
        }, e


def test_table_reaches_the_newest_release():
    assert load_table().newest >= (1, 32)


@pytest.mark.parametrize(
    ("target", "current", "expected"),
    [
        ((1, 26), None, f"{FC}/v1beta3"),
        ((1, 29), None, f"{FC}/v1"),  # v1beta3 is deprecated there and v1 is served
        ((1, 29), (1, 27), f"{FC}/v1beta3"),  # v1 is not served by the running 1.27
        ((1, 32), (1, 27), f"{FC}/v1"),  # v1beta3 is gone at the target
    ],
)
def test_replacement_follows_the_chain(target, current, expected):
    table = load_table()
    entry = table.lookup(f"{FC}/v1beta1", "FlowSchema")
    assert table.replacement_for(entry, target, current) == expected


def test_psp_chain_ends_without_replacement():
    table = load_table()
    old = table.lookup("extensions/v1beta1", "PodSecurityPolicy")
    assert table.replacement_for(old, (1, 20)) == "policy/v1beta1"
    assert table.replacement_for(old, (1, 25)) is None
