"""Property: `fix` over generated manifests (line endings, BOM, comments, quoting, block or
flow style, which fixable problems are present) writes YAML that parses, keeps every line
it did not fix byte for byte and in order, keeps the line ending and BOM, changes only the
fixed fields, and reaches its fixed point: a second run changes nothing."""

from __future__ import annotations

import codecs
import os
import tempfile

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubevet.cli import main
from kubevet.fix.edits import changed_paths

RULES = "KV101,KV105,KV106"
FIELDS = ("privileged", "allowPrivilegeEscalation", "runAsNonRoot")

Line = tuple[str, bool]  # (text without line ending, may the fix change it?)

comments = st.sampled_from(["", "  # keep me", "   #  spaced comment", " # déjà vu"])


@st.composite
def scalars(draw: st.DrawFn, text: str) -> str:
    return draw(st.sampled_from([text, f"'{text}'", f'"{text}"']))


@st.composite
def security_context(draw: st.DrawFn, ind: str) -> list[Line]:
    values = {
        "privileged": draw(st.sampled_from([None, "true", "false"])),
        "allowPrivilegeEscalation": draw(st.sampled_from([None, "true", "false"])),
        "runAsNonRoot": draw(st.sampled_from([None, "true"])),
    }
    fields = [(k, v) for k, v in values.items() if v is not None]
    style = draw(st.sampled_from(["block", "flow", "absent", "null"]))
    if style == "null" and not fields:  # `securityContext:` with no value, or `~`
        empty = draw(st.sampled_from(["", " ~"]))
        return [(f"{ind}securityContext:{empty}{draw(comments)}", True)]
    if style == "absent" or (not fields and style != "flow"):
        return []
    if style == "flow":
        body = ", ".join(f"{k}: {v}" for k, v in fields)
        return [(f"{ind}securityContext: {{{body}}}{draw(comments)}", True)]
    out = [(f"{ind}securityContext:{draw(comments)}", True)]
    return out + [(f"{ind}  {k}: {v}{draw(comments)}", True) for k, v in fields]


@st.composite
def container(draw: st.DrawFn, i: int, dash: str) -> list[Line]:
    ind = " " * len(dash)
    image = draw(scalars(f"registry.example/app{i}:1.{i}"))
    out = [(f"{dash}name: {draw(scalars(f'c{i}'))}{draw(comments)}", False)]
    out.append((f"{ind}image: {image}{draw(comments)}", False))
    sc = draw(security_context(ind))
    ports = [(f"{ind}ports:", False), (f"{ind}  - containerPort: {8080 + i}", False)]
    order = draw(st.booleans())
    out += sc + ports if order else ports + sc
    if draw(st.booleans()):
        out.append((f"{ind[:-2]}# about the next container", False))
    return out


@st.composite
def pod(draw: st.DrawFn) -> list[Line]:
    lines: list[Line] = []
    if draw(st.booleans()):
        lines.append(("# generated pod: header comment stays", False))
    lines += [("apiVersion: v1", False), ("kind: Pod", False), ("metadata:", False)]
    lines.append((f"  name: {draw(scalars('gen'))}{draw(comments)}", False))
    if draw(st.booleans()):
        lines.append(("  labels: {app: gen, tier: 'front'}", False))
    lines += [("spec:", False), ("  containers:", False)]
    dash = draw(st.sampled_from(["  - ", "    - "]))
    for i in range(draw(st.integers(1, 3))):
        lines += draw(container(i, dash))
        if draw(st.booleans()):
            lines.append(("", False))
    if draw(st.booleans()):
        lines += [
            ("---", False),
            ("# a Service: nothing to fix, every byte stays", False),
            ("apiVersion: v1", False),
            ("kind: Service", False),
            ("metadata: {name: gen}", False),
            ("spec:", False),
            ("  ports: [{port: 80}]   # flow, untouched", False),
        ]
    return lines


def _fix(path: str) -> int:
    return main(["fix", "--select", RULES, "--unsafe-fixes", path])


def _is_subsequence(needles: list[str], haystack: list[str]) -> bool:
    it = iter(haystack)
    return all(any(n == h for h in it) for n in needles)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pod(), st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_fix_keeps_untouched_bytes_and_reaches_its_fixed_point(lines, nl, bom):
    text = "".join(t + nl for t, _ in lines)
    raw = (codecs.BOM_UTF8 if bom else b"") + text.encode("utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "pod.yaml")
        with open(path, "wb") as fh:
            fh.write(raw)
        assert _fix(path) in (0, 1)
        with open(path, "rb") as fh:
            once = fh.read()
        assert _fix(path) in (0, 1)
        with open(path, "rb") as fh:
            assert fh.read() == once  # running twice is running once

    assert once.startswith(codecs.BOM_UTF8) == bom
    new = once.decode("utf-8-sig")
    other = "\n" if nl == "\r\n" else "\r"
    assert other not in new.replace(nl, "")  # every line ending is the file's own
    kept = [t + nl for t, touchable in lines if not touchable]
    assert _is_subsequence(kept, new.splitlines(keepends=True))

    before = list(yaml.safe_load_all(text))
    after = list(yaml.safe_load_all(new))  # the output parses
    assert len(after) == len(before)
    assert after[1:] == before[1:]
    for p in changed_paths(before[0], after[0]):
        assert p[:2] == ("spec", "containers") and p[3] == "securityContext", p
        assert p[4] in (*FIELDS, "runAsUser"), p
    for c in after[0]["spec"]["containers"]:  # the fixed point: nothing fixable is left
        sc = c.get("securityContext") or {}
        assert sc.get("privileged") is not True
        assert sc.get("allowPrivilegeEscalation") is False
