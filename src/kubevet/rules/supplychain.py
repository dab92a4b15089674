"""Supply-chain rules (KV5xx): what image each container really runs, and where it came from.

KV501-KV507 read image references (kubevet.images); KV510-KV514 check attestations and run
only when some are given (`--attestations DIR`, or statements, envelopes or bundles among
the inputs). Nothing here uses the network.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

from kubevet.context import InputGroup, RuleContext
from kubevet.findings import Edit, Fix, InputError, Violation
from kubevet.images import ImageRef, ImageRefError, parse_image, registry_matches
from kubevet.model import ContainerView, K8sObject, PodSpecView
from kubevet.rules import _attestations as _att
from kubevet.rules.options import Option
from kubevet.rules.registry import rule
from kubevet.sources.yamldocs import load_one

_SHA = "sha256:" + "4f" * 32
_SHA_OTHER = "sha256:" + "0a" * 32


def _pod(image: str, extra: str = "") -> str:
    return (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n"
        f"    - name: web\n      image: {image}\n{extra}"
    )


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
    example_bad=_pod("nginx:latest"),
    example_good=_pod("nginx:1.27.3"),
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
    example_bad=_pod("nginx:1.27.3"),
    example_good=_pod(f"nginx:1.27.3@{_SHA}"),
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


def locked_digest(ctx: RuleContext, ref: ImageRef) -> str | None:
    """The image's digest from settings.image_lock, when configured and listed."""
    path = ctx.options.settings.get("image_lock")
    if not path:
        return None
    from kubevet.supplychain.lock import LockError, load_lock

    try:
        return load_lock(str(path)).get(ref.tag_key)
    except LockError as exc:
        _report(ctx.group, InputError(str(path), str(exc)))
        return None


def _report(group: InputGroup, err: InputError) -> None:
    if err not in group.errors:
        group.errors.append(err)


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
    example_bad=_pod("nginx:1.27.3", "      imagePullPolicy: IfNotPresent\n"),
    example_good=_pod("nginx:1.27.3", "      imagePullPolicy: Always\n"),
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
    example_bad=_pod("registry.example.net:5000/tools/app:1.0"),
    example_good=_pod("ghcr.io/example/app:1.0"),
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


@cache
def frozen_registries() -> list[dict[str, Any]]:
    """The data table of frozen or retired registries (data/frozen_registries.yaml)."""
    text = resources.files("kubevet.data").joinpath("frozen_registries.yaml").read_text("utf-8")
    return list(load_one(text)["registries"])


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
    example_bad=_pod("k8s.gcr.io/pause:3.9"),
    example_good=_pod("registry.k8s.io/pause:3.9"),
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
    example_bad=_pod("nginx:latest", "      imagePullPolicy: IfNotPresent\n"),
    example_good=_pod(f"nginx@{_SHA}", "      imagePullPolicy: Always\n"),
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
    example_bad=_pod("Nginx:1.27"),
    example_good=_pod("nginx:1.27"),
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


_STMT = (
    "---\n_type: https://in-toto.io/Statement/v1\nsubject:\n"
    "  - name: ghcr.io/example/app\n    digest: {{sha256: {hex}}}\npredicateType: {ptype}\n"
    "predicate: {pred}\n"
)
_PROV_PRED = (
    "{buildDefinition: {buildType: 'https://example.com/build/v1', externalParameters: {}}, "
    "runDetails: {builder: {id: '%s'}}}"
)
_GEN = (
    "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/x.yml@refs/tags/v2"
)


def _stmt(kind: str, digest: str = _SHA, builder: str = _GEN) -> str:
    pred = _PROV_PRED % builder if kind == "prov" else "{spdxVersion: SPDX-2.3}"
    ptype = "https://slsa.dev/provenance/v1" if kind == "prov" else "https://spdx.dev/Document"
    return _STMT.format(hex=digest.split(":", 1)[1], ptype=ptype, pred=pred)


_APP = _pod(f"ghcr.io/example/app:1.0@{_SHA}")
_ATT_WHEN = (
    " Runs only when attestations are given: `--attestations DIR` (settings.attestations), or "
    "in-toto statements, DSSE envelopes or Sigstore bundles among the inputs."
)
_ATT_REFS = ("SLSA v1.0 build track", "in-toto attestation framework v1", "DSSE v1.0")


