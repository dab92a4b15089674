"""Flags shared by the commands that read inputs (check, fix, upgrade, ...)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Collection

    from kubevet.config import Config
    from kubevet.findings import InputError
    from kubevet.runner import RunSettings
    from kubevet.sources.cluster import ClusterOptions
    from kubevet.sources.helmoptions import HelmOptions


def add_input_arguments(p: argparse.ArgumentParser, cluster: bool = False) -> None:
    """`cluster`: the command can read a live cluster too, so PATH becomes optional."""
    help_text = "charts, manifests, overlays, or -" + (" (or --cluster)" if cluster else "")
    p.add_argument("paths", nargs="*" if cluster else "+", metavar="PATH", help=help_text)
    if cluster:
        c = p.add_argument_group("cluster (read-only, through your kubeconfig)")
        c.add_argument("--cluster", action="store_true", help="check the current context")
        c.add_argument("--context", metavar="NAME", help="kubeconfig context (implies --cluster)")
        c.add_argument(
            "--kubeconfig", metavar="FILE", help="kubeconfig (default: $KUBECONFIG, ~/.kube/config)"
        )
        c.add_argument(
            "--snapshot",
            action="store_true",
            help="the files are `kubectl get -o yaml` dumps: check them as a cluster (server "
            "fields dropped, pods through their owners)",
        )
        c.add_argument(
            "-A",
            "--all-namespaces",
            action="store_true",
            help="every namespace (the default for --cluster unless -n is given)",
        )
    h = p.add_argument_group("Helm")
    h.add_argument(
        "-f",
        "--values",
        action="append",
        default=[],
        metavar="FILE",
        help="values file (repeatable)",
    )
    h.add_argument("--set", action="append", default=[], metavar="K=V", help="set a value")
    h.add_argument(
        "--set-string",
        action="append",
        default=[],
        metavar="K=V",
        help="set a value, kept as a string",
    )
    h.add_argument(
        "--set-file",
        action="append",
        default=[],
        metavar="K=PATH",
        help="set a value to a file's content",
    )
    h.add_argument(
        "--set-json", action="append", default=[], metavar="K=JSON", help="set a JSON value"
    )
    h.add_argument(
        "--values-set",
        action="append",
        default=[],
        metavar="NAME=FILE[,FILE]",
        help="render each chart once per named value set (repeatable); findings say which "
        "value sets trigger them",
    )
    h.add_argument(
        "--values-matrix",
        action="append",
        nargs="+",
        default=[],
        metavar="FILE",
        help="value sets, one per file, named by the file's stem (e.g. envs/*.yaml)",
    )
    h.add_argument("--kube-version", metavar="X.Y", help="Kubernetes version for rendering")
    h.add_argument(
        "--api-versions",
        action="append",
        default=[],
        metavar="GROUP/VERSION[/KIND]",
        help="Kubernetes API versions for Capabilities.APIVersions, beyond those the kube "
        "version serves (repeatable, comma-separated)",
    )
    h.add_argument("--release-name", default="release-name", help="release name for rendering")
    h.add_argument(
        "-n",
        "--namespace",
        help="release namespace (default: default); with --cluster, the one to read",
    )
    p.add_argument("--config", metavar="FILE", help="config file (default: found by walking up)")
    p.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="PATTERN",
        help="leave out of directory walks what this gitignore-style pattern matches (repeatable)",
    )
    p.add_argument(
        "--skip-non-kubernetes",
        dest="lenient",
        action="store_true",
        help="named files that hold no Kubernetes object are skipped and counted, as in a walk "
        "(for hooks that pass every changed file)",
    )
    p.add_argument(
        "--no-gitignore",
        dest="gitignore",
        action="store_false",
        help="walk into what .gitignore files ignore",
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="list the files a walk skipped, and why (check: and each input's time)",
    )
    p.add_argument(
        "-j",
        "--jobs",
        type=positive_int,
        default=None,
        help="inputs checked in parallel (default: number of cores)",
    )


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value


def build_settings(args: argparse.Namespace) -> tuple[RunSettings, Config]:
    """RunSettings from flags and config; returns (settings, config)."""
    from kubevet import limits
    from kubevet.commands.exits import UsageError
    from kubevet.config import ConfigError, find_config, load_config
    from kubevet.context import Options
    from kubevet.runner import RunSettings, default_jobs
    from kubevet.sources.helmoptions import HelmOptions

    try:
        config = load_config(args.config) if args.config else find_config()
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    try:
        bounds = limits.from_config(config.get("limits"))
    except ValueError as exc:
        raise UsageError(f"{config.path}: {exc}") from None
    limits.use(bounds)  # this process reads inputs too (stdin, fix, upgrade)
    pss_version = str(getattr(args, "pss_version", None) or config.get("pss-version", "latest"))
    kube_version = str(args.kube_version or config.get("kube-version") or "") or None
    check_version("--pss-version", pss_version)
    check_version("--kube-version", kube_version)
    if kube_version and kube_version != "latest":
        check_known_release("--kube-version", kube_version)
    options = Options(
        pss_version=pss_version,
        kube_version=kube_version,
        rule_settings=config.get("rules", {}),
        settings=config.get("settings", {}),
    )
    check_names(getattr(args, "release_name", None), getattr(args, "namespace", None))
    helm = HelmOptions(
        values_files=args.values,
        set_values=args.set,
        set_string_values=args.set_string,
        set_file_values=getattr(args, "set_file", []),
        set_json_values=getattr(args, "set_json", []),
        kube_version=args.kube_version,
        release_name=args.release_name,
        namespace=args.namespace or "default",
        api_versions=_split(args.api_versions),
    )
    cluster = cluster_options(args)
    jobs = args.jobs if args.jobs is not None else int(config.get("jobs") or default_jobs())
    select, ignore = _split(getattr(args, "select", None)), _split(getattr(args, "ignore", None))
    extend = _split(getattr(args, "extend_select", None))
    check_selectors("--select", select)
    check_selectors("--ignore", ignore)
    check_selectors("--extend-select", extend)
    settings = RunSettings(
        options=options,
        helm=helm,
        select=select or list(config.get("select") or []),
        ignore=ignore + list(config.get("ignore") or []),
        extend_select=extend + list(config.get("extend-select") or []),
        severity=dict(config.get("severity") or {}),
        jobs=max(1, jobs),
        limits=bounds,
        value_sets=value_sets(args),
        cluster=cluster,
        snapshot=bool(getattr(args, "snapshot", False)),
        exclude=list(args.exclude) + _strings(config.get("exclude")),
        gitignore=args.gitignore,
        lenient=bool(getattr(args, "lenient", False)),
    )
    return settings, config


def cluster_options(args: argparse.Namespace) -> ClusterOptions | None:
    """ClusterOptions when a cluster is to be read; a usage error when nothing is."""
    from kubevet.commands.exits import UsageError

    wants = any(getattr(args, k, None) for k in ("cluster", "context", "kubeconfig"))
    if not wants:
        # upgrade --audit-log alone is a complete question with nothing to read
        if not args.paths and not getattr(args, "audit_log", None):
            raise UsageError("name what to check: PATH... (charts, manifests, -) or --cluster")
        return None
    from kubevet.sources.kubeapi import ClusterOptions

    namespace = None if args.all_namespaces else args.namespace
    return ClusterOptions(args.kubeconfig, args.context, namespace)


def value_sets(args: argparse.Namespace) -> list[tuple[str, list[str]]]:
    """`--values-set prod=a.yaml,b.yaml` and `--values-matrix envs/*.yaml` as named sets."""
    import os

    from kubevet.commands.exits import UsageError

    sets: list[tuple[str, list[str]]] = []
    for spec in getattr(args, "values_set", None) or []:
        name, sep, files = spec.partition("=")
        paths = [f.strip() for f in files.split(",") if f.strip()]
        if not sep or not name.strip() or not paths:
            raise UsageError(f"--values-set {spec!r}: expected NAME=FILE[,FILE...]")
        sets.append((name.strip(), paths))
    for group in getattr(args, "values_matrix", None) or []:
        for path in group:
            sets.append((os.path.splitext(os.path.basename(path))[0], [path]))
    names = [n for n, _ in sets]
    if len(names) != len(set(names)):
        raise UsageError(f"value set names must differ: {', '.join(names)}")
    for _, paths in sets:
        for path in paths:
            if not os.path.isfile(path):
                raise UsageError(f"value set file {path}: no such file")
    return sets


def check_selectors(flag: str, selectors: list[str]) -> None:
    """A selector that matches no rule would silently turn the gate off: a usage error."""
    from kubevet.commands.exits import UsageError
    from kubevet.rules.registry import selector_problem

    for s in selectors:
        problem = selector_problem(s)
        if problem:
            raise UsageError(f"{flag}: {problem}")


def check_version(flag: str, text: str | None) -> None:
    """`1.29`, `v1.29.3` or `latest`; anything else is a usage error, before any work."""
    from kubevet.commands.exits import UsageError
    from kubevet.rules.options import type_problem

    if text is not None and type_problem("version", text):
        raise UsageError(f"{flag}: bad version {text!r} (expected like 1.29 or latest)")


def check_names(release: str | None, namespace: str | None) -> None:
    """A release name Helm would refuse, or a namespace Kubernetes would, is a usage error:
    rendering with it made objects no cluster accepts, reported as if it were fine."""
    from kubevet.commands.exits import UsageError
    from kubevet.rules.metadata import dns_label_problem, subdomain_problem

    # Helm's rule for release names (pkg/chartutil/validate_name.go): a DNS-1123 subdomain
    # of at most 53 characters, so that names built from it fit; `helm template` refuses
    # others. A namespace is a DNS-1123 label (the API server refuses others).
    if release is not None and subdomain_problem(release, 53):
        raise UsageError(
            f"--release-name {release!r}: Helm refuses it (lowercase letters, digits, '-' "
            "and '.', starting and ending with a letter or digit, at most 53 characters)"
        )
    if namespace is not None and dns_label_problem(namespace):
        raise UsageError(
            f"--namespace {namespace!r}: not a Kubernetes namespace name (lowercase letters, "
            "digits and '-', starting and ending with a letter or digit, at most 63 characters)"
        )


def check_known_release(flag: str, text: str) -> None:
    """A Kubernetes release kubevet has data on: `--kube-version 1.3` (meant 1.30) rendered
    for a release whose removed APIs are none of today's, and passed."""
    from kubevet.commands.exits import UsageError
    from kubevet.upgrade.served import release_problem
    from kubevet.upgrade.table import version

    problem = release_problem(version(text))  # type: ignore[arg-type]
    if problem:
        raise UsageError(f"{flag} {text}: {problem}")


