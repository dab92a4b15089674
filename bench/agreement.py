"""Agreement with Checkov on the pre-rendered chart corpus, per rule and per object.

    python bench/agreement.py CHECKOV_JSON [--write]

CHECKOV_JSON is Checkov's output on bench/out/rendered (see bench/bench.py), e.g.
`checkov -d bench/out/rendered --framework kubernetes -o json --skip-download > ck.json`.
Checkov ids map to kubevet rules through the equivalents table verified at Checkov's source
(src/kubevet/data/peer-checks.csv). A Checkov finding agrees when a mapped kubevet rule fires on the
same object (Checkov reports per object, kubevet per container, so objects are compared).
Every case found only by Checkov is listed with the reason from EXPLAINED, or UNEXPLAINED.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RENDERED = ROOT / "bench" / "out" / "rendered"

# Checkov ids with no kubevet rule, and why (facts from Checkov's check titles).
NO_RULE = {
    "CKV_K8S_1": "PodSecurityPolicy (removed in Kubernetes 1.25); kubevet reports the removed API",
    "CKV_K8S_2": "PodSecurityPolicy (removed in 1.25)",
    "CKV_K8S_3": "PodSecurityPolicy (removed in 1.25)",
    "CKV_K8S_4": "PodSecurityPolicy (removed in 1.25)",
    "CKV_K8S_5": "PodSecurityPolicy (removed in 1.25)",
    "CKV_K8S_6": "PodSecurityPolicy (removed in 1.25)",
    "CKV_K8S_7": "PodSecurityPolicy (removed in 1.25)",
    "CKV_K8S_24": "PodSecurityPolicy (removed in 1.25)",
    "CKV_K8S_32": "PodSecurityPolicy (removed in 1.25)",
    "CKV_K8S_36": "PodSecurityPolicy (removed in 1.25)",
}


def object_key(kind: str, namespace: str | None, name: str, file: str) -> tuple[str, ...]:
    return (Path(file).name, kind, namespace or "default", name)


def checkov_findings(path: Path) -> list[tuple[str, tuple[str, ...], list[int]]]:
    data = json.loads(path.read_text())
    reports = data if isinstance(data, list) else [data]
    out = []
    for rep in reports:
        if rep.get("check_type") != "kubernetes":
            continue
        for f in rep["results"]["failed_checks"]:
            kind, namespace, name = f["resource"].split(".", 2)
            out.append(
                (
                    f["check_id"],
                    object_key(kind, namespace, name, f["file_path"]),
                    f.get("file_line_range") or [],
                )
            )
    return out


def kubevet_findings() -> list[tuple[str, tuple[str, ...], str]]:
    from kubevet.runner import RunSettings, run_check

    # bench/out is git-ignored: the walk must not skip it
    report = run_check([str(RENDERED)], RunSettings(select=["ALL"], jobs=1, gitignore=False))
    return [
        (
            f.code,
            object_key(f.object.kind, f.object.namespace, f.object.name, f.origin.file),
            f.path_text,
        )
        for f in report.active
    ]


def rendered_objects() -> dict[tuple[str, ...], dict[str, Any]]:
    from kubevet.sources.yamldocs import parse_stream

    objs = {}
    for path in sorted(RENDERED.glob("*.yaml")):
        for doc in parse_stream(path.read_text("utf-8"), str(path))[0]:
            data = doc.data
            if isinstance(data, dict) and data.get("kind"):
                meta = data.get("metadata") or {}
                key = object_key(
                    data["kind"], meta.get("namespace"), str(meta.get("name")), path.name
                )
                objs[key] = data
    return objs


def checkov_pod_key(key: tuple[str, ...], known: set[tuple[str, ...]]) -> tuple[str, ...]:
    """Checkov's graph checks name a workload's pods `<name>.<label>-<value>...`; map such a
    Pod back to the workload kubevet reports."""
    if key in known or key[1] != "Pod":
        return key
    for other in known:
        if other[0] == key[0] and other[2] == key[2] and key[3].startswith(other[3] + "."):
            return other
        if other[0] == key[0] and other[2] == key[2] and key[3] == other[3]:
            return other
    return key


def checkov_to_rules() -> dict[str, set[str]]:
    from kubevet.rules.crossref import equivalent_ids
    from kubevet.rules.registry import all_rules

    mapping: dict[str, set[str]] = defaultdict(set)
    for r in all_rules():
        for native in equivalent_ids(r).get("checkov", ()):
            mapping[native].add(r.code)
    return mapping


def compare(checkov_json: Path) -> str:
    import explained
    from explained import KUBEVET_ONLY, explain

    from kubevet.model import build_pod_view
    from kubevet.rules.registry import get_rule  # bench/explained.py: the reasons, case by case

    mapping = checkov_to_rules()
    objs = rendered_objects()
    explained.SERVICE_ACCOUNTS.update(
        {(k[0], k[2], k[3]): v for k, v in objs.items() if k[1] == "ServiceAccount"}
    )
    workloads = {k for k, v in objs.items() if build_pod_view(v) is not None}
    ck = [
        (c, checkov_pod_key(o, workloads), lines) for c, o, lines in checkov_findings(checkov_json)
    ]
    kv = kubevet_findings()
    ck_files = {o[0] for _, o, _ in ck}
    kv_by_obj: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for code, obj, _path in kv:
        kv_by_obj[obj].add(code)
    rows: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # both, only ck, only kv
    only_ck: list[tuple[str, tuple[str, ...], str]] = []
    ck_pairs: set[tuple[str, tuple[str, ...]]] = set()
    for check_id, obj, _lines in ck:
        codes = mapping.get(check_id, set())
        for code in codes:
            ck_pairs.add((code, obj))
        if check_id in NO_RULE:
            continue
        if codes & kv_by_obj.get(obj, set()):
            rows[check_id][0] += 1
        else:
            rows[check_id][1] += 1
            only_ck.append((check_id, obj, explain(check_id, obj, objs.get(obj), kv_by_obj)))
    only_kv: dict[str, list[tuple[tuple[str, ...], str]]] = defaultdict(list)
    rev: dict[str, set[str]] = defaultdict(set)
    for check_id, codes in mapping.items():
        for code in codes:
            rev[code].add(check_id)
    for code, obj, path in kv:
        if rev.get(code) and (code, obj) not in ck_pairs:
            for check_id in rev[code]:
                rows[check_id][2] += 1
            only_kv[code].append((obj, path))
    lines = [
        "## Per Checkov check",
        "",
        "| Checkov | kubevet | both | only Checkov | only kubevet |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for check_id in sorted(rows, key=lambda c: (c.split("_")[0], int(c.split("_")[-1]))):
        both, oc, ok = rows[check_id]
        codes = ", ".join(sorted(mapping.get(check_id, ())))
        lines.append(f"| {check_id} | {codes} | {both} | {oc} | {ok} |")
    unexplained = [c for c in only_ck if c[2].startswith("UNEXPLAINED")]
    lines += [
        "",
        f"Only by Checkov: {len(only_ck)} cases, {len(unexplained)} unexplained.",
        "",
        "## Only by Checkov, case by case",
        "",
        "| Checkov | file | object | reason |",
        "| --- | --- | --- | --- |",
    ]
    for check_id, obj, why in sorted(only_ck):
        lines.append(f"| {check_id} | {obj[0]} | {obj[1]} {obj[2]}/{obj[3]} | {why} |")
    lines += [
        "",
        "## Only by kubevet: counts, a sample, and why",
        "",
        "| rule | objects | sample (file, object, field) | why Checkov does not report it |",
        "| --- | ---: | --- | --- |",
    ]
    for code in sorted(only_kv):
        r = get_rule(code)
        first = dict(sorted(only_kv[code], reverse=True))  # one field per object
        items = sorted(first.items())
        step = max(1, len(items) // 3)
        sample = "; ".join(f"{o[0]} {o[1]} {o[3]} `{p}`" for o, p in items[::step][:3])
        skipped = sum(1 for o, _ in items if o[0] not in ck_files)
        why = KUBEVET_ONLY.get(code, "UNREVIEWED")
        if skipped:
            why = f"{skipped} of {len(items)} in files Checkov skipped (see note); " + why
        lines.append(f"| {code} {r.slug if r else ''} | {len(items)} | {sample} | {why} |")
    silent = sorted({o[0] for o in objs} - ck_files)
    lines += [
        "",
        "Note: Checkov produced no result at all (neither failed nor passed is printed with "
        f"--quiet, but it failed nothing) for: {', '.join(silent)}. kube-prometheus-stack.yaml "
        "is a 3.5 MB render that Checkov skips without an error; kubevet checks it.",
    ]
    lines += [
        "",
        "Checkov ids without a kubevet rule: " + "; ".join(f"{k}: {v}" for k, v in NO_RULE.items()),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    print(compare(Path(sys.argv[1])))
