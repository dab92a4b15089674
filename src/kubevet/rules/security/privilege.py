"""Privilege (KV105-KV110): privileged mode, privilege escalation, Linux capabilities."""

from __future__ import annotations

from collections.abc import Iterator

from kubevet.context import RuleContext
from kubevet.findings import Edit, Violation
from kubevet.model import ContainerView, K8sObject, PodSpecView
from kubevet.rules._helpers import (
    cap_name,
    capabilities,
    edit_fix,
    is_windows,
    linux_only_exempt,
    sc_path,
    set_fix,
)
from kubevet.rules.examples import EXAMPLE_POD, example_pod
from kubevet.rules.registry import rule
from kubevet.rules.security.pss import (
    BASELINE_CAPABILITIES,
    pss_ref,
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
    example_bad=EXAMPLE_POD + "      securityContext:\n        privileged: true\n",
    example_good=EXAMPLE_POD + "      securityContext:\n        privileged: false\n",
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


def _escalation_forced(c: ContainerView) -> str | None:
    """Why the API would reject allowPrivilegeEscalation: false here, if it would."""
    if c.security_context.get("privileged") is True:
        return "is privileged"
    if any(cap_name(cap) == "SYS_ADMIN" for cap in capabilities(c)[0]):
        return "adds SYS_ADMIN"
    return None


@rule(
    code="KV106",
    slug="allow-privilege-escalation",
    title="Privilege escalation not disabled",
    category="security",
    severity="medium",
    scope="container",
    what="The container does not set `securityContext.allowPrivilegeEscalation: false` "
    "(Windows pods are exempt from policy v1.25).",
    why="Without it, setuid binaries and file capabilities let a process gain more privileges "
    "than its parent (no_new_privs is off).",
    how_to_fix="Set `allowPrivilegeEscalation: false` in each container's securityContext.",
    example_bad=EXAMPLE_POD,
    example_good=EXAMPLE_POD + "      securityContext:\n        allowPrivilegeEscalation: false\n",
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
    if linux_only_exempt(ctx.pss_version, pod):
        return
    path = sc_path(c, "allowPrivilegeEscalation")
    message = f"container {c.name!r} does not set allowPrivilegeEscalation: false"
    forced = _escalation_forced(c)
    if forced:  # the API rejects allowPrivilegeEscalation: false on such a container
        yield Violation(
            f"{message} (the API rejects it while the container {forced}; fix that first)", path
        )
        return
    yield Violation(
        message, path, fix=set_fix("safe", "set allowPrivilegeEscalation: false", (path, False))
    )


@rule(
    code="KV107",
    slug="drop-net-raw",
    title="NET_RAW capability not dropped",
    category="security",
    severity="low",
    scope="container",
    what="The container drops neither `NET_RAW` nor `ALL`. Off by default: KV109 (drop ALL) "
    "reports the same containers; enable this one instead when dropping ALL is too strict.",
    why="NET_RAW lets a process craft raw packets (ARP and DNS spoofing on the node network).",
    how_to_fix="Add `NET_RAW` (better: `ALL`) to `securityContext.capabilities.drop`.",
    example_bad=EXAMPLE_POD,
    example_good=example_pod({"securityContext": {"capabilities": {"drop": ["NET_RAW"]}}}),
    fix_applicability="unsafe",
    enabled_by_default=False,
)
def drop_net_raw(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    _, drop = capabilities(c)
    if is_windows(pod) or {cap_name(d) for d in drop} & {"NET_RAW", "ALL"}:
        return
    drop_path = sc_path(c, "capabilities", "drop")
    edit = Edit("append", drop_path, "NET_RAW") if drop else Edit("set", drop_path, ["NET_RAW"])
    yield Violation(
        f"container {c.name!r} does not drop NET_RAW",
        drop_path,
        fix=edit_fix("unsafe", "drop NET_RAW", edit),
    )


@rule(
    code="KV108",
    slug="sys-admin-capability",
    title="SYS_ADMIN capability added",
    category="security",
    severity="high",
    scope="container",
    what="`securityContext.capabilities.add` includes `SYS_ADMIN`.",
    why="CAP_SYS_ADMIN covers mount, namespace and many kernel administration calls; it is "
    "close to full root and a common container-escape path.",
    how_to_fix="Remove SYS_ADMIN and grant the narrower capability the process needs.",
    example_bad=example_pod({"securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}),
    example_good=example_pod({"securityContext": {"capabilities": {"drop": ["ALL"]}}}),
    fix_applicability="unsafe",
    unified=("check_24",),
    pss=("capabilities_baseline",),
)
def sys_admin_capability(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    add, _ = capabilities(c)
    for i, cap in enumerate(add):
        if cap_name(cap) == "SYS_ADMIN":
            path = sc_path(c, "capabilities", "add", i)
            yield Violation(
                f"container {c.name!r} adds {cap}",
                path,
                fix=edit_fix("unsafe", f"remove {cap}", Edit("remove", path)),
            )


@rule(
    code="KV109",
    slug="capabilities-restricted",
    title="Capabilities not minimised (drop ALL, add only NET_BIND_SERVICE)",
    category="security",
    severity="medium",
    scope="container",
    what="Policy v1.22+: `capabilities.drop` lacks `ALL`, or `capabilities.add` holds a "
    "default capability other than NET_BIND_SERVICE (others: KV108, KV110). Windows pods are "
    "exempt from v1.25.",
    why="Every capability the runtime grants by default (CHOWN, SETUID, NET_RAW...) is attack "
    "surface the process rarely needs.",
    how_to_fix="Set `capabilities.drop: [ALL]` and add back only NET_BIND_SERVICE if the "
    "process binds a port below 1024.",
    example_bad=EXAMPLE_POD,
    example_good=example_pod(
        {"securityContext": {"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}}
    ),
    fix_applicability="unsafe",
    unified=("check_34", "check_23"),
    pss=("capabilities_restricted",),
    references=("CIS Kubernetes Benchmark 5.2.9",),
)
def capabilities_restricted(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    if ctx.pss_version < (1, 22) or linux_only_exempt(ctx.pss_version, pod):
        return
    add, drop = capabilities(c)
    if "ALL" not in drop:
        path = sc_path(c, "capabilities", "drop")
        yield Violation(
            f"container {c.name!r} does not drop ALL capabilities",
            path,
            fix=set_fix("unsafe", "drop all capabilities", (path, ["ALL"])),
        )
    extra = [i for i, cap in enumerate(add) if cap in BASELINE_CAPABILITIES - {"NET_BIND_SERVICE"}]
    if extra:
        names = ", ".join(str(add[i]) for i in extra)
        add_path = sc_path(c, "capabilities", "add")
        yield Violation(
            f"container {c.name!r} adds {names} (only NET_BIND_SERVICE is allowed)",
            add_path,
            fix=edit_fix(
                "unsafe",
                f"remove {names}",
                *(Edit("remove", (*add_path, i)) for i in reversed(extra)),
            ),
        )


@rule(
    code="KV110",
    slug="capabilities-baseline",
    title="Capability added beyond the baseline set",
    category="podsecurity",
    severity="high",
    scope="container",
    what="`securityContext.capabilities.add` names a capability outside the container "
    "runtime's default set (SYS_ADMIN is reported by KV108).",
    why="Capabilities such as NET_ADMIN, SYS_PTRACE or SYS_MODULE let a process reconfigure or "
    "inspect the node; the baseline profile allows only the runtime's defaults.",
    how_to_fix="Remove the capability from `add`; if the process really needs it, run the "
    "workload in a namespace with an explicit exemption.",
    example_bad=example_pod({"securityContext": {"capabilities": {"add": ["NET_ADMIN"]}}}),
    example_good=example_pod({"securityContext": {"capabilities": {"add": ["CHOWN"]}}}),
    fix_applicability="unsafe",
    pss=("capabilities_baseline",),
    references=(pss_ref("capabilities_baseline"),),
)
def capabilities_baseline(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    add, _ = capabilities(c)
    bad = [
        i
        for i, cap in enumerate(add)
        if cap not in BASELINE_CAPABILITIES and cap_name(cap) != "SYS_ADMIN"
    ]
    if not bad:
        return
    names = ", ".join(str(add[i]) for i in bad)
    add_path = sc_path(c, "capabilities", "add")
    yield Violation(
        f"container {c.name!r} adds capabilities outside the baseline set: {names}",
        add_path,
        fix=edit_fix(
            "unsafe",
            f"remove {names} from capabilities.add",
            *(Edit("remove", (*add_path, i)) for i in reversed(bad)),
        ),
    )
