"""A small Kubernetes API server for tests: discovery, paged lists with continue tokens,
403 on forbidden kinds, 410 on an expired token, a transient 500, bearer-token auth, HTTPS
with a CA the test makes. It serves fixture objects read-only and records every request."""

from __future__ import annotations

import datetime as dt
import json
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

# (group, version) -> [(plural, kind, namespaced)]
RESOURCES = {
    ("", "v1"): [
        ("pods", "Pod", True),
        ("services", "Service", True),
        ("namespaces", "Namespace", False),
        ("secrets", "Secret", True),
        ("serviceaccounts", "ServiceAccount", True),
    ],
    ("apps", "v1"): [
        ("deployments", "Deployment", True),
        ("replicasets", "ReplicaSet", True),
        ("statefulsets", "StatefulSet", True),
        ("daemonsets", "DaemonSet", True),
    ],
    ("batch", "v1"): [("jobs", "Job", True), ("cronjobs", "CronJob", True)],
    ("autoscaling", "v2"): [("horizontalpodautoscalers", "HorizontalPodAutoscaler", True)],
    ("networking.k8s.io", "v1"): [("networkpolicies", "NetworkPolicy", True)],
    ("rbac.authorization.k8s.io", "v1"): [
        ("roles", "Role", True),
        ("clusterroles", "ClusterRole", False),
    ],
}


@dataclass
class Behaviour:
    objects: list[dict]
    token: str = "s3cret"
    version: str = "v1.28.4"  # what /version answers
    resources: dict = field(default_factory=lambda: dict(RESOURCES))  # what discovery shows
    aggregated: bool = False  # answer apidiscovery.k8s.io/v2 to clients that ask for it
    page_size: int = 2  # the server pages even when the client asks for more
    forbidden: set[str] = field(default_factory=set)  # plurals answered with 403
    expire_once: set[str] = field(default_factory=set)  # first continue -> 410 Gone
    flaky_once: set[str] = field(default_factory=set)  # first request -> 500
    requests: list[tuple[str, str]] = field(default_factory=list)


def _handler(b: Behaviour) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, code: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlparse(self.path)
            b.requests.append(("GET", url.path))
            if self.headers.get("Authorization") != f"Bearer {b.token}":
                return self._send(401, {"kind": "Status", "code": 401})
            self._send(*self._route(url.path.strip("/").split("/"), parse_qs(url.query)))

        def _refuse(self) -> None:
            b.requests.append((self.command, self.path))
            self._send(405, {"kind": "Status", "code": 405})

        do_POST = do_PUT = do_PATCH = do_DELETE = _refuse

        def _route(self, parts: list[str], query: dict) -> tuple[int, dict]:
            if parts == ["version"]:
                return 200, {
                    "major": "1",
                    "minor": b.version.split(".")[1],
                    "gitVersion": b.version,
                }
            wants = "as=APIGroupDiscoveryList" in (self.headers.get("Accept") or "")
            if b.aggregated and wants and parts in (["api"], ["apis"]):
                return 200, self._aggregated(core=parts == ["api"])
            if parts == ["api"]:
                return 200, {"kind": "APIVersions", "versions": ["v1"]}
            if parts == ["apis"]:
                versions: dict[str, list[dict]] = {}
                for g, v in b.resources:
                    if g:
                        versions.setdefault(g, []).append(
                            {"groupVersion": f"{g}/{v}", "version": v}
                        )
                groups = [  # the first version listed is the preferred one, as servers do
                    {"name": g, "versions": vs, "preferredVersion": vs[0]}
                    for g, vs in versions.items()
                ]
                return 200, {"kind": "APIGroupList", "groups": groups}
            group, version, rest = (
                ("", parts[1], parts[2:]) if parts[0] == "api" else (parts[1], parts[2], parts[3:])
            )
            known = b.resources.get((group, version))
            if known is None:
                return 404, {"kind": "Status", "code": 404}
            if not rest:
                res = [
                    {"name": p, "kind": k, "namespaced": n, "verbs": ["get", "list"]}
                    for p, k, n in known
                ]
                return 200, {"kind": "APIResourceList", "resources": res}
            namespace = None
            if rest[0] == "namespaces" and len(rest) == 3:
                namespace, rest = rest[1], rest[2:]
            return self._list(group, version, rest[0], namespace, query)

        def _aggregated(self, core: bool) -> dict:
            groups: dict[str, list[dict]] = {}
            for (g, v), known in b.resources.items():
                if (g == "") != core:
                    continue
                res = [
                    {
                        "resource": p,
                        "responseKind": {"group": g, "version": v, "kind": k},
                        "scope": "Namespaced" if n else "Cluster",
                        "verbs": ["get", "list"],
                    }
                    for p, k, n in known
                ]
                groups.setdefault(g, []).append({"version": v, "resources": res})
            items = [{"metadata": {"name": g}, "versions": vs} for g, vs in groups.items()]
            return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2"} | {
                "items": items
            }

        def _list(
            self, group: str, version: str, plural: str, namespace: str | None, query: dict
        ) -> tuple[int, dict]:
            if plural in b.forbidden:
                return 403, {"kind": "Status", "code": 403, "reason": "Forbidden"}
            if plural in b.flaky_once:
                b.flaky_once.discard(plural)
                return 500, {"kind": "Status", "code": 500}
            token = query.get("continue", [""])[0]
            if token and plural in b.expire_once:
                b.expire_once.discard(plural)
                return 410, {"kind": "Status", "code": 410, "reason": "Expired"}
            kind = next(k for p, k, _ in b.resources[(group, version)] if p == plural)
            api_version = f"{group}/{version}" if group else version
            items = [
                {k: v for k, v in o.items() if k not in ("apiVersion", "kind")}
                for o in b.objects
                if o["kind"] == kind
                and o["apiVersion"] == api_version
                and (namespace is None or o["metadata"].get("namespace") == namespace)
                and _selected(o, query.get("labelSelector", [""])[0])
            ]
            limit = min(int(query.get("limit", [b.page_size])[0]), b.page_size)
            start = int(token or 0)
            page = items[start : start + limit]
            more = start + limit < len(items)
            meta = {"resourceVersion": "1", **({"continue": str(start + limit)} if more else {})}
            return 200, {
                "kind": f"{kind}List",
                "apiVersion": api_version,
                "metadata": meta,
                "items": page,
            }

    return Handler


def _selected(obj: dict, selector: str) -> bool:
    """Equality label selectors (`a=b,c=d`), the only kind kubevet sends."""
    labels = obj["metadata"].get("labels") or {}
    pairs = [term.split("=", 1) for term in selector.split(",") if term]
    return all(labels.get(k) == v for k, v in pairs)


@dataclass
class Server:
    url: str
    kubeconfig: Path
    behaviour: Behaviour
    stop: object


def serve(tmp: Path, behaviour: Behaviour) -> Server:
    """Start the server over HTTPS with a fresh CA; write a kubeconfig that trusts it."""
    cert, key = _self_signed(tmp)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(behaviour))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"https://127.0.0.1:{httpd.server_port}"
    kubeconfig = tmp / "kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "test",
                "clusters": [
                    {"name": "test", "cluster": {"server": url, "certificate-authority": str(cert)}}
                ],
                "users": [{"name": "test", "user": {"token": behaviour.token}}],
                "contexts": [{"name": "test", "context": {"cluster": "test", "user": "test"}}],
            }
        )
    )

    def stop() -> None:
        httpd.shutdown()
        httpd.server_close()  # refuse connections from now on

    return Server(url, kubeconfig, behaviour, stop)


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-api-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "ca.crt", tmp / "ca.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
