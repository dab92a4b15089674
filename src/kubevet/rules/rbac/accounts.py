"""Which ServiceAccounts workloads run as (KV405, KV406): accounts the input does not
define, accounts shared between workloads."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

from kubevet.context import InputGroup, RuleContext
from kubevet.findings import Violation
from kubevet.model import WORKLOAD_KINDS, K8sObject, Path
from kubevet.rules.examples import example_deployment
from kubevet.rules.registry import rule


def service_account_of(obj: K8sObject) -> str:
    spec = obj.pod.spec if obj.pod else {}
    return str(spec.get("serviceAccountName") or spec.get("serviceAccount") or "default")


def _sa_path(obj: K8sObject) -> Path:
    """Where the account is named: the deprecated `serviceAccount` only if used alone."""
    if obj.pod is None:
        return ()
    spec = obj.pod.spec
    legacy = "serviceAccount" in spec and "serviceAccountName" not in spec
    return (*obj.pod.path, "serviceAccount" if legacy else "serviceAccountName")


def workloads(group: InputGroup) -> Iterable[K8sObject]:
    return (o for o in group.objects if o.kind in WORKLOAD_KINDS and o.pod is not None)


_WORKLOAD = example_deployment(pod_spec="      serviceAccountName: web\n")


_SA = """\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {name}
  namespace: shop
"""


@rule(
    code="KV405",
    slug="missing-service-account",
    title="Workload uses a ServiceAccount the input does not define",
    category="rbac",
    severity="medium",
    scope="group",
    what="A workload's `serviceAccountName` names a ServiceAccount that is not in the input "
    "(same namespace), while the input defines at least one ServiceAccount. The `default` "
    "account is never reported.",
    why="The API server accepts the workload, but its pods are never created (the "
    "ServiceAccount admission controller rejects them), so a typo or a disabled "
    "`serviceAccount.create` breaks the release silently. Only inputs that define their own "
    "accounts are checked: charts and manifests often use an account created elsewhere, "
    "which made this check a frequent false positive in KubeLinter (issues #137 and #179).",
    how_to_fix="Create the ServiceAccount with the workload, or fix the name.",
    example_bad=_SA.format(name="other") + "---\n" + _WORKLOAD,
    example_good=_SA.format(name="web") + "---\n" + _WORKLOAD,
    unified=("check_58",),
    references=(
        "https://kubernetes.io/docs/concepts/security/service-accounts/",
        "https://github.com/stackrox/kube-linter/issues/137",
    ),
)
def missing_service_account(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    accounts = {(sa.namespace, sa.name) for sa in group.by_kind("ServiceAccount")}
    if not accounts:
        return
    for obj in workloads(group):
        name = service_account_of(obj)
        if name != "default" and (obj.namespace, name) not in accounts:
            yield Violation(
                f"ServiceAccount {name!r} is not defined in the input", _sa_path(obj), obj=obj
            )


def _mounts_token(group: InputGroup, obj: K8sObject, account: str) -> bool:
    """Pod setting wins over the ServiceAccount's; both default to mounting the token."""
    own = obj.pod.spec.get("automountServiceAccountToken") if obj.pod else None
    if isinstance(own, bool):
        return own
    sa = group.find("ServiceAccount", account, obj.namespace)
    return (sa.data.get("automountServiceAccountToken") if sa else None) is not False


@rule(
    code="KV406",
    slug="shared-service-account",
    title="ServiceAccount shared between workloads",
    category="rbac",
    severity="low",
    scope="group",
    what="Two or more workloads of the input run with the same ServiceAccount (the `default` "
    "one included) and mount its token. Helm hooks and pods that do not mount the token "
    "(`automountServiceAccountToken: false` on the pod or the account) are skipped.",
    why="Every workload sharing an account holds all the permissions any of them needs, and "
    "a compromise of one yields a token valid for all: least privilege needs one account "
    "per workload.",
    how_to_fix="Give each workload its own ServiceAccount with only the roles it needs, or "
    "disable token mounting where the API is not used.",
    example_bad=_WORKLOAD
    + "---\n"
    + _WORKLOAD.replace("name: web\n  namespace", "name: api\n  namespace"),
    example_good=_SA.format(name="web") + "---\n" + _WORKLOAD,
    unified=("check_62",),
    references=("https://kubernetes.io/docs/concepts/security/service-accounts/",),
    enabled_by_default=False,
)
def shared_service_account(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    users: dict[tuple[str | None, str], list[K8sObject]] = defaultdict(list)
    for obj in workloads(group):
        account = service_account_of(obj)
        if "helm.sh/hook" not in obj.annotations and _mounts_token(group, obj, account):
            users[(obj.namespace, account)].append(obj)
    for (_, account), objs in users.items():
        if len(objs) < 2:
            continue
        for obj in objs:
            others = ", ".join(f"{o.kind} {o.name}" for o in objs if o is not obj)
            yield Violation(
                f"ServiceAccount {account!r} is shared with {others}", _sa_path(obj), obj=obj
            )
