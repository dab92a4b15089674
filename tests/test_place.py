"""Template lines found by reading, without renders: exact or absent."""

from __future__ import annotations

from conftest import FIXTURES

from kubevet.report._location import line_of
from kubevet.runner import RunSettings, run_check
from kubevet.trace.place import key_lines

SHAPES = FIXTURES / "place" / "shapes"
APP = SHAPES / "templates" / "app.yaml"


def _lines() -> list[str]:
    return APP.read_text().splitlines()


def _number(text: str, after: int = 0) -> int:
    return next(i for i, t in enumerate(_lines(), 1) if i > after and t.strip() == text)


def _findings() -> dict[tuple[str, str | None, str], int | None]:
    report = run_check([str(SHAPES)], RunSettings(jobs=1))
    assert report.errors == []
    return {(f.code, f.container, f.path_text): line_of(f) for f in report.findings}


def test_a_field_absent_from_a_list_item_points_at_the_item():
    found = _findings()
    prefix = "spec.template.spec.containers"
    memory = f"{prefix}[1].resources.requests.memory"
    assert found[("KV201", "side", memory)] == _number("- name: side")


def test_each_container_points_at_its_own_field_line():
    found = _findings()
    main = _number("privileged: true", _number("- name: main"))
    side = _number("privileged: true", _number("- name: side"))
    prefix = "spec.template.spec.containers"
    assert found[("KV105", "main", f"{prefix}[0].securityContext.privileged")] == main
    assert found[("KV105", "side", f"{prefix}[1].securityContext.privileged")] == side


def test_a_line_with_actions_is_matched_as_a_pattern():
    found = _findings()
    image = _number('image: "{{ .Values.image }}:{{ .Values.tag }}"')
    assert found[("KV502", "main", "spec.template.spec.containers[0].image")] == image


def test_a_field_written_by_toyaml_points_at_its_written_parent_not_the_other_branch():
    found = _findings()
    path = "spec.template.spec.securityContext.runAsUser"
    line = next(v for (code, _, p), v in found.items() if p == path)
    # runAsUser: 5 came from toYaml; `runAsUser: 1000` is the branch not taken
    assert line == _number("securityContext:", _number("spec:", _number("template:")))


def test_block_scalar_text_and_other_documents_are_not_keys():
    keys = {k.number: k for k in key_lines(tuple(_lines()))}
    conf = _number("conf.yaml: |")
    assert conf in keys
    assert all(n not in keys for n in (conf + 1, conf + 2))  # text of the block scalar
    assert keys[_number("kind: Deployment")].doc == 1
    side = keys[_number("image: busybox")]
    assert side.keys == ("spec", "template", "spec", "containers", "image")


def test_every_line_given_names_the_field_or_an_ancestor_key():
    lines = _lines()
    report = run_check([str(SHAPES)], RunSettings(jobs=1))
    given = 0
    for f in report.findings:
        line = line_of(f)
        if line is None:
            continue
        given += 1
        text = lines[line - 1].strip()
        if text.startswith("- "):  # the line opening the list item the field is in
            assert any(isinstance(p, int) for p in f.path), (f.code, f.path_text, line)
            continue
        key = text.split(":", 1)[0]
        assert key in [p for p in f.path if isinstance(p, str)], (f.code, f.path_text, line)
    assert given > len(report.findings) / 2
