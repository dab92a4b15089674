"""`fix --audit-log`: a role with a wildcard or a dangerous grant narrowed to what its
ServiceAccounts did in the log; never wider than before; display-only with the reason
when the log cannot speak for a subject."""

from __future__ import annotations

import json

import yaml

from kubevet.cli import main

ROLE = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: app, namespace: shop}
rules:
  - apiGroups: ["*"]
    resources: ["*"]
    verbs: ["*"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: app, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: app}
subjects:
  - {kind: ServiceAccount, name: app, namespace: shop}
"""


def _event(user, verb, resource, namespace="shop", group="", code=200, sub=None):
    ref = {"resource": resource, "namespace": namespace, "apiGroup": group, "apiVersion": "v1"}
    if sub:
        ref["subresource"] = sub
    return json.dumps(
        {
            "kind": "Event",
            "apiVersion": "audit.k8s.io/v1",
            "stage": "ResponseComplete",
            "verb": verb,
            "user": {"username": user},
            "objectRef": ref,
            "responseStatus": {"code": code},
        }
    )


def _log(tmp_path, *lines):
    path = tmp_path / "audit.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


SA = "system:serviceaccount:shop:app"


def test_a_wildcard_role_is_narrowed_to_the_requests_in_the_log(tmp_path):
    manifest = tmp_path / "rbac.yaml"
    manifest.write_text(ROLE)
    log = _log(
        tmp_path,
        _event(SA, "get", "configmaps"),
        _event(SA, "list", "configmaps"),
        _event(SA, "watch", "leases", group="coordination.k8s.io"),
        _event(SA, "get", "secrets", code=403),  # refused: never granted by the fix
        _event(SA, "get", "pods", namespace="other"),  # outside the RoleBinding's namespace
        _event("system:serviceaccount:shop:other", "delete", "pods"),  # another account
    )
    args = ["fix", str(manifest), "--unsafe-fixes", "--select", "KV401,KV402"]
    assert main([*args, "--audit-log", log]) == 0
    role = next(yaml.safe_load_all(manifest.read_text()))
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["watch"]},
    ]
    assert main(["check", str(manifest), "--select", "KV401,KV402"]) == 0


def test_a_role_bound_to_a_user_is_not_narrowed_and_says_why(tmp_path, capsys):
    manifest = tmp_path / "rbac.yaml"
    manifest.write_text(ROLE.replace("kind: ServiceAccount, name: app", "kind: User, name: alice"))
    log = _log(tmp_path, _event(SA, "get", "configmaps"))
    before = manifest.read_text()
    main(["fix", str(manifest), "--unsafe-fixes", "--select", "KV401", "--audit-log", log])
    out = capsys.readouterr().out
    assert "binds a User, which no log can speak for" in out
    assert manifest.read_text() == before


def test_a_bad_audit_log_line_is_an_error_naming_it(tmp_path, capsys):
    manifest = tmp_path / "rbac.yaml"
    manifest.write_text(ROLE)
    log = _log(tmp_path, _event(SA, "get", "configmaps"), "{not json")
    code = main(["fix", str(manifest), "--unsafe-fixes", "--select", "KV401", "--audit-log", log])
    assert code == 2
    assert f"{log}:2" in capsys.readouterr().err
