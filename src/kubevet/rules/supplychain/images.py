"""Image references (KV501-KV507): what image each container really runs: tags, digests,
pull policies, allowed and frozen registries, reference syntax (kubevet.images)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubevet.context import RuleContext
from kubevet.findings import Edit, Fix, Violation
from kubevet.images import ImageRef, ImageRefError, parse_image, registry_matches
from kubevet.model import ContainerView, K8sObject, PodSpecView
from kubevet.rules.examples import EXAMPLE_DIGEST, example_image_pod
from kubevet.rules.options import Option
from kubevet.rules.registry import rule
from kubevet.supplychain.registries import frozen_registries


def image_of(c: ContainerView) -> ImageRef | None:
    """The parsed image of a container; None when missing or invalid (KV507 reports it)."""
    text = c.data.get("image")
    if not isinstance(text, str):
        return None
    try:
        return parse_image(text)
    except ImageRefError:
        return None


def _image_path(c: ContainerView) -> tuple[str | int, ...]:
    return (*c.path, "image")


@rule(
    code="KV501",
    slug="image-tag-latest",
    title="Image has no tag or uses latest",
    category="supply-chain",
    severity="medium",
    scope="container",
    what="The image reference has no tag, or the tag `latest`, and no digest.",
    why="`latest` moves: two nodes, or two restarts, may run different code, and a rollback "
    "cannot return to what ran before. With no tag or `latest`, Kubernetes also defaults "
    "imagePullPolicy to Always, so every start depends on the registry.",
    how_to_fix="Use an explicit version tag (`nginx:1.27.3`), better still with its digest "
    "(`nginx:1.27.3@sha256:...`). A digest-pinned image passes whatever its tag.",
    example_bad=example_image_pod("nginx:latest"),
    example_good=example_image_pod("nginx:1.27.3"),
    unified=("check_0",),
    references=("NSA/CISA Kubernetes Hardening Guide: image scanning and immutable tags",),
)
def image_tag_latest(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    ref = image_of(c)
    if ref is not None and ref.mutable_latest:
        what = "no tag" if ref.tag is None else "the tag 'latest'"
        yield Violation(f"image {ref.original!r} has {what}", _image_path(c))


def locked_digest(ctx: RuleContext, ref: ImageRef) -> str | None:
    """The image's digest from settings.image_lock (loaded with the input), when listed."""
    evidence = ctx.group.evidence
    return evidence.image_lock.get(ref.tag_key) if evidence else None


