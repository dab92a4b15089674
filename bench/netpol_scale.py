"""Generate a cluster-sized netpol input and time `kubevet netpol` phases on it.

    python bench/netpol_scale.py [WORKLOADS] [POLICIES] [OUT_FILE]

Defaults: 2,000 workloads in 50 namespaces and 500 policies (460 NetworkPolicies with
pod, namespace and ipBlock peers and named ports, 39 AdminNetworkPolicies, one BANP).
The generator is deterministic (seeded), so runs are comparable.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "bench" / "out" / "netpol_scale.yaml"


def _deployment(ns: str, i: int, rng: random.Random) -> str:
    tier = rng.choice(["web", "api", "db", "cache"])
    return f"""---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: app-{i}, namespace: {ns}}}
spec:
  selector: {{matchLabels: {{app: app-{i}}}}}
  template:
    metadata: {{labels: {{app: app-{i}, tier: {tier}, team: t{i % 7}}}}}
    spec:
      containers:
        - name: main
          image: registry.example/app:{i}
          ports:
            - {{containerPort: {8000 + i % 50}, name: http}}
            - {{containerPort: 9090, name: metrics}}
"""


def _netpol(ns: str, i: int, nss: list[str], rng: random.Random) -> str:
    tier = rng.choice(["web", "api", "db", "cache"])
    other = rng.choice(nss)
    return f"""---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: np-{i}, namespace: {ns}}}
spec:
  podSelector: {{matchLabels: {{tier: {tier}}}}}
  policyTypes: [Ingress, Egress]
  ingress:
    - from:
        - podSelector: {{matchLabels: {{team: t{i % 7}}}}}
        - namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: {other}}}}}
          podSelector: {{matchExpressions: [{{key: tier, operator: In, values: [web, api]}}]}}
        - ipBlock: {{cidr: 10.{i % 250}.0.0/16, except: [10.{i % 250}.1.0/24]}}
      ports: [{{port: http}}, {{port: 443}}, {{port: 9000, endPort: 9100}}]
  egress:
    - to: [{{namespaceSelector: {{}}}}]
      ports: [{{port: 53, protocol: UDP}}, {{port: http}}]
    - to: [{{ipBlock: {{cidr: 172.{16 + i % 16}.0.0/12}}}}]
"""


def _anp(i: int, nss: list[str], rng: random.Random) -> str:
    action = rng.choice(["Allow", "Deny", "Pass"])
    return f"""---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {{name: anp-{i}}}
spec:
  priority: {i}
  subject: {{namespaces: {{matchLabels: {{kubernetes.io/metadata.name: {rng.choice(nss)}}}}}}}
  ingress:
    - name: r1
      action: {action}
      from:
        - pods: {{namespaceSelector: {{}}, podSelector: {{matchLabels: {{team: t{i % 7}}}}}}}
      ports: [{{portRange: {{protocol: TCP, start: 8000, end: 8100}}}}, {{namedPort: metrics}}]
  egress:
    - name: e1
      action: Deny
      to: [{{networks: [192.168.{i}.0/24]}}]
"""


BANP = """---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {}}
  ingress:
    - name: deny-team-0
      action: Deny
      from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {team: t0}}}}]
"""


def generate(workloads: int, policies: int, seed: int = 8) -> str:
    rng = random.Random(seed)
    nss = [f"ns-{k}" for k in range(max(1, workloads // 40))]
    parts = [f"---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n" for ns in nss]
    parts += [_deployment(nss[i % len(nss)], i, rng) for i in range(workloads)]
    anps = min(39, max(0, policies - 1))
    parts += [_netpol(nss[i % len(nss)], i, nss, rng) for i in range(policies - anps - 1)]
    parts += [_anp(i, nss, rng) for i in range(anps)]
    parts.append(BANP)
    return "".join(parts)


def main(argv: list[str]) -> int:
    workloads = int(argv[0]) if argv else 2000
    policies = int(argv[1]) if len(argv) > 1 else 500
    out = Path(argv[2]) if len(argv) > 2 else DEFAULT_OUT
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(generate(workloads, policies), encoding="utf-8")

    from kubevet.netpol.analysis import Analysis
    from kubevet.netpol.output import render
    from kubevet.netpol.resources import collect
    from kubevet.sources.manifests import load_manifest_files

    t0 = time.perf_counter()
    group = load_manifest_files(str(out), [str(out)])
    t1 = time.perf_counter()
    res = collect(group.objects)
    analysis = Analysis(res)
    t2 = time.perf_counter()
    conns = analysis.connections()
    t3 = time.perf_counter()
    text = render(conns, "txt")
    t4 = time.perf_counter()
    print(f"{len(res.workloads)} workloads, {len(res.policies)} policies, {len(conns)} lines")
    print(f"parse {t1 - t0:.2f}s  model+selectors {t2 - t1:.2f}s  connections {t3 - t2:.2f}s")
    print(f"render {t4 - t3:.2f}s  total {t4 - t0:.2f}s  ({len(text) // 1024} KiB of txt)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
