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
