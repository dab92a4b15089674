"""Printing a connection list: txt (netpol-analyzer compatible), json, csv, md, dot."""

from __future__ import annotations

import csv
import io
import json

from kubevet.netpol.analysis import Connection

FORMATS = ("txt", "json", "csv", "md", "dot")


def render(conns: list[Connection], fmt: str) -> str:
    return {"txt": _txt, "json": _json, "csv": _csv, "md": _md, "dot": _dot}[fmt](conns)


def _txt(conns: list[Connection]) -> str:
    return "".join(c.line() + "\n" for c in conns)


def _json(conns: list[Connection]) -> str:
    rows = [{"src": c.src, "dst": c.dst, "conn": str(c.conn)} for c in conns]
    return json.dumps(rows, indent=2) + "\n"


def _csv(conns: list[Connection]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["src", "dst", "conn"])
    writer.writerows([c.src, c.dst, str(c.conn)] for c in conns)
    return buf.getvalue()


def _md(conns: list[Connection]) -> str:
    lines = ["| src | dst | conn |", "|-----|-----|------|"]
    lines += [f"| {c.src} | {c.dst} | {c.conn} |" for c in conns]
    return "\n".join(lines) + "\n"


def _dot(conns: list[Connection]) -> str:
    """One cluster per namespace; external ranges and the ingress controller outside."""
    nodes: dict[str, str] = {}
    for c in conns:
        for end in (c.src, c.dst):
            nodes.setdefault(end, f"n{len(nodes)}")
    by_ns: dict[str, list[str]] = {}
    others = []
    for end in nodes:
        if "/" in end and not end.endswith("[External]"):
            by_ns.setdefault(end.split("/", 1)[0], []).append(end)
        else:
            others.append(end)
    out = ["digraph netpol {", "  rankdir=LR; node [shape=box, fontsize=10];"]
    for i, (ns, ends) in enumerate(sorted(by_ns.items())):
        out.append(f'  subgraph cluster_{i} {{ label="{_esc(ns)}"; style=dashed;')
        out += [f'    {nodes[e]} [label="{_esc(e.split("/", 1)[1])}"];' for e in ends]
        out.append("  }")
    for e in others:
        shape = "ellipse" if e.endswith("[External]") else "diamond"
        out.append(f'  {nodes[e]} [label="{_esc(e)}", shape={shape}];')
    for c in conns:
        out.append(f'  {nodes[c.src]} -> {nodes[c.dst]} [label="{_esc(str(c.conn))}"];')
    out.append("}")
    return "\n".join(out) + "\n"


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
