"""Container and pod hardening rules (KV1xx), Pod Security Standards controls included.

Each PSS control (pod-security-admission check id) maps to one rule, named in `pss=`;
where a control is also a unified check of the seven-tool study, the same rule carries
both ids, so one problem in one container is one finding.
"""

from __future__ import annotations

from collections.abc import Iterator

from kubevet.context import RuleContext
from kubevet.findings import Violation
from kubevet.model import ContainerView, K8sObject, PodSpecView
from kubevet.rules._helpers import effective, sc_path, set_fix
from kubevet.rules.registry import rule

_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: web
      image: nginx:1.27
"""


@rule(
    code="KV101",
    slug="run-as-non-root",
    title="Container may run as root",
    category="security",
    severity="medium",
    scope="container",
    what="Neither the container nor the pod sets `securityContext.runAsNonRoot: true`.",
    why="A process running as UID 0 inside the container is root on the node if it escapes "
    "the container; with runAsNonRoot the kubelet refuses to start an image whose user is root.",
    how_to_fix="Set `runAsNonRoot: true` (and a non-zero `runAsUser`) in the pod or container "
    "securityContext, and make sure the image runs as a non-root user.",
    example_bad=_POD,
    example_good=_POD
    + "      securityContext:\n        runAsNonRoot: true\n        runAsUser: 10001\n",
    fix_applicability="unsafe",
    unified=("check_28",),
    pss=("runAsNonRoot",),
    references=("CIS Kubernetes Benchmark 5.2.6", "NSA/CISA Kubernetes Hardening Guide: non-root"),
    options={"run_as_user": 10001},
)
def run_as_non_root(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    if effective(pod, c, "runAsNonRoot") is True:
        return
    if pod.spec.get("hostUsers") is False and ctx.pss_version >= (1, 35):
        return  # user namespaces: PSS v1.35 relaxes this control
    uid = effective(pod, c, "runAsUser")
    edits = [(sc_path(c, "runAsNonRoot"), True)]
    if not isinstance(uid, int) or uid == 0:
        edits.append((sc_path(c, "runAsUser"), ctx.setting("run_as_user", 10001)))
    yield Violation(
        f"container {c.name!r} does not set runAsNonRoot: true",
        sc_path(c, "runAsNonRoot"),
        fix=set_fix("unsafe", "run as a non-root user", *edits),
    )


@rule(
    code="KV105",
    slug="privileged-container",
    title="Privileged container",
    category="security",
    severity="critical",
    scope="container",
    what="The container sets `securityContext.privileged: true`.",
    why="A privileged container has every capability and all host devices; it is root on the "
    "node in all but name.",
    how_to_fix="Remove `privileged: true`; grant only the capabilities the process needs.",
    example_bad=_POD + "      securityContext:\n        privileged: true\n",
    example_good=_POD + "      securityContext:\n        privileged: false\n",
    fix_applicability="unsafe",
    unified=("check_21",),
    pss=("privileged",),
    references=("CIS Kubernetes Benchmark 5.2.1",),
)
def privileged_container(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    if c.security_context.get("privileged") is True:
        yield Violation(
            f"container {c.name!r} is privileged",
            sc_path(c, "privileged"),
            fix=set_fix("unsafe", "drop privileged mode", (sc_path(c, "privileged"), False)),
        )


@rule(
    code="KV106",
    slug="allow-privilege-escalation",
    title="Privilege escalation not disabled",
    category="security",
    severity="medium",
    scope="container",
    what="The container does not set `securityContext.allowPrivilegeEscalation: false`.",
    why="Without it, setuid binaries and file capabilities let a process gain more privileges "
    "than its parent (no_new_privs is off).",
    how_to_fix="Set `allowPrivilegeEscalation: false` in each container's securityContext.",
    example_bad=_POD,
    example_good=_POD + "      securityContext:\n        allowPrivilegeEscalation: false\n",
    fix_applicability="safe",
    unified=("check_22",),
    pss=("allowPrivilegeEscalation",),
    references=("CIS Kubernetes Benchmark 5.2.5",),
)
def allow_privilege_escalation(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    if c.security_context.get("allowPrivilegeEscalation") is False:
        return
    if (pod.spec.get("os") or {}).get("name") == "windows":
        return  # PSS exempts Windows pods from this control since v1.25
    path = sc_path(c, "allowPrivilegeEscalation")
    yield Violation(
        f"container {c.name!r} does not set allowPrivilegeEscalation: false",
        path,
        fix=set_fix("safe", "set allowPrivilegeEscalation: false", (path, False)),
    )
