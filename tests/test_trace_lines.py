"""Template lines for traced values keys (kubevet.trace.lines)."""

from __future__ import annotations

from kubevet.trace.lines import _values_ref

TEMPLATE = (
    "spec:",  # 1
    "  securityContext:",  # 2
    "    {{- toYaml .Values.podSecurityContext | nindent 4 }}",  # 3
    "  containers:",  # 4
    "    - image: {{ .Values.image.repository }}",  # 5
    "      securityContext:",  # 6
    "        {{- toYaml .Values.securityContext | nindent 8 }}",  # 7
)


def test_a_key_referenced_directly_points_at_its_reference():
    assert _values_ref(TEMPLATE, ("image", "repository")) == 5


def test_an_absent_key_under_a_toyaml_map_points_at_the_map_reference():
    # securityContext.runAsNonRoot is not in the template; the map it would go in is line 7,
    # not the pod-level podSecurityContext on line 3.
    assert _values_ref(TEMPLATE, ("securityContext", "runAsNonRoot")) == 7


def test_no_reference_at_all_gives_none():
    assert _values_ref(TEMPLATE, ("resources", "limits", "cpu")) is None


def test_a_hard_coded_field_is_looked_for_under_its_own_ancestor():
    from kubevet.trace.lines import _field_line, _start

    probes = (
        "livenessProbe:",  # 1
        "  httpGet:",  # 2
        "    host: {{ ternary .a .b }}",  # 3
        "readinessProbe:",  # 4
        "  httpGet:",  # 5
        "    host: {{ ternary .a .b }}",  # 6
    )
    start = _start(probes, ["readinessProbe", "httpGet"])
    assert _field_line(probes, "host", "127.0.0.1", start) == 6
    assert _field_line(probes, "host", "127.0.0.1", _start(probes, ["livenessProbe"])) == 3