def _strings(value: Any) -> list[str]:
    """A config list of strings (validated with the config) that may be written as one."""
    return [value] if isinstance(value, str) else list(value or [])


def _split(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


# Inputs -f/--set cannot apply to: a run of only these used none of the values given.
_NOT_CHARTS = frozenset(("manifests", "stdin", "kustomize"))


def values_unused(
    helm: HelmOptions, sources: Collection[str]
) -> tuple[list[InputError], list[str]]:
    """(errors, warnings) for values given (-f, --set and the like) to a run whose inputs
    (their `sources`: manifests, chart, ...) hold no chart: the values were used for
    nothing, which a gate should not pass over in silence (`rendered/ -f prod.yaml` checks
    what was rendered, not prod.yaml's values). They are read all the same, so that a file
    that does not exist is the input error it is when a chart is checked."""
    flags = helm.values_flags()
    if not flags or not sources or not set(sources) <= _NOT_CHARTS:
        return [], []
    from kubevet.findings import InputError
    from kubevet.sources.helm import user_values  # (not imported by a plain check)

    try:
        user_values(helm)
    except InputError as err:
        return [err], []
    return [], [
        f"{'/'.join(flags)}: values apply to Helm charts, and no input is a chart: not used"
    ]


def values_unused_by_paths(
    paths: list[str], settings: RunSettings
) -> tuple[list[InputError], list[str]]:
    """`values_unused` for a command's PATHs, as `discover` finds their inputs (walked only
    where values were given; a cluster's releases are rendered with their own values)."""
    if not settings.helm.values_flags() or settings.cluster is not None or not paths:
        return [], []
    from kubevet.sources import discover

    kinds = {i.kind for i in discover(paths, settings.exclude, settings.gitignore)}
    return values_unused(settings.helm, kinds)
