"""A gate CI can trust: selectors, config, empty runs, missing chart dependencies and bad
arguments are errors (exit 2, one line on stderr, a suggestion where one helps), never a
silent pass and never a traceback."""

from __future__ import annotations

import json
import shutil
import tarfile

import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubevet.cli import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, main
from kubevet.config import ConfigError, load_config
from kubevet.rules.registry import all_rules, get_rule

MANIFESTS = str(ROOT / "examples" / "manifests")
CHART = ROOT / "examples" / "chart"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.startswith("kubevet: error:")]
    assert len(lines) == 1, err
    return lines[0]


# --- selectors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "value", "suggestion"),
    [
        ("--select", "securty", "did you mean 'security'?"),
        ("--select", "KV999", "did you mean 'KV"),
        ("--select", "cys", "did you mean 'cis'?"),
        ("--select", "pss", "did you mean 'pss-restricted'?"),
        ("--ignore", "run-as-nonroot", "did you mean 'run-as-non-root'?"),
        ("--select", "KV101,privileged", "did you mean 'privileged-container'?"),
    ],
)
def test_unknown_selector_is_a_usage_error_with_a_suggestion(capsys, flag, value, suggestion):
    code, out, err = run(capsys, "check", MANIFESTS, flag, value, "-j", "1")
    assert code == EXIT_ERROR
    assert out == ""  # refused before any work
    line = one_error_line(err)
    assert flag in line and suggestion in line


def test_known_selectors_still_select(capsys):
    for selector in ("security", "KV1", "run-as-non-root", "pss-restricted", "ALL", "cis"):
        code, _, err = run(capsys, "check", MANIFESTS, "--select", selector, "-j", "1")
        assert code == EXIT_FINDINGS, (selector, err)


# --- config -------------------------------------------------------------------------------


def write_config(tmp_path, text: str):
    path = tmp_path / ".kubevet.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("selct: [security]\n", "unknown config key 'selct'; did you mean 'select'?"),
        ("select: [securty]\n", "select: unknown rule, category or selector 'securty'"),
        ("ignore: [KV999]\n", "ignore: unknown rule, category or selector 'KV999'"),
        ("rules:\n  KV103: {min_uidd: 5}\n", "unknown option 'min-uidd'; did you mean 'min-uid'?"),
        ("rules:\n  KV103: {min-uid: five}\n", "rules.KV103.min-uid: expected an integer"),
        ("rules:\n  KV202: {memory-limit: lots}\n", "'lots' is not a quantity"),
        ("rules:\n  KV1033: {min-uid: 5}\n", "unknown rule 'KV1033'"),
        ("rules:\n  KV105: {x: 1}\n", "rules.KV105: the rule has no options"),
        ("pss-version: 1.30\n", "quote the version"),
        ("fail-on: severe\n", "fail-on: expected one of: info, low, medium, high, critical"),
        ("settings:\n  allowed-registry: [x]\n", "did you mean 'allowed-registries'?"),
        ("footprint:\n  grid-intensty: 3\n", "did you mean 'grid-intensity'?"),
        ("jobs: many\n", "jobs: expected an integer"),
        ("- a\n- b\n", "config must be a mapping"),
    ],
)
def test_bad_config_is_rejected_naming_the_file(capsys, tmp_path, text, expected):
    config = write_config(tmp_path, text)
    with pytest.raises(ConfigError, match=r"did you mean|expected|quote|unknown|no options|must"):
        load_config(str(config))
    code, out, err = run(capsys, "check", MANIFESTS, "--config", str(config), "-j", "1")
    assert code == EXIT_ERROR and out == ""
    line = one_error_line(err)
    assert str(config) in line and expected in line


def test_config_that_is_not_utf8_or_not_yaml_is_one_line(capsys, tmp_path):
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"select: [caf\xe9]\n")
    broken = write_config(tmp_path, "select: [a\n")
    for path, expected in ((latin, "not UTF-8"), (broken, "invalid YAML in config")):
        code, _, err = run(capsys, "check", MANIFESTS, "--config", str(path))
        assert code == EXIT_ERROR
        assert expected in one_error_line(err)


