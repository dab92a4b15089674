"""The shapes of the Kubernetes kinds rules read, as data (see kubevet.shapes).

A dict literal is a mapping with those keys (others are not looked at), `[shape]` a list of
`shape`, `Each(shape)` a mapping whose every value has `shape`, and the leaves below.
`null` is "absent" everywhere, as in the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Leaf:
    """A scalar field. Any scalar is accepted: what breaks rules is a list or a mapping
    where a scalar belongs; a quoted "yes" for a boolean is a question of meaning, which
    the rules reading it answer (and YAML 1.1 reading already settled)."""

    name: str  # "a boolean", for messages

    def accepts(self, value: Any) -> bool:
        return not isinstance(value, dict | list)


@dataclass(frozen=True)
class Each:
    """The shape of every value of a mapping with free keys (labels, a map of ports)."""

    shape: Any


STR = Leaf("a string")
INT = Leaf("a number")
BOOL = Leaf("a boolean")
MAP: dict[str, Any] = {}

META = {
    "name": STR,
    "generateName": STR,
    "namespace": STR,
    "labels": Each(STR),
    "annotations": Each(STR),
    "ownerReferences": [{"apiVersion": STR, "kind": STR, "name": STR, "controller": BOOL}],
}
REQUIREMENT = {"key": STR, "operator": STR, "values": [STR]}
SELECTOR = {"matchLabels": Each(STR), "matchExpressions": [REQUIREMENT]}
_HANDLER = {
    "exec": {"command": [STR]},
    "httpGet": {
        "path": STR,
        "port": STR,
        "host": STR,
        "scheme": STR,
        "httpHeaders": [{"name": STR, "value": STR}],
    },
    "tcpSocket": {"port": STR, "host": STR},
    "sleep": {"seconds": INT},
}
_PROBE = {
    **_HANDLER,
    "grpc": {"port": INT, "service": STR},
    **dict.fromkeys(
        (
            "initialDelaySeconds",
            "periodSeconds",
            "timeoutSeconds",
            "failureThreshold",
            "successThreshold",
            "terminationGracePeriodSeconds",
        ),
        INT,
    ),
}
_PROFILE = {"type": STR, "localhostProfile": STR}
_SC = {
    "runAsUser": INT,
    "runAsGroup": INT,
    "runAsNonRoot": BOOL,
    "seLinuxOptions": {"user": STR, "role": STR, "type": STR, "level": STR},
    "seccompProfile": _PROFILE,
    "appArmorProfile": _PROFILE,
    "windowsOptions": {"hostProcess": BOOL, "gmsaCredentialSpecName": STR, "runAsUserName": STR},
}
CONTAINER_SC = {
    **_SC,
    "privileged": BOOL,
    "allowPrivilegeEscalation": BOOL,
    "readOnlyRootFilesystem": BOOL,
    "procMount": STR,
    "capabilities": {"add": [STR], "drop": [STR]},
}
POD_SC = {
    **_SC,
    "fsGroup": INT,
    "fsGroupChangePolicy": STR,
    "supplementalGroups": [INT],
    "sysctls": [{"name": STR, "value": STR}],
}
_KEY_REF = {"name": STR, "key": STR, "optional": BOOL}
_RESOURCES = {"requests": Each(STR), "limits": Each(STR), "claims": [{"name": STR}]}
CONTAINER = {
    "name": STR,
    "image": STR,
    "imagePullPolicy": STR,
    "command": [STR],
    "args": [STR],
    "workingDir": STR,
    "restartPolicy": STR,
    "targetContainerName": STR,
    "stdin": BOOL,
    "tty": BOOL,
    "ports": [{"name": STR, "containerPort": INT, "hostPort": INT, "protocol": STR, "hostIP": STR}],
    "env": [
        {
            "name": STR,
            "value": STR,
            "valueFrom": {
                "secretKeyRef": _KEY_REF,
                "configMapKeyRef": _KEY_REF,
                "fieldRef": {"fieldPath": STR, "apiVersion": STR},
                "resourceFieldRef": {"resource": STR, "containerName": STR, "divisor": STR},
            },
        }
    ],
    "envFrom": [
        {
            "prefix": STR,
            "secretRef": {"name": STR, "optional": BOOL},
            "configMapRef": {"name": STR, "optional": BOOL},
        }
    ],
    "resources": _RESOURCES,
    "resizePolicy": [{"resourceName": STR, "restartPolicy": STR}],
    "securityContext": CONTAINER_SC,
    "livenessProbe": _PROBE,
    "readinessProbe": _PROBE,
    "startupProbe": _PROBE,
    "lifecycle": {"postStart": _HANDLER, "preStop": _HANDLER},
    "volumeMounts": [
        {
            "name": STR,
            "mountPath": STR,
            "subPath": STR,
            "subPathExpr": STR,
            "readOnly": BOOL,
            "mountPropagation": STR,
        }
    ],
    "volumeDevices": [{"name": STR, "devicePath": STR}],
}
_ITEMS = [{"key": STR, "path": STR, "mode": INT}]
VOLUME = {
    "name": STR,
    "hostPath": {"path": STR, "type": STR},
    "emptyDir": {"medium": STR, "sizeLimit": STR},
    "configMap": {"name": STR, "items": _ITEMS, "defaultMode": INT, "optional": BOOL},
    "secret": {"secretName": STR, "items": _ITEMS, "defaultMode": INT, "optional": BOOL},
    "persistentVolumeClaim": {"claimName": STR, "readOnly": BOOL},
    "projected": {
        "defaultMode": INT,
        "sources": [
            {
                "serviceAccountToken": {"path": STR, "audience": STR, "expirationSeconds": INT},
                "secret": {"name": STR, "items": _ITEMS},
                "configMap": {"name": STR, "items": _ITEMS},
                "downwardAPI": MAP,
            }
        ],
    },
    "csi": {"driver": STR, "readOnly": BOOL, "volumeAttributes": Each(STR)},
    "nfs": {"server": STR, "path": STR, "readOnly": BOOL},
    "ephemeral": MAP,
    "downwardAPI": MAP,
}
_AFFINITY_TERM = {
    "labelSelector": SELECTOR,
    "namespaceSelector": SELECTOR,
    "namespaces": [STR],
    "topologyKey": STR,
}
_POD_AFFINITY = {
    "requiredDuringSchedulingIgnoredDuringExecution": [_AFFINITY_TERM],
    "preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": INT, "podAffinityTerm": _AFFINITY_TERM}
    ],
}
_NODE_TERM = {"matchExpressions": [REQUIREMENT], "matchFields": [REQUIREMENT]}
AFFINITY = {
    "nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [_NODE_TERM]},
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": INT, "preference": _NODE_TERM}
        ],
    },
    "podAffinity": _POD_AFFINITY,
    "podAntiAffinity": _POD_AFFINITY,
}
_POD_FLAGS = (
    "hostNetwork",
    "hostPID",
    "hostIPC",
    "hostUsers",
    "automountServiceAccountToken",
    "shareProcessNamespace",
    "enableServiceLinks",
)
_POD_NAMES = (
    "serviceAccountName",
    "serviceAccount",
    "restartPolicy",
    "priorityClassName",
    "nodeName",
    "schedulerName",
    "runtimeClassName",
    "dnsPolicy",
    "hostname",
    "subdomain",
    "preemptionPolicy",
)
POD_SPEC = {
    "containers": [CONTAINER],
    "initContainers": [CONTAINER],
    "ephemeralContainers": [CONTAINER],
    "securityContext": POD_SC,
    "volumes": [VOLUME],
    **dict.fromkeys(_POD_FLAGS, BOOL),
    **dict.fromkeys(_POD_NAMES, STR),
    "terminationGracePeriodSeconds": INT,
    "activeDeadlineSeconds": INT,
    "priority": INT,
    "nodeSelector": Each(STR),
    "tolerations": [
        {"key": STR, "operator": STR, "value": STR, "effect": STR, "tolerationSeconds": INT}
    ],
    "affinity": AFFINITY,
    "topologySpreadConstraints": [
        {
            "maxSkew": INT,
            "minDomains": INT,
            "topologyKey": STR,
            "whenUnsatisfiable": STR,
            "labelSelector": SELECTOR,
            "matchLabelKeys": [STR],
        }
    ],
    "imagePullSecrets": [{"name": STR}],
    "hostAliases": [{"ip": STR, "hostnames": [STR]}],
    "os": {"name": STR},
    "dnsConfig": {
        "nameservers": [STR],
        "searches": [STR],
        "options": [{"name": STR, "value": STR}],
    },
    "overhead": Each(STR),
    "resources": _RESOURCES,
}
POD_TEMPLATE = {"metadata": META, "spec": POD_SPEC}
_ROLLING = {"rollingUpdate": {"maxUnavailable": STR, "maxSurge": STR, "partition": INT}}
_WORKLOAD = {
    "replicas": INT,
    "minReadySeconds": INT,
    "revisionHistoryLimit": INT,
    "selector": SELECTOR,
    "template": POD_TEMPLATE,
}
JOB_SPEC = {
    "template": POD_TEMPLATE,
    "selector": SELECTOR,
    **dict.fromkeys(
        (
            "backoffLimit",
            "activeDeadlineSeconds",
            "ttlSecondsAfterFinished",
            "parallelism",
            "completions",
        ),
        INT,
    ),
}
_BACKEND = {
    "service": {"name": STR, "port": {"number": INT, "name": STR}},
    "resource": {"apiGroup": STR, "kind": STR, "name": STR},
    "serviceName": STR,
    "servicePort": STR,
}
_ROLE_RULES = [
    {
        "apiGroups": [STR],
        "resources": [STR],
        "verbs": [STR],
        "resourceNames": [STR],
        "nonResourceURLs": [STR],
    }
]
_METRIC_TARGET = {"type": STR, "averageUtilization": INT, "averageValue": STR, "value": STR}

# The shape of each kind's fields besides `metadata` (every kind has that one). Network
# policies are not here: taking a field out would change what a policy allows, so netpol
# validates them itself and sets a malformed policy aside whole.
KINDS: dict[str, dict[str, Any]] = {
    "Pod": {"spec": POD_SPEC},
    "PodTemplate": {"template": POD_TEMPLATE},
    "Deployment": {
        "spec": {
            **_WORKLOAD,
            "strategy": {"type": STR, **_ROLLING},
            "progressDeadlineSeconds": INT,
            "paused": BOOL,
        }
    },
    "ReplicaSet": {"spec": _WORKLOAD},
    "ReplicationController": {"spec": {**_WORKLOAD, "selector": Each(STR)}},
    "StatefulSet": {
        "spec": {
            **_WORKLOAD,
            "serviceName": STR,
            "podManagementPolicy": STR,
            "updateStrategy": {"type": STR, **_ROLLING},
            "volumeClaimTemplates": [
                {
                    "metadata": META,
                    "spec": {
                        "accessModes": [STR],
                        "storageClassName": STR,
                        "resources": _RESOURCES,
                    },
                }
            ],
        }
    },
    "DaemonSet": {"spec": {**_WORKLOAD, "updateStrategy": {"type": STR, **_ROLLING}}},
    "Job": {"spec": JOB_SPEC},
    "CronJob": {
        "spec": {
            "schedule": STR,
            "timeZone": STR,
            "concurrencyPolicy": STR,
            "suspend": BOOL,
            "startingDeadlineSeconds": INT,
            "successfulJobsHistoryLimit": INT,
            "failedJobsHistoryLimit": INT,
            "jobTemplate": {"metadata": META, "spec": JOB_SPEC},
        }
    },
    "Service": {
        "spec": {
            "type": STR,
            "selector": Each(STR),
            "ports": [
                {
                    "name": STR,
                    "port": INT,
                    "targetPort": STR,
                    "nodePort": INT,
                    "protocol": STR,
                    "appProtocol": STR,
                }
            ],
            "externalIPs": [STR],
            "loadBalancerSourceRanges": [STR],
            "clusterIP": STR,
            "externalName": STR,
            "externalTrafficPolicy": STR,
            "sessionAffinity": STR,
        }
    },
    "Role": {"rules": _ROLE_RULES},
    "ClusterRole": {
        "rules": _ROLE_RULES,
        "aggregationRule": {"clusterRoleSelectors": [SELECTOR]},
    },
    "RoleBinding": {
        "roleRef": {"apiGroup": STR, "kind": STR, "name": STR},
        "subjects": [{"kind": STR, "name": STR, "namespace": STR, "apiGroup": STR}],
    },
    "ServiceAccount": {
        "automountServiceAccountToken": BOOL,
        "secrets": [{"name": STR}],
        "imagePullSecrets": [{"name": STR}],
    },
    "Ingress": {
        "spec": {
            "ingressClassName": STR,
            "defaultBackend": _BACKEND,
            "backend": _BACKEND,
            "tls": [{"hosts": [STR], "secretName": STR}],
            "rules": [
                {
                    "host": STR,
                    "http": {"paths": [{"path": STR, "pathType": STR, "backend": _BACKEND}]},
                }
            ],
        }
    },
    "Route": {
        "spec": {
            "host": STR,
            "to": {"kind": STR, "name": STR, "weight": INT},
            "alternateBackends": [{"kind": STR, "name": STR, "weight": INT}],
            "port": {"targetPort": STR},
            "tls": {"termination": STR},
        }
    },
    "HorizontalPodAutoscaler": {
        "spec": {
            "scaleTargetRef": {"apiVersion": STR, "kind": STR, "name": STR},
            "minReplicas": INT,
            "maxReplicas": INT,
            "targetCPUUtilizationPercentage": INT,
            "metrics": [
                {
                    "type": STR,
                    "resource": {"name": STR, "target": _METRIC_TARGET},
                    "containerResource": {
                        "name": STR,
                        "container": STR,
                        "target": _METRIC_TARGET,
                    },
                }
            ],
        }
    },
    "PodDisruptionBudget": {
        "spec": {
            "minAvailable": STR,
            "maxUnavailable": STR,
            "selector": SELECTOR,
            "unhealthyPodEvictionPolicy": STR,
        }
    },
}
KINDS["ClusterRoleBinding"] = KINDS["RoleBinding"]
