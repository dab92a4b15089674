"""Values keys as users write them with `--set`: `a.b[0].c`, dots inside a key escaped."""

from __future__ import annotations

from kubevet.model import Path


def format_key(path: Path) -> str:
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        else:
            text = str(part).replace(".", "\\.")
            out.append(("." if out else "") + text)
    return "".join(out)
