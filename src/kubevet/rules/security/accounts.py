"""Service accounts and the credentials a pod carries (KV132-KV135, KV139): Secrets in
the environment, API tokens, the default and deprecated service account fields."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from kubevet.context import InputGroup, RuleContext
from kubevet.findings import Edit, Fix, Violation
from kubevet.model import ContainerView, K8sObject, PodSpecView
from kubevet.rules._helpers import (
    as_dict,
    as_list,
    edit_fix,
    service_account,
    set_fix,
)
from kubevet.rules.examples import EXAMPLE_POD, example_pod
from kubevet.rules.registry import rule


@rule(
    code="KV132",
    slug="secret-in-env",
    title="Secret exposed as an environment variable",
    category="security",
    severity="low",
    scope="container",
    what="An `env[].valueFrom.secretKeyRef` or `envFrom[].secretRef` passes a Secret to the "
    "container as environment variables.",
    why="Environment variables leak into logs, crash dumps, `/proc/<pid>/environ` and child "
    "processes; mounted files can be permissioned and rotated.",
    how_to_fix="Mount the Secret as a volume and have the application read the file. The "
    "fix is display-only: moving the value out of the environment breaks an application "
    "that reads it there.",
    example_bad=example_pod(
        {
            "env": [
                {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}
            ]
        }
    ),
    example_good=example_pod(
        {"volumeMounts": [{"name": "db", "mountPath": "/run/secrets/db", "readOnly": True}]},
        spec={"volumes": [{"name": "db", "secret": {"secretName": "db"}}]},
    ),
    fix_applicability="display-only",
    unified=("check_33",),
)
def secret_in_env(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    for i, env in enumerate(as_list(c.data.get("env"))):
        source = env.get("valueFrom") if isinstance(env, dict) else None
        ref = as_dict(source.get("secretKeyRef")) if isinstance(source, dict) else None
        if ref:
            var = env.get("name")
            yield Violation(
                f"container {c.name!r} reads Secret {ref.get('name')!r} into ${var}",
                (*c.path, "env", i, "valueFrom", "secretKeyRef"),
                fix=_secret_file_fix(ref.get("name"), f"${var}"),
            )
    for i, src in enumerate(as_list(c.data.get("envFrom"))):
        ref = as_dict(as_dict(src).get("secretRef"))
        if ref:
            yield Violation(
                f"container {c.name!r} loads Secret {ref.get('name')!r} into its environment",
                (*c.path, "envFrom", i, "secretRef"),
                fix=_secret_file_fix(ref.get("name"), "its variables"),
            )


def _secret_file_fix(secret: Any, what: str) -> Fix:
    """Display-only: the application reads `what` from its environment; only the
    application (or its image's `*_FILE` convention, which kubevet cannot see) can read
    the value from a mounted file instead, so moving it would break the workload."""
    return Fix(
        "display-only",
        f"mount Secret {secret!r} as a read-only volume and have the application read the "
        f"file: not done for you, since the application reads {what} from its environment "
        "and would start without it (only the application or its image's *_FILE "
        "convention can read the file instead)",
    )


def _sa_bound(group: InputGroup, name: str, namespace: str | None) -> bool:
    """Does a RoleBinding or ClusterRoleBinding in the input grant this service account
    something? A binding to a role of the input with no rules (and no aggregation) grants
    nothing; a role outside the input (built-in or installed elsewhere) is assumed to."""
    for binding, ns in group.view(_sa_subjects).get(name, ()):
        if (not ns or not namespace or ns == namespace) and _role_grants(group, binding):
            return True
    return False


def _sa_subjects(group: InputGroup) -> dict[str, list[tuple[K8sObject, str | None]]]:
    """Service account name -> (binding, the subject's namespace) for every binding of the
    input that names it: built once per input, not searched again for every pod."""
    index: dict[str, list[tuple[K8sObject, str | None]]] = {}
    for kind in ("RoleBinding", "ClusterRoleBinding"):
        for binding in group.by_kind(kind):
            for subject in as_list(binding.data.get("subjects")):
                subject = as_dict(subject)
                name = subject.get("name")
                if subject.get("kind") == "ServiceAccount" and isinstance(name, str):
                    ns = subject.get("namespace") or binding.namespace
                    index.setdefault(name, []).append((binding, ns))
    return index


def _role_grants(group: InputGroup, binding: K8sObject) -> bool:
    ref = as_dict(binding.data.get("roleRef"))
    kind, role_name = ref.get("kind"), ref.get("name")
    if kind not in ("Role", "ClusterRole") or not isinstance(role_name, str):
        return False  # the API server rejects such a binding: it grants nothing
    role = group.find(kind, role_name, binding.namespace if kind == "Role" else None)
    if role is None:
        return True
    return bool(as_list(role.data.get("rules"))) or "aggregationRule" in role.data


def _sa_automount(group: InputGroup, name: str, namespace: str | None) -> Any:
    sa = group.find("ServiceAccount", name, namespace)
    return sa.data.get("automountServiceAccountToken") if sa else None


@rule(
    code="KV133",
    slug="automount-service-account-token",
    title="Service account token mounted automatically",
    category="security",
    severity="low",
    scope="pod",
    what="Neither the pod nor its ServiceAccount (when in the same input) sets "
    "`automountServiceAccountToken: false`. An explicit `true` on the pod is accepted only "
    "when a RoleBinding or ClusterRoleBinding of the input grants the service account "
    "something (a role with rules, or one defined elsewhere): a token no binding grants "
    "anything is of no use to the app and of use to an attacker.",
    why="Every container gets an API token it usually does not need; a compromised process "
    "can use it against the API server.",
    how_to_fix="Set `automountServiceAccountToken: false` in the pod spec (or on the "
    "ServiceAccount), and mount a projected token only where the API is used.",
    example_bad=EXAMPLE_POD,
    example_good=example_pod(spec={"automountServiceAccountToken": False}),
    fix_applicability="safe",
    unified=("check_35",),
    references=("CIS Kubernetes Benchmark 5.1.6",),
)
def automount_service_account_token(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView
) -> Iterator[Violation]:
    value = pod.spec.get("automountServiceAccountToken")
    sa = service_account(pod)
    if value is False:
        return
    if value is None and _sa_automount(ctx.group, sa, obj.namespace) is False:
        return
    bound = _sa_bound(ctx.group, sa, obj.namespace)
    if value is True and bound:
        return  # asked for explicitly, and the account can do something with it
    path = (*pod.path, "automountServiceAccountToken")
    why = " (a binding grants it API access: check the app does not use it)" if bound else ""
    how = "automatically"
    if value is True:  # a binding outside the input may be why it was asked for: unsafe
        how = "(automountServiceAccountToken: true), yet no binding in the input grants it"
        why = " (check no binding outside this input is why it was enabled)"
    yield Violation(
        f"the pod mounts the token of service account {sa!r} {how}",
        path,
        fix=set_fix(
            "unsafe" if bound or value is True else "safe",
            f"do not mount the token{why}",
            (path, False),
        ),
    )


@rule(
    code="KV134",
    slug="default-service-account",
    title="Workload uses the default service account",
    category="security",
    severity="low",
    scope="pod",
    what="The pod runs as the namespace's `default` service account (no `serviceAccountName`) "
    "and mounts its token.",
    why="Permissions granted to `default` reach every workload in the namespace that does not "
    "choose its own account; a dedicated account keeps grants per workload.",
    how_to_fix="Create a ServiceAccount per workload and set `serviceAccountName`, or set "
    "`automountServiceAccountToken: false` when the workload does not call the API.",
    example_bad=EXAMPLE_POD,
    example_good=example_pod(spec={"serviceAccountName": "web"}),
    unified=("check_36",),
    references=("CIS Kubernetes Benchmark 5.1.5",),
)
def default_service_account(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView
) -> Iterator[Violation]:
    if (
        service_account(pod) == "default"
        and pod.spec.get("automountServiceAccountToken") is not False
    ):
        yield Violation(
            "the pod runs as the namespace's default service account",
            (*pod.path, "serviceAccountName"),
        )


@rule(
    code="KV135",
    slug="deprecated-service-account-field",
    title="Deprecated serviceAccount field",
    category="security",
    severity="low",
    scope="pod",
    what="The pod spec sets the deprecated `serviceAccount` field.",
    why="`serviceAccount` is a deprecated alias of `serviceAccountName`; tools that read only "
    "the new field see the wrong account.",
    how_to_fix="Rename the field to `serviceAccountName`.",
    example_bad=example_pod(spec={"serviceAccount": "web"}),
    example_good=example_pod(spec={"serviceAccountName": "web"}),
    fix_applicability="safe",
    unified=("check_37",),
)
def deprecated_service_account_field(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView
) -> Iterator[Violation]:
    old = pod.spec.get("serviceAccount")
    if not old:
        return
    edits = [Edit("remove", (*pod.path, "serviceAccount"))]
    if not pod.spec.get("serviceAccountName"):
        edits.insert(0, Edit("set", (*pod.path, "serviceAccountName"), old))
    yield Violation(
        f"the pod sets the deprecated serviceAccount: {old}",
        (*pod.path, "serviceAccount"),
        fix=edit_fix("safe", "use serviceAccountName", *edits),
    )


# Names that say "this is a credential"; names of files, paths or Secret objects are not.
_SECRET_NAME = re.compile(r"secret|passw(or)?d|token|api[_-]?key|private[_-]?key|credential", re.I)


_SECRET_NAME_NOT = re.compile(r"(_|-)(file|path|dir|name|ref)$", re.I)


@rule(
    code="KV139",
    slug="secret-literal-in-env",
    title="Credential written as a literal environment value",
    category="security",
    severity="high",
    scope="container",
    what="An `env` entry whose name says it holds a credential (secret, password, token, "
    "api key, private key, credential; names ending in _FILE, _PATH, _DIR, _NAME or _REF "
    "excepted) sets a literal non-empty `value` instead of `valueFrom`.",
    why="The value is stored in the manifest or chart, in every render, in Git history and "
    "in the object anyone with read access to the workload can see; it cannot be rotated "
    "without a new release.",
    how_to_fix="Move the value into a Secret and reference it with `valueFrom.secretKeyRef` "
    "(or mount the Secret as a file).",
    example_bad=example_pod({"env": [{"name": "DB_PASSWORD", "value": "hunter2"}]}),
    example_good=example_pod(
        {
            "env": [
                {
                    "name": "DB_PASSWORD",
                    "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}},
                }
            ]
        }
    ),
    references=("CIS Kubernetes Benchmark 5.4.1",),
)
def secret_literal_in_env(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    for i, entry in enumerate(as_list(c.data.get("env"))):
        entry = as_dict(entry)
        name, value = str(entry.get("name") or ""), entry.get("value")
        if not value or not isinstance(value, str) or not _SECRET_NAME.search(name):
            continue
        if _SECRET_NAME_NOT.search(name):
            continue
        yield Violation(
            f"container {c.name!r} sets {name} to a literal value", (*c.path, "env", i, "value")
        )