def test_config_options_reach_the_rule(capsys, tmp_path):
    config = write_config(tmp_path, "rules:\n  KV103:\n    min-uid: 1000\n")
    good = tmp_path / "pod.yaml"
    good.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
        "  securityContext: {runAsUser: 5000}\n  containers: [{name: c, image: x:1}]\n"
    )
    argv = ["check", str(good), "--select", "KV103", "--format", "json", "--config"]
    code, out, _ = run(capsys, *argv, str(config))
    assert code == EXIT_OK and json.loads(out)["findings"] == []
    code, out, _ = run(capsys, *argv[:-1])  # without the config the default (10000) applies
    assert code == EXIT_FINDINGS


@given(
    key=st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_", min_size=1, max_size=12),
    # text YAML can hold as written (control characters and lone surrogates are refused
    # as invalid YAML before any option is read, a clean error but not this one)
    value=st.one_of(
        st.integers(),
        st.text(st.characters(blacklist_categories=("Cc", "Cs", "Cn")), max_size=5),
        st.booleans(),
    ),
)
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_unknown_rule_option_is_an_error(tmp_path, key, value):
    known = {n.replace("_", "-") for n in get_rule("KV103").options}
    if key.replace("_", "-") in known:
        return
    path = tmp_path / "c.yaml"
    path.write_text(json.dumps({"rules": {"KV103": {key: value}}}, ensure_ascii=False))
    with pytest.raises(ConfigError, match="unknown option"):
        load_config(str(path))


def test_every_declared_option_default_passes_its_own_validation():
    for r in all_rules():
        for name, opt in r.options.items():
            assert opt.problem(opt.default) is None, (r.code, name)
            assert opt.description, (r.code, name)


def test_rule_docs_list_options_with_type_default_and_description(capsys):
    code, out, _ = run(capsys, "rule", "KV103")
    assert code == EXIT_OK
    assert "- `min-uid` (integer, default `10000`): the lowest UID accepted" in out
    code, out, _ = run(capsys, "rule", "KV103", "--format", "json")
    assert json.loads(out)["options"]["min-uid"] == {
        "type": "integer",
        "default": 10000,
        "description": "the lowest UID accepted",
    }


def test_unknown_rule_code_suggests_one(capsys):
    code, _, err = run(capsys, "rule", "KV1011")
    assert code == EXIT_ERROR and "did you mean" in one_error_line(err)


# --- empty runs ---------------------------------------------------------------------------


def test_empty_directory_is_an_error_unless_allowed(capsys, tmp_path):
    code, _, err = run(capsys, "check", str(tmp_path))
    assert code == EXIT_ERROR
    assert "no Kubernetes object was checked" in one_error_line(err)
    code, out, err = run(capsys, "check", str(tmp_path), "--format", "json")
    assert code == EXIT_ERROR
    assert "no Kubernetes object" in json.loads(out)["errors"][0]["message"]  # in the report too
    code, _, err = run(capsys, "check", str(tmp_path), "--allow-empty")
    assert code == EXIT_OK
    assert "warning: no Kubernetes object was checked" in err


