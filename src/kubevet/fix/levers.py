"""Which lever each finding of a chart got, and why the others did not fit.

The levers, in the order a user reaches for them: the values override (`values`), the
post-render patch set (`post-render`), the template patch for the maintainer (`template`).
A finding no lever removed says `none`, with the reason of each lever.
"""

from __future__ import annotations

from typing import Any

from kubevet.findings import Finding
from kubevet.fix.chart import ChartResult
from kubevet.fix.choose import finding_key
from kubevet.fix.gate import object_ident
from kubevet.fix.verify import identity

LEVERS = ("values", "post-render", "template")


def lever_rows(cr: ChartResult) -> list[dict[str, Any]]:
    """One row per finding of the chart (before any fix): its lever and the reasons."""
    removed = dict(_removed(cr))
    reasons = _reasons(cr)
    rows = []
    for f in cr.findings:
        key = finding_key(f)
        lever = next((name for name in LEVERS if key in removed[name]), "none")
        why = {
            name: reasons.get((name, key)) or _default(name, f, lever)
            for name in LEVERS
            if name != lever
        }
        rows.append(
            {
                "code": f.code,
                "object": str(f.object),
                "path": f.path_text,
                "lever": lever,
                "also": [n for n in LEVERS if n != lever and key in removed[n]],
                "whyNot": {k: v for k, v in why.items() if key not in removed[k]},
            }
        )
    return rows


def _removed(cr: ChartResult) -> list[tuple[str, set[tuple[Any, ...]]]]:
    """The findings (keys) each lever's proven result no longer has: those its fixes
    removed and those gone with them from objects still there under the same name (a pod
    that stops mounting the token no longer runs as `default` with it, KV134, a rule with
    no fix of its own); an object renamed by every render (a random suffix) proves nothing."""
    ov, tp = cr.overlay, cr.maintainer
    proven = cr.render is not None and not cr.errors
    kept = {identity(o.data) for o in cr.render.objects} if proven else set()
    first = {finding_key(f): object_ident(f) for f in cr.findings}

    def gone(fixed: list[Finding], after: list[Finding]) -> set[tuple[Any, ...]]:
        left = {finding_key(f) for f in after}
        side = {k for k, ident in first.items() if k not in left and ident in kept}
        return {finding_key(f) for f in fixed} | side

    values = gone(cr.removed, cr.after) if cr.values and proven else set()
    if ov is not None and not ov.problems and ov.patches and proven:
        post = gone(ov.removed, ov.after)
    else:
        post = {finding_key(f) for f in ov.removed} if ov is not None and not ov.problems else set()
    template = {finding_key(f) for f in tp.fixed} if tp is not None else set()
    return [("values", values), ("post-render", post), ("template", template)]


def _reasons(cr: ChartResult) -> dict[tuple[str, Any], str]:
    out: dict[tuple[str, Any], str] = {}
    for f, _patch in cr.template:
        out[("values", finding_key(f))] = f.trace.answer if f.trace else "no values key sets it"
    for f, why in [*cr.rejected, *cr.blocked]:
        out[("values", finding_key(f))] = why
    for f, why in cr.withdrawn:  # the fix itself adds a finding, whatever lever carries it
        out.update({(name, finding_key(f)): why for name in LEVERS})
    ov, tp = cr.overlay, cr.maintainer
    if ov is not None:
        for f, why in [*ov.withdrawn, *ov.renamed]:
            out[("post-render", finding_key(f))] = why
        if ov.problems:
            for f in cr.findings:
                out.setdefault(("post-render", finding_key(f)), ov.problems[0])
    if tp is not None:
        for f, why in tp.refused:
            out[("template", finding_key(f))] = why
    return out


# What a rule's fix needs that `kubevet fix` was not given.
_DIGEST = "needs the digest: --image-lock FILE, or --resolve-digests (asks the registry)"
_AUDIT = "needs --audit-log FILE (what the role's service accounts use)"
NEEDS = {
    "KV502": _DIGEST,
    "KV501": f"{_DIGEST}; a pinned image passes whatever its tag",
    "KV506": f"{_DIGEST}; `Always` would pull whatever the moving tag is at each start",
    "KV401": _AUDIT,
    "KV402": _AUDIT,
    "KV403": "needs --audit-log FILE (where the bound accounts read Secrets), and kubevet "
    "narrows roles (KV401/KV402), not cluster-wide bindings: no fix is generated",
    "KV404": "needs --audit-log FILE (what the subjects use) to replace cluster-admin, and "
    "kubevet narrows roles (KV401/KV402), not cluster-admin bindings: no fix is generated",
}

# Why a rule with no fix stays display-only: every remedy breaks what the workload does.
KEEPS = {
    "KV117": "display-only: the SELinux type is what lets the container reach what it uses "
    "on the node (spc_t for a CNI or node agent); without it the pod fails on SELinux nodes",
    "KV126": "display-only: talking to the container runtime through its socket is what the "
    "workload does (a node agent, a security monitor); no other volume gives that access",
    "KV128": "display-only: the volume type is how the pod reaches its data; no restricted "
    "type holds what is there",
    "KV137": "display-only: the container serves SSH on port 22 (its function, such as Git "
    "over SSH); closing the port stops the service",
    "KV138": "display-only: the chart deploys the dashboard itself; no change keeps it",
    "KV139": "display-only: the application reads the value from its environment; moving it "
    "into a Secret keeps an environment variable (KV132) and the value in the chart's values",
    "KV309": "display-only: a Service's clusterIP cannot become None in place and a headless "
    "one changes how clients reach it; a StatefulSet's serviceName cannot be changed",
    "KV312": "display-only: putting the Pod under a controller changes its lifecycle (a test "
    "or one-shot Pod would be restarted) and its kind",
    "KV603": "display-only: the Service may select pods made outside the chart (by an "
    "operator); removing it or changing its selector may cut traffic kubevet cannot see",
    "KV134": "the chart has no serviceAccount switch; an account added after the render would "
    "lack the pull secrets and bindings `default` has",
}


def _default(lever: str, f: Finding, got: str) -> str:
    if f.fix is not None and f.fix.applicability == "display-only":
        return f"display-only: {f.fix.description}"
    if f.fix is None or not f.fix.edits:
        if lever == "post-render" and f.code in ("KV307", "KV601", "KV605", "KV904"):
            return "no object kubevet adds removes it here"
        if f.code == "KV701":
            from kubevet.fix.apiconvert import why_not

            return why_not(f, None) or "no values key sets an apiVersion: converted on the render"
        return NEEDS.get(f.code) or KEEPS.get(f.code, "the rule has no fix kubevet can make")
    if f.fix.applicability not in ("safe", "unsafe"):
        return "display-only fix"
    if lever == "template" and got == "values":
        return "a values key already reaches it"
    if lever == "template" and got == "post-render":
        return "not attempted: a values key reaches part of the fix, or it was not traced"
    return "not removed by this lever"
