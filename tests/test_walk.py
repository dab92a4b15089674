"""`kubevet check .` in an ordinary repository: what a walk reads, skips and refuses."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from kubevet.cli import main
from kubevet.sources import discover
from kubevet.sources.ignore import PathFilter, Patterns

WORKLOAD = """\
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector: {app: web}
  ports:
    - port: 80
"""

REPO = {
    "docker-compose.yaml": "services:\n  web:\n    image: nginx:1.27\n",
    ".gitlab-ci.yml": "stages: [test]\ntest:\n  script:\n    - make test\n",
    ".pre-commit-config.yaml": "repos:\n  - repo: local\n    hooks: []\n",
    "package.json": '{"name": "app", "version": "1.0.0"}\n',
    "tsconfig.json": '{\n  // comments are allowed here\n  "strict": true\n}\n',
    "docs/mkdocs.yml": "site_name: app\nnav:\n  - Home: index.md\n",
    "deploy/manifests/service.yaml": WORKLOAD,
    "deploy/values-prod.yaml": "kind: DaemonSet\napiVersion: not-a-manifest\n",
    "deploy/chart/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\n",
    "deploy/chart/values.yaml": "name: web\n",
    "deploy/chart/templates/service.yaml": WORKLOAD.replace(
        "name: web", "name: {{ .Values.name }}"
    ),
}
SKIPPED = {
    "docker-compose.yaml",
    ".gitlab-ci.yml",
    ".pre-commit-config.yaml",
    "package.json",
    "tsconfig.json",
    "docs/mkdocs.yml",
    "deploy/values-prod.yaml",
}


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    _tree(tmp_path, REPO)
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_an_ordinary_repository_is_checked_without_errors(repo, capsys):
    code = main(["check", ".", "--select", "KV801"])
    out, err = capsys.readouterr()
    assert code == 0, out + err  # both the manifest and the chart set a namespace
    assert "error" not in out
    assert f"{len(SKIPPED)} non-Kubernetes YAML files skipped (list them with -v)" in err
    assert "0 findings in 2 objects" in out  # the Service of the manifests and of the chart


def test_verbose_lists_each_skipped_file_and_why(repo, capsys):
    main(["check", ".", "--select", "KV801", "-v"])
    err = capsys.readouterr().err
    listed = {line.strip().split(":")[0] for line in err.splitlines() if line.startswith("  ")}
    assert listed == {f"./{name}" for name in SKIPPED}
    assert "./deploy/values-prod.yaml: Helm values file beside a chart" in err
    assert "./docker-compose.yaml: no apiVersion or kind" in err


def test_a_named_non_kubernetes_file_is_still_an_error(repo, capsys):
    assert main(["check", "docker-compose.yaml"]) == 2
    assert "not a Kubernetes object" in capsys.readouterr().err


def test_broken_yaml_meant_for_kubernetes_is_an_error_even_in_a_walk(repo, capsys):
    (repo / "deploy" / "manifests" / "broken.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: x\n"
    )
    assert main(["check", "."]) == 2
    assert "deploy/manifests/broken.yaml:4: invalid YAML" in capsys.readouterr().err


def test_gitignore_is_honoured_from_the_repository_top(repo):
    (repo / ".gitignore").write_text("generated/\n*.tmp.yaml\n!keep.tmp.yaml\n")
    bad = "apiVersion: v1\nkind: Pod\nmetadata: {name: x\n"
    _tree(
        repo,
        {
            "deploy/generated/pod.yaml": bad,
            "deploy/manifests/x.tmp.yaml": bad,
            "deploy/manifests/keep.tmp.yaml": WORKLOAD,
            "deploy/manifests/.gitignore": "local.yaml\n",
            "deploy/manifests/local.yaml": bad,
        },
    )
    files = {os.path.relpath(f) for i in discover(["deploy"]) for f in i.files}
    assert files == {"deploy/manifests/service.yaml", "deploy/manifests/keep.tmp.yaml"}
    everything = {
        os.path.relpath(f) for i in discover(["deploy"], gitignore=False) for f in i.files
    }
    assert {"deploy/generated/pod.yaml", "deploy/manifests/local.yaml"} <= everything


def test_exclude_patterns_use_gitignore_syntax_relative_to_the_walk_or_cwd(repo, capsys):
    _tree(repo, {"deploy/legacy/old.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: x\n"})
    assert main(["check", "deploy", "--select", "KV801"]) == 2
    capsys.readouterr()
    for pattern in ("legacy/", "deploy/legacy", "/legacy", "**/old.yaml"):
        assert main(["check", "deploy", "--select", "KV801", "--exclude", pattern]) == 0, pattern
    (repo / ".kubevet.yaml").write_text("exclude: [legacy/]\n")
    assert main(["check", "deploy", "--select", "KV801"]) == 0


def test_exclude_in_config_must_be_patterns(repo, capsys):
    (repo / ".kubevet.yaml").write_text("exclude: {legacy: true}\n")
    assert main(["check", "deploy"]) == 2
    assert "exclude: expected a list of strings" in capsys.readouterr().err


def test_a_named_file_is_read_even_when_excluded(repo):
    items = discover(["deploy/manifests/service.yaml"], exclude=["*.yaml"])
    assert [i.files for i in items] == [["deploy/manifests/service.yaml"]]


def test_pathspec_is_imported_only_when_a_pattern_is_needed(tmp_path):
    import subprocess
    import sys

    _tree(tmp_path, {"a/x.yaml": WORKLOAD})
    code = "import sys; from kubevet.sources import discover; discover([sys.argv[1]]);"
    code += "print('pathspec' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=env
    )
    assert done.stdout.strip() == "False", done.stderr


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.from_regex(r"[a-z]{1,3}(/[a-z]{1,3}){0,2}\.ya?ml", fullmatch=True),
        min_size=1,
        max_size=6,
        unique=True,
    ),
    st.sampled_from(["*.yml", "a*/", "**/b.yaml", "/a", "c/"]),
)
def test_filter_agrees_with_a_plain_gitignore_match(tmp_path_factory, names, pattern):
    import pathspec

    root = tmp_path_factory.mktemp("walk")
    _tree(root, {n: WORKLOAD for n in names})
    kept = {
        os.path.relpath(f, root)
        for i in discover([str(root)], exclude=[pattern], gitignore=False)
        for f in i.files
    }
    spec = pathspec.GitIgnoreSpec.from_lines([pattern])
    assert kept == {n for n in names if not spec.match_file(n)}
    PathFilter(str(root), [pattern])  # builds without a .gitignore anywhere


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("deploy/chart/templates", "deploy/chart"),
        ("deploy/chart/templates/service.yaml", "deploy/chart"),
        ("deploy/chart/values.yaml", "deploy/chart"),
        ("deploy/chart/Chart.yaml", "deploy/chart"),
    ],
)
def test_a_part_of_a_chart_says_pass_the_chart_directory(repo, capsys, name, hint):
    assert main(["check", name]) == 2
    out = capsys.readouterr().err
    assert f"pass the chart directory (kubevet check {hint})" in out
    assert "invalid YAML" not in out


@pytest.mark.parametrize(
    "url", ["oci://registry.example.com/charts/app", "https://charts.example.com/app-1.0.0.tgz"]
)
def test_a_chart_url_says_helm_pull_and_is_never_fetched(capsys, url, monkeypatch):
    import socket

    def no_network(*_a: object, **_k: object) -> None:
        raise AssertionError("a scan never opens a connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    assert main(["check", url]) == 2
    assert f"helm pull {url}" in capsys.readouterr().err


def test_plain_manifests_kept_inside_a_chart_folder_are_still_checked(repo):
    _tree(repo, {"deploy/chart/crds/crd.yaml": WORKLOAD})
    [item] = discover(["deploy/chart/crds"])
    assert item.kind == "manifests"


def test_every_command_that_walks_takes_exclude(repo, capsys):
    _tree(repo, {"deploy/legacy/old.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: x\n"})
    assert main(["upgrade", "--to", "1.29", "deploy"]) == 2
    capsys.readouterr()
    assert main(["upgrade", "--to", "1.29", "deploy", "--exclude", "legacy/"]) == 0
    assert main(["netpol", "deploy", "--exclude", "legacy/"]) == 0


def test_shards_carry_skips_and_template_lines_like_a_single_run(repo, capsys):
    (repo / "shards").mkdir()
    node_port = WORKLOAD.replace("spec:\n", "spec:\n  type: NodePort\n")
    _tree(repo, {"deploy/chart/templates/exposed.yaml": node_port.replace("web", "exposed")})
    for i in (0, 1):
        main(["check", ".", "--exclude", "shards/", "--shard", f"{i}/2", "-o", "shards"])
    capsys.readouterr()
    merged = main(["merge", "shards", "--format", "sarif"])
    merged_out, merged_err = capsys.readouterr()
    single = main(["check", ".", "--exclude", "shards/", "--format", "sarif"])
    single_out, _ = capsys.readouterr()
    assert merged == single
    assert merged_out == single_out and '"startLine"' in single_out
    assert f"{len(SKIPPED)} non-Kubernetes YAML files skipped" in merged_err


def test_upgrade_and_netpol_say_what_a_walk_skipped(repo, capsys):
    assert main(["upgrade", "--to", "1.29", "."]) == 0
    err = capsys.readouterr().err
    assert f"{len(SKIPPED)} non-Kubernetes YAML files skipped: ./.gitlab-ci.yml" in err
    main(["netpol", "."])
    assert f"{len(SKIPPED)} non-Kubernetes YAML files skipped" in capsys.readouterr().err


def test_a_named_directory_is_walked_even_when_gitignore_ignores_it(repo, capsys):
    """`helm template` output kept in an ignored directory, checked by name: the patterns
    that ignore the directory are set aside, the others still apply below it."""
    (repo / ".gitignore").write_text("rendered/\n*.tmp.yaml\n")
    bad = "apiVersion: v1\nkind: Pod\nmetadata: {name: x\n"
    _tree(
        repo,
        {
            "out/rendered/all.yaml": WORKLOAD,
            "out/rendered/x.tmp.yaml": bad,
            "out/rendered/sub/more.yaml": WORKLOAD.replace("web", "api"),
        },
    )
    named = {os.path.relpath(f) for i in discover(["out/rendered"]) for f in i.files}
    assert named == {"out/rendered/all.yaml", "out/rendered/sub/more.yaml"}
    assert {os.path.relpath(f) for i in discover(["out"]) for f in i.files} == set()
    assert main(["check", "out/rendered", "--select", "KV801"]) == 0
    assert "0 findings in 2 objects" in capsys.readouterr().out
    os.chdir(repo / "out" / "rendered")
    assert {os.path.relpath(f) for i in discover(["."]) for f in i.files} == {
        "all.yaml",
        "sub/more.yaml",
    }


def test_a_named_directory_is_walked_even_when_an_exclude_pattern_names_it(repo):
    _tree(repo, {"deploy/legacy/old.yaml": WORKLOAD, "deploy/legacy/skip/x.yaml": WORKLOAD})
    files = {
        os.path.relpath(f)
        for i in discover(["deploy/legacy"], exclude=["legacy/", "skip/"])
        for f in i.files
    }
    assert files == {"deploy/legacy/old.yaml"}
    walked = discover(["deploy"], exclude=["legacy/"])
    assert "deploy/legacy/old.yaml" not in {os.path.relpath(f) for i in walked for f in i.files}


PATTERN_TOKENS = ["a", "A", "b", ".", "/", "*", "**", "?", "[ab]", "[!a]", "[", "!", "\\*", "#"]
PATTERN_TOKENS.append(" ")
PATTERN_TEXT = st.lists(st.sampled_from(PATTERN_TOKENS), min_size=1, max_size=6).map("".join)
PATH_TEXT = st.from_regex(r"[aAb.]{1,3}(/[aAb.]{1,3}){0,3}/?", fullmatch=True)


@pytest.mark.filterwarnings("ignore::FutureWarning")  # pathspec's regex of `[[`
@settings(max_examples=300, deadline=None)
@given(st.lists(PATTERN_TEXT, min_size=1, max_size=4), st.lists(PATH_TEXT, max_size=8))
def test_patterns_answer_as_pathspec_does_with_or_without_compiling(lines, paths):
    """The literal-run shortcut never changes an answer: any path that could match is
    checked by pathspec itself, any other matches no pattern."""
    import pathspec

    try:
        spec = pathspec.GitIgnoreSpec.from_lines(lines)
    except ValueError:  # a line pathspec refuses is not this test's subject
        return
    patterns = Patterns(lines)
    for path in paths:
        assert patterns.check(path) == spec.check_file(path).include, (lines, path)
    named = paths[0].rstrip("/") if paths else "a"
    kept = [p for p in spec.patterns if not (p.include and p.match_file(named + "/"))]
    walked = Patterns(lines, named)
    for path in paths:
        inside = f"{named}/{path}"
        want = pathspec.GitIgnoreSpec(kept).check_file(inside).include
        assert walked.check(inside) == want, (lines, named, path)


def test_a_walk_that_no_pattern_can_match_does_not_import_pathspec(tmp_path):
    import subprocess
    import sys

    _tree(tmp_path, {"deploy/x.yaml": WORKLOAD, ".gitignore": "build/\n*.pyc\n!keep.pyc\n"})
    (tmp_path / ".git").mkdir()
    code = "import sys; from kubevet.sources import discover; n = discover([sys.argv[1]]);"
    code += "print(len(n), 'pathspec' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "deploy")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.stdout.split() == ["1", "False"], done.stderr