def test_a_run_with_input_errors_only_reports_them_not_emptiness(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [\n")
    code, _, err = run(capsys, "check", str(bad))
    assert code == EXIT_ERROR
    assert "invalid YAML" in one_error_line(err)


# --- chart dependencies -------------------------------------------------------------------


def chart_with_dependency(tmp_path, extra: str = "") -> str:
    chart = tmp_path / "shop"
    shutil.copytree(CHART, chart)
    with open(chart / "Chart.yaml", "a", encoding="utf-8") as fh:
        fh.write(
            "dependencies:\n  - name: redis\n    version: 1.0.0\n"
            "    repository: https://charts.example.com\n" + extra
        )
    return str(chart)


def subchart(parent, name: str) -> None:
    sub = parent / "charts" / name
    (sub / "templates").mkdir(parents=True)
    (sub / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 1.0.0\n")


def test_missing_dependency_is_refused_like_helm_template(capsys, tmp_path):
    # helm refuses whatever the condition says, so a disabled dependency is refused too
    chart = chart_with_dependency(tmp_path, "    condition: redis.enabled\n")
    code, _, err = run(capsys, "check", chart, MANIFESTS, "-j", "1", "--format", "json")
    assert code == EXIT_ERROR
    line = one_error_line(err)
    assert "missing in charts/ directory: redis" in line
    assert f"helm dependency build {chart}" in line


def test_vendored_dependency_directory_archive_or_alias_is_accepted(capsys, tmp_path):
    chart = chart_with_dependency(tmp_path, "    alias: cache\n")
    subchart(tmp_path / "shop", "redis")
    code, _, err = run(capsys, "check", chart, "-j", "1", "--select", "KV101")
    assert code == EXIT_FINDINGS, err
    shutil.rmtree(tmp_path / "shop" / "charts" / "redis")
    build = tmp_path / "build"
    subchart(build, "redis")
    with tarfile.open(tmp_path / "shop" / "charts" / "redis-1.0.0.tgz", "w:gz") as tar:
        tar.add(build / "charts" / "redis", arcname="redis")
    code, _, err = run(capsys, "check", chart, "-j", "1", "--select", "KV101")
    assert code == EXIT_FINDINGS, err


def test_requirements_yaml_of_a_v1_chart(capsys, tmp_path):
    chart = tmp_path / "old"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v1\nname: old\nversion: 0.1.0\n")
    (chart / "requirements.yaml").write_text(
        "dependencies:\n- name: mysql\n  version: 1.0.0\n  repository: https://x\n"
    )
    code, _, err = run(capsys, "check", str(chart))
    assert code == EXIT_ERROR
    assert "found in requirements.yaml, but missing in charts/ directory: mysql" in err


# --- bad arguments and internal errors ----------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["-o", "nodir/x"], "cannot write nodir/x: directory nodir does not exist"),
        (["--pss-version", "banana"], "--pss-version: bad version 'banana'"),
        (["--kube-version", "abc"], "--kube-version: bad version 'abc'"),
        (["--pss-version", "0.5"], "--pss-version: bad version '0.5'"),  # was an internal error
        (["--kube-version", "2.1"], "--kube-version: bad version '2.1'"),
        (["--kube-version", "1.3"], "--kube-version 1.3: this kubevet knows Kubernetes releases"),
        (["--release-name", "My_Release"], "--release-name 'My_Release': Helm refuses it"),
        (["--release-name", "a" * 54], "Helm refuses it"),
        (["-n", "Bad_NS"], "--namespace 'Bad_NS': not a Kubernetes namespace name"),
        (["--format", "sarf"], "did you mean 'sarif'?"),
        (["--format", "json", "--format", "text"], "only one report can go to the console"),
        (["--format", "json=a", "-o", "b"], "-o/--output takes one format"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(capsys, tmp_path, monkeypatch, argv, expected):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "check", MANIFESTS, *argv)
    assert code == EXIT_ERROR and out == ""
    assert expected in one_error_line(err)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--to", "1.x"], "--to: bad version '1.x'"),
        (["--to", "1.99"], "--to 1.99: this kubevet knows Kubernetes releases"),
        (["--from", "latest", "--to", "1.30"], "--from: bad version 'latest' (expected like 1.29)"),
        (["--from", "1.31", "--to", "1.30"], "--from 1.31 is newer than the target 1.30"),
    ],
)
def test_bad_upgrade_versions_exit_2_with_one_line(capsys, argv, expected):
    code, out, err = run(capsys, "upgrade", MANIFESTS, *argv)
    assert code == EXIT_ERROR and out == ""
    assert expected in one_error_line(err)


def test_upgrade_to_latest_is_the_default_target(capsys):
    """`latest`, as --kube-version takes it: the newest release kubevet has data on."""
    code, out, _ = run(capsys, "upgrade", MANIFESTS, "--to", "latest")
    assert code != EXIT_ERROR
    _, default, _ = run(capsys, "upgrade", MANIFESTS)
    assert out.splitlines()[0] == default.splitlines()[0]
    assert "to Kubernetes 1." in out.splitlines()[0]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["check", MANIFESTS, "--selct", "KV1"], "did you mean --select?"),
        (["chek", MANIFESTS], "did you mean 'check'?"),
        (["netpol", MANIFESTS, "--fromat", "json"], "did you mean --format?"),
        (["check", MANIFESTS, "--color", "sometimes"], "invalid choice"),
        (["check", MANIFESTS, "-j", "0"], "expected 1 or more"),
    ],
)
def test_mistyped_flags_and_commands_get_a_suggestion(capsys, argv, expected):
    code, out, err = run(capsys, *argv)
    assert code == EXIT_ERROR and out == ""
    assert expected in err


