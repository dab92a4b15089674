"""PolicyReport / ClusterPolicyReport (wgpolicyk8s.io/v1alpha2), as Kyverno and Policy
Reporter read them: one PolicyReport per namespace, one ClusterPolicyReport for objects
without a namespace, written as a YAML stream. kubevet never applies them itself:
`kubevet check --cluster --format policyreport | kubectl apply -f -` is the user's choice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import yaml

from kubevet.findings import Finding, Severity
from kubevet.result import Report

API_VERSION = "wgpolicyk8s.io/v1alpha2"
SEVERITY = {
    Severity.CRITICAL: "critical",
    Severity.HIGH: "high",
    Severity.MEDIUM: "medium",
    Severity.LOW: "low",
    Severity.INFO: "info",
}
# libyaml's emitter: the same text as PyYAML's pure-Python one (safe_dump_all), four times
# faster on thousands of results.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
BATCH = 500  # results dumped per call: the same text as one call for all, bounded memory


def render(report: Report, color: bool = False) -> str:
    return "".join(iter_render(report))


def iter_render(report: Report) -> Iterator[str]:
    """The YAML stream `yaml.dump_all` writes for the reports, one result at a time: a
    first pass counts the findings per namespace, then one pass per namespace writes its
    report (results dumped as a list are the text they have under `results:`), so a large
    run is never held as dicts."""
    counts = Counter(f.object.namespace or None for f in report.active)
    for i, ns in enumerate(sorted(counts, key=lambda n: n or "")):
        head = _report(ns, counts[ns])
        text = yaml.dump(head, Dumper=_DUMPER, sort_keys=False)
        yield ("---\n" if i else "") + text.removesuffix("results: []\n") + "results:\n"
        batch: list[dict[str, Any]] = []
        for f in report.active:
            if (f.object.namespace or None) == ns:
                batch.append(_result(f))
                if len(batch) == BATCH:
                    yield yaml.dump(batch, Dumper=_DUMPER, sort_keys=False)
                    batch = []
        if batch:
            yield yaml.dump(batch, Dumper=_DUMPER, sort_keys=False)


def _report(namespace: str | None, failed: int) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": f"kubevet-{namespace}" if namespace else "kubevet-cluster"}
    if namespace:
        meta["namespace"] = namespace
    meta["labels"] = {"app.kubernetes.io/managed-by": "kubevet"}
    counts = {"fail": failed}
    return {
        "apiVersion": API_VERSION,
        "kind": "PolicyReport" if namespace else "ClusterPolicyReport",
        "metadata": meta,
        "summary": {k: counts.get(k, 0) for k in ("pass", "fail", "warn", "error", "skip")},
        "results": [],
    }


def _result(f: Finding) -> dict[str, Any]:
    resource = {"apiVersion": f.object.api_version, "kind": f.object.kind, "name": f.object.name}
    if f.object.namespace:
        resource["namespace"] = f.object.namespace
    properties = {"path": f.path_text}
    if f.container:
        properties["container"] = f.container
    if f.origin.release:
        properties["helmRelease"] = f.origin.release
    if f.origin.chart:
        properties["helmChart"] = f"{f.origin.chart}-{f.origin.chart_version}"
    if f.trace and f.trace.values_keys:  # string values only, as the CRD requires
        properties["valuesKeys"] = ", ".join(f.trace.values_keys)
    if f.trace and f.trace.template:
        line = f.trace.template_line or f.source_line
        properties["template"] = f.trace.template + (f":{line}" if line else "")
    return {
        "policy": f.code,
        "rule": f.slug,
        "category": f.category,
        "severity": SEVERITY[f.severity],
        "result": "fail",
        "source": "kubevet",
        "message": f.message,
        "resources": [resource],
        "properties": properties,
    }