@rule(
    code="KV510",
    slug="missing-provenance",
    title="No SLSA provenance for the image",
    category="supply-chain",
    severity="medium",
    scope="group",
    what="No SLSA provenance (predicate `https://slsa.dev/provenance/v1`) names the image's "
    "digest as its subject. Images without a digest are resolved through settings.image_lock."
    + _ATT_WHEN,
    why="Provenance says which builder made these exact bytes from which source; without it "
    "nothing links the running image to reviewed code (SLSA Build L0).",
    how_to_fix="Generate provenance in the build (e.g. the SLSA GitHub generator, BuildKit "
    "`--attest type=provenance`), store it beside the manifests, and pin images by digest.",
    example_bad=_APP + _stmt("sbom"),
    example_good=_APP + _stmt("prov") + _stmt("sbom"),
    references=_ATT_REFS,
)
def missing_provenance(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    for item in _att.images(ctx, group):
        a = item.assessment
        if a is None:
            yield item.violation(
                "is not pinned by digest (nor in image_lock): no provenance can match it; "
                "evidence supports SLSA Build L0"
            )
        elif not a.provenance and not a.mismatched:
            yield item.violation("has no SLSA provenance; evidence supports SLSA Build L0")


@rule(
    code="KV511",
    slug="unverified-attestation",
    title="Attestation for the image is not verified",
    category="supply-chain",
    severity="high",
    scope="group",
    what="A provenance or SBOM for the image's digest is unsigned, or its signature does not "
    "verify with settings.attestation_keys (DSSE: ECDSA, Ed25519, RSA) or, for keyless "
    "Sigstore bundles, against settings.sigstore_trusted_root and sigstore_identities." + _ATT_WHEN,
    why="An unsigned or unverifiable statement can be written by anyone, so it proves "
    "nothing about who built the image; a tampered one must never count as evidence.",
    how_to_fix="Sign attestations in the build (cosign attest, DSSE with a key kept by the "
    "build platform) and configure the public key or the Sigstore identity.",
    example_bad=_APP + _stmt("prov"),
    example_good=_APP,
    references=_ATT_REFS,
)
def unverified_attestation(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    for item in _att.images(ctx, group):
        bad = item.assessment.unverified if item.assessment else []
        if bad:
            first = bad[0]
            yield item.violation(
                f"has {len(bad)} unverified attestation(s), e.g. {first.source}: "
                f"{first.problem}; evidence supports SLSA Build L{item.assessment.level}"
            )


@rule(
    code="KV512",
    slug="provenance-digest-mismatch",
    title="Provenance is for another digest of the image",
    category="supply-chain",
    severity="high",
    scope="group",
    what="Provenance exists for the image's repository, but none for the digest deployed."
    + _ATT_WHEN,
    why="The deployed bytes are not the ones the build attested: a re-push, a rebuilt tag "
    "or a substituted image.",
    how_to_fix="Deploy the digest the provenance names, or attest the image you deploy.",
    example_bad=_APP + _stmt("prov", _SHA_OTHER),
    example_good=_APP + _stmt("prov"),
    references=_ATT_REFS,
)
def provenance_digest_mismatch(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    for item in _att.images(ctx, group):
        a = item.assessment
        if a is not None and a.mismatched and not a.provenance:
            other = a.mismatched[0].subjects[0][1]
            yield item.violation(
                f"has provenance only for other digests (e.g. {other[:19]}… in "
                f"{a.mismatched[0].source}); evidence supports SLSA Build L0"
            )


@rule(
    code="KV513",
    slug="untrusted-builder",
    title="Provenance from a builder not trusted",
    category="supply-chain",
    severity="high",
    scope="group",
    what="The image's provenance names a builder (`runDetails.builder.id`) not in "
    "settings.trusted_builders (ids, `prefix*`, or {id, level: 3} for hardened builders). "
    "Without that setting, the SLSA GitHub generator's workflows are trusted (level 3)."
    + _ATT_WHEN,
    why="Provenance is only as good as the builder that signs it: an unknown builder can "
    "claim any source and any parameters.",
    how_to_fix="Build on a trusted platform, or add the builder id to trusted_builders once "
    "you have reviewed it.",
    example_bad=_APP + _stmt("prov", builder="https://ci.example.net/runner"),
    example_good=_APP + _stmt("prov"),
    references=_ATT_REFS,
)
def untrusted_builder(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    for item in _att.images(ctx, group):
        a = item.assessment
        if a is not None and a.provenance and len(a.untrusted) == len(a.provenance):
            ids = sorted({p.builder_id or "(none)" for p in a.untrusted})
            yield item.violation(
                f"was built by {', '.join(ids)}, not in trusted_builders; "
                f"evidence supports SLSA Build L{a.level}"
            )


@rule(
    code="KV514",
    slug="missing-sbom",
    title="No SBOM for the image",
    category="supply-chain",
    severity="low",
    scope="group",
    what="No SPDX or CycloneDX attestation names the image's digest as its subject." + _ATT_WHEN,
    why="Without an SBOM for the exact image, nobody can tell which packages a new CVE hits.",
    how_to_fix="Generate an SBOM in the build (e.g. BuildKit `--attest type=sbom`, syft) "
    "and attest it for the image digest.",
    example_bad=_APP + _stmt("prov"),
    example_good=_APP + _stmt("prov") + _stmt("sbom"),
    references=(*_ATT_REFS, "SPDX 2.3", "CycloneDX 1.5"),
)
def missing_sbom(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    for item in _att.images(ctx, group):
        if item.assessment is not None and not item.assessment.sboms:
            yield item.violation("has no SBOM (SPDX or CycloneDX) for its digest")
