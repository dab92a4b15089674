"""RBAC narrowed to what an API audit log shows (`fix --audit-log FILE`).

A Role or ClusterRole with a wildcard (KV401) or a dangerous grant (KV402) gets an unsafe
fix replacing its rules with the requests its ServiceAccounts made in the log, each one the
role allowed already (a request the log shows denied is not granted): the role can only
shrink. Only when every subject of every binding of the role in the inputs is a
ServiceAccount the log shows; otherwise the fix is display-only and says why (a user or a
group, or an account the log never saw, may need what the log cannot show). A log covers
the period it was taken over: rare operations (a yearly rotation) are not in it, hence
unsafe.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from kubevet.findings import Edit, Finding, Fix, InputError

if TYPE_CHECKING:
    from kubevet.context import InputGroup
    from kubevet.model import K8sObject

SA_PREFIX = "system:serviceaccount:"
RULES = ("KV401", "KV402")
Use = tuple[str, str, str, str]  # (namespace, apiGroup, resource[/subresource], verb)
Usage = dict[tuple[str, str], set[Use]]  # (namespace, ServiceAccount) -> requests


def read_usage(path: str) -> tuple[Usage, list[InputError]]:
    """The resource requests each ServiceAccount made, from a JSON-lines audit log."""
    usage: Usage = defaultdict(set)
    errors: list[InputError] = []
    try:
        with open(path, encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    event = json.loads(line)
                except json.JSONDecodeError as exc:
                    errors.append(InputError(path, f"invalid JSON in audit log: {exc.msg}", lineno))
                    continue
                if isinstance(event, dict):
                    _add(usage, event)
                else:
                    errors.append(InputError(path, "audit log line is not an Event object", lineno))
    except OSError as exc:
        return {}, [InputError(path, f"cannot read audit log: {exc.strerror or exc}")]
    return dict(usage), errors


def _add(usage: Usage, event: dict[str, Any]) -> None:
    user = str((event.get("user") or {}).get("username") or "")
    ref = event.get("objectRef")
    status = (event.get("responseStatus") or {}).get("code")
    if not user.startswith(SA_PREFIX) or not isinstance(ref, dict) or status == 403:
        return  # not an account, a non-resource URL, or a request RBAC refused
    ns, _, name = user[len(SA_PREFIX) :].partition(":")
    resource = str(ref.get("resource") or "")
    if ref.get("subresource"):
        resource += f"/{ref['subresource']}"
    use = (str(ref.get("namespace") or ""), str(ref.get("apiGroup") or ""), resource)
    usage[(ns, name)].add((*use, str(event.get("verb") or "")))


def attach(findings: list[Finding], group: InputGroup, usage: Usage) -> None:
    """Give the KV401/KV402 findings of each role the narrowing fix (or a display-only one
    saying why it cannot be narrowed)."""
    for f in findings:
        if f.code not in RULES or (f.fix is not None and f.fix.edits):
            continue
        role = f.obj
        narrowed = narrow(role, group, usage)
        if isinstance(narrowed, str):
            f.fix = Fix("display-only", f"not narrowed from the audit log: {narrowed}")
        else:
            count = sum(len(r["verbs"]) * len(r["resources"]) for r in narrowed)
            text = f"rules narrowed to the {count} grants the audit log shows used"
            f.fix = Fix("unsafe", text, (Edit("set", ("rules",), narrowed),))


def narrow(role: K8sObject, group: InputGroup, usage: Usage) -> list[dict[str, Any]] | str:
    """The role's rules cut down to the used requests, or why they cannot be."""
    from kubevet.rules.rbac.roles import granted_verbs, is_aggregated, rbac_rules

    if is_aggregated(role):
        return "an aggregated ClusterRole's rules are the controller's"
    used: set[Use] = set()
    bindings = _bindings(role, group)
    if not bindings:
        return "no binding of the inputs grants this role: who needs it is not known"
    for binding in bindings:
        for s in binding.get(("subjects",)) or []:
            if not isinstance(s, dict) or s.get("kind") != "ServiceAccount":
                kind = s.get("kind") if isinstance(s, dict) else "?"
                return f"{binding.kind} {binding.name} binds a {kind}, which no log can speak for"
            ns = str(s.get("namespace") or binding.namespace or "")
            seen = usage.get((ns, str(s.get("name"))))
            if not seen:
                return f"ServiceAccount {ns}/{s.get('name')} does not appear in the audit log"
            scope = binding.namespace if binding.kind == "RoleBinding" else None
            used |= {u for u in seen if scope is None or u[0] == scope}
    rules = [r for _, r in rbac_rules(role)]
    allowed = {
        (g, res, verb)
        for _ns, g, res, verb in used
        if any(granted_verbs(r, g, res, frozenset({verb})) for r in rules)
    }
    return _rules(allowed)


def _bindings(role: K8sObject, group: InputGroup) -> list[K8sObject]:
    kinds = ("RoleBinding",) if role.kind == "Role" else ("RoleBinding", "ClusterRoleBinding")
    out = []
    for kind in kinds:
        for b in group.by_kind(kind):
            ref = b.get(("roleRef",)) or {}
            same_ns = role.kind != "Role" or b.namespace == role.namespace
            if ref.get("kind") == role.kind and ref.get("name") == role.name and same_ns:
                out.append(b)
    return out


def _rules(allowed: set[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """Policy rules granting exactly `allowed`: per API group, the resources that share a
    verb set in one rule."""
    verbs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for g, res, verb in allowed:
        verbs[(g, res)].add(verb)
    grouped: dict[tuple[str, tuple[str, ...]], list[str]] = defaultdict(list)
    for (g, res), vs in sorted(verbs.items()):
        grouped[(g, tuple(sorted(vs)))].append(res)
    return [
        {"apiGroups": [g], "resources": sorted(res), "verbs": list(vs)}
        for (g, vs), res in sorted(grouped.items())
    ]
