"""Build rules (KV52x): Dockerfiles and apko configurations that ship only what runs.

The objects come from kubevet.sources.builds: `Dockerfile` (instructions with their stage,
stages with their resolved base) and `ApkoConfig` (the apko YAML). Paths such as
`instructions[3]` point at the instruction's line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from kubevet import lazy_compile
from kubevet.context import RuleContext
from kubevet.findings import Violation
from kubevet.images import ImageRef, ImageRefError, parse_image
from kubevet.model import K8sObject
from kubevet.rules._helpers import as_dict, as_list
from kubevet.rules.registry import rule

_SHA = "sha256:" + "4f" * 32
_BUILD = "FROM golang:1.22 AS build\nRUN go build -o /out/app ./cmd/app\n"
_FINAL_OK = f"FROM gcr.io/distroless/static:nonroot@{_SHA}\nCOPY --from=build /out/app /app\n"


def _dockerfile(body: str) -> str:
    lines = "".join(f"  {line}\n" for line in body.splitlines())
    return "apiVersion: kubevet.io/v1\nkind: Dockerfile\nmetadata:\n  name: Dockerfile\n" + (
        "dockerfile: |\n" + lines
    )


def _apko(extra: str = "", keyring: bool = True, run_as: str = "65532") -> str:
    ring = "  keyring:\n    - https://packages.wolfi.dev/os/wolfi-signing.rsa.pub\n"
    return (
        "contents:\n  repositories:\n    - https://packages.wolfi.dev/os\n"
        + (ring if keyring else "")
        + "  packages:\n    - ca-certificates-bundle\n    - app\n"
        + "entrypoint:\n  command: /usr/bin/app\n"
        + (f"accounts:\n  run-as: {run_as}\n" if run_as else "")
        + "archs: [x86_64]\n"
        + extra
    )


def _stages(obj: K8sObject) -> list[dict[str, Any]]:
    return [s for s in as_list(obj.data.get("stages")) if isinstance(s, dict)]


def _instructions(obj: K8sObject, stage: int | None = None) -> list[tuple[int, dict[str, Any]]]:
    items = as_list(obj.data.get("instructions"))
    return [(i, x) for i, x in enumerate(items) if stage is None or x.get("stage") == stage]


def _chain(obj: K8sObject) -> list[dict[str, Any]]:
    """The final stage and the stages it is built FROM, root first."""
    stages = _stages(obj)
    if not stages:
        return []
    by_name = {str(s["name"]).lower(): s for s in stages if s.get("name")}
    chain = [stages[-1]]
    while True:
        parent = by_name.get(str(chain[0]["base"]).lower())
        if parent is None or parent in chain or parent["index"] >= chain[0]["index"]:
            return chain
        chain.insert(0, parent)


def _external_base(obj: K8sObject, stage: dict[str, Any]) -> bool:
    names = {str(s["name"]).lower() for s in _stages(obj) if s.get("name")}
    base = str(stage["base"])
    return base.lower() not in names and base != "scratch"


def _parse(base: str) -> ImageRef | None:
    if "$" in base:
        return None  # set by a build argument without a usable default: unknown here
    try:
        return parse_image(base)
    except ImageRefError:
        return None


@rule(
    code="KV520",
    slug="dockerfile-base-not-pinned",
    title="Final image base not pinned by digest",
    category="supply-chain",
    severity="medium",
    scope="object",
    kinds=("Dockerfile",),
    what="The Dockerfile's final stage (following `FROM <stage>` back to its root) is built "
    "FROM an image without an `@sha256:` digest. `scratch` passes.",
    why="The base is most of what ships; a moving tag makes the same Dockerfile build "
    "different images and hides which base a release contains.",
    how_to_fix="Pin the base: `FROM gcr.io/distroless/static:nonroot@sha256:...`, and let a "
    "bot (Renovate, Dependabot) move the digest.",
    example_bad=_dockerfile(_BUILD + "FROM gcr.io/distroless/static:nonroot\n"),
    example_good=_dockerfile(_BUILD + _FINAL_OK),
    references=("SLSA v1.0: pinned dependencies", "Docker docs: pin base image versions"),
)
def dockerfile_base_not_pinned(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    chain = _chain(obj)
    if not chain or not _external_base(obj, chain[0]):
        return
    ref = _parse(str(chain[0]["base"]))
    if ref is not None and not ref.pinned:
        yield Violation(
            f"final image is built FROM {ref.original!r}, not pinned by digest",
            ("instructions", chain[0]["from"]),
        )


@rule(
    code="KV521",
    slug="dockerfile-base-latest",
    title="Dockerfile base with no tag or latest",
    category="supply-chain",
    severity="medium",
    scope="object",
    kinds=("Dockerfile",),
    what="A stage is built FROM an image with no tag or `latest` and no digest.",
    why="`latest` makes builds unrepeatable: the same commit builds on a different base "
    "tomorrow, and a broken base arrives unannounced.",
    how_to_fix="Name a version tag, better with its digest (`FROM python:3.12-slim@sha256:...`).",
    example_bad=_dockerfile("FROM golang AS build\nRUN go build ./...\n" + _FINAL_OK),
    example_good=_dockerfile(_BUILD + _FINAL_OK),
    unified=(),
    references=("Docker docs: best practices, FROM",),
)
def dockerfile_base_latest(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    for stage in _stages(obj):
        if not _external_base(obj, stage):
            continue
        ref = _parse(str(stage["base"]))
        if ref is not None and ref.mutable_latest:
            yield Violation(
                f"stage {stage['index']} is built FROM {ref.original!r} (no tag or latest)",
                ("instructions", stage["from"]),
            )


# Build images whose final stage ships a compiler or SDK (repository's last path component).
_SDK_IMAGES = frozenset({"golang", "rust", "gcc", "maven", "gradle", "buildpack-deps", "sdk"})
_JDK_IMAGES = frozenset({"openjdk", "eclipse-temurin", "amazoncorretto"})
_INSTALL = lazy_compile(
    r"\b(apt-get|apt|apk|yum|dnf|microdnf|zypper)\b[^;&|]*?\b(install|add)\b([^;&|]*)"
)
_TOOLS = frozenset(
    {
        "gcc", "g++", "gcc-c++", "make", "build-essential", "build-base", "alpine-sdk", "clang",
        "cmake", "golang", "go", "rustc", "cargo", "maven", "gradle", "autoconf", "automake",
        "libtool", "musl-dev", "libc-dev", "libc6-dev", "linux-headers", "pkg-config",
        "pkgconf", "gfortran",
    }
)  # fmt: skip


def _installed_tools(command: str) -> list[str]:
    found: list[str] = []
    for m in _INSTALL.finditer(command):
        for word in m.group(3).split():
            name = re.split(r"[=<>~]", word, maxsplit=1)[0]
            if name in _TOOLS or name.endswith(("-dev", "-devel")):
                found.append(name)
    return found


def _sdk_base(ref: ImageRef | None) -> bool:
    if ref is None:
        return False
    last = ref.repository.rsplit("/", 1)[-1]
    tag = ref.tag or ""
    return last in _SDK_IMAGES or (last in _JDK_IMAGES and "jdk" in tag.lower())


@rule(
    code="KV522",
    slug="dockerfile-build-tools-in-final-image",
    title="Final image carries a compiler or build tools",
    category="supply-chain",
    severity="medium",
    scope="object",
    kinds=("Dockerfile",),
    what="The final stage is based on an SDK image (golang, rust, maven, gcc, a JDK, ...) or "
    "installs build tools (gcc, make, build-essential, -dev headers...) with a package "
    "manager: a single-stage build that ships its toolchain.",
    why="Compilers, headers and package managers in a runtime image are attack tooling "
    "handed to an intruder, hundreds of MB of extra CVEs, and nothing the program needs.",
    how_to_fix="Use a multi-stage build: compile in a `build` stage, then `COPY --from=build` "
    "only the artifacts into a minimal (distroless) final stage.",
    example_bad=_dockerfile(
        "FROM debian:12\nRUN apt-get update && apt-get install -y gcc make\n"
        "COPY . /src\nRUN make -C /src\n"
    ),
    example_good=_dockerfile(_BUILD + _FINAL_OK),
    references=("Docker docs: multi-stage builds", "distroless images (GoogleContainerTools)"),
)
def dockerfile_build_tools(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    chain = _chain(obj)
    if not chain:
        return
    root = chain[0]
    if _external_base(obj, root) and _sdk_base(_parse(str(root["base"]))):
        yield Violation(
            f"final image is built FROM the SDK image {root['base']!r}",
            ("instructions", root["from"]),
        )
        return
    for stage in chain:
        for index, item in _instructions(obj, stage["index"]):
            tools = (
                _installed_tools(str(item.get("value", ""))) if item["instruction"] == "RUN" else []
            )
            if tools:
                yield Violation(
                    f"final image installs build tools: {', '.join(sorted(set(tools)))}",
                    ("instructions", index),
                )
                return


_ROOT_USERS = lazy_compile(r"^(root|0)(:.*)?$")


@rule(
    code="KV523",
    slug="dockerfile-runs-as-root",
    title="Final image runs as root",
    category="supply-chain",
    severity="medium",
    scope="object",
    kinds=("Dockerfile",),
    what="The final stage (with the stages it builds on) sets no non-root `USER`, or its "
    "last USER is root/0. Bases tagged `nonroot` pass when no USER follows.",
    why="An image that runs as root needs every cluster to override it; where none does, a "
    "compromise of the process is root in the container.",
    how_to_fix="Add `USER 65532:65532` (or a named non-root user) near the end of the final "
    "stage, or build FROM a `:nonroot` base.",
    example_bad=_dockerfile(_BUILD + "FROM debian:12-slim\nCOPY --from=build /out/app /app\n"),
    example_good=_dockerfile(
        _BUILD + "FROM debian:12-slim\nCOPY --from=build /out/app /app\nUSER 10001\n"
    ),
    references=("CIS Docker Benchmark 4.1", "Docker docs: best practices, USER"),
)
def dockerfile_runs_as_root(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    chain = _chain(obj)
    if not chain:
        return
    last = None
    for stage in chain:
        for index, item in _instructions(obj, stage["index"]):
            if item["instruction"] == "USER":
                last = (index, str(item.get("value", "")).strip())
    if last is not None:
        if _ROOT_USERS.match(last[1]):
            yield Violation(f"final image runs as USER {last[1]}", ("instructions", last[0]))
        return
    if "nonroot" in str(chain[0]["base"]):
        return
    final = chain[-1]
    yield Violation("final image sets no non-root USER", ("instructions", final["from"]))


@rule(
    code="KV524",
    slug="dockerfile-add-from-url",
    title="ADD downloads from a URL",
    category="supply-chain",
    severity="medium",
    scope="object",
    kinds=("Dockerfile",),
    what="An `ADD` instruction fetches an http(s) URL without `--checksum`.",
    why="The build trusts whatever the server returns at build time: no integrity check, "
    "no cache-stable input, and a hijacked URL goes straight into the image.",
    how_to_fix="Download in a build stage with a checksum check (`curl -fsSL ... && "
    "sha256sum -c`), or use `ADD --checksum=sha256:... URL dest`, or COPY a vendored file.",
    example_bad=_dockerfile(
        "FROM debian:12-slim\nADD https://example.com/tool.tar.gz /opt/\nUSER 10001\n"
    ),
    example_good=_dockerfile(
        "FROM debian:12-slim\nADD --checksum=sha256:"
        + "4f" * 32
        + " https://example.com/tool.tar.gz /opt/\nUSER 10001\n"
    ),
    references=("Docker docs: ADD --checksum", "Docker docs: best practices, ADD or COPY"),
)
def dockerfile_add_url(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    for index, item in _instructions(obj):
        if item["instruction"] != "ADD":
            continue
        words = str(item.get("value", "")).split()
        if any(w.startswith("--checksum") for w in words):
            continue
        sources = [w for w in words if not w.startswith("--")][:-1]
        urls = [w for w in sources if w.startswith(("http://", "https://"))]
        if urls:
            yield Violation(f"ADD fetches {urls[0]} without a checksum", ("instructions", index))


_SHELL_PACKAGES = frozenset(
    {"busybox", "bash", "dash", "zsh", "ash", "mksh", "toybox", "wolfi-base", "alpine-base"}
)
_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "mksh"})


def _packages(obj: K8sObject) -> set[str]:
    pkgs = as_list(as_dict(obj.data.get("contents")).get("packages"))
    return {re.split(r"[=<>~]", str(p), maxsplit=1)[0] for p in pkgs}


@rule(
    code="KV525",
    slug="apko-shell-entrypoint",
    title="apko entrypoint needs a shell the image does not ship",
    category="supply-chain",
    severity="high",
    scope="object",
    kinds=("ApkoConfig",),
    what="The apko image is distroless (no busybox, bash or other shell package) but its "
    "entrypoint runs through a shell (`shell-fragment`, or a command starting with sh/bash).",
    why="The container cannot start (no /bin/sh), or someone adds a shell back to make it "
    "start, undoing the point of a distroless image.",
    how_to_fix="Run the program directly: `entrypoint: {command: /usr/bin/app --flag}`.",
    example_bad=_apko().replace("command: /usr/bin/app", "command: /bin/sh -c /usr/bin/app"),
    example_good=_apko(),
    references=("apko documentation: entrypoint", "distroless images (GoogleContainerTools)"),
)
def apko_shell_entrypoint(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    entry = as_dict(obj.data.get("entrypoint"))
    if _packages(obj) & _SHELL_PACKAGES:
        return
    if entry.get("shell-fragment"):
        yield Violation(
            "entrypoint uses shell-fragment in an image with no shell",
            ("entrypoint", "shell-fragment"),
        )
        return
    words = str(entry.get("command") or "").split()
    if words and words[0].rsplit("/", 1)[-1] in _SHELLS:
        yield Violation(
            f"entrypoint runs {words[0]}, but the image ships no shell", ("entrypoint", "command")
        )


def _remote(repo: str) -> bool:
    return repo.startswith(("http://", "https://")) or (
        "://" not in repo and not repo.startswith(("@local", "/", "."))
    )


@rule(
    code="KV526",
    slug="apko-unpinned-repository",
    title="apko repository not verified",
    category="supply-chain",
    severity="high",
    scope="object",
    kinds=("ApkoConfig",),
    what="An apko package repository uses plain http, or remote repositories are listed with "
    "no `contents.keyring` to verify package signatures.",
    why="Packages fetched without transport security or signature checks can be swapped in "
    "transit or on a mirror, and land in the image as trusted code.",
    how_to_fix="Use https repositories and list their signing keys under `contents.keyring`.",
    example_bad=_apko(keyring=False),
    example_good=_apko(),
    references=("apko documentation: contents.keyring",),
)
def apko_unpinned_repository(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    contents = as_dict(obj.data.get("contents"))
    repos = [str(r) for r in as_list(contents.get("repositories"))]
    for index, repo in enumerate(repos):
        if repo.startswith("http://"):
            yield Violation(
                f"repository {repo} uses plain http", ("contents", "repositories", index)
            )
    if any(_remote(r) for r in repos) and not as_list(contents.get("keyring")):
        yield Violation(
            "remote repositories but no contents.keyring: package signatures are not checked",
            ("contents", "repositories"),
        )


@rule(
    code="KV527",
    slug="apko-runs-as-root",
    title="apko image runs as root",
    category="supply-chain",
    severity="medium",
    scope="object",
    kinds=("ApkoConfig",),
    what="The apko config sets no `accounts.run-as`, or runs as root (0 / a user with uid 0).",
    why="apko images run as root unless told otherwise; a non-root default keeps every "
    "deployment safe without each one overriding it.",
    how_to_fix="Declare a user under `accounts.users` (uid 65532) and set `accounts.run-as` to it.",
    example_bad=_apko(run_as=""),
    example_good=_apko(),
    references=("apko documentation: accounts",),
)
def apko_runs_as_root(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    accounts = as_dict(obj.data.get("accounts"))
    run_as = accounts.get("run-as")
    if run_as in (None, ""):
        yield Violation("accounts.run-as is not set: the image runs as root", ("accounts",))
        return
    root_names = {"root", "0"} | {
        str(u.get("username"))
        for u in as_list(accounts.get("users"))
        if isinstance(u, dict) and str(u.get("uid")) == "0"
    }
    if str(run_as) in root_names:
        yield Violation(f"accounts.run-as is {run_as}: root", ("accounts", "run-as"))
