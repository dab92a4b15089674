"""Template lines for traced values keys (kubevet.trace.lines)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from kubevet.trace.lines import Source, _field_line, _first_line, _same, _values_ref

TEMPLATE_LINES = (
    "spec:",  # 1
    "  securityContext:",  # 2
    "    {{- toYaml .Values.podSecurityContext | nindent 4 }}",  # 3
    "  containers:",  # 4
    "    - image: {{ .Values.image.repository }}",  # 5
    "      securityContext:",  # 6
    "        {{- toYaml .Values.securityContext | nindent 8 }}",  # 7
)
TEMPLATE = Source(TEMPLATE_LINES)


def test_a_key_referenced_directly_points_at_its_reference():
    assert _values_ref(TEMPLATE, ("image", "repository")) == 5


def test_an_absent_key_under_a_toyaml_map_points_at_the_map_reference():
    # securityContext.runAsNonRoot is not in the template; the map it would go in is line 7,
    # not the pod-level podSecurityContext on line 3.
    assert _values_ref(TEMPLATE, ("securityContext", "runAsNonRoot")) == 7


def test_no_reference_at_all_gives_none():
    assert _values_ref(TEMPLATE, ("resources", "limits", "cpu")) is None


def test_a_hard_coded_field_is_looked_for_under_its_own_ancestor():
    from kubevet.trace.lines import _start

    probes = Source(
        (
            "livenessProbe:",  # 1
            "  httpGet:",  # 2
            "    host: {{ ternary .a .b }}",  # 3
            "readinessProbe:",  # 4
            "  httpGet:",  # 5
            "    host: {{ ternary .a .b }}",  # 6
        )
    )
    start = _start(probes, ["readinessProbe", "httpGet"])
    assert _field_line(probes, "host", "127.0.0.1", start) == 6
    assert _field_line(probes, "host", "127.0.0.1", _start(probes, ["livenessProbe"])) == 3


def _first_line_by_lines(lines: tuple[str, ...], needle: str, stops: str) -> int | None:
    """What `_first_line` gave when it tried a pattern on each line in turn."""
    pattern = re.compile(re.escape(needle) + rf"(?![\w{re.escape(stops)}])")
    return next((i for i, t in enumerate(lines, 1) if pattern.search(t)), None)


def _field_line_by_lines(
    lines: tuple[str, ...], name: str, value: object, start: int
) -> int | None:
    """What `_field_line` gave when it tried each line in turn."""
    pattern = re.compile(rf"^\s*(?:-\s+)?{re.escape(name)}\s*:(.*)$")
    first = None
    for i, text in enumerate(lines[start:], start + 1):
        m = pattern.match(text)
        if m and (value is None or _same(m.group(1), value)):
            return i
        first = first or (i if m else None)
    return first


_LINE = st.text(alphabet=" -:.ab_1é²\n\r", max_size=8).map(lambda t: t.replace("\n", ""))
_NEEDLE = st.text(alphabet=" -:.ab\n", max_size=3)


@given(st.lists(_LINE, max_size=6), _NEEDLE, st.sampled_from(["", "."]))
def test_the_whole_text_search_finds_the_line_a_line_by_line_search_finds(lines, needle, stops):
    assert _first_line(Source(lines), needle, stops) == _first_line_by_lines(
        tuple(lines), needle, stops
    )


@given(st.lists(_LINE, max_size=6), _NEEDLE, st.sampled_from([None, "a", "b"]), st.integers(0, 7))
def test_a_field_line_found_in_the_whole_text_is_the_line_by_line_one(lines, name, value, start):
    assert _field_line(Source(lines), name, value, start) == _field_line_by_lines(
        tuple(lines), name, value, start
    )