@rule(
    code="KV502",
    slug="image-not-pinned-by-digest",
    title="Image not pinned by digest",
    category="supply-chain",
    severity="low",
    scope="container",
    what="The image reference has no `@sha256:` digest.",
    why="A tag is a pointer anyone with push rights can move; a digest names the exact bytes. "
    "Only a digest makes a deployment reproducible and ties it to its provenance and SBOM.",
    how_to_fix="Append the digest the tag points at today: `repo:tag@sha256:...` (the tag "
    "stays for people, the runtime uses the digest). With the setting `image_lock` (a lock "
    "file: plain map, kbld lock or buildx metadata), kubevet offers that edit as a safe fix.",
    example_bad=example_image_pod("nginx:1.27.3"),
    example_good=example_image_pod(f"nginx:1.27.3@{EXAMPLE_DIGEST}"),
    fix_applicability="safe",
    unified=("check_9",),
    references=("SLSA v1.0: verifying artifacts", "OCI distribution spec: pulling by digest"),
)
def image_not_pinned(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    ref = image_of(c)
    if ref is None or ref.pinned:
        return
    digest = locked_digest(ctx, ref)
    fix = None
    if digest:
        # The digest the tag pointed at when locked: same bytes as today, so behaviour is kept.
        pinned = ref.with_digest(digest)
        fix = Fix("safe", f"pin to {digest}", (Edit("set", _image_path(c), pinned),))
    yield Violation(f"image {ref.original!r} is not pinned by digest", _image_path(c), fix=fix)


def _pull_policy(c: ContainerView, ref: ImageRef) -> str:
    """The policy the API server ends up with (it defaults from the reference)."""
    policy = c.data.get("imagePullPolicy")
    if isinstance(policy, str) and policy:
        return policy
    return "Always" if ref.mutable_latest else "IfNotPresent"


@rule(
    code="KV503",
    slug="image-pull-policy-not-always",
    title="imagePullPolicy is not Always for a tag",
    category="supply-chain",
    severity="low",
    scope="container",
    what="An image referenced by tag (no digest) does not use `imagePullPolicy: Always` "
    "(set or defaulted). Digest-pinned images pass with IfNotPresent: their content cannot "
    "change, so pulling again gains nothing. Mutable `latest` with IfNotPresent or Never is "
    "reported by KV506 instead.",
    why="With IfNotPresent, a node keeps whatever the tag pointed at when it first pulled: "
    "nodes drift apart when a tag is re-pushed, and cached private images run without the "
    "registry checking the pod's pull credentials.",
    how_to_fix="Pin the image by digest (preferred), or set `imagePullPolicy: Always`.",
    example_bad=example_image_pod("nginx:1.27.3", "      imagePullPolicy: IfNotPresent\n"),
    example_good=example_image_pod("nginx:1.27.3", "      imagePullPolicy: Always\n"),
    fix_applicability="unsafe",
    unified=("check_25",),
    references=("CIS Kubernetes Benchmark 1.2.11 (AlwaysPullImages)",),
)
def pull_policy_not_always(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    ref = image_of(c)
    if ref is None or ref.pinned or ref.mutable_latest:
        return
    policy = _pull_policy(c, ref)
    if policy not in ("IfNotPresent", "Never"):
        return
    path = (*c.path, "imagePullPolicy")
    how = "is" if c.data.get("imagePullPolicy") else "defaults to"  # "" is unset too
    # Pulling on every start changes availability and may fetch a re-pushed tag: unsafe.
    fix = Fix("unsafe", "set imagePullPolicy: Always", (Edit("set", path, "Always"),))
    yield Violation(
        f"imagePullPolicy {how} {policy} for tagged image {ref.original!r}", path, fix=fix
    )


@rule(
    code="KV504",
    slug="registry-not-allowed",
    title="Image from a registry outside the allowlist",
    category="supply-chain",
    severity="medium",
    scope="container",
    what="The image's registry (or registry path) is not in `settings.allowed_registries`. "
    "Entries are hosts (`ghcr.io`), wildcards (`*.example.com`) or prefixes "
    "(`ghcr.io/my-org`). Off by default; when selected without a list, the rule's built-in "
    "list of major public registries applies.",
    why="Pulling only from registries you control or vetted keeps typosquatted and "
    "unreviewed images out, and keeps bytes on infrastructure you can mirror and audit.",
    how_to_fix="Mirror the image into an allowed registry and reference it there, or add the "
    "registry to `settings.allowed_registries`.",
    example_bad=example_image_pod("registry.example.net:5000/tools/app:1.0"),
    example_good=example_image_pod("ghcr.io/example/app:1.0"),
    enabled_by_default=False,
    options={
        "allowed_registries": Option(
            "string-list",
            [
                "docker.io",
                "ghcr.io",
                "quay.io",
                "registry.k8s.io",
                "gcr.io",
                "public.ecr.aws",
                "mcr.microsoft.com",
                "cgr.dev",
                "registry.gitlab.com",
            ],
            "registries (or registry/path prefixes) images may come from",
        )
    },
)
def registry_not_allowed(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    ref = image_of(c)
    if ref is None:
        return
    allowed = ctx.options.settings.get("allowed_registries") or ctx.setting("allowed_registries")
    if not allowed or any(registry_matches(ref, str(p)) for p in allowed):
        return
    yield Violation(
        f"image {ref.original!r} comes from {ref.registry}, not allowed", _image_path(c)
    )


def _frozen_entry(ref: ImageRef) -> dict[str, Any] | None:
    full = ref.name
    for entry in frozen_registries():
        prefix = str(entry["prefix"])
        if full == prefix or full.startswith(prefix + "/"):
            return entry
    return None


@rule(
    code="KV505",
    slug="frozen-registry",
    title="Image from a frozen or retired registry",
    category="supply-chain",
    severity="medium",
    scope="container",
    what="The image comes from a registry that is frozen or shut down, such as k8s.gcr.io "
    "(frozen since April 2023, replaced by registry.k8s.io). The list is a data table "
    "(data/frozen_registries.yaml) with its sources.",
    why="A frozen registry gets no new releases or security fixes, and a retired one stops "
    "serving: nodes that have not cached the image fail to start pods.",
    how_to_fix="Reference the same image on its successor (`registry.k8s.io/...`). kubevet "
    "offers the rewrite as an unsafe fix: the bytes then come from another registry, so "
    "check that the tag (or better, the digest) is published there.",
    example_bad=example_image_pod("k8s.gcr.io/pause:3.9"),
    example_good=example_image_pod("registry.k8s.io/pause:3.9"),
    fix_applicability="unsafe",
    references=("Kubernetes blog 2023-02-06: k8s.gcr.io image registry will be frozen",),
)
def frozen_registry(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    ref = image_of(c)
    entry = _frozen_entry(ref) if ref else None
    if ref is None or entry is None:
        return
    prefix, new = str(entry["prefix"]), entry.get("replacement")
    fix = None
    if new:
        rest = ref.normalized[len(prefix) :]
        fix = Fix("unsafe", f"pull from {new}", (Edit("set", _image_path(c), new + rest),))
        where = f"; use {new}"
    else:
        where = f" ({entry.get('note', 'retired')})"
    yield Violation(
        f"image {ref.original!r} comes from {prefix}, frozen since {entry['since']}{where}",
        _image_path(c),
        fix=fix,
    )


_POLICIES = ("Always", "IfNotPresent", "Never")


@rule(
    code="KV506",
    slug="pull-policy-inconsistent",
    title="imagePullPolicy contradicts the image reference",
    category="supply-chain",
    severity="medium",
    scope="container",
    what="imagePullPolicy does not fit the reference: IfNotPresent or Never with a mutable "
    "`latest` (or missing) tag, or a value that is not Always, IfNotPresent or Never (an "
    "empty string counts as unset, as it does for the API server). "
    "Always with a digest is fine (it re-checks pull credentials; the bytes cannot change).",
    why="`latest` says 'the newest build' while IfNotPresent or Never says 'whatever this "
    "node happens to hold': each node runs a different image, and a fix pushed under "
    "`latest` never arrives. An unknown policy is rejected by the API server.",
    how_to_fix="Pin a version tag or digest, or drop the explicit policy for `latest` so it "
    "defaults to Always. Spell the policy exactly: Always, IfNotPresent or Never.",
    example_bad=example_image_pod("nginx:latest", "      imagePullPolicy: IfNotPresent\n"),
    example_good=example_image_pod(f"nginx@{EXAMPLE_DIGEST}", "      imagePullPolicy: Always\n"),
    references=("Kubernetes docs: Images, image pull policy",),
)
def pull_policy_inconsistent(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    ref = image_of(c)
    policy = c.data.get("imagePullPolicy")
    if ref is None or policy is None or policy == "":
        return  # the API server defaults an empty policy exactly like an absent one
    path = (*c.path, "imagePullPolicy")
    if policy not in _POLICIES:
        yield Violation(f"imagePullPolicy {policy!r} is not one of {', '.join(_POLICIES)}", path)
    elif ref.mutable_latest and policy != "Always":
        yield Violation(
            f"imagePullPolicy {policy} with mutable image {ref.original!r}: each node keeps "
            "whatever 'latest' was when it first pulled",
            path,
        )


@rule(
    code="KV507",
    slug="invalid-image-reference",
    title="Invalid or missing image reference",
    category="supply-chain",
    severity="high",
    scope="container",
    what="The container has no image, or one that does not parse by the OCI distribution "
    "reference grammar (uppercase repository, bad tag or digest, whitespace, ...).",
    why="The kubelet cannot pull it: the pod stays in InvalidImageName. In a chart this "
    "usually means a values key rendered empty or wrongly.",
    how_to_fix="Write the reference as `[registry[:port]/]repository[:tag][@sha256:digest]`, "
    "with a lowercase repository.",
    example_bad=example_image_pod("Nginx:1.27"),
    example_good=example_image_pod("nginx:1.27"),
    references=("distribution/reference grammar",),
)
def invalid_image_reference(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    text = c.data.get("image")
    if text is None or text == "":
        yield Violation(f"container {c.name!r} has no image", _image_path(c))
        return
    try:
        parse_image(str(text) if not isinstance(text, str) else text)
    except ImageRefError as exc:
        yield Violation(f"image {text!r} is not a valid reference: {exc}", _image_path(c))
