"""Annotations of the ingress-nginx controller that insert raw NGINX configuration."""

from __future__ import annotations

from collections.abc import Iterator

from kubevet.context import RuleContext
from kubevet.findings import Violation
from kubevet.model import K8sObject
from kubevet.rules.examples import example_ingress
from kubevet.rules.options import Option
from kubevet.rules.registry import rule

_PREFIX = "nginx.ingress.kubernetes.io"
_ANNOTATIONS = {f"{_PREFIX}/ssl-redirect": "true"}
_BAD = {**_ANNOTATIONS, f"{_PREFIX}/configuration-snippet": "deny all;"}


def _snippet_key(key: str, prefixes: list[str]) -> bool:
    prefix, _, name = key.partition("/")
    return prefix in prefixes and name.endswith("-snippet")


@rule(
    code="KV140",
    slug="ingress-nginx-snippet",
    title="ingress-nginx snippet annotation",
    category="security",
    severity="high",
    scope="object",
    kinds=("Ingress",),
    what="An Ingress carries an ingress-nginx annotation whose name ends in `-snippet` "
    "(`configuration-snippet`, `server-snippet`, `auth-snippet`, `stream-snippet`, "
    "`modsecurity-snippet`, ...) under the prefixes of the option `annotation_prefixes` "
    "(by default `nginx.ingress.kubernetes.io`; a controller started with "
    "`--annotations-prefix` reads another). Any value is reported: a harmless header today "
    "is the place an attacker's directive goes tomorrow. Other controllers ignore these "
    "annotations, so the finding only matters where ingress-nginx serves the Ingress.",
    why="A snippet is pasted verbatim into the controller's NGINX configuration, and the "
    "controller runs with a service account that reads every Secret of the cluster: "
    "whoever may create Ingresses can read those Secrets through a snippet "
    "(CVE-2021-25742) or inject further configuration (CVE-2023-5043). The 2025 "
    "IngressNightmare flaws (CVE-2025-1974 and its companions) injected NGINX directives "
    "through other annotations into the admission webhook, the same class of hole. "
    "ingress-nginx therefore refuses snippet annotations unless "
    "`allow-snippet-annotations` is enabled, and newer releases also rate them Critical "
    "under `annotations-risk-level`; a chart that needs them forces the cluster to turn "
    "that protection off.",
    how_to_fix="Use the dedicated annotation for the setting (headers, rewrites, auth, CORS "
    "each have one) or a global setting in the controller's ConfigMap, and keep "
    "`allow-snippet-annotations` off.",
    example_bad=example_ingress(annotations=_BAD),
    example_good=example_ingress(annotations=_ANNOTATIONS),
    references=(
        "https://github.com/kubernetes/ingress-nginx/issues/7837",
        "https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations-risk/",
        "https://kubernetes.io/blog/2025/03/24/ingress-nginx-cve-2025-1974/",
    ),
    options={
        "annotation_prefixes": Option(
            "string-list",
            [_PREFIX],
            "annotation prefixes the ingress-nginx controllers of the cluster read",
        )
    },
)
def ingress_nginx_snippet(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    prefixes = [str(p) for p in ctx.setting("annotation_prefixes", [_PREFIX])]
    for key in sorted(str(k) for k in obj.annotations):
        if _snippet_key(key, prefixes):
            yield Violation(
                f"annotation {key} inserts raw NGINX configuration",
                ("metadata", "annotations", key),
            )
