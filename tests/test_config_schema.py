"""The published JSON Schema of `.kubevet.yaml`: generated from the rule and config
metadata, shipped in the package and in docs/, and in agreement with the loader."""

from __future__ import annotations

import re

import pytest
import yaml
from conftest import ROOT
from jsonschema import Draft202012Validator

from kubevet.config import ConfigError, load_config
from kubevet.config_schema import PACKAGED, config_schema, schema_text

REGENERATE = "python -m kubevet.config_schema"


def readme_config() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Configuration", 1)[1]
    match = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert match, "README's Configuration section has no yaml example"
    return match.group(1)


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = config_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.mark.parametrize("path", [PACKAGED, ROOT / "docs" / "kubevet.schema.json"])
def test_shipped_schema_is_up_to_date(path):
    assert path.is_file(), f"{path} is missing; generate it with `{REGENERATE}`"
    assert path.read_text(encoding="utf-8") == schema_text(), (
        f"{path} is out of date with the rule and config metadata; run `{REGENERATE}`"
    )


def test_schema_accepts_the_readme_example_and_so_does_the_loader(validator, tmp_path):
    text = readme_config()
    assert list(validator.iter_errors(yaml.safe_load(text))) == []
    path = tmp_path / ".kubevet.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_config(str(path)).get("rules")["KV101"] == {"run_as_user": 10001}


def test_schema_accepts_every_documented_spelling(validator):
    config = {
        "fail_on": "high",
        "kube-version": "1.29",
        "exclude": ["vendor/"],
        "select": ["KV1", "pss-restricted", "run-as-non-root", "cis"],
        "rules": {"KV103": {"min_uid": 1000}, "KV903": {"max-cpu": 96, "min-memory": "8Mi"}},
        "settings": {"allowed_registries": ["ghcr.io/me"], "attestation-keys": "key.pem"},
        "footprint": {"provider": "gcp", "grid-intensity": 212.5, "coefficients": {}},
    }
    assert list(validator.iter_errors(config)) == []


BAD = [
    {"selct": ["security"]},
    {"select": ["securty"]},
    {"rules": {"KV103": {"min_uidd": 5}}},
    {"rules": {"KV103": {"min-uid": "five"}}},
    {"rules": {"KV1033": {"min-uid": 5}}},
    {"rules": {"KV202": {"memory-limit": "lots"}}},
    {"pss-version": 1.3},
    {"fail-on": "severe"},
    {"settings": {"allowed-registry": ["x"]}},
    {"footprint": {"provider": "ibm"}},
]


@pytest.mark.parametrize("config", BAD, ids=[str(c) for c in BAD])
def test_schema_and_loader_reject_the_same_bad_configs(validator, tmp_path, config):
    assert list(validator.iter_errors(config)), f"schema accepted {config}"
    path = tmp_path / ".kubevet.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    with pytest.raises(ConfigError):
        load_config(str(path))