def test_internal_error_is_one_line_and_debug_shows_the_traceback(capsys, monkeypatch):
    import kubevet.runner

    def boom(*_args, **_kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(kubevet.runner, "run_check", boom)
    code = main(["check", MANIFESTS])
    err = capsys.readouterr().err
    assert code == EXIT_ERROR
    assert err.strip() == (
        "kubevet: error: internal error: RuntimeError: kaboom (run with --debug for the traceback)"
    )
    for argv in (["--debug", "check", MANIFESTS], ["check", MANIFESTS, "--debug"]):
        assert main(argv) == EXIT_ERROR
        err = capsys.readouterr().err
        assert "Traceback" in err and "kaboom" in err


@pytest.mark.parametrize(
    ("argv", "what"),
    [
        (["netpol"], "no Kubernetes object was checked"),
        (["footprint"], "no workload was checked"),
        (["upgrade", "--to", "1.29"], "no Kubernetes object was checked"),
    ],
)
def test_every_command_refuses_an_empty_run(capsys, tmp_path, argv, what):
    code, _, err = run(capsys, *argv, str(tmp_path))
    assert code == EXIT_ERROR
    assert what in one_error_line(err)
    code, _, err = run(capsys, *argv, str(tmp_path), "--allow-empty")
    assert code == EXIT_OK and f"warning: {what}" in err


def test_an_audit_log_alone_is_not_an_empty_upgrade(capsys):
    audit = str(ROOT / "examples" / "audit.jsonl")
    code, out, err = run(capsys, "upgrade", "--to", "1.29", "--audit-log", audit)
    assert code == EXIT_FINDINGS and "audit log" in out
    assert "no Kubernetes object" not in err


def test_rules_filter_that_matches_nothing_suggests_one(capsys):
    code, out, err = run(capsys, "rules", "securty")
    assert code == EXIT_ERROR and out == ""
    assert "did you mean 'security'?" in one_error_line(err)
    code, out, _ = run(capsys, "rules", "privileged")  # text in a title still filters
    assert code == EXIT_OK and "KV105" in out


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="aZ09-._/ ", min_size=1, max_size=70))
def test_names_are_checked_as_helm_and_kubernetes_do(name):
    """Helm's release-name rule and a DNS-1123 label for namespaces, against a plain
    statement of each (lowercase alphanumerics, inner '-' (and '.' between labels))."""
    from kubevet.commands._common import check_names
    from kubevet.commands.exits import UsageError

    def refused(**names: str) -> bool:
        try:
            check_names(names.get("release"), names.get("namespace"))
        except UsageError:
            return True
        return False

    labels = name.split(".")
    label_ok = [bool(x) and x[0] not in "-" and x[-1] not in "-" for x in labels]
    chars_ok = set(name) <= set("a09-.")
    release_ok = chars_ok and all(label_ok) and len(name) <= 53
    namespace_ok = chars_ok and "." not in name and label_ok[0] and len(name) <= 63
    assert refused(release=name) == (not release_ok)
    assert refused(namespace=name) == (not namespace_ok)
